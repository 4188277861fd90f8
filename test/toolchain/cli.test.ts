// The CLI end to end on the real data-plane sources: build, inspect --json, verify, and the precise
// refusal of corrupted, truncated, unsigned and re-signed images.
import { beforeAll, describe, expect, it } from "vitest";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { decodeFirmware, encodeFirmware } from "../../toolchain/image/format.js";
import { loadSigningKey } from "../../toolchain/image/keys.js";
import { npswitch, tempDir } from "./cli-helpers.js";

const work = tempDir("cli");
const home = join(work, "home");
const fw = join(work, "firmware.npfw");
let built: ReturnType<typeof npswitch>;

beforeAll(() => {
  built = npswitch(["build", "-o", fw], { home });
});

function damaged(name: string, edit: (b: Uint8Array) => Uint8Array): string {
  const path = join(work, name);
  writeFileSync(path, edit(new Uint8Array(readFileSync(fw))));
  return path;
}

describe("npswitch CLI", () => {
  it("builds the data-plane images with a new dev key and reports their budgets", () => {
    expect(built.stderr).toBe("");
    expect(built.status).toBe(0);
    expect(built.stdout).toMatch(/created development key .*dev-key\.pem/);
    expect(built.stdout).toMatch(/^classify\s+0,1,2,3\s+\d+\s+4096\s/m);
    expect(built.stdout).toMatch(/^splice\s+4,5,6,7\s+\d+\s+4096\s/m);
    expect(built.stdout).toMatch(/dev-signed by key [0-9a-f]{16}/);
    expect(existsSync(join(home, "dev-key.pem"))).toBe(true);
  });

  it("inspect --json describes every image", () => {
    const r = npswitch(["inspect", fw, "--json"], { home });
    expect(r.status).toBe(0);
    const d = JSON.parse(r.stdout);
    expect(d).toMatchObject({ format: "npfw/1", target: "ixp2400", abi: 1, signed: true, signature: { dev: true, intact: true } });
    expect(d.images.map((i: { name: string }) => i.name)).toEqual(["classify", "splice"]);
    for (const img of d.images) {
      expect(img.sha256).toMatch(/^[0-9a-f]{64}$/);
      expect(img.instructions).toBeGreaterThan(100); // real parsing code, not an empty module
      expect(img.instructions).toBeLessThanOrEqual(img.budget);
      expect(img.budget).toBe(4096);
      expect(img.exports).toEqual(expect.arrayContaining(["init", "process"]));
      expect(img.imports).toContain("np.memory");
      expect(img.imports.every((i: string) => i.startsWith("np."))).toBe(true);
    }
  });

  it("verify accepts the image signed by the trusted dev key", () => {
    const r = npswitch(["verify", fw], { home });
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/OK — 2 images for ixp2400, signed by trusted key/);
    const ok = npswitch(["verify", fw, "--pubkey", join(home, "dev-key.pem.pub"), "--target", "ixp2800", "--json"], { home });
    expect(JSON.parse(ok.stdout).violations).toEqual([{ image: "(firmware)", rule: "target", message: "image was built for ixp2400, not ixp2800" }]);
    expect(ok.status).toBe(1);
  });

  it("refuses a corrupted payload byte: hash and signature, one line each", () => {
    const fwBytes = decodeFirmware(new Uint8Array(readFileSync(fw)));
    const at = fwBytes.body.length - 10; // inside the last payload
    const path = damaged("corrupt.npfw", (b) => { b[at] ^= 0xff; return b; });
    const r = npswitch(["verify", path], { home });
    expect(r.status).toBe(1);
    const lines = r.stderr.trim().split("\n");
    expect(lines).toContain(`${path}: (firmware): signature: signature by key ${fwBytes.signature!.keyId} does not match the contents: the image was modified after signing`);
    expect(lines.some((l) => l.startsWith(`${path}: splice: hash: sha256 of the payload is`))).toBe(true);
  });

  it("refuses a truncated image", () => {
    const path = damaged("truncated.npfw", (b) => b.subarray(0, b.length - 300));
    const r = npswitch(["verify", path], { home });
    expect(r.status).toBe(1);
    expect(r.stderr.trim()).toMatch(new RegExp(`^${path}: \\(firmware\\): format: payloads need \\d+ bytes but the file has \\d+ \\(truncated\\?\\)$`));
  });

  it("refuses an unsigned image, and an image re-signed with another key", () => {
    const orig = decodeFirmware(new Uint8Array(readFileSync(fw)));
    const unsigned = damaged("unsigned.npfw", () => encodeFirmware(orig.manifest, orig.payloads, null));
    const r1 = npswitch(["verify", unsigned], { home });
    expect(r1.status).toBe(1);
    expect(r1.stderr.trim()).toBe(`${unsigned}: (firmware): signature: image is not signed; build it with 'npswitch build' (dev key) or '--key FILE'`);

    const other = join(work, "mallory.pem");
    expect(npswitch(["keygen", other], { home }).status).toBe(0);
    const mallory = loadSigningKey(other);
    const resigned = damaged("resigned.npfw", () => encodeFirmware(orig.manifest, orig.payloads, mallory));
    const r2 = npswitch(["verify", resigned], { home });
    expect(r2.status).toBe(1);
    const lines = r2.stderr.trim().split("\n");
    expect(lines).toContain(`${resigned}: (firmware): signature: manifest says signer ${orig.signature!.keyId} but the image is signed by key ${mallory.keyId}: re-signed by someone else`);
    expect(lines.some((l) => l.includes(`signed by key ${mallory.keyId}, which is not trusted`))).toBe(true);
  });

  it("names missing files and bad arguments in one line", () => {
    const r = npswitch(["verify", join(work, "nope.npfw")], { home });
    expect(r.status).toBe(1);
    expect(r.stderr.trim()).toBe(`npswitch: error: ${join(work, "nope.npfw")}: no such file`);
    const t = npswitch(["build", "--target", "ixp9999", "-o", join(work, "x.npfw")], { home });
    expect(t.status).toBe(1);
    expect(t.stderr.trim()).toBe("npswitch: error: unknown target 'ixp9999': use one of ixp2400, ixp2800 or a profile .json file");
    expect(existsSync(join(work, "x.npfw"))).toBe(false);
    const k = npswitch(["build", "--key", join(work, "nokey.pem"), "-o", join(work, "y.npfw")], { home });
    expect(k.status).toBe(1);
    expect(k.stderr).toMatch(/nokey\.pem: no such key file \(create one with 'npswitch keygen/);
    expect(existsSync(join(work, "y.npfw"))).toBe(false);
  });
});
