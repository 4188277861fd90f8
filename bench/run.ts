// `npm run bench`: runs every bench/*.bench.ts in turn (each prints its own figures and writes
// bench/results/<name>.json), then prints one summary table of all results.
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { RESULTS_DIR, type BenchResult } from "./lib/results.js";

const benchDir = fileURLToPath(new URL(".", import.meta.url));
const only = process.argv.slice(2);
const benches = readdirSync(benchDir)
  .filter((f) => f.endsWith(".bench.ts"))
  .filter((f) => only.length === 0 || only.some((o) => f.includes(o)))
  .sort();

const summary: string[][] = [];
let failed = 0;
for (const file of benches) {
  const name = file.replace(/\.bench\.ts$/, "");
  console.log(`\n=== ${name} ===`);
  const r = spawnSync(process.execPath, ["--import", "tsx", join(benchDir, file)], { stdio: "inherit" });
  if (r.status !== 0) {
    failed++;
    summary.push([name, "FAILED", `exit ${r.status}`, ""]);
    continue;
  }
  const path = join(RESULTS_DIR, `${name}.json`);
  if (!existsSync(path)) {
    summary.push([name, "no results file", "", ""]);
    continue;
  }
  const res = JSON.parse(readFileSync(path, "utf8")) as BenchResult;
  for (const f of res.figures) summary.push([name, f.name, String(f.value), f.unit]);
}

const widths = [0, 1, 2, 3].map((c) => Math.max(...[["bench", "figure", "value", "unit"], ...summary].map((r) => r[c].length)));
const line = (r: string[]) => r.map((v, c) => (c === 2 ? v.padStart(widths[c]) : v.padEnd(widths[c]))).join("  ");
console.log("\n=== summary ===");
console.log(line(["bench", "figure", "value", "unit"]));
for (const r of summary) console.log(line(r));
process.exit(failed ? 1 : 0);
