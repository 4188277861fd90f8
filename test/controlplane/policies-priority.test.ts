// Priority-pool policies: hprio (LVS thresholds with hysteresis, atomic spillover and return), weighted
// failover and weighted overflow, driven through scripted splices and teardowns.
import { describe, expect, it } from "vitest";
import { createPolicy, type Policy } from "../../controlplane/policies/index.js";
import { context, pool, request, type MutableServer, type TestContext } from "./policy-harness.js";

const req = request("/");

/** n connections the way the CP makes them: select, splice (the pool counts it), post. "-" for a refusal. */
function connect(p: Policy<any>, n: number, servers: MutableServer[], ctx: TestContext): string[] {
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const s = p.select(req, servers.filter((x) => x.up), ctx) as MutableServer | null;
    out.push(s ? s.name : "-");
    if (!s) continue;
    s.activeConnections++;
    p.post!(s, req, { outcome: "spliced" });
  }
  return out;
}

const rep = (name: string, n: number) => Array<string>(n).fill(name);

describe("hprio", () => {
  // Top pool s0, s1 (priority 1, trips at 3, clears below 1); spillover s2 (priority 0, no limit).
  const setup = () => {
    const s = pool(3, (i) => (i < 2 ? { priority: 1, upperThreshold: 3, lowerThreshold: 1 } : {}));
    return { s, ctx: context(s), hp: createPolicy("hprio") };
  };

  it("round robin in the top pool until every member trips, then all to the spillover at once", () => {
    const { s, ctx, hp } = setup();
    expect(connect(hp, 6, s, ctx)).toEqual(["s0", "s1", "s0", "s1", "s0", "s1"]);
    expect(connect(hp, 4, s, ctx)).toEqual(rep("s2", 4));
  });

  it("one member overloaded: the rest of the top pool takes everything, not the spillover", () => {
    const { s, ctx, hp } = setup();
    s[0].activeConnections = 3;
    expect(connect(hp, 3, s, ctx)).toEqual(["s1", "s1", "s1"]);
    expect(connect(hp, 1, s, ctx)).toEqual(["s2"]);
  });

  it("comes back only below the lower threshold (hysteresis), and to the member that drained", () => {
    const { s, ctx, hp } = setup();
    connect(hp, 7, s, ctx); // s0 3, s1 3, s2 1
    s[0].activeConnections = 1; // below the upper, not below the lower
    s[1].activeConnections = 2;
    expect(connect(hp, 2, s, ctx)).toEqual(["s2", "s2"]);
    s[0].activeConnections = 0;
    expect(connect(hp, 4, s, ctx)).toEqual(["s0", "s0", "s0", "s2"]); // s1 stays tripped until below 1
  });

  it("counts dispatches not yet spliced: a burst trips the thresholds too", () => {
    const { s, ctx, hp } = setup();
    const burst = Array.from({ length: 8 }, () => hp.select(req, s, ctx)!.name);
    expect(burst).toEqual(["s0", "s1", "s0", "s1", "s0", "s1", "s2", "s2"]);
  });

  it("without a lower threshold, clears below 3/4 of the upper (LVS)", () => {
    const s = pool(2, (i) => (i === 0 ? { priority: 1, upperThreshold: 4 } : {}));
    const ctx = context(s);
    const hp = createPolicy("hprio");
    expect(connect(hp, 5, s, ctx)).toEqual([...rep("s0", 4), "s1"]);
    s[0].activeConnections = 3; // 3 * 4 = 12, not below 12
    expect(connect(hp, 1, s, ctx)).toEqual(["s1"]);
    s[0].activeConnections = 2;
    expect(connect(hp, 1, s, ctx)).toEqual(["s0"]);
  });

  it("quiesced members are skipped, their connections stay; restoring the weight brings traffic back", () => {
    const s = pool(3, (i) => (i < 2 ? { priority: 1, activeConnections: 5 } : {}));
    const ctx = context(s);
    const hp = createPolicy("hprio");
    s[0].weight = 0;
    expect(connect(hp, 2, s, ctx)).toEqual(["s1", "s1"]);
    s[1].weight = 0;
    expect(connect(hp, 2, s, ctx)).toEqual(["s2", "s2"]);
    expect(s.map((x) => x.activeConnections)).toEqual([5, 7, 2]); // nothing moved off the quiesced ones
    s[0].weight = 1;
    expect(connect(hp, 2, s, ctx)).toEqual(["s0", "s0"]);
  });

  it("a down member, or one that failed for this request, is not offered: its pool mate or the spillover", () => {
    const { s, ctx, hp } = setup();
    s[0].up = false;
    expect(connect(hp, 2, s, ctx)).toEqual(["s1", "s1"]);
    expect(hp.select(req, [s[0], s[2]].filter((x) => x.up), ctx)!.name).toBe("s2"); // s1 failed: retry without it
  });

  it("everything overloaded and no spillover: refused", () => {
    const s = pool(2, () => ({ upperThreshold: 1 }));
    expect(connect(createPolicy("hprio"), 3, s, context(s))).toEqual(["s0", "s1", "-"]);
  });

  it("rank weight: the LVS patch's own setup (three weight-5 servers limited to 50, one weight-1 spillover)", () => {
    const s = pool(4, (i) => (i === 0 ? { name: "rs13" } : { name: `rs2${i}`, weight: 5, configuredWeight: 5, upperThreshold: 50, lowerThreshold: 20 }));
    const ctx = context(s);
    const hp = createPolicy("hprio", { rank: "weight" });
    const first = connect(hp, 150, s, ctx);
    expect(first.slice(0, 6)).toEqual(["rs21", "rs22", "rs23", "rs21", "rs22", "rs23"]);
    expect(s.map((x) => x.activeConnections)).toEqual([0, 50, 50, 50]);
    expect(connect(hp, 3, s, ctx)).toEqual(rep("rs13", 3));
    s[2].activeConnections = 20;
    expect(connect(hp, 1, s, ctx)).toEqual(["rs13"]);
    s[2].activeConnections = 19;
    expect(connect(hp, 2, s, ctx)).toEqual(["rs22", "rs22"]);
    // With priority ranking (the default) the weights do not make pools: all four share priority 0.
    const flat = pool(4, (i) => ({ weight: i === 0 ? 1 : 5 }));
    expect(new Set(connect(createPolicy("hprio"), 16, flat, context(flat)))).toEqual(new Set(["s0", "s1", "s2", "s3"]));
  });
});

