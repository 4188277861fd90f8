// Long fuzz run of the data-plane images (same generator as test/dataplane/fuzz.test.ts):
//   npx tsx scripts/fuzz-long.ts [--packets 10000000] [--seed 0x1234] [--world 1000000] [--dataplane DIR]
// Prints progress, then counts by verdict, reason and packet kind; exits 1 on any trap or contract violation.
import { parseArgs } from "node:util";
import { loadDataplane } from "../sim/np/load.js";
import { emptyStats, formatTrap, fuzzDataplaneOptions, runFuzzPacket, setUpFuzzWorld, type FuzzStats } from "../sim/testing/fuzz.js";

const { values } = parseArgs({
  options: {
    packets: { type: "string", default: "10000000" },
    seed: { type: "string" },
    world: { type: "string", default: "1000000" },
    dataplane: { type: "string" },
    "max-reports": { type: "string", default: "20" },
  },
});

function count(name: string, text: string): number {
  const n = Number(text.replace(/_/g, ""));
  if (!Number.isInteger(n) || n <= 0) {
    console.error(`fuzz-long: --${name} must be a positive integer, got '${text}'`);
    process.exit(2);
  }
  return n;
}

const total = count("packets", values.packets!);
const perWorld = count("world", values.world!);
const maxReports = count("max-reports", values["max-reports"]!);
const seed = (values.seed !== undefined ? Number(values.seed) : Date.now()) >>> 0;
if (values.seed !== undefined && !Number.isFinite(Number(values.seed))) {
  console.error(`fuzz-long: --seed must be a number (decimal or 0x hex), got '${values.seed}'`);
  process.exit(2);
}

const stats = emptyStats();
const started = performance.now();
let lastReport = started;
console.error(`fuzz-long: ${total} packets, seed 0x${seed.toString(16)}, a fresh data plane and flow set every ${perWorld} packets`);

for (let world = 0; stats.packets < total; world++) {
  // Each world: new memory, new flows; even world seeds check TCP checksums, odd ones do not;
  // every other pair runs with a tiny, often full exception ring.
  const worldSeed = (seed + world) >>> 0;
  const dp = await loadDataplane({ dataplaneDir: values.dataplane, ...fuzzDataplaneOptions(worldSeed) });
  const gen = setUpFuzzWorld(dp, worldSeed);
  const end = Math.min(total, stats.packets + perWorld);
  while (stats.packets < end) {
    runFuzzPacket(dp, gen.next(), stats);
    if ((stats.packets & 0x3fff) === 0) {
      const now = performance.now();
      if (now - lastReport > 5000) {
        lastReport = now;
        const rate = stats.packets / ((now - started) / 1000);
        console.error(`  ${stats.packets}/${total} (${((100 * stats.packets) / total).toFixed(1)}%), ${Math.round(rate)} pkt/s, splice ${stats.ranSplice}, traps ${stats.traps.length}, violations ${stats.violations.length}`);
      }
    }
  }
}

const seconds = (performance.now() - started) / 1000;
print(stats, seconds);
process.exit(stats.traps.length || stats.violations.length ? 1 : 0);

function print(s: FuzzStats, secs: number): void {
  const table = (title: string, o: Record<string, number>) => {
    console.log(`${title}:`);
    for (const [k, v] of Object.entries(o).sort((a, b) => b[1] - a[1])) console.log(`  ${k.padEnd(22)} ${String(v).padStart(10)}  ${((100 * v) / s.packets).toFixed(2).padStart(6)}%`);
  };
  console.log(`seed 0x${seed.toString(16)}: ${s.packets} packets in ${secs.toFixed(1)} s (${Math.round(s.packets / secs)} pkt/s); classify ran ${s.ranClassify}, splice ran ${s.ranSplice}`);
  table("verdicts", s.byVerdict);
  table("drop reasons", s.byReason);
  table("packet kinds", s.byKind);
  console.log(`traps: ${s.traps.length}, contract violations: ${s.violations.length}`);
  for (const t of s.traps.slice(0, maxReports)) console.log(`\n${formatTrap(t)}`);
  for (const v of s.violations.slice(0, maxReports)) console.log(`\n${v}`);
}
