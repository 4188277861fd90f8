// How a benchmark records its figures: bench/results/<name>.json, with the command to rerun it.
import { mkdirSync, writeFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const RESULTS_DIR = fileURLToPath(new URL("../results/", import.meta.url));

export interface Figure {
  name: string;
  value: number;
  unit: string;
}

export interface BenchResult {
  bench: string;
  command: string;
  machine: { node: string; cpus: number; platform: string };
  figures: Figure[];
  details?: unknown;
}

export function writeResult(bench: string, figures: Figure[], details?: unknown): string {
  const result: BenchResult = {
    bench,
    command: `npm run bench -- ${bench}`,
    machine: { node: process.versions.node, cpus: availableParallelism(), platform: process.platform },
    figures,
    details,
  };
  mkdirSync(RESULTS_DIR, { recursive: true });
  const path = join(RESULTS_DIR, `${bench}.json`);
  writeFileSync(path, JSON.stringify(result, null, 2) + "\n");
  return path;
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}