describe("weighted-failover", () => {
  it("all to the highest weight, then the next as servers go down or are quiesced", () => {
    const s = pool(4, (i) => ({ weight: [1, 3, 2, 2][i] }));
    const ctx = context(s);
    const fo = createPolicy("weighted-failover");
    expect(connect(fo, 3, s, ctx)).toEqual(rep("s1", 3));
    s[1].up = false;
    expect(connect(fo, 2, s, ctx)).toEqual(rep("s2", 2)); // s2 and s3 tie: the first
    s[2].weight = 0;
    expect(connect(fo, 2, s, ctx)).toEqual(rep("s3", 2));
    s[3].up = false;
    expect(connect(fo, 1, s, ctx)).toEqual(["s0"]);
    s[1].up = true;
    expect(connect(fo, 1, s, ctx)).toEqual(["s1"]);
  });

  it("an overloaded server hands over until it is below its lower threshold", () => {
    const s = pool(2, (i) => ({ weight: [3, 1][i], upperThreshold: i === 0 ? 2 : 0, lowerThreshold: i === 0 ? 1 : 0 }));
    const ctx = context(s);
    const fo = createPolicy("weighted-failover");
    expect(connect(fo, 4, s, ctx)).toEqual(["s0", "s0", "s1", "s1"]);
    s[0].activeConnections = 1;
    expect(connect(fo, 1, s, ctx)).toEqual(["s1"]);
    s[0].activeConnections = 0;
    expect(connect(fo, 1, s, ctx)).toEqual(["s0"]);
  });
});

describe("weighted-overflow", () => {
  it("fills by descending weight up to each upper threshold; a server without one takes the rest", () => {
    const s = pool(3, (i) => ({ weight: [1, 3, 2][i], upperThreshold: [0, 2, 3][i] }));
    const ctx = context(s);
    const ov = createPolicy("weighted-overflow");
    expect(connect(ov, 8, s, ctx)).toEqual(["s1", "s1", "s2", "s2", "s2", "s0", "s0", "s0"]);
    s[1].activeConnections = 1; // a fill level, no hysteresis: one slot free, one connection back
    expect(connect(ov, 2, s, ctx)).toEqual(["s1", "s0"]);
  });

  it("every server full: refused", () => {
    const s = pool(2, (i) => ({ weight: [1, 2][i], upperThreshold: 1 }));
    expect(connect(createPolicy("weighted-overflow"), 3, s, context(s))).toEqual(["s1", "s0", "-"]);
  });
});

