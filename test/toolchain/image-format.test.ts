// The .npfw container: round trip, signatures, and precise refusals of damaged files.
import { describe, expect, it } from "vitest";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  TRAILER_BYTES, decodeFirmware, encodeFirmware, ImageFormatError, sha256Hex, signatureValid, type Manifest,
} from "../../toolchain/image/format.js";
import { generateKey, loadSigningKey } from "../../toolchain/image/keys.js";

const dir = mkdtempSync(join(tmpdir(), "npswitch-format-"));
generateKey(join(dir, "a.pem"));
generateKey(join(dir, "b.pem"));
const keyA = loadSigningKey(join(dir, "a.pem"));
const keyB = loadSigningKey(join(dir, "b.pem"));

const payload = Uint8Array.from([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]);
function manifest(): Manifest {
  return {
    format: "npfw/1", abi: 1, layout: "0".repeat(64),
    target: { name: "ixp2400", origin: "builtin:ixp2400", sha256: "0".repeat(64), controlStoreInstructions: 4096, microengines: 8 },
    pipeline: ["only"],
    signing: { keyId: keyA.keyId, dev: false },
    images: [{ name: "only", slot: 0, dataBase: 65536, mes: [0], offset: 0, bytes: payload.length, sha256: sha256Hex(payload), instructions: 0, budget: 4096, functions: 0, imports: [], exports: [] }],
    toolchain: {},
  };
}
const payloads = new Map([["only", payload]]);

function formatError(bytes: Uint8Array): string {
  try {
    decodeFirmware(bytes);
  } catch (e) {
    expect(e).toBeInstanceOf(ImageFormatError);
    return (e as Error).message;
  }
  throw new Error("decoded a damaged image");
}

describe(".npfw format", () => {
  it("round-trips manifest and payloads, and the signature verifies", () => {
    const bytes = encodeFirmware(manifest(), payloads, keyA);
    const fw = decodeFirmware(bytes);
    expect(fw.manifest).toEqual(manifest());
    expect(fw.payloads.get("only")).toEqual(payload);
    expect(fw.signature?.keyId).toBe(keyA.keyId);
    expect(signatureValid(fw)).toBe(true);
    expect(bytes.length).toBe(fw.body.length + TRAILER_BYTES);
  });

  it("is deterministic: the same inputs and key give the same bytes", () => {
    expect(encodeFirmware(manifest(), payloads, keyA)).toEqual(encodeFirmware(manifest(), payloads, keyA));
  });

  it("detects any single flipped byte of the signed part", () => {
    const bytes = encodeFirmware(manifest(), payloads, keyA);
    const bodyLen = bytes.length - TRAILER_BYTES;
    for (const at of [5, 20, bodyLen - 3]) {
      const bad = bytes.slice();
      bad[at] ^= 0x01;
      let valid = false;
      try {
        valid = signatureValid(decodeFirmware(bad));
      } catch (e) {
        expect(e).toBeInstanceOf(ImageFormatError); // flipping the header or JSON may break parsing instead
      }
      expect(valid, `byte ${at}`).toBe(false);
    }
  });

  it("shows a re-signed image under the other key, so trust checks can refuse it", () => {
    const bytes = encodeFirmware(manifest(), payloads, keyB); // manifest still names key A
    const fw = decodeFirmware(bytes);
    expect(signatureValid(fw)).toBe(true);
    expect(fw.signature!.keyId).toBe(keyB.keyId);
    expect(fw.manifest.signing!.keyId).not.toBe(fw.signature!.keyId);
  });

  it("decodes an unsigned image as unsigned", () => {
    const fw = decodeFirmware(encodeFirmware(manifest(), payloads, null));
    expect(fw.signature).toBeNull();
    expect(signatureValid(fw)).toBe(false);
  });

  it("names what is wrong with damaged files", () => {
    const bytes = encodeFirmware(manifest(), payloads, keyA);
    expect(formatError(bytes.subarray(0, 5))).toMatch(/shorter than the 12-byte header/);
    expect(formatError(Uint8Array.from([...Buffer.from("ELF!"), ...bytes.subarray(4)]))).toMatch(/not an npswitch firmware image/);
    expect(formatError(bytes.subarray(0, 40))).toMatch(/manifest \(\d+ bytes\) runs past the end of the file/);
    expect(formatError(bytes.subarray(0, bytes.length - TRAILER_BYTES - 2))).toMatch(/payloads need 8 bytes but the file has 6/);
    expect(formatError(bytes.subarray(0, bytes.length - 10))).toMatch(/94 bytes after the payloads/);
    const v2 = bytes.slice();
    v2[4] = 2;
    expect(formatError(v2)).toMatch(/format version 2 is not supported/);
  });
});
