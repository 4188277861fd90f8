// The firmware image file (.npfw): header, manifest (JSON), the images' Wasm payloads, and an
// ed25519 signature trailer over everything before it. All integers little-endian.
//
//   0  "NPFW"                 magic
//   4  u16 format version     FORMAT_VERSION
//   6  u16 reserved           0
//   8  u32 manifest length M
//  12  manifest, M bytes      UTF-8 JSON (Manifest)
//  12+M payloads              image i at manifest.images[i].offset (relative to 12+M), .bytes long
//  end "NSIG" u16 alg=1 (ed25519) u16 0, 32-byte public key, 64-byte signature   (signed images)
import { createHash, sign as edSign, verify as edVerify } from "node:crypto";
import { keyIdOf, publicKeyFromRaw, rawPublicKey, type SigningKey } from "./keys.js";

export const MAGIC = "NPFW";
export const FORMAT_VERSION = 1;
export const SIG_MAGIC = "NSIG";
export const SIG_ALG_ED25519 = 1;
const HEADER_BYTES = 12;
export const TRAILER_BYTES = 4 + 2 + 2 + 32 + 64;

export interface ManifestImage {
  name: string;
  /** Static-data slot in the shared memory (toolchain/build/compile.ts imageDataBase). */
  slot: number;
  dataBase: number;
  /** Microengines this image is loaded on. */
  mes: number[];
  offset: number;
  bytes: number;
  sha256: string;
  instructions: number;
  budget: number;
  functions: number;
  imports: string[];
  exports: string[];
}

export interface Manifest {
  format: string;
  abi: number;
  /** Fingerprint of the shared memory layout (abi/layout.ts layoutFingerprint): same value, same tables. */
  layout: string;
  target: { name: string; origin: string; sha256: string; controlStoreInstructions: number; microengines: number };
  /** Pipeline order: a packet goes through these images in turn. */
  pipeline: string[];
  signing: { keyId: string; dev: boolean } | null;
  images: ManifestImage[];
  toolchain: Record<string, string>;
}

export interface FirmwareImage {
  manifest: Manifest;
  payloads: Map<string, Uint8Array>;
  signature: { publicKey: Uint8Array; signature: Uint8Array; keyId: string } | null;
  /** The signed bytes (header, manifest, payloads). */
  body: Uint8Array;
}

export class ImageFormatError extends Error {}

export const sha256Hex = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");

/** Serialise a manifest and payloads (in manifest order) and sign them when a key is given. */
export function encodeFirmware(manifest: Manifest, payloads: Map<string, Uint8Array>, key: SigningKey | null): Uint8Array {
  const manifestBytes = Buffer.from(JSON.stringify(manifest, null, 1) + "\n", "utf8");
  const parts: Uint8Array[] = [];
  const header = Buffer.alloc(HEADER_BYTES);
  header.write(MAGIC, 0, "ascii");
  header.writeUInt16LE(FORMAT_VERSION, 4);
  header.writeUInt32LE(manifestBytes.length, 8);
  parts.push(header, manifestBytes);
  let at = 0;
  for (const img of manifest.images) {
    const p = payloads.get(img.name);
    if (!p || p.length !== img.bytes || img.offset !== at) throw new Error(`payload of ${img.name} does not match its manifest entry`);
    parts.push(p);
    at += p.length;
  }
  const body = Buffer.concat(parts);
  if (!key) return new Uint8Array(body);
  const trailer = Buffer.alloc(TRAILER_BYTES);
  trailer.write(SIG_MAGIC, 0, "ascii");
  trailer.writeUInt16LE(SIG_ALG_ED25519, 4);
  Buffer.from(rawPublicKey(key.publicKey)).copy(trailer, 8);
  edSign(null, body, key.privateKey).copy(trailer, 40);
  return new Uint8Array(Buffer.concat([body, trailer]));
}

