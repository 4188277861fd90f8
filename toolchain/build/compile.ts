// Compiles one data-plane image (dataplane/<name>/index.ts) to Wasm: asc with asconfig.json,
// then binaryen's optimiser, then the import of the shared memory renamed to np.memory.
import { readdirSync, existsSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import asc from "assemblyscript/asc";
import binaryen from "binaryen";
import { MEMORY_IMPORT } from "../../abi/abi.js";
import { renameMemoryImport } from "./rename-memory-import.js";
import { CAPACITIES, MEMORY_PAGES, region } from "../../abi/layout.js";

export const PROJECT_ROOT = resolve(fileURLToPath(new URL("../..", import.meta.url)));
export const DATAPLANE_DIR = join(PROJECT_ROOT, "dataplane");
export const IMAGE_ENTRY = "index.ts";

export class CompileError extends Error {
  constructor(readonly image: string, message: string) {
    super(message);
  }
}

/** Names of the data-plane images: every folder under dataplane/ with an index.ts, sorted. */
export function listImages(dataplaneDir = DATAPLANE_DIR): string[] {
  return readdirSync(dataplaneDir)
    .filter((n) => n !== "lib" && statSync(join(dataplaneDir, n)).isDirectory() && existsSync(join(dataplaneDir, n, IMAGE_ENTRY)))
    .sort();
}

/** Where image number `slot` keeps its static data in the shared memory. */
export function imageDataBase(slot: number): number {
  const slots = region("IMAGE_DATA");
  if (slot < 0 || slot >= CAPACITIES.MAX_IMAGES.value) throw new Error(`image slot ${slot} out of range 0..${CAPACITIES.MAX_IMAGES.value - 1}`);
  return slots.base + slot * CAPACITIES.IMAGE_SLOT_SIZE.value;
}

export interface CompileOptions {
  /** Static-data slot of this image in the shared memory (its index in the firmware). */
  slot: number;
  /** asconfig.json target; "release" for firmware. */
  target?: "release" | "debug";
  dataplaneDir?: string;
}

/**
 * Compile dataplane/<name>/index.ts to a Wasm binary that follows the image ABI.
 * Throws CompileError with asc's diagnostics on failure.
 */
export async function compileImage(name: string, opts: CompileOptions): Promise<Uint8Array> {
  const dataplaneDir = opts.dataplaneDir ?? DATAPLANE_DIR;
  const entry = join(dataplaneDir, name, IMAGE_ENTRY);
  if (!existsSync(entry)) throw new CompileError(name, `no ${IMAGE_ENTRY} in ${join(dataplaneDir, name)}`);
  const outputs = new Map<string, Uint8Array | string>();
  let diagnostics = "";
  const sink = { write: (s: string | Uint8Array) => { diagnostics += typeof s === "string" ? s : Buffer.from(s).toString(); return true; } };
  const { error } = await asc.main(
    [
      entry,
      "--config", join(PROJECT_ROOT, "asconfig.json"),
      "--target", opts.target ?? "release",
      "--memoryBase", String(imageDataBase(opts.slot)),
      "--initialMemory", String(MEMORY_PAGES),
      "--maximumMemory", String(MEMORY_PAGES),
      "--outFile", "image.wasm",
    ],
    {
      stdout: sink as never,
      stderr: sink as never,
      writeFile: (file: string, contents: Uint8Array | string) => { outputs.set(file, contents); },
    },
  );
  if (error) throw new CompileError(name, `asc failed for ${entry}:\n${diagnostics.trim() || error.message}`);
  const wasm = outputs.get("image.wasm");
  if (!(wasm instanceof Uint8Array)) throw new CompileError(name, `asc produced no binary for ${entry}`);
  return postProcess(wasm);
}

/** binaryen's optimiser, then the memory import renamed from asc's env.memory to np.memory. */
function postProcess(wasm: Uint8Array): Uint8Array {
  const mod = binaryen.readBinary(wasm);
  try {
    mod.setFeatures(binaryen.Features.MVP | binaryen.Features.SignExt | binaryen.Features.BulkMemory | (binaryen.Features as unknown as { BulkMemoryOpt: number }).BulkMemoryOpt);
    binaryen.setOptimizeLevel(3);
    binaryen.setShrinkLevel(2);
    binaryen.setDebugInfo(true); // keep the name section: verifier and budget messages name functions
    mod.optimize();
    if (!mod.validate()) throw new Error("binaryen rejected the optimised module");
    return renameMemoryImport(mod.emitBinary(), MEMORY_IMPORT.module, MEMORY_IMPORT.name);
  } finally {
    mod.dispose();
  }
}
