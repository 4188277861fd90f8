// Shared printing for the CLI: aligned tables, JSON, and the one error line.
import { NpswitchError } from "../errors.js";

export function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value, null, 2) + "\n");
}

/** Render rows as an aligned text table; numbers right-aligned. */
export function table(header: string[], rows: (string | number)[][]): string {
  const cells = [header, ...rows.map((r) => r.map(String))];
  const widths = header.map((_, c) => Math.max(...cells.map((r) => (r[c] ?? "").length)));
  const numeric = header.map((_, c) => rows.length > 0 && rows.every((r) => typeof r[c] === "number"));
  const line = (r: string[]) => r.map((v, c) => (numeric[c] ? v.padStart(widths[c]) : v.padEnd(widths[c]))).join("  ").trimEnd();
  return [line(cells[0]), line(widths.map((w) => "-".repeat(w))), ...cells.slice(1).map(line)].join("\n");
}

/** Progress lines go to stderr so that stdout stays clean for --json. */
export function progress(message: string): void {
  if (process.stderr.isTTY || process.env.NPSWITCH_PROGRESS) process.stderr.write(`  ${message}...\n`);
}

/** Turn any error into one line (plus its detail lines) on stderr and exit code 1. */
export function reportError(e: unknown): never {
  if (e instanceof NpswitchError) {
    process.stderr.write(`npswitch: error: ${e.message}\n`);
    for (const d of e.details) process.stderr.write(`npswitch: error: ${d}\n`);
  } else {
    const err = e as Error;
    process.stderr.write(`npswitch: internal error: ${err?.message ?? String(e)}\n`);
    if (process.env.NPSWITCH_DEBUG) process.stderr.write(`${err?.stack}\n`);
  }
  process.exit(1);
}
