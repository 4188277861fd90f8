// Property test of dataplane/lib/checksum.ts (RFC 1071 sums, RFC 1624 eqn. 3 incremental updates):
// on random headers and random 16/32-bit field changes, the incremental checksum equals a full
// recompute, both by the AS code and by the host's independent implementation. Seeded, replayable.
import { beforeAll, describe, expect, it } from "vitest";
import { join } from "node:path";
import { compileImage, PROJECT_ROOT } from "../../toolchain/build/compile.js";
import { INTRINSICS } from "../../abi/abi.js";
import { createNpMemory } from "../../sim/np/imports.js";
import { Random, seedFromEnv } from "../../lib/random.js";
import { foldComplement, internetChecksum, onesSum } from "../../packet/checksum.js";
import { hex } from "../../packet/hex.js";

const PROBES = join(PROJECT_ROOT, "test/dataplane/probes");
/** Scratch area for the headers, clear of the probe's static data. */
const AT = 0x40_0000;
const SEED = seedFromEnv(0x5eed_c0de);
const CASES = Number(process.env.NPSWITCH_CHECKSUM_CASES ?? 120_000);

interface Probe {
  add(ptr: number, len: number, sum: number): number;
  fold(sum: number): number;
  replace16(check: number, oldWord: number, newWord: number): number;
  replace32(check: number, oldValue: number, newValue: number): number;
  replace32Odd(check: number, oldValue: number, newValue: number): number;
}

let probe: Probe;
let mem: Uint8Array;

beforeAll(async () => {
  const wasm = await compileImage("checksum", { slot: 0, dataplaneDir: PROBES });
  const memory = createNpMemory();
  const np: Record<string, unknown> = { memory };
  for (const i of INTRINSICS) np[i.name] = () => { throw new Error(`checksum probe called np.${i.name}`); };
  const instance = await WebAssembly.instantiate(await WebAssembly.compile(wasm as BufferSource), { np } as WebAssembly.Imports);
  const e = instance.exports as unknown as Record<keyof Probe, (...a: number[]) => number>;
  const u = (f: (...a: number[]) => number) => (...a: number[]) => f(...a) >>> 0;
  probe = { add: u(e.add), fold: u(e.fold), replace16: u(e.replace16), replace32: u(e.replace32), replace32Odd: u(e.replace32Odd) };
  mem = new Uint8Array(memory.buffer);
});

/** A header of `len` bytes whose bytes lean towards 0x00 / 0xff now and then (carry edge cases). */
function randomHeader(rng: Random, len: number): Uint8Array {
  const h = rng.bytes(len);
  if (rng.chance(0.2)) for (let i = 0; i < len; i++) if (rng.chance(0.5)) h[i] = rng.chance(0.5) ? 0xff : 0x00;
  return h;
}

/** A 16/32-bit value with the edges (0, all ones, one bit) overrepresented. */
function randomValue(rng: Random, bits: 16 | 32): number {
  const max = bits === 16 ? 0xffff : 0xffff_ffff;
  switch (rng.below(6)) {
    case 0: return 0;
    case 1: return max;
    case 2: return (2 ** rng.below(bits)) >>> 0;
    default: return bits === 16 ? rng.u32() & 0xffff : rng.u32();
  }
}

const getU16 = (b: Uint8Array, at: number) => (b[at] << 8) | b[at + 1];
const getU32 = (b: Uint8Array, at: number) => ((b[at] << 24) | (b[at + 1] << 16) | (b[at + 2] << 8) | b[at + 3]) >>> 0;
const setU16 = (b: Uint8Array, at: number, v: number) => { b[at] = v >>> 8; b[at + 1] = v & 0xff; };
const setU32 = (b: Uint8Array, at: number, v: number) => { setU16(b, at, v >>> 16); setU16(b, at + 2, v & 0xffff); };

/** Full recompute of the checksum field at `csumAt` by the AS code (checksumAdd + checksumFold) over a copy in memory. */
function asFull(h: Uint8Array, csumAt: number): number {
  const copy = h.slice();
  setU16(copy, csumAt, 0);
  mem.set(copy, AT);
  return probe.fold(probe.add(AT, copy.length, 0));
}

/** The host's full recompute (packet/checksum.ts). */
function hostFull(h: Uint8Array, csumAt: number): number {
  const copy = h.slice();
  setU16(copy, csumAt, 0);
  return internetChecksum(copy);
}

interface Failure { kind: string; index: number; detail: string }

function describeFailure(f: Failure): string {
  return `checksum property "${f.kind}" failed at case ${f.index} with seed 0x${SEED.toString(16)} (replay: NPSWITCH_SEED=0x${SEED.toString(16)})\n${f.detail}`;
}

/**
 * One case: a header of even length with a checksum field, one or more field changes applied with
 * the incremental update; the result must equal both full recomputes and verify to zero.
 */
