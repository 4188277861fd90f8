// Fuzzes the real images through the pipeline: random bytes and mutations of valid packets, with
// spliced flows installed so splice runs on a large share. The images must never trap and must
// always return a verdict (a DROP with a named reason); a forwarded segment of a spliced flow must
// leave rewritten as that flow's entry says, and a segment of no flow must not be forwarded. Seeded:
// replay with NPSWITCH_SEED. The oracle is shown to catch a planted wrong-flow bug.
import { describe, expect, it } from "vitest";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
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
      // The checksum-checking world has thousands of flows, so flows of one server (same addresses,
      // other ports) share buckets: a lookup that confused them would show (see the planted bug below).
      const gen = setUpFuzzWorld(dp, seed, seed & 1 ? 48 : 4000);
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
    // The wrong-flow oracle looked at a large share of the spliced forwards.
    expect(stats.splicedChecked).toBeGreaterThan(stats.ranSplice / 4);
    // The generator reaches deep: every verdict but NEXT, and most drop reasons, occur.
    expect(Object.keys(stats.byVerdict).sort()).toEqual(["DROP", "FORWARD", "TO_CP"]);
    for (const r of ["ETH_TRUNCATED", "IP_BAD_TOTAL_LEN", "IP_BAD_CHECKSUM", "TCP_BAD_DOFF", "TCP_BAD_OPTION", "TCP_BAD_CHECKSUM", "TCP_BAD_FLAGS", "TCP_CLOSED_FLOW", "IP_TTL_EXPIRED", "RING_FULL"]) {
      expect(stats.byReason[r] ?? 0, `drops with ${r}`).toBeGreaterThan(0);
    }
  });
});

describe("the fuzz oracle", () => {
  it("catches a planted wrong-flow bug: a flow lookup that ignores the ports", async () => {
    const DATAPLANE = fileURLToPath(new URL("../../dataplane", import.meta.url));
    const dir = mkdtempSync(join(tmpdir(), "npswitch-fuzz-planted-"));
    try {
      cpSync(DATAPLANE, dir, { recursive: true });
      const file = join(dir, "lib", "flow-table.ts");
      const src = readFileSync(file, "utf8");
      const planted = src.replace(" &&\n      load<u32>(e + FLOW_KEY_SPORT) == ports\n", "\n");
      expect(planted, "the planted edit applies").not.toBe(src);
      writeFileSync(file, planted);
      // Ports are still in the bucket hash, so the bug shows when two flows of one server (same
      // addresses, other ports) share a bucket: a world with many flows makes that common.
      const run = async (dataplaneDir?: string) => {
        const stats = emptyStats();
        const dp = await loadDataplane({ dataplaneDir });
        const gen = setUpFuzzWorld(dp, 0x51ee_d001, 6000);
        for (let i = 0; i < 20_000; i++) runFuzzPacket(dp, gen.next(), stats);
        return stats;
      };
      const good = await run();
      expect(good.traps).toEqual([]);
      expect(good.violations).toEqual([]);
      expect(good.splicedChecked).toBeGreaterThan(5000);
      const bad = await run(dir);
      expect(bad.traps).toEqual([]);
      expect(bad.violations.length, "violations the oracle reports on the planted bug").toBeGreaterThan(0);
      // Both faces of it: a segment sent with another flow's rewrite, and one of no flow spliced.
      expect(bad.violations.find((v) => /forwarded a segment of flow .* with (out port|Ethernet destination|destination address|destination port) /.test(v)), "a segment rewritten for another flow").toBeDefined();
      expect(bad.violations.find((v) => /forwarded a packet of no spliced flow through splice/.test(v)), "a packet of no flow spliced").toBeDefined();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

function summary(s: FuzzStats, seconds: number): string {
  const sorted = (o: Record<string, number>) => Object.entries(o).sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${v}`).join(", ");
  return [
    `fuzz seed 0x${SEED.toString(16)}: ${s.packets} packets in ${seconds.toFixed(1)} s (classify ${s.ranClassify}, splice ${s.ranSplice}, spliced forwards checked ${s.splicedChecked}), traps ${s.traps.length}`,
    `  verdicts: ${sorted(s.byVerdict)}`,
    `  reasons:  ${sorted(s.byReason)}`,
    `  kinds:    ${sorted(s.byKind)}`,
  ].join("\n");
}
