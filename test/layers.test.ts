// The layering rule of docs/ARCHITECTURE.md ("Layers"), checked on every import of every source file:
// imports between top-level folders run downward only, and no file imports itself back through others.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, normalize, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const ROOT = fileURLToPath(new URL("..", import.meta.url));

/** Rank of each layer: a file may import from its own layer and from lower ranks only. */
const RANK: Record<string, number> = { lib: 0, packet: 1, abi: 2, toolchain: 3, controlplane: 3, sim: 4, device: 5, cli: 6 };
const LAYERS = Object.keys(RANK);

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(join(ROOT, dir))) {
    const rel = join(dir, name);
    if (statSync(join(ROOT, rel)).isDirectory()) out.push(...sourceFiles(rel));
    else if (name.endsWith(".ts")) out.push(rel);
  }
  return out;
}

/** `import ... from "x"`, `export ... from "x"`, `import "x"` and `import("x")` with a relative specifier. */
const IMPORT = /(?:^|\n)\s*(?:import|export)\s[^;]*?\bfrom\s*["'](\.{1,2}\/[^"']+)["']|(?:^|\n)\s*import\s*["'](\.{1,2}\/[^"']+)["']|\bimport\(\s*["'](\.{1,2}\/[^"']+)["']\s*\)/g;

/** Relative imports of `file` as repo-relative .ts paths. */
function importsOf(file: string): string[] {
  const src = readFileSync(join(ROOT, file), "utf8");
  const out: string[] = [];
  for (const m of src.matchAll(IMPORT)) {
    const spec = m[1] ?? m[2] ?? m[3];
    const target = normalize(join(dirname(file), spec)).replace(/\.js$/, ".ts");
    out.push(target);
  }
  return out;
}

const files = LAYERS.flatMap((l) => sourceFiles(l));
const graph = new Map(files.map((f) => [f, importsOf(f)]));
const layerOf = (f: string) => f.split("/")[0];

describe("layers", () => {
  it("finds the source files of every layer", () => {
    for (const l of LAYERS) expect(files.some((f) => layerOf(f) === l), `layer ${l}`).toBe(true);
  });

  it("imports run downward only: cli -> device -> sim -> controlplane, toolchain -> abi -> packet -> lib", () => {
    const faults: string[] = [];
    for (const [file, targets] of graph) {
      const from = layerOf(file);
      for (const t of targets) {
        const to = layerOf(t);
        if (to === from) continue;
        const allowed = to in RANK && RANK[to] < RANK[from];
        if (!allowed) faults.push(`${file} imports ${t}`);
      }
    }
    expect(faults).toEqual([]);
  });

  it("the data-plane sources import nothing outside dataplane/", () => {
    const faults = sourceFiles("dataplane")
      .filter((f) => !f.startsWith("dataplane/lib/layout.ts"))
      .flatMap((f) => importsOf(f).filter((t) => !t.startsWith("dataplane/")).map((t) => `${f} imports ${t}`));
    expect(faults).toEqual([]);
  });

  it("no import cycle among files", () => {
    const state = new Map<string, "open" | "done">();
    const cycles: string[] = [];
    const stack: string[] = [];
    const visit = (f: string) => {
      state.set(f, "open");
      stack.push(f);
      for (const t of graph.get(f) ?? []) {
        if (!graph.has(t)) continue;
        if (state.get(t) === "open") cycles.push([...stack.slice(stack.indexOf(t)), t].map((x) => relative(".", x)).join(" -> "));
        else if (!state.has(t)) visit(t);
      }
      stack.pop();
      state.set(f, "done");
    };
    for (const f of graph.keys()) if (!state.has(f)) visit(f);
    expect(cycles).toEqual([]);
  });
});
