// Every scenario shipped in sim/scenarios validates, and the examples run as their comments say.
import { describe, expect, it } from "vitest";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { loadScenario } from "../../sim/scenario/load.js";
import { createPolicy } from "../../controlplane/policies/index.js";

const dir = fileURLToPath(new URL("../../sim/scenarios/", import.meta.url));

describe("shipped scenarios", () => {
  it.each(readdirSync(dir).filter((f) => f.endsWith(".yaml")))("%s validates, and its policy block too", (file) => {
    const sc = loadScenario(join(dir, file));
    expect(sc.name).toBe(file.replace(/\.yaml$/, ""));
    expect(() => createPolicy(sc.policy.name, sc.policy.params)).not.toThrow();
  });
});
