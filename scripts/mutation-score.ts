// Mutation score per folder from Stryker's JSON report (mutation-testing-report-schema): prints a table and
// writes it to reports/mutation/scores.json. Run by `npm run mutation` after Stryker; see docs/MUTATION.md.
// Usage: tsx scripts/mutation-score.ts [report.json] [--survivors [folder]]
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = resolve(fileURLToPath(new URL("..", import.meta.url)));
const REPORT = join(ROOT, "reports/mutation/mutation.json");
const OUT = join(ROOT, "reports/mutation/scores.json");
const EQUIVALENTS = join(ROOT, "docs/mutation-equivalents.md");

/** The parts of the report schema this script reads. */
interface Mutant {
  id: string;
  mutatorName: string;
  replacement?: string;
  location: { start: { line: number; column: number }; end: { line: number; column: number } };
  status: "Killed" | "Survived" | "NoCoverage" | "Timeout" | "CompileError" | "RuntimeError" | "Ignored" | "Pending";
}
interface Report {
  files: Record<string, { source: string; mutants: Mutant[] }>;
}

/** The folders the score is reported for, most specific first; a file counts in the first that holds it. */
export const GROUPS = [
  "controlplane/policies",
  "controlplane/connection",
  "controlplane/http",
  "controlplane/pool",
  "controlplane/tables",
  "controlplane/tcp",
  "controlplane/*.ts",
  "abi",
  "packet",
  "toolchain/verify",
] as const;

export interface Score {
  killed: number;
  timeout: number;
  survived: number;
  noCoverage: number;
  /** Survivors named in docs/mutation-equivalents.md. */
  equivalent: number;
  /** Errors and ignored mutants: not in the score. */
  invalid: number;
  /** (killed + timeout) / (killed + timeout + survived + noCoverage), percent, as Stryker computes it. */
  score: number;
  /** The same with the listed equivalent mutants left out of the denominator. */
  scoreWithoutEquivalents: number;
}

export function groupOf(file: string): string | undefined {
  for (const g of GROUPS) {
    if (g.endsWith("/*.ts")) {
      const dir = g.slice(0, -"/*.ts".length);
      if (dirname(file) === dir) return g;
    } else if (file === g || file.startsWith(`${g}/`)) return g;
  }
  return undefined;
}

/** `file:line|mutator|replacement` keys of the equivalents table in docs/mutation-equivalents.md. */
export function equivalentKeys(markdown: string): Set<string> {
  const keys = new Set<string>();
  for (const line of markdown.split("\n")) {
    const cells = line.split(/(?<!\\)\|/).map((c) => c.trim());
    // | `file:line` | mutator | `replacement` | why |
    if (cells.length < 5) continue;
    const at = /^`?([\w./-]+\.ts):(\d+)`?$/.exec(cells[1]);
    if (!at) continue;
    keys.add(`${at[1]}:${at[2]}|${cells[2]}|${unquote(cells[3])}`);
  }
  return keys;
}

