// Instruction counts of every data-plane image against the control-store budget on each built-in
// target, and the build time (median of several builds, each a full compile + verify + sign).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildFirmware } from "../toolchain/build/build.js";
import { BUILTIN_TARGETS } from "../toolchain/target/profile.js";
import { median, writeResult, type Figure } from "./lib/results.js";

const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const dir = mkdtempSync(join(tmpdir(), "npswitch-bench-build-"));
process.env.NPSWITCH_HOME = join(dir, "home");
const figures: Figure[] = [];
const details: Record<string, unknown> = {};
try {
  for (const target of BUILTIN_TARGETS) {
    const times: number[] = [];
    let last;
    for (let i = 0; i < RUNS; i++) {
      last = await buildFirmware({ target, out: join(dir, `${target}.npfw`) });
      times.push(last.seconds);
    }
    const m = last!.manifest;
    console.log(`${target}: control store ${m.target.controlStoreInstructions} instructions per ME; build median ${median(times).toFixed(2)} s over ${RUNS} runs`);
    for (const img of m.images) {
      const pct = (100 * img.instructions) / img.budget;
      console.log(`  ${img.name.padEnd(10)} ${String(img.instructions).padStart(5)} / ${img.budget} instructions (${pct.toFixed(1)}%), ${img.bytes} bytes, MEs ${img.mes.join(",")}`);
      figures.push({ name: `${target} ${img.name} instructions`, value: img.instructions, unit: `of ${img.budget}` });
    }
    figures.push({ name: `${target} build time (median of ${RUNS})`, value: Number(median(times).toFixed(3)), unit: "s" });
    details[target] = { times, images: m.images.map(({ name, instructions, budget, bytes }) => ({ name, instructions, budget, bytes })) };
  }
  console.log(`wrote ${writeResult("build", figures, details)}`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