/** Parse a firmware file; throws ImageFormatError naming the part that is wrong. Checks no signature. */
export function decodeFirmware(bytes: Uint8Array): FirmwareImage {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buf.length < HEADER_BYTES) throw new ImageFormatError(`file is ${buf.length} bytes, shorter than the ${HEADER_BYTES}-byte header (truncated?)`);
  if (buf.toString("ascii", 0, 4) !== MAGIC) throw new ImageFormatError(`not an npswitch firmware image (magic is not "${MAGIC}")`);
  const version = buf.readUInt16LE(4);
  if (version !== FORMAT_VERSION) throw new ImageFormatError(`format version ${version} is not supported (this npswitch reads version ${FORMAT_VERSION})`);
  const mlen = buf.readUInt32LE(8);
  if (HEADER_BYTES + mlen > buf.length) throw new ImageFormatError(`manifest (${mlen} bytes) runs past the end of the file (truncated?)`);
  let manifest: Manifest;
  try {
    manifest = JSON.parse(buf.toString("utf8", HEADER_BYTES, HEADER_BYTES + mlen));
  } catch (e) {
    throw new ImageFormatError(`manifest is not valid JSON: ${(e as Error).message}`);
  }
  checkManifestShape(manifest);
  const payloadStart = HEADER_BYTES + mlen;
  const payloadBytes = manifest.images.reduce((n, i) => n + i.bytes, 0);
  const bodyEnd = payloadStart + payloadBytes;
  if (buf.length < bodyEnd) throw new ImageFormatError(`payloads need ${payloadBytes} bytes but the file has ${buf.length - payloadStart} (truncated?)`);
  const payloads = new Map<string, Uint8Array>();
  for (const img of manifest.images) {
    if (img.offset < 0 || img.offset + img.bytes > payloadBytes) throw new ImageFormatError(`image ${img.name}: offset/bytes outside the payload area`);
    payloads.set(img.name, new Uint8Array(bytes.subarray(payloadStart + img.offset, payloadStart + img.offset + img.bytes)));
  }
  const body = new Uint8Array(bytes.subarray(0, bodyEnd));
  const rest = buf.length - bodyEnd;
  if (rest === 0) return { manifest, payloads, signature: null, body };
  if (rest !== TRAILER_BYTES) throw new ImageFormatError(`${rest} bytes after the payloads: neither nothing nor a ${TRAILER_BYTES}-byte signature trailer (truncated or appended to?)`);
  if (buf.toString("ascii", bodyEnd, bodyEnd + 4) !== SIG_MAGIC) throw new ImageFormatError(`signature trailer does not start with "${SIG_MAGIC}"`);
  const alg = buf.readUInt16LE(bodyEnd + 4);
  if (alg !== SIG_ALG_ED25519) throw new ImageFormatError(`signature algorithm ${alg} is not supported (1 = ed25519)`);
  const publicKey = new Uint8Array(bytes.subarray(bodyEnd + 8, bodyEnd + 40));
  const signature = new Uint8Array(bytes.subarray(bodyEnd + 40, bodyEnd + 104));
  return { manifest, payloads, signature: { publicKey, signature, keyId: keyIdOf(publicKey) }, body };
}

/** True when the trailer's signature is valid for the body under the trailer's public key. */
export function signatureValid(fw: FirmwareImage): boolean {
  if (!fw.signature) return false;
  try {
    return edVerify(null, fw.body, publicKeyFromRaw(fw.signature.publicKey), fw.signature.signature);
  } catch {
    return false;
  }
}

function checkManifestShape(m: Manifest): void {
  const bad = (what: string) => { throw new ImageFormatError(`manifest: ${what}`); };
  if (typeof m !== "object" || m === null) bad("not an object");
  if (typeof m.format !== "string") bad("field format missing");
  if (typeof m.abi !== "number") bad("field abi missing");
  if (typeof m.layout !== "string") bad("field layout missing");
  if (!m.target || typeof m.target.name !== "string" || typeof m.target.controlStoreInstructions !== "number") bad("field target missing or incomplete");
  if (!Array.isArray(m.images) || m.images.length === 0) bad("field images missing or empty");
  for (const [i, img] of m.images.entries()) {
    for (const k of ["name", "sha256"] as const) if (typeof img[k] !== "string") bad(`images[${i}].${k} missing`);
    for (const k of ["offset", "bytes", "instructions", "budget", "slot"] as const) {
      if (!Number.isInteger(img[k]) || img[k] < 0) bad(`images[${i}].${k} missing or not a non-negative integer`);
    }
  }
}
