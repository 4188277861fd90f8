// Fuzzes the real images through the pipeline: random bytes and mutations of valid packets, with
// spliced flows installed so splice runs on a large share. The images must never trap and must
// always return a verdict (a DROP with a named reason). Seeded: replay with NPSWITCH_SEED.
import { describe, expect, it } from "vitest";
import { loadDataplane } from "../../sim/np/load.js";
import { emptyStats, formatTrap, fuzzDataplaneOptions, runFuzzPacket, setUpFuzzWorld, type FuzzStats } from "../../sim/testing/fuzz.js";
import { seedFromEnv } from "../../lib/random.js";

const SEED = seedFromEnv(0xf022_0001);
/** Packets that reach each image (classify sees every packet; splice those of spliced flows). */
const PER_IMAGE = Number(process.env.NPSWITCH_FUZZ_PER_IMAGE ?? 200_000);

describe("data-plane fuzz", () => {
  it(`no trap in ${PER_IMAGE} packets per image (classify, splice)`, async () => {
    const stats = emptyStats();
    const started = performance.now();
    // Two worlds, half the packets each: TCP checksum checking off (odd seed) and on (even seed);
    // one of them with a tiny exception ring that is often full.
    const first = (SEED | 1) >>> 0;
    for (const seed of [first, first + 1]) {
      const dp = await loadDataplane(fuzzDataplaneOptions(seed));
      const gen = setUpFuzzWorld(dp, seed);
      const target = (stats.ranSplice + PER_IMAGE / 2);
      const limit = stats.packets + 10 * PER_IMAGE;
      while ((stats.ranSplice < target || stats.ranClassify < PER_IMAGE * (seed & 1 ? 0.5 : 1)) && stats.packets < limit) {
        runFuzzPacket(dp, gen.next(), stats);
        if (stats.traps.length >= 5) break;
      }
    }
    const seconds = (performance.now() - started) / 1000;
    console.log(summary(stats, seconds));
    if (stats.traps.length) throw new Error(`seed 0x${SEED.toString(16)} (replay: NPSWITCH_SEED=0x${SEED.toString(16)}):\n${stats.traps.map(formatTrap).join("\n\n")}`);
    expect(stats.violations, `seed 0x${SEED.toString(16)}`).toEqual([]);
    expect(stats.ranClassify).toBeGreaterThanOrEqual(PER_IMAGE);
    expect(stats.ranSplice).toBeGreaterThanOrEqual(PER_IMAGE);
    // The generator reaches deep: every verdict but NEXT, and most drop reasons, occur.
    expect(Object.keys(stats.byVerdict).sort()).toEqual(["DROP", "FORWARD", "TO_CP"]);
    for (const r of ["ETH_TRUNCATED", "IP_BAD_TOTAL_LEN", "IP_BAD_CHECKSUM", "TCP_BAD_DOFF", "TCP_BAD_OPTION", "TCP_BAD_CHECKSUM", "TCP_BAD_FLAGS", "TCP_CLOSED_FLOW", "IP_TTL_EXPIRED", "RING_FULL"]) {
      expect(stats.byReason[r] ?? 0, `drops with ${r}`).toBeGreaterThan(0);
    }
  });
});

function summary(s: FuzzStats, seconds: number): string {
  const sorted = (o: Record<string, number>) => Object.entries(o).sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${v}`).join(", ");
  return [
    `fuzz seed 0x${SEED.toString(16)}: ${s.packets} packets in ${seconds.toFixed(1)} s (classify ${s.ranClassify}, splice ${s.ranSplice}), traps ${s.traps.length}`,
    `  verdicts: ${sorted(s.byVerdict)}`,
    `  reasons:  ${sorted(s.byReason)}`,
    `  kinds:    ${sorted(s.byKind)}`,
  ].join("\n");
}
