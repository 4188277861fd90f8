// Host implementation of the NP intrinsics (abi/abi.ts INTRINSICS) over the shared memory.
import { INTRINSICS, NP_MODULE, MEMORY_IMPORT } from "../../abi/abi.js";
import { MEMORY_PAGES } from "../../abi/layout.js";
import { crc32, npHash } from "../../abi/hash.js";
import { Rings } from "./rings.js";

/** The one linear memory every image imports as np.memory: MEMORY_PAGES pages, fixed size. */
export function createNpMemory(): WebAssembly.Memory {
  return new WebAssembly.Memory({ initial: MEMORY_PAGES, maximum: MEMORY_PAGES });
}

export interface NpEnv {
  rings: Rings;
  /** np.timestamp(): the ME timestamp counter (wraps at 2^32). */
  clock: () => number;
  /** np.ctx_swap(): the simulator's hook; a no-op by default. */
  ctxSwap?: () => void;
}

/** An out-of-range address in an intrinsic is a trap, like an out-of-bounds load would be. */
function checkRange(memory: WebAssembly.Memory, addr: number, len: number, what: string): void {
  const a = addr >>> 0;
  const n = len >>> 0;
  if (a + n > memory.buffer.byteLength) throw new WebAssembly.RuntimeError(`np.${what}: ${n} bytes at 0x${a.toString(16)} outside memory`);
}

/** The import object for an image: { np: { memory, ring_put, ring_get, hash, crc32, timestamp, ctx_swap } }. */
export function npImports(memory: WebAssembly.Memory, env: NpEnv): WebAssembly.Imports {
  const fns: Record<string, (...args: number[]) => number | void> = {
    ring_put(ring: number, addr: number, bytes: number): number {
      checkRange(memory, addr, bytes, "ring_put");
      const a = addr >>> 0;
      return env.rings.put(ring, new Uint8Array(memory.buffer, a, bytes >>> 0)) ? 1 : 0;
    },
    ring_get(ring: number, addr: number, bytes: number): number {
      checkRange(memory, addr, bytes, "ring_get");
      const msg = env.rings.get(ring);
      if (!msg) return 0;
      const dst = new Uint8Array(memory.buffer, addr >>> 0, bytes >>> 0);
      dst.fill(0);
      dst.set(msg.subarray(0, dst.length));
      return 1;
    },
    hash(a: number, b: number, c: number): number {
      return npHash(a, b, c) | 0;
    },
    crc32(addr: number, len: number, seed: number): number {
      checkRange(memory, addr, len, "crc32");
      return crc32(new Uint8Array(memory.buffer, addr >>> 0, len >>> 0), seed >>> 0) | 0;
    },
    timestamp(): number {
      return env.clock() | 0;
    },
    ctx_swap(): void {
      env.ctxSwap?.();
    },
  };
  const missing = INTRINSICS.filter((i) => !(i.name in fns)).map((i) => i.name);
  if (missing.length) throw new Error(`npImports: no host implementation of ${missing.join(", ")}`);
  return { [NP_MODULE]: { [MEMORY_IMPORT.name]: memory, ...fns } };
}
