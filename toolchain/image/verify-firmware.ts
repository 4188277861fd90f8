// `npswitch verify`: everything a device checks before it accepts a firmware image — format,
// signature against a trusted key, per-image hashes, the target, and each image's ABI rules.
import { existsSync, readFileSync } from "node:fs";
import type { KeyObject } from "node:crypto";
import { ABI_VERSION } from "../../abi/abi.js";
import { CAPACITIES, MEMORY_PAGES } from "../../abi/layout.js";
import { imageDataBase } from "../build/compile.js";
import { NpswitchError } from "../../lib/errors.js";
import { loadProfile, BUILTIN_TARGETS } from "../target/profile.js";
import { verifyImageBinary, type Violation } from "../verify/index.js";
import { countInstructions, readModule } from "../wasm/reader.js";
import { decodeFirmware, ImageFormatError, sha256Hex, signatureValid, type FirmwareImage } from "./format.js";
import { devKeyPath, keyIdOf, loadPublicKey, rawPublicKey } from "./keys.js";

export interface VerifyFirmwareOptions {
  /** Trusted public key files; default: the local development key, when there is one. */
  pubkeys?: string[];
  /** Target to check against; default: the one the manifest names. */
  target?: string;
}

export interface VerifyReport {
  ok: boolean;
  violations: Violation[];
  firmware: FirmwareImage | null;
  trustedKeyIds: string[];
}

const FIRMWARE = "(firmware)";

export function verifyFirmware(bytes: Uint8Array, opts: VerifyFirmwareOptions = {}): VerifyReport {
  const violations: Violation[] = [];
  const fail = (rule: string, message: string, image = FIRMWARE) => violations.push({ image, rule, message });
  let fw: FirmwareImage;
  try {
    fw = decodeFirmware(bytes);
  } catch (e) {
    if (!(e instanceof ImageFormatError)) throw e;
    fail("format", e.message);
    return { ok: false, violations, firmware: null, trustedKeyIds: [] };
  }
  const m = fw.manifest;
  if (m.abi !== ABI_VERSION) fail("abi", `image ABI ${m.abi} differs from this toolchain's ABI ${ABI_VERSION}; rebuild the firmware`);

  // Signature: present, intact, by a trusted key, and the key the manifest names.
  const trusted = trustedKeys(opts.pubkeys);
  const trustedKeyIds = trusted.map((k) => keyIdOf(rawPublicKey(k)));
  if (!fw.signature) {
    fail("signature", "image is not signed; build it with 'npswitch build' (dev key) or '--key FILE'");
  } else if (!signatureValid(fw)) {
    fail("signature", `signature by key ${fw.signature.keyId} does not match the contents: the image was modified after signing`);
  } else {
    if (m.signing?.keyId !== fw.signature.keyId) {
      fail("signature", `manifest says signer ${m.signing?.keyId ?? "(none)"} but the image is signed by key ${fw.signature.keyId}: re-signed by someone else`);
    }
    if (!trustedKeyIds.includes(fw.signature.keyId)) {
      const trustedText = trustedKeyIds.length ? `trusted: ${trustedKeyIds.join(", ")}` : "no trusted key: pass --pubkey FILE";
      fail("signature", `signed by key ${fw.signature.keyId}, which is not trusted (${trustedText})`);
    }
  }

  // Target: the one asked for, else the manifest's own when it is a built-in.
  const targetName = opts.target ?? m.target.name;
  let budget = m.target.controlStoreInstructions;
  if (opts.target || (BUILTIN_TARGETS as readonly string[]).includes(targetName)) {
    const { profile } = loadProfile(targetName);
    budget = profile.microengines.controlStoreInstructions.value;
    if (profile.name !== m.target.name) fail("target", `image was built for ${m.target.name}, not ${profile.name}`);
  }

  // Each image: hash, then the ABI rules on its exact bytes.
  for (const img of m.images) {
    const wasm = fw.payloads.get(img.name)!;
    if (sha256Hex(wasm) !== img.sha256) {
      fail("hash", `sha256 of the payload is ${sha256Hex(wasm).slice(0, 16)}..., manifest says ${img.sha256.slice(0, 16)}...`, img.name);
      continue;
    }
    const slotOk = Number.isInteger(img.slot) && img.slot >= 0 && img.slot < CAPACITIES.MAX_IMAGES.value;
    if (!slotOk) fail("manifest", `slot ${img.slot} out of range 0..${CAPACITIES.MAX_IMAGES.value - 1}`, img.name);
    const found = verifyImageBinary(img.name, wasm, {
      budget,
      memoryPages: MEMORY_PAGES,
      dataSlot: slotOk ? { base: imageDataBase(img.slot), size: CAPACITIES.IMAGE_SLOT_SIZE.value } : undefined,
    });
    violations.push(...found);
    if (!found.some((v) => v.rule === "format")) {
      const counted = countInstructions(readModule(wasm));
      if (counted !== img.instructions) fail("manifest", `manifest says ${img.instructions} instructions, the payload has ${counted}`, img.name);
    }
  }
  return { ok: violations.length === 0, violations, firmware: fw, trustedKeyIds };
}

function trustedKeys(paths: string[] | undefined): KeyObject[] {
  if (paths && paths.length) return paths.map(loadPublicKey);
  const dev = devKeyPath() + ".pub";
  return existsSync(dev) ? [loadPublicKey(dev)] : [];
}

/** A firmware file's bytes; a missing, unreadable or directory path is one NpswitchError naming it. */
export function readFirmwareFile(path: string): Uint8Array {
  try {
    return new Uint8Array(readFileSync(path));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT") throw new NpswitchError(`${path}: no such file`);
    if (code === "EISDIR") throw new NpswitchError(`${path}: is a directory, not a firmware image`);
    throw new NpswitchError(`${path}: cannot read: ${(e as Error).message}`);
  }
}
