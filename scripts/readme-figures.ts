// README figures from their sources. Every number the README states sits in a marked region,
//   <!-- figures:NAME -->...<!-- /figures -->
// and this script rewrites each region from where the number comes from:
//   - the build (instruction counts, control store, ME split, header size), the fixture list, the
//     policy catalogue, the tests' own sizes, scenario files and config defaults: deterministic, so
//     test/readme.test.ts recomputes them and fails when the README says something else;
//   - this machine (the self-test time, bench/results/*.json written by `npm run bench`): stated with
//     the command and the date they were measured, rewritten only when this script runs.
// Usage: npm run readme:figures            rewrite README.md
//        npm run readme:figures -- --check exit 1 when a deterministic region is out of date
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { buildFirmware } from "../toolchain/build/build.js";
import { decodeFirmware, type FirmwareImage } from "../toolchain/image/format.js";
import { policyNames } from "../controlplane/policies/index.js";
import { FIXTURE_SUITES, selfTest } from "../sim/testing/fixtures/index.js";
import { loadScenario } from "../sim/scenario/load.js";
import { DeviceConfigSchema } from "../device/config.js";
import { median } from "../bench/lib/results.js";

export const ROOT = fileURLToPath(new URL("../", import.meta.url));
export const README = join(ROOT, "README.md");
const RESULTS_DIR = join(ROOT, "bench", "results");

/** What regenerates the measured regions (quoted in them). */
const COMMAND = "npm run readme:figures";

const REGION = /<!-- figures:([a-z0-9-]+) -->([\s\S]*?)<!-- \/figures -->/g;

/** The marked regions of a README text, by name, in order. Throws on an unclosed or nested marker. */
export function readRegions(text: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const m of text.matchAll(REGION)) {
    if (m[2].includes("<!-- figures:")) throw new Error(`README: region ${m[1]} is not closed before the next one opens`);
    out.set(m[1], [...(out.get(m[1]) ?? []), m[2]]);
  }
  const opened = (text.match(/<!-- figures:/g) ?? []).length;
  const closed = (text.match(/<!-- \/figures -->/g) ?? []).length;
  const found = [...out.values()].reduce((n, v) => n + v.length, 0);
  if (opened !== found || closed !== found) throw new Error(`README: ${opened} region markers open, ${closed} close, ${found} regions parse`);
  return out;
}

/** `text` with every region named in `values` rewritten (all regions of that name); others untouched. */
export function replaceRegions(text: string, values: Record<string, string>): string {
  return text.replace(REGION, (whole, name: string) => (name in values ? `<!-- figures:${name} -->${values[name]}<!-- /figures -->` : whole));
}

/** Regions whose content differs from `expected` (or that are missing), one line each. */
export function staleRegions(text: string, expected: Record<string, string>): string[] {
  const regions = readRegions(text);
  const out: string[] = [];
  for (const [name, want] of Object.entries(expected)) {
    const have = regions.get(name);
    if (!have) out.push(`${name}: no <!-- figures:${name} --> region in the README`);
    else for (const h of have) if (h !== want) out.push(`${name}: the README says ${JSON.stringify(h)}, the source says ${JSON.stringify(want)}`);
  }
  return out;
}

