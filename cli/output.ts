// Shared printing for the CLI: aligned tables, JSON, and the one error line.
import { readFileSync } from "node:fs";
import { NpswitchError } from "../lib/errors.js";

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

/**
 * A one-line progress bar on a terminal's stderr (silent otherwise): `label [####    ] 42%` and
 * an optional note after it.
 */
export function progressBar(label: string): ((fraction: number, note?: string) => void) | undefined {
  if (!process.stderr.isTTY) return undefined;
  let last = "";
  return (fraction, note) => {
    const pct = Math.max(0, Math.min(100, Math.floor(fraction * 100)));
    const width = 30, full = Math.round((pct / 100) * width);
    const line = `\r  ${label} [${"#".repeat(full)}${" ".repeat(width - full)}] ${pct}%${note ? `  ${note}` : ""}`;
    if (line === last) return;
    last = line;
    process.stderr.write(`${line}\x1b[K${pct >= 100 ? "\n" : ""}`);
  };
}

/** A bearer token from a file (the device's management.token_file): one line, not empty. */
export function readTokenFile(path: string): string {
  let token: string;
  try {
    token = readFileSync(path, "utf8").trim();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") throw new NpswitchError(`${path}: no such token file`);
    throw new NpswitchError(`${path}: cannot read the token: ${(e as Error).message}`);
  }
  if (!token) throw new NpswitchError(`${path}: the token file is empty`);
  return token;
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
