// ed25519 signing keys (node:crypto): generate, load, identify, and the per-user development key.
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from "node:crypto";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import { NpswitchError } from "../../lib/errors.js";
import { writeFileAtomic } from "../../lib/fs-atomic.js";

export interface SigningKey {
  privateKey: KeyObject;
  publicKey: KeyObject;
  keyId: string;
  dev: boolean;
}

/** The 32 raw bytes of an ed25519 public key (the end of its SPKI DER encoding). */
export function rawPublicKey(key: KeyObject): Uint8Array {
  const der = key.export({ type: "spki", format: "der" });
  return new Uint8Array(der.subarray(der.length - 32));
}

export function publicKeyFromRaw(raw: Uint8Array): KeyObject {
  const prefix = Buffer.from("302a300506032b6570032100", "hex"); // SPKI header for ed25519
  return createPublicKey({ key: Buffer.concat([prefix, Buffer.from(raw)]), format: "der", type: "spki" });
}

/** Short, stable name of a public key: the first 16 hex digits of sha256 of its raw bytes. */
export function keyIdOf(raw: Uint8Array): string {
  return createHash("sha256").update(raw).digest("hex").slice(0, 16);
}

/** Write a new key pair: PRIVATE at path (mode 0600), public key beside it as path.pub. */
export function generateKey(path: string, opts: { force?: boolean } = {}): { keyId: string; publicPath: string } {
  if (existsSync(path) && !opts.force) throw new NpswitchError(`${path} already exists; pass --force to replace it`);
  const { privateKey, publicKey } = generateKeyPairSync("ed25519");
  mkdirSync(dirname(path), { recursive: true });
  writeFileAtomic(path, privateKey.export({ type: "pkcs8", format: "pem" }), 0o600);
  writeFileAtomic(path + ".pub", publicKey.export({ type: "spki", format: "pem" }));
  return { keyId: keyIdOf(rawPublicKey(publicKey)), publicPath: path + ".pub" };
}

export function loadSigningKey(path: string, dev = false): SigningKey {
  if (!existsSync(path)) throw new NpswitchError(`${path}: no such key file (create one with 'npswitch keygen ${path}')`);
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(readFileSync(path));
  } catch (e) {
    throw new NpswitchError(`${path}: not a PEM private key: ${(e as Error).message}`);
  }
  if (privateKey.asymmetricKeyType !== "ed25519") {
    throw new NpswitchError(`${path}: is a ${privateKey.asymmetricKeyType} key; npswitch signs with ed25519 keys ('npswitch keygen')`);
  }
  const publicKey = createPublicKey(privateKey);
  return { privateKey, publicKey, keyId: keyIdOf(rawPublicKey(publicKey)), dev };
}

/** Load a trusted public key: a PEM public key, or a private key whose public half is used. */
export function loadPublicKey(path: string): KeyObject {
  if (!existsSync(path)) throw new NpswitchError(`${path}: no such public key file`);
  let key: KeyObject;
  try {
    key = createPublicKey(readFileSync(path));
  } catch (e) {
    throw new NpswitchError(`${path}: not a PEM public key: ${(e as Error).message}`);
  }
  if (key.asymmetricKeyType !== "ed25519") throw new NpswitchError(`${path}: is a ${key.asymmetricKeyType} key, expected ed25519`);
  return key;
}

/** Where per-user npswitch state lives: $NPSWITCH_HOME, else ~/.npswitch. */
export function npswitchHome(): string {
  return process.env.NPSWITCH_HOME || join(homedir(), ".npswitch");
}

export function devKeyPath(): string {
  return join(npswitchHome(), "dev-key.pem");
}

/** The development key, created on first use. Images signed with it say so in their manifest. */
export function devSigningKey(): { key: SigningKey; created: boolean } {
  const path = devKeyPath();
  const created = !existsSync(path);
  if (created) generateKey(path);
  return { key: loadSigningKey(path, true), created };
}
