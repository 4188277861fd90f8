// Runs every packet fixture in test/dataplane/fixtures/*.fixtures.ts against the real images,
// each on a fresh data plane (new memory, counters and tables).
import { describe, expect, it } from "vitest";
import { readdirSync } from "node:fs";
import { fileURLToPath, pathToFileURL } from "node:url";
import { join } from "node:path";
import { loadDataplane } from "../../sim/np/load.js";
import { runFixture, type Fixture } from "./fixture.js";

const dir = fileURLToPath(new URL("./fixtures/", import.meta.url));
const files = readdirSync(dir).filter((f) => f.endsWith(".fixtures.ts")).sort();

const suites: { file: string; fixtures: Fixture[] }[] = [];
for (const file of files) {
  const mod = (await import(pathToFileURL(join(dir, file)).href)) as { fixtures?: Fixture[]; default?: Fixture[] };
  const fixtures = mod.fixtures ?? mod.default;
  if (!Array.isArray(fixtures)) throw new Error(`${file}: export 'fixtures' (Fixture[]) or a default Fixture[]`);
  suites.push({ file, fixtures });
}

for (const { file, fixtures } of suites) {
  describe(file, () => {
    it("has unique descriptions", () => {
      const seen = new Set<string>();
      for (const f of fixtures) {
        expect(seen.has(f.description), `duplicate description "${f.description}"`).toBe(false);
        seen.add(f.description);
      }
    });
    for (const fx of fixtures) {
      it(fx.description, async () => {
        runFixture(await loadDataplane(), fx);
      });
    }
  });
}
