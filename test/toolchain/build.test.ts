// `buildFirmware` on real sources: deterministic output, and failures that name the image, the rule
// and the numbers, leaving no output file behind.
import { beforeAll, describe, expect, it } from "vitest";
import { cpSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { buildFirmware } from "../../toolchain/build/build.js";
import { DATAPLANE_DIR } from "../../toolchain/build/compile.js";
import { generateKey } from "../../toolchain/image/keys.js";
import { loadProfile } from "../../toolchain/target/profile.js";
import { NpswitchError } from "../../lib/errors.js";
import { tempDir } from "./cli-helpers.js";

const work = tempDir("build");
const key = join(work, "release.pem");

beforeAll(() => {
  process.env.NPSWITCH_HOME = join(work, "home");
  generateKey(key);
});

async function buildError(opts: Parameters<typeof buildFirmware>[0]): Promise<string[]> {
  try {
    await buildFirmware(opts);
  } catch (e) {
    if (!(e instanceof NpswitchError)) throw e;
    return [e.message, ...e.details];
  }
  throw new Error("the build succeeded");
}

/** A copy of dataplane/ with extra images added to the pipeline. */
function dataplaneWith(images: Record<string, string>): string {
  const dir = join(tempDir("dp"), "dataplane");
  cpSync(DATAPLANE_DIR, dir, { recursive: true });
  const pipeline = JSON.parse(readFileSync(join(dir, "pipeline.json"), "utf8"));
  for (const [name, source] of Object.entries(images)) {
    cpSync(join(dir, "classify"), join(dir, name), { recursive: true });
    writeFileSync(join(dir, name, "index.ts"), source);
    pipeline.stages.push(name);
  }
  writeFileSync(join(dir, "pipeline.json"), JSON.stringify(pipeline));
  return dir;
}

const PROLOGUE = `import { DESC_LEN } from "../lib/layout";\nexport function init(): void {}\n`;

describe("npswitch build", () => {
  it("gives byte-identical firmware for two builds of the same tree", async () => {
    const a = await buildFirmware({ keyPath: key, out: join(work, "a.npfw") });
    const b = await buildFirmware({ keyPath: key, out: join(work, "b.npfw") });
    expect(readFileSync(a.out)).toEqual(readFileSync(b.out));
    expect(a.sha256).toBe(b.sha256);
    expect(a.manifest.signing).toEqual({ keyId: expect.stringMatching(/^[0-9a-f]{16}$/), dev: false });
    expect(a.manifest.images.map((i) => i.name)).toEqual(["classify", "splice"]);
  });

  it("builds for the ixp2800 with its larger control store and more microengines", async () => {
    const r = await buildFirmware({ target: "ixp2800", keyPath: key, out: join(work, "ixp2800.npfw") });
    expect(r.manifest.target).toMatchObject({ name: "ixp2800", controlStoreInstructions: 8192, microengines: 16 });
    expect(r.manifest.images.map((i) => i.mes)).toEqual([[0, 1, 2, 3, 4, 5, 6, 7], [8, 9, 10, 11, 12, 13, 14, 15]]);
  });

  it("fails over budget naming the image, its count, the budget and its five largest functions", async () => {
    const p = JSON.parse(JSON.stringify(loadProfile("ixp2400").profile));
    p.name = "tiny";
    p.microengines.controlStoreInstructions = { value: 64, assumption: "test: a control store too small for any real image" };
    const profile = join(work, "tiny.json");
    writeFileSync(profile, JSON.stringify(p));
    const out = join(work, "tiny.npfw");
    const lines = await buildError({ target: profile, keyPath: key, out });
    expect(lines[0]).toMatch(/^build failed for target tiny: image classify: budget: \d+ instructions exceed the control-store budget of 64; largest functions: /);
    const largest = lines[0].split("largest functions: ")[1].split(", ");
    expect(largest).toHaveLength(5);
    for (const f of largest) expect(f).toMatch(/^\S+ \d+$/);
    expect(lines.some((l) => l.startsWith("image splice: budget:"))).toBe(true);
    expect(existsSync(out)).toBe(false);
  });

  it("refuses floating point, recursion, unknown imports and memory.grow, writing nothing", async () => {
    const dir = dataplaneWith({
      usesfloat: `${PROLOGUE}export function process(desc: usize): i32 { return <i32>(<f64>load<u16>(desc, DESC_LEN) * 1.5); }\n`,
      recurses: `${PROLOGUE}function depth(n: u32): i32 { return n == 0 ? 0 : 1 + depth(n - 1); }\nexport function process(desc: usize): i32 { return depth(load<u16>(desc, DESC_LEN)); }\n`,
      evilimport: `${PROLOGUE}@external("np", "evil") declare function evil(x: u32): i32;\nexport function process(desc: usize): i32 { return evil(load<u16>(desc, DESC_LEN)); }\n`,
      grows: `${PROLOGUE}export function process(desc: usize): i32 { return memory.grow(load<u16>(desc, DESC_LEN)); }\n`,
    });
    const out = join(work, "bad.npfw");
    const lines = await buildError({ keyPath: key, out, dataplaneDir: dir });
    const rules = (image: string) => lines.filter((l) => l.includes(`image ${image}: `)).map((l) => l.split(": ")[l.startsWith("build failed") ? 2 : 1]);
    expect(rules("usesfloat")).toContain("float");
    expect(rules("recurses")).toContain("recursion");
    expect(rules("evilimport")).toContain("imports");
    expect(rules("grows")).toContain("memory-grow");
    expect(lines.some((l) => l.includes("image classify"))).toBe(false);
    expect(existsSync(out)).toBe(false);
  });

  it("names an image folder missing from the pipeline and a source that does not compile", async () => {
    const dir = dataplaneWith({});
    cpSync(join(dir, "classify"), join(dir, "stray"), { recursive: true });
    expect((await buildError({ keyPath: key, out: join(work, "s.npfw"), dataplaneDir: dir }))[0]).toBe(
      "dataplane/stray/index.ts is an image but not a stage in dataplane/pipeline.json; add it there",
    );
    const broken = dataplaneWith({ broken: `${PROLOGUE}export function process(desc: usize): i32 { return undefinedThing; }\n` });
    const lines = await buildError({ keyPath: key, out: join(work, "c.npfw"), dataplaneDir: broken });
    expect(lines[0]).toBe("image broken: compile failed");
    expect(lines.join("\n")).toMatch(/undefinedThing/);
    expect(existsSync(join(work, "c.npfw"))).toBe(false);
  });
});
