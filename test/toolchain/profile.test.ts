// Target profiles: the built-ins load, every number is sourced, and a bad file is named precisely.
import { describe, expect, it } from "vitest";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BUILTIN_TARGETS, loadProfile, parseProfile } from "../../toolchain/target/profile.js";
import { NpswitchError } from "../../lib/errors.js";

const clone = <T>(x: T): T => JSON.parse(JSON.stringify(x));

function errorOf(fn: () => unknown): NpswitchError {
  try {
    fn();
  } catch (e) {
    if (e instanceof NpswitchError) return e;
    throw e;
  }
  throw new Error("expected an NpswitchError");
}

describe("target profiles", () => {
  it("loads both built-ins with their control stores", () => {
    expect(BUILTIN_TARGETS).toEqual(["ixp2400", "ixp2800"]);
    expect(loadProfile("ixp2400").profile.microengines.controlStoreInstructions.value).toBe(4096);
    expect(loadProfile("ixp2800").profile.microengines.controlStoreInstructions.value).toBe(8192);
    expect(loadProfile().profile.name).toBe("ixp2400");
  });

  it("gives every number a source or an assumption", () => {
    for (const t of BUILTIN_TARGETS) {
      const walk = (node: unknown, path: string): void => {
        if (node === null || typeof node !== "object") return;
        const o = node as Record<string, unknown>;
        if ("value" in o) {
          const why = (o.source ?? o.assumption) as string | undefined;
          expect(why, `${t}: ${path}`).toMatch(/\S{3}/);
          return;
        }
        for (const [k, v] of Object.entries(o)) walk(v, path ? `${path}.${k}` : k);
      };
      walk(loadProfile(t).profile, "");
    }
  });

  it("names a missing field", () => {
    const p = clone(loadProfile("ixp2400").profile) as Record<string, any>;
    delete p.microengines.controlStoreInstructions;
    const e = errorOf(() => parseProfile(p, "mine.json"));
    expect(e.message).toBe('mine.json: field microengines.controlStoreInstructions: missing: expected { "value": ..., "source": "..." } or { "value": ..., "assumption": "..." }');
  });

  it("names a wrong value, a number without a source, and an unknown field", () => {
    const p = clone(loadProfile("ixp2400").profile) as Record<string, any>;
    p.memories.sram.latencyCycles.value = "fast";
    p.rings.count = { value: 16 };
    p.turbo = true;
    const e = errorOf(() => parseProfile(p, "mine.json"));
    const lines = [e.message, ...e.details];
    expect(lines).toHaveLength(3);
    expect(lines.some((l) => l.startsWith("mine.json: field memories.sram.latencyCycles: value:") && l.includes("number"))).toBe(true);
    expect(lines.some((l) => l.startsWith("mine.json: field rings.count:"))).toBe(true);
    expect(lines.some((l) => l.includes("(top level)") && l.includes("turbo"))).toBe(true);
  });

  it("rejects unknown names, missing files and broken JSON", () => {
    expect(errorOf(() => loadProfile("ixp1200")).message).toMatch(/unknown target 'ixp1200': use one of ixp2400, ixp2800 or a profile \.json file/);
    expect(errorOf(() => loadProfile("/nonexistent/p.json")).message).toBe("/nonexistent/p.json: no such profile file");
    const dir = mkdtempSync(join(tmpdir(), "npswitch-profile-"));
    const f = join(dir, "broken.json");
    writeFileSync(f, "{ not json");
    expect(errorOf(() => loadProfile(f)).message).toMatch(/broken\.json: not valid JSON/);
  });

  it("accepts a user profile file of the same shape", () => {
    const dir = mkdtempSync(join(tmpdir(), "npswitch-profile-"));
    const p = clone(loadProfile("ixp2400").profile);
    p.name = "ixp2400-small";
    p.microengines.controlStoreInstructions = { value: 2048, assumption: "half-size control store for testing" };
    const f = join(dir, "small.json");
    writeFileSync(f, JSON.stringify(p));
    const loaded = loadProfile(f);
    expect(loaded.origin).toBe(f);
    expect(loaded.profile.microengines.controlStoreInstructions.value).toBe(2048);
    expect(loaded.sha256).toMatch(/^[0-9a-f]{64}$/);
  });
});
