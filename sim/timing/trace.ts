// Turns the memory trace an instrumented image wrote for one packet into the thread's program for
// the ME model: compute segments separated by memory references that make the thread wait.
//
// Approximations (sim/README.md): a read of a 64-byte line already read or written in this packet
// does not wait (the ME holds it in transfer registers); writes are posted (they occupy the channel
// but the thread does not wait); each remaining read waits for the memory's latency plus queueing.
import { REGIONS } from "../../abi/layout.js";
import { TRACE_ADDR_MASK, TRACE_BASE, TRACE_WRITE_BIT } from "./instrument.js";
import type { MemoryKind } from "./costs.js";

export const KIND_CODE: Record<MemoryKind, number> = { scratch: 0, sram: 1, dram: 2 };

const bounds = REGIONS.filter((r) => r.memory !== "local").map((r) => ({ lo: r.base, hi: r.base + r.size, kind: KIND_CODE[r.memory as MemoryKind] }));

/** Memory kind code of an address, or -1 when it is outside every shared region. */
export function kindOf(addr: number): number {
  for (const b of bounds) if (addr >= b.lo && addr < b.hi) return b.kind;
  return -1;
}

/**
 * A packet's program: `ops` holds triples (computeCycles, kind, flags) where kind is a memory
 * kind code (or -1 for the final compute segment) and flags bit 0 = write (posted), bits 8+ =
 * the line number (for channel interleaving). `cycles` is the total compute charged.
 */
export interface ThreadProgram {
  ops: number[];
  cycles: number;
  waits: number;
  posted: number;
}

/** Lines a packet has touched so far (scratch, reused by every call; grows when a packet touches more). */
let seenLines: Int32Array = new Int32Array(256);

function grown(a: Int32Array): Int32Array {
  const b = new Int32Array(a.length * 2);
  b.set(a);
  return b;
}

/**
 * Build the program from `records` trace entries in `view` and the image's cycle total. `out.ops` is
 * overwritten from index 0 up to the final segment (kind -1), where a reader stops; entries after it
 * are left from earlier packets rather than truncated (no allocation or resize per packet).
 */
export function programFromTrace(view: DataView, records: number, totalCycles: number, lineBytes: number, out: ThreadProgram): ThreadProgram {
  const ops = out.ops;
  let n = 0;
  let waits = 0;
  let posted = 0;
  const lineShift = Math.log2(lineBytes) | 0;
  let seen = seenLines;
  let nSeen = 0;
  let last = 0;
  for (let i = 0; i < records; i++) {
    const at = TRACE_BASE + 8 * i;
    const cycles = view.getUint32(at, true);
    const word = view.getUint32(at + 4, true);
    const addr = word & TRACE_ADDR_MASK;
    const write = (word & TRACE_WRITE_BIT) !== 0;
    const kind = kindOf(addr);
    if (kind < 0) continue;
    const line = addr >>> lineShift;
    let k = 0;
    while (k < nSeen && seen[k] !== line) k++;
    const wasSeen = k < nSeen;
    if (!wasSeen) {
      if (nSeen === seen.length) seen = seenLines = grown(seen);
      seen[nSeen++] = line;
    }
    if (write) {
      ops[n] = cycles - last;
      ops[n + 1] = kind;
      ops[n + 2] = 1 | (line << 8);
      n += 3;
      posted++;
      last = cycles;
      continue;
    }
    if (wasSeen) continue;
    ops[n] = cycles - last;
    ops[n + 1] = kind;
    ops[n + 2] = line << 8;
    n += 3;
    waits++;
    last = cycles;
  }
  ops[n] = Math.max(0, totalCycles - last);
  ops[n + 1] = -1;
  ops[n + 2] = 0;
  out.cycles = totalCycles;
  out.waits = waits;
  out.posted = posted;
  return out;
}
