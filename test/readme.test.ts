// The README's figures come from their sources (scripts/readme-figures.ts): every number sits in a
// marked region, and each region whose figure follows from the tree alone (instruction counts of an
// actual build, the fixture list, the policy catalogue, the tests' sizes, scenario and config
// defaults) must say what the source says. Machine-dependent regions (the self-test time, the bench
// table) carry the command that measured them and its date. `npm run readme:figures` fixes a stale one.
import { beforeAll, describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { buildForFigures, deterministicFigures, readRegions, replaceRegions, README, staleRegions } from "../scripts/readme-figures.js";
import { FIXTURE_SUITES } from "../sim/testing/fixtures/index.js";
import { policyNames } from "../controlplane/policies/index.js";

let expected: Record<string, string>;
const text = readFileSync(README, "utf8");

beforeAll(async () => {
  expected = deterministicFigures(await buildForFigures());
}, 180_000);

describe("README figures", () => {
  it("every figure that follows from the sources says what they say (else: npm run readme:figures)", () => {
    expect(staleRegions(text, expected)).toEqual([]);
  });

  it("reads the counts from their sources: fixtures from the fixture list, policies from the catalogue", () => {
    expect(expected.fixtures).toBe(String(FIXTURE_SUITES.reduce((n, s) => n + s.fixtures.length, 0)));
    expect(expected.policies).toBe(String(policyNames().length));
    expect(expected.instructions).toMatch(/^classify \d+ and splice \d+ of the \d+-instruction ixp2400 control store$/);
  });

  it("knows every region in the README, and the machine-dependent ones say how and when they were measured", () => {
    const regions = readRegions(text);
    const measured = ["selftest-time", "bench"];
    expect([...regions.keys()].filter((n) => !(n in expected) && !measured.includes(n))).toEqual([]);
    for (const name of Object.keys(expected)) expect(regions.has(name), name).toBe(true);
    const selftest = regions.get("selftest-time")!;
    expect(selftest).toHaveLength(1);
    expect(selftest[0]).toMatch(/^\d+\.\d s on an idle host \(`npm run readme:figures`, \d{4}-\d\d-\d\d\)$/);
    const bench = regions.get("bench")![0];
    // Either the note that nothing was recorded, or a table whose every row names its command and date.
    if (!bench.includes("none recorded yet")) {
      const rows = bench.trim().split("\n").slice(2);
      expect(rows.length).toBeGreaterThan(0);
      for (const r of rows) expect(r).toMatch(/^\| `npm run bench -- [a-z]+` \| .+ \| \S+ .* \| \d{4}-\d\d-\d\d, \d+ CPUs, Node [\d.]+ \|$/);
    }
  });

  it("fails on a wrong number: each deterministic region, changed by one, is reported", () => {
    const current = replaceRegions(text, expected);
    expect(staleRegions(current, expected)).toEqual([]);
    for (const [name, value] of Object.entries(expected)) {
      const wrong = value.replace(/\d+/, (d) => String(Number(d) + 1));
      expect(wrong, name).not.toBe(value);
      const stale = staleRegions(replaceRegions(current, { [name]: wrong }), expected);
      expect(stale, name).toHaveLength(1);
      expect(stale[0]).toMatch(new RegExp(`^${name}: the README says`));
    }
    // A region that went missing is reported too.
    expect(staleRegions(current.replace(/<!-- figures:fixtures -->(.*?)<!-- \/figures -->/, "$1"), expected)).toEqual(["fixtures: no <!-- figures:fixtures --> region in the README"]);
  });
});
