// Runs every packet fixture (sim/testing/fixtures/*.fixtures.ts) against the real images, each on a fresh
// data plane (new memory, counters and tables); then the device's self-test over the same list.
import { describe, expect, it } from "vitest";
import { loadDataplane, compiledImages } from "../../sim/np/load.js";
import { runFixture } from "../../sim/testing/fixtures/fixture.js";
import { FIXTURE_SUITES, selfTest } from "../../sim/testing/fixtures/index.js";

for (const { name, fixtures } of FIXTURE_SUITES) {
  describe(`${name} fixtures`, () => {
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

describe("self-test (what a device runs before swapping an image in)", () => {
  it("passes every fixture on the built images", async () => {
    const report = await selfTest(await compiledImages());
    expect(report.failed).toEqual([]);
    expect(report.passed).toBe(FIXTURE_SUITES.reduce((n, s) => n + s.fixtures.length, 0));
  });

  it("reports the fixtures an image fails: splice swapped for classify forwards nothing", async () => {
    const images = await compiledImages();
    const classify = images.find((i) => i.name === "classify")!;
    const report = await selfTest([classify, { name: "splice", wasm: classify.wasm }]);
    expect(report.ok).toBe(false);
    expect(report.failed.some((f) => f.suite === "splice")).toBe(true);
    expect(report.failed.every((f) => f.problems.length > 0)).toBe(true);
  });
});
