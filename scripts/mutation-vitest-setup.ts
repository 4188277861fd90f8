// Setup for the mutation vitest run (vitest.mutation.config.ts). Stryker runs the covering tests again for
// every mutant, in a fresh module graph each time; two costs of the tests of the CP on the real images would
// then dominate: compiling the data-plane images (seconds) and importing assemblyscript and binaryen (about
// 3 s each on a busy machine). toolchain/build/compile.js is replaced by a stand-in that keeps compiled images
// in a disk cache and loads the real compiler only on a miss. If compile.ts's exports change, the stand-in
// steps aside (the real module is used, only slower) rather than hide an export.
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { vi } from "vitest";

type Compile = typeof import("../toolchain/build/compile.js");

const ROOT = resolve(fileURLToPath(new URL("..", import.meta.url)));
const CACHE_DIR = process.env.NPSWITCH_COMPILE_CACHE ?? join(tmpdir(), "npswitch-mutation-compile-cache");
/** What the stand-in provides; it is used only while compile.ts exports exactly these. */
const STAND_IN_EXPORTS = ["CompileError", "DATAPLANE_DIR", "IMAGE_ENTRY", "PROJECT_ROOT", "compileImage", "imageDataBase", "listImages"];

function exportsOf(source: string): string[] {
  return [...source.matchAll(/^export\s+(?:async\s+)?(?:const|let|function|class)\s+(\w+)/gm)].map((m) => m[1]).sort();
}

/** Every file under `dir` (recursively, sorted) folded into `hash` by path and contents. */
function hashTree(hash: ReturnType<typeof createHash>, dir: string): void {
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) hashTree(hash, path);
    else hash.update(path).update("\0").update(readFileSync(path)).update("\0");
  }
}

vi.mock("../toolchain/build/compile.js", async (importOriginal) => {
  const source = readFileSync(join(ROOT, "toolchain/build/compile.ts"), "utf8");
  if (exportsOf(source).join() !== [...STAND_IN_EXPORTS].sort().join()) return importOriginal<Compile>();
  const { CAPACITIES, MEMORY_PAGES, region } = await import("../abi/layout.js");
  const { MEMORY_IMPORT } = await import("../abi/abi.js");
  const toolchain = createHash("sha256").update(source);
  for (const f of ["toolchain/build/rename-memory-import.ts", "asconfig.json", "package-lock.json"]) toolchain.update(readFileSync(join(ROOT, f)));
  const toolchainHash = toolchain.digest("hex");

  // As in compile.ts.
  const PROJECT_ROOT = ROOT;
  const DATAPLANE_DIR = join(PROJECT_ROOT, "dataplane");
  const IMAGE_ENTRY = "index.ts";
  class CompileError extends Error {
    constructor(readonly image: string, message: string) {
      super(message);
    }
  }
  function listImages(dataplaneDir = DATAPLANE_DIR): string[] {
    return readdirSync(dataplaneDir)
      .filter((n) => n !== "lib" && statSync(join(dataplaneDir, n)).isDirectory() && existsSync(join(dataplaneDir, n, IMAGE_ENTRY)))
      .sort();
  }
  function imageDataBase(slot: number): number {
    const slots = region("IMAGE_DATA");
    if (slot < 0 || slot >= CAPACITIES.MAX_IMAGES.value) throw new Error(`image slot ${slot} out of range 0..${CAPACITIES.MAX_IMAGES.value - 1}`);
    return slots.base + slot * CAPACITIES.IMAGE_SLOT_SIZE.value;
  }

  const compileImage: Compile["compileImage"] = async (name, opts) => {
    const dataplaneDir = opts.dataplaneDir ?? DATAPLANE_DIR;
    // Everything the bytes depend on, read now: a mutant in abi/ that moves a slot or renames the memory
    // import gets its own entry (and its own compile).
    const hash = createHash("sha256").update(toolchainHash);
    hash.update(JSON.stringify({ name, target: opts.target ?? "release", base: imageDataBase(opts.slot), MEMORY_PAGES, MEMORY_IMPORT }));
    hashTree(hash, dataplaneDir);
    const file = join(CACHE_DIR, `${hash.digest("hex")}.wasm`);
    if (existsSync(file)) return new Uint8Array(readFileSync(file));
    const real = await vi.importActual<Compile>("../toolchain/build/compile.js");
    let wasm: Uint8Array;
    try {
      wasm = await real.compileImage(name, opts);
    } catch (e) {
      throw e instanceof real.CompileError ? new CompileError(e.image, e.message) : e;
    }
    mkdirSync(CACHE_DIR, { recursive: true });
    const tmp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}`;
    writeFileSync(tmp, wasm);
    renameSync(tmp, file);
    return wasm;
  };
  return { PROJECT_ROOT, DATAPLANE_DIR, IMAGE_ENTRY, CompileError, listImages, imageDataBase, compileImage } satisfies Compile;
});