function incrementalCase(rng: Random, kind: "16" | "32" | "32odd" | "chain", index: number): Failure | undefined {
  const len = 2 * rng.int(10, 40);
  const h = randomHeader(rng, len);
  const csumAt = 2 * rng.below(len / 2);
  setU16(h, csumAt, hostFull(h, csumAt));
  let check = getU16(h, csumAt);
  const steps = kind === "chain" ? rng.int(2, 6) : 1;
  const log: string[] = [`header ${hex(h)} checksum@${csumAt}=0x${check.toString(16)}`];
  for (let s = 0; s < steps; s++) {
    const k = kind === "chain" ? rng.pick(["16", "32", "32odd"] as const) : kind;
    // A field that does not overlap the checksum field.
    const width = k === "16" ? 2 : 4;
    let at: number;
    do {
      at = k === "32odd" ? 1 + 2 * rng.below((len - 4) / 2) : 2 * rng.below((len - width) / 2 + 1);
    } while (at < csumAt + 2 && at + width > csumAt);
    if (k === "16") {
      const old = getU16(h, at);
      const nw = rng.chance(0.05) ? old : randomValue(rng, 16);
      setU16(h, at, nw);
      check = probe.replace16(check, old, nw);
      log.push(`replace16 @${at} 0x${old.toString(16)} -> 0x${nw.toString(16)}: 0x${check.toString(16)}`);
    } else {
      const old = getU32(h, at);
      const nw = rng.chance(0.05) ? old : randomValue(rng, 32);
      setU32(h, at, nw);
      check = k === "32" ? probe.replace32(check, old, nw) : probe.replace32Odd(check, old, nw);
      log.push(`replace${k === "32" ? "32" : "32(odd)"} @${at} 0x${old.toString(16)} -> 0x${nw.toString(16)}: 0x${check.toString(16)}`);
    }
  }
  setU16(h, csumAt, check);
  const host = hostFull(h, csumAt);
  const as = asFull(h, csumAt);
  mem.set(h, AT);
  const verify = probe.fold(probe.add(AT, len, 0));
  if (check !== host || check !== as || verify !== 0 || internetChecksum(h) !== 0) {
    return { kind, index, detail: `${log.join("\n")}\nincremental 0x${check.toString(16)}, host full 0x${host.toString(16)}, AS full 0x${as.toString(16)}, AS verify 0x${verify.toString(16)}` };
  }
  return undefined;
}

/** checksumAdd/checksumFold over any length (odd too) and a starting sum equal the host's sum. */
function sumCase(rng: Random, index: number): Failure | undefined {
  const len = rng.chance(0.1) ? rng.below(4) : rng.int(0, 1500);
  const bytes = randomHeader(rng, len);
  const seed = rng.chance(0.3) ? 0 : rng.below(0x0100_0000);
  mem.set(bytes, AT + 1); // odd address too: the data plane reads unaligned
  const as = probe.fold(probe.add(AT + 1, len, seed));
  const host = foldComplement(onesSum(bytes, seed));
  if (as !== host) return { kind: "sum", index, detail: `len ${len} seed 0x${seed.toString(16)} bytes ${hex(bytes)}\nAS 0x${as.toString(16)}, host 0x${host.toString(16)}` };
  return undefined;
}

/** checksumAdd chains: summing two halves (even split) equals summing the whole. */
function chainedSumCase(rng: Random, index: number): Failure | undefined {
  const len = rng.int(0, 200);
  const split = 2 * rng.below(Math.floor(len / 2) + 1);
  const bytes = randomHeader(rng, len);
  mem.set(bytes, AT);
  const whole = probe.fold(probe.add(AT, len, 0));
  const parts = probe.fold(probe.add(AT + split, len - split, probe.add(AT, split, 0)));
  if (whole !== parts) return { kind: "sum-chain", index, detail: `len ${len} split ${split} bytes ${hex(bytes)}\nwhole 0x${whole.toString(16)}, parts 0x${parts.toString(16)}` };
  return undefined;
}

describe("checksum (dataplane/lib/checksum.ts) properties", () => {
  it("agrees with the host on known values", () => {
    // RFC 1071 section 3 example bytes: 00 01 f2 03 f4 f5 f6 f7 -> sum 0xddf2, checksum 0x220d.
    const b = Uint8Array.of(0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7);
    mem.set(b, AT);
    expect(probe.fold(probe.add(AT, 8, 0))).toBe(0x220d);
    expect(internetChecksum(b)).toBe(0x220d);
    // RFC 1624 section 4 example: HC = 0xdd2f, m = 0x5555 -> m' = 0x3285 gives HC' = 0x0000.
    expect(probe.replace16(0xdd2f, 0x5555, 0x3285)).toBe(0x0000);
  });

  it(`incremental updates equal full recomputes on ${CASES} random cases`, () => {
    const rng = new Random(SEED);
    const counts: Record<string, number> = {};
    let failure: Failure | undefined;
    for (let i = 0; i < CASES && !failure; i++) {
      const r = rng.below(100);
      const kind = r < 35 ? "16" : r < 60 ? "32" : r < 72 ? "32odd" : r < 82 ? "chain" : r < 94 ? "sum" : "sum-chain";
      counts[kind] = (counts[kind] ?? 0) + 1;
      failure = kind === "sum" ? sumCase(rng, i) : kind === "sum-chain" ? chainedSumCase(rng, i) : incrementalCase(rng, kind, i);
    }
    if (failure) throw new Error(describeFailure(failure));
    expect(Object.values(counts).reduce((a, b) => a + b, 0)).toBe(CASES);
    expect(counts["16"]).toBeGreaterThan(CASES / 4);
    expect(counts["32"]).toBeGreaterThan(CASES / 5);
  });
});
