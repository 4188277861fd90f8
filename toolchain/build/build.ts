// `npswitch build`: compile every data-plane image, check it against the image ABI and the
// target's control store, and write the signed firmware image (.npfw).
import { mkdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { ABI_VERSION } from "../../abi/abi.js";
import { CAPACITIES, MEMORY_PAGES, layoutFingerprint } from "../../abi/layout.js";
import { NpswitchError } from "../../lib/errors.js";
import { writeFileAtomic } from "../../lib/fs-atomic.js";
import { encodeFirmware, sha256Hex, type Manifest, type ManifestImage } from "../image/format.js";
import { devSigningKey, loadSigningKey } from "../image/keys.js";
import { loadProfile } from "../target/profile.js";
import { verifyImageBinary } from "../verify/index.js";
import { countInstructions, readModule } from "../wasm/reader.js";
import { CompileError, DATAPLANE_DIR, PROJECT_ROOT, compileImage, imageDataBase, listImages } from "./compile.js";
import { assignMicroengines, loadPipeline } from "./pipeline.js";

export const DEFAULT_OUT = "build/firmware.npfw";
export const FIRMWARE_FORMAT = "npfw/1";

export interface BuildOptions {
  target?: string;
  keyPath?: string;
  out?: string;
  dataplaneDir?: string;
  /** Called before each step; the CLI prints these as progress. */
  onStep?: (message: string) => void;
}

export interface BuildResult {
  out: string;
  bytes: number;
  sha256: string;
  manifest: Manifest;
  devKeyCreated: boolean;
  seconds: number;
}

export async function buildFirmware(opts: BuildOptions = {}): Promise<BuildResult> {
  const started = performance.now();
  const step = opts.onStep ?? (() => {});
  const dataplaneDir = opts.dataplaneDir ?? DATAPLANE_DIR;
  const out = resolve(opts.out ?? DEFAULT_OUT);
  const { profile, origin, sha256: profileSha } = loadProfile(opts.target);
  // The key is checked before any compiling, so a wrong path fails at once.
  const { key, created } = opts.keyPath ? { key: loadSigningKey(opts.keyPath), created: false } : devSigningKey();
  const budget = profile.microengines.controlStoreInstructions.value;
  const pipeline = loadPipeline(dataplaneDir);
  const names = listImages(dataplaneDir);
  for (const s of pipeline.stages) {
    if (!names.includes(s)) throw new NpswitchError(`dataplane/pipeline.json names stage '${s}' but there is no dataplane/${s}/index.ts`);
  }
  for (const n of names) {
    if (!pipeline.stages.includes(n)) throw new NpswitchError(`dataplane/${n}/index.ts is an image but not a stage in dataplane/pipeline.json; add it there`);
  }
  if (names.length > CAPACITIES.MAX_IMAGES.value) throw new NpswitchError(`${names.length} images; the memory map has slots for ${CAPACITIES.MAX_IMAGES.value}`);
  const mes = assignMicroengines(pipeline.stages, profile.microengines.count.value);

  const images: ManifestImage[] = [];
  const payloads = new Map<string, Uint8Array>();
  const problems: string[] = [];
  let offset = 0;
  for (const [slot, name] of names.entries()) {
    step(`compile ${name}`);
    let wasm: Uint8Array;
    try {
      wasm = await compileImage(name, { slot, dataplaneDir });
    } catch (e) {
      if (e instanceof CompileError) throw new NpswitchError(`image ${name}: compile failed`, e.message.split("\n"));
      throw e;
    }
    step(`verify ${name}`);
    const violations = verifyImageBinary(name, wasm, {
      budget,
      memoryPages: MEMORY_PAGES,
      dataSlot: { base: imageDataBase(slot), size: CAPACITIES.IMAGE_SLOT_SIZE.value },
    });
    problems.push(...violations.map((v) => `image ${v.image}: ${v.rule}: ${v.message}`));
    if (violations.some((v) => v.rule === "format")) continue;
    const info = readModule(wasm);
    images.push({
      name,
      slot,
      dataBase: imageDataBase(slot),
      mes: mes.get(name) ?? [],
      offset,
      bytes: wasm.length,
      sha256: sha256Hex(wasm),
      instructions: countInstructions(info),
      budget,
      functions: info.functions.filter((f) => !f.imported).length,
      imports: info.imports.map((i) => `${i.module}.${i.name}`),
      exports: info.exports.map((e) => e.name),
    });
    payloads.set(name, wasm);
    offset += wasm.length;
  }
  if (problems.length) throw new NpswitchError(`build failed for target ${profile.name}: ${problems[0]}`, problems.slice(1));

  step("sign");
  const manifest: Manifest = {
    format: FIRMWARE_FORMAT,
    abi: ABI_VERSION,
    layout: layoutFingerprint(),
    target: { name: profile.name, origin, sha256: profileSha, controlStoreInstructions: budget, microengines: profile.microengines.count.value },
    pipeline: pipeline.stages,
    signing: { keyId: key.keyId, dev: key.dev },
    images,
    toolchain: toolchainVersions(),
  };
  const bytes = encodeFirmware(manifest, payloads, key);
  mkdirSync(dirname(out), { recursive: true });
  writeFileAtomic(out, bytes);
  return { out, bytes: bytes.length, sha256: sha256Hex(bytes), manifest, devKeyCreated: created, seconds: (performance.now() - started) / 1000 };
}

/** Versions of what produced the bytes, from the installed packages (fixed by the lockfile). */
export function toolchainVersions(): Record<string, string> {
  const require = createRequire(join(PROJECT_ROOT, "package.json"));
  const version = (pkg: string) => JSON.parse(readFileSync(require.resolve(`${pkg}/package.json`), "utf8")).version as string;
  const own = JSON.parse(readFileSync(join(PROJECT_ROOT, "package.json"), "utf8")).version as string;
  return { npswitch: own, assemblyscript: version("assemblyscript"), binaryen: version("binaryen") };
}