/** A scratch build of the data plane (a dev key under a temporary NPSWITCH_HOME unless one is set). */
export async function buildForFigures(): Promise<FirmwareImage & { bytes: Uint8Array }> {
  const dir = mkdtempSync(join(tmpdir(), "npswitch-readme-"));
  const home = process.env.NPSWITCH_HOME;
  process.env.NPSWITCH_HOME ??= join(dir, "home");
  try {
    const out = (await buildFirmware({ out: join(dir, "fw.npfw") })).out;
    const bytes = new Uint8Array(readFileSync(out));
    return { ...decodeFirmware(bytes), bytes };
  } finally {
    if (home === undefined) delete process.env.NPSWITCH_HOME;
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The default of `NAME ?? 123_000` style constants in a test file. */
function testDefault(file: string, env: string): number {
  const src = readFileSync(join(ROOT, file), "utf8");
  const m = new RegExp(`process\\.env\\.${env} \\?\\? ([0-9_]+)`).exec(src);
  if (!m) throw new Error(`${file}: no default for ${env}`);
  return Number(m[1].replace(/_/g, ""));
}

const thousands = (n: number) => (n % 1000 === 0 ? `${n / 1000}k` : String(n));
const list = (xs: string[]) => (xs.length < 2 ? xs.join("") : `${xs.slice(0, -1).join(", ")} and ${xs[xs.length - 1]}`);
/** "0-3" for consecutive microengines, else "0, 2". */
const meRange = (mes: number[]) => (mes.length > 1 && mes.every((m, i) => i === 0 || m === mes[i - 1] + 1) ? `${mes[0]}-${mes[mes.length - 1]}` : mes.join(", "));

/** Every region whose figure follows from the sources alone (same tree, same text). */
export function deterministicFigures(fw: FirmwareImage & { bytes: Uint8Array }): Record<string, string> {
  const m = fw.manifest;
  const images = m.pipeline.map((name) => m.images.find((i) => i.name === name)!);
  const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { engines: { node: string } };
  // A device config's defaults: its blocks parsed from nothing.
  const device = { management: DeviceConfigSchema.shape.management.parse(undefined), cp: DeviceConfigSchema.shape.cp.parse(undefined) };
  const bigBin = /^BIG_BIN_BYTES=\$\(\((\d+) << (\d+)\)\)/m.exec(readFileSync(join(ROOT, "scripts", "testnet.sh"), "utf8"));
  if (!bigBin) throw new Error("scripts/testnet.sh: no BIG_BIN_BYTES=$((N << S))");
  const bigBytes = Number(bigBin[1]) * 2 ** Number(bigBin[2]);
  const synflood = loadScenario(join(ROOT, "sim", "scenarios", "synflood.yaml"));
  return {
    "control-store": String(m.target.controlStoreInstructions),
    node: /^>=\s*(\d+)/.exec(pkg.engines.node)![1],
    "me-split": `MEs ${list(images.map((i) => `${meRange(i.mes)} run \`${i.name}\``))}`,
    instructions: `${list(images.map((i) => `${i.name} ${i.instructions}`))} of the ${m.target.controlStoreInstructions}-instruction ${m.target.name} control store`,
    "checksum-cases": thousands(testDefault("test/dataplane/checksum.property.test.ts", "NPSWITCH_CHECKSUM_CASES")),
    "fuzz-packets": thousands(testDefault("test/dataplane/fuzz.test.ts", "NPSWITCH_FUZZ_PER_IMAGE")),
    "synflood-rate": thousands(synflood.attack!.syn_flood_per_s),
    "testnet-big": bigBytes % 2 ** 20 === 0 ? `${bigBytes / 2 ** 20} MiB` : `${bigBytes} bytes`,
    fixtures: String(FIXTURE_SUITES.reduce((n, s) => n + s.fixtures.length, 0)),
    probation: `${device.management.probation_packets.toLocaleString("en-US")} packets or ${device.management.probation_s} s`,
    "port-reuse": `${device.cp.port_reuse_s} s`,
    "header-bytes": String(fw.bytes.indexOf(0x7b)), // the manifest's JSON starts right after the header
    policies: String(policyNames().length),
  };
}

const today = () => new Date().toISOString().slice(0, 10);

/** The flash self-test on the built images as a device runs it (yielding every 8 fixtures), median of 5. */
async function selfTestTime(fw: FirmwareImage): Promise<string> {
  const images = fw.manifest.images.map((i) => ({ name: i.name, wasm: fw.payloads.get(i.name)! }));
  const ms: number[] = [];
  for (let i = 0; i < 5; i++) {
    const r = await selfTest(images, { pipeline: fw.manifest.pipeline, yieldEvery: 8 });
    if (!r.ok) throw new Error(`the self-test fails on this tree (${r.failed.length} fixtures): no time to report`);
    ms.push(r.ms);
  }
  return `${(median(ms) / 1000).toFixed(1)} s on an idle host (\`${COMMAND}\`, ${today()})`;
}

interface BenchFile {
  bench: string;
  command: string;
  machine: { node: string; cpus: number; platform: string };
  figures: { name: string; value: number; unit: string }[];
}

/** A table of every figure in bench/results/*.json, with the command and the date each file was written; null without results. */
function benchTable(): string | null {
  let files: string[];
  try {
    files = readdirSync(RESULTS_DIR).filter((f) => f.endsWith(".json")).sort();
  } catch {
    return null;
  }
  if (files.length === 0) return null;
  const rows = ["| command | figure | value | measured |", "| --- | --- | --- | --- |"];
  for (const f of files) {
    const path = join(RESULTS_DIR, f);
    const r = JSON.parse(readFileSync(path, "utf8")) as BenchFile;
    if (!Array.isArray(r.figures) || !r.machine) continue; // another tool's results (e.g. dp-mutants.json), not a bench's
    const when = `${statSync(path).mtime.toISOString().slice(0, 10)}, ${r.machine.cpus} CPUs, Node ${r.machine.node}`;
    for (const fig of r.figures) rows.push(`| \`${r.command}\` | ${fig.name} | ${fig.value} ${fig.unit} | ${when} |`);
  }
  return `\n${rows.join("\n")}\n`;
}

async function main(): Promise<void> {
  const check = process.argv.includes("--check");
  const fw = await buildForFigures();
  const fixed = deterministicFigures(fw);
  const text = readFileSync(README, "utf8");
  if (check) {
    const stale = staleRegions(text, fixed);
    for (const s of stale) console.error(`README.md: ${s}`);
    process.exit(stale.length ? 1 : 0);
  }
  const values: Record<string, string> = { ...fixed, "selftest-time": await selfTestTime(fw) };
  const bench = benchTable();
  if (bench) values.bench = bench;
  else console.error(`readme-figures: no bench/results/*.json (run \`npm run bench\`): the bench region is left as it is`);
  const unknown = [...readRegions(text).keys()].filter((n) => !(n in values) && n !== "bench");
  if (unknown.length) throw new Error(`README: regions this script does not know: ${unknown.join(", ")}`);
  const next = replaceRegions(text, values);
  if (next === text) console.log("README.md: figures already current");
  else {
    writeFileSync(README, next);
    console.log(`README.md: figures rewritten (${Object.keys(values).join(", ")})`);
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((e) => {
    console.error(`readme-figures: ${(e as Error).message}`);
    process.exit(1);
  });
}