/** A cell's code span as markdown reads it: `x`, or ``` `` ``` (longer fences, one space stripped each side) for text with backticks. */
function unquote(cell: string): string {
  const m = /^(`+)(.*)\1$/.exec(cell);
  let text = m ? m[2] : cell;
  if (m && m[1].length > 1 && text.startsWith(" ") && text.endsWith(" ") && text.trim() !== "") text = text.slice(1, -1);
  return text.replace(/\\\|/g, "|");
}

/** The replacement as the equivalents table writes it: one line, spaces collapsed. */
export function oneLine(replacement: string | undefined): string {
  return (replacement ?? "").replace(/\s+/g, " ").trim();
}

export function mutantKey(file: string, m: Mutant): string {
  return `${file}:${m.location.start.line}|${m.mutatorName}|${oneLine(m.replacement)}`;
}

function emptyCounts(): Omit<Score, "score" | "scoreWithoutEquivalents"> {
  return { killed: 0, timeout: 0, survived: 0, noCoverage: 0, equivalent: 0, invalid: 0 };
}

function finish(c: Omit<Score, "score" | "scoreWithoutEquivalents">): Score {
  const detected = c.killed + c.timeout;
  const valid = detected + c.survived + c.noCoverage;
  const pct = (n: number, d: number) => (d === 0 ? 100 : Math.round((1000 * n) / d) / 10);
  return { ...c, score: pct(detected, valid), scoreWithoutEquivalents: pct(detected, valid - c.equivalent) };
}

export function scores(report: Report, root: string, equivalents: Set<string>): Record<string, Score> {
  const counts = new Map<string, ReturnType<typeof emptyCounts>>();
  const total = emptyCounts();
  for (const [name, file] of Object.entries(report.files)) {
    const rel = relative(root, resolve(root, name)).split("\\").join("/");
    const group = groupOf(rel) ?? dirname(rel);
    let c = counts.get(group);
    if (!c) counts.set(group, (c = emptyCounts()));
    for (const m of file.mutants) {
      for (const t of [c, total]) {
        switch (m.status) {
          case "Killed": t.killed++; break;
          case "Timeout": t.timeout++; break;
          case "Survived": case "NoCoverage":
            if (m.status === "Survived") t.survived++; else t.noCoverage++;
            if (equivalents.has(mutantKey(rel, m))) t.equivalent++;
            break;
          default: t.invalid++;
        }
      }
    }
  }
  const out: Record<string, Score> = {};
  const order = [...GROUPS, ...[...counts.keys()].filter((g) => !(GROUPS as readonly string[]).includes(g)).sort()];
  for (const g of order) {
    const c = counts.get(g);
    if (c) out[g] = finish(c);
  }
  out.total = finish(total);
  return out;
}

function table(s: Record<string, Score>): string {
  const head = ["folder", "score %", "w/o equiv. %", "killed", "timeout", "survived", "no cov.", "equiv."];
  const rows = Object.entries(s).map(([g, v]) => [
    g, v.score.toFixed(1), v.scoreWithoutEquivalents.toFixed(1),
    String(v.killed), String(v.timeout), String(v.survived), String(v.noCoverage), String(v.equivalent),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const fmt = (r: string[]) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join("  ");
  return [fmt(head), ...rows.map(fmt)].join("\n");
}

function main(argv: string[]): void {
  const flag = argv.indexOf("--survivors");
  const only = flag >= 0 ? argv[flag + 1] : undefined;
  const args = argv.filter((a, i) => a !== "--survivors" && !(flag >= 0 && i === flag + 1));
  const reportPath = resolve(args[0] ?? REPORT);
  if (!existsSync(reportPath)) {
    console.error(`no mutation report at ${reportPath}: run npm run mutation first`);
    process.exit(1);
  }
  const report = JSON.parse(readFileSync(reportPath, "utf8")) as Report;
  const equivalents = existsSync(EQUIVALENTS) ? equivalentKeys(readFileSync(EQUIVALENTS, "utf8")) : new Set<string>();
  const s = scores(report, ROOT, equivalents);
  console.log(table(s));
  mkdirSync(dirname(OUT), { recursive: true });
  writeFileSync(OUT, JSON.stringify({ report: relative(ROOT, reportPath), scores: s }, null, 2) + "\n");
  console.log(`\nwritten to ${relative(ROOT, OUT)}`);
  if (flag >= 0) {
    for (const [name, file] of Object.entries(report.files).sort(([a], [b]) => a.localeCompare(b))) {
      const rel = relative(ROOT, resolve(ROOT, name)).split("\\").join("/");
      if (only && !rel.startsWith(only)) continue;
      const lines = file.source.split("\n");
      for (const m of [...file.mutants].sort((a, b) => a.location.start.line - b.location.start.line)) {
        if (m.status !== "Survived" && m.status !== "NoCoverage") continue;
        if (equivalents.has(mutantKey(rel, m))) continue;
        console.log(`${rel}:${m.location.start.line}:${m.location.start.column} ${m.status} ${m.mutatorName} -> ${oneLine(m.replacement).slice(0, 100)}`);
        console.log(`    ${lines[m.location.start.line - 1]?.trim().slice(0, 140)}`);
      }
    }
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main(process.argv.slice(2));
