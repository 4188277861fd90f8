// The data-plane image ABI: what a microengine image may import from the NP and must export.
// The verifier enforces exactly this; the simulator and the device implement the imports.

/** Bumped whenever an intrinsic, an export or a shared layout changes meaning. */
export const ABI_VERSION = 1;

/** Module name every import of a data-plane image comes from. */
export const NP_MODULE = "np";

/** The shared linear memory (SRAM, DRAM, scratch and per-image data regions) is imported as np.memory. */
export const MEMORY_IMPORT = { module: NP_MODULE, name: "memory" } as const;

export type WasmValType = "i32" | "i64";

export interface Intrinsic {
  name: string;
  params: WasmValType[];
  results: WasmValType[];
  doc: string;
}

/** The NP intrinsics. Signatures are exact: the verifier rejects any other import or any other type. */
export const INTRINSICS: readonly Intrinsic[] = [
  { name: "ring_put", params: ["i32", "i32", "i32"], results: ["i32"], doc: "ring_put(ring, addr, bytes): copy bytes from addr onto a scratch ring; 1 on success, 0 when the ring is full" },
  { name: "ring_get", params: ["i32", "i32", "i32"], results: ["i32"], doc: "ring_get(ring, addr, bytes): copy the next message of a ring to addr; 1 when one was there, 0 when empty" },
  { name: "hash", params: ["i32", "i32", "i32"], results: ["i32"], doc: "hash(a, b, c): the hash unit over three 32-bit words (see abi/hash.ts)" },
  { name: "crc32", params: ["i32", "i32", "i32"], results: ["i32"], doc: "crc32(addr, len, seed): the CRC unit, CRC-32 (IEEE 802.3) over len bytes at addr" },
  { name: "timestamp", params: [], results: ["i32"], doc: "timestamp(): the ME timestamp counter, one tick per 16 ME cycles, wrapping at 2^32" },
  { name: "ctx_swap", params: [], results: [], doc: "ctx_swap(): voluntary context swap to the next ready hardware thread" },
];

/** Exports every data-plane image must provide, with exact signatures. No other export is allowed. */
export const REQUIRED_EXPORTS: readonly { name: string; params: WasmValType[]; results: WasmValType[]; doc: string }[] = [
  { name: "init", params: [], results: [], doc: "init(): called once after load, before any packet" },
  { name: "process", params: ["i32"], results: ["i32"], doc: "process(desc): handle the packet whose descriptor is at desc; returns a Verdict" },
];
