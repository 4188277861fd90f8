// Content-blind policies (random, weighted round robin, dynamic WRR, LC, WLC, SED, NQ, least loaded,
// fastest response, power of two, source hash, Maglev) on scripted pools, and their parameter checks.
import { describe, expect, it } from "vitest";
import { createPolicy, policyEntries, PolicyConfigError, type Policy, type ServerView } from "../../controlplane/policies/index.js";
import { maglevTable } from "../../controlplane/policies/maglev.js";
import { IN_FLIGHT_EXPIRY_PS } from "../../controlplane/policies/connection-count.js";
import { context, pool, request, type TestContext } from "./policy-harness.js";
import type { HttpRequest } from "../../controlplane/http/request.js";

const req = request("/index.html");

/** n selections, each settled at once (post "spliced") without moving the counts: the pool stays as scripted. */
function picks(p: Policy<any>, n: number, candidates: readonly ServerView[], ctx: TestContext, info: unknown = req): string[] {
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const s = p.select(info, candidates, ctx);
    out.push(s ? s.name : "-");
    if (s) p.post?.(s, req, { outcome: "spliced" });
  }
  return out;
}

function tally(names: string[]): Record<string, number> {
  const t: Record<string, number> = {};
  for (const n of names) t[n] = (t[n] ?? 0) + 1;
  return t;
}

/** A context whose random source replays `values`. */
function scripted(servers: readonly ServerView[], values: number[]): TestContext {
  const ctx = context(servers);
  let i = 0;
  ctx.random = () => values[i++ % values.length];
  return ctx;
}

const clientIp = (i: number) => (0x0a000000 + i * 7919) >>> 0; // 10.x.y.z, spread over the space
const fromClient = (i: number) => request("/", { clientIp: clientIp(i) });

describe("random", () => {
  it("draws uniformly from the seeded source, never a quiesced server", () => {
    const s = pool(3, (i) => (i === 1 ? { weight: 0 } : {}));
    const rnd = createPolicy("random");
    expect(picks(rnd, 3, s, scripted(s, [0, 0.49, 0.5]))).toEqual(["s0", "s0", "s2"]);
    const t = tally(picks(createPolicy("random"), 3000, s, context(s, 7)));
    expect(t.s1).toBeUndefined();
    expect(Math.abs(t.s0 - 1500)).toBeLessThan(120);
    expect(picks(createPolicy("random"), 50, s, context(s, 7))).toEqual(picks(createPolicy("random"), 50, s, context(s, 7)));
  });

  it("weighted: in proportion to weight", () => {
    const s = pool(2, (i) => ({ weight: i === 0 ? 3 : 1 }));
    const rnd = createPolicy("random", { weighted: true });
    // r * total = 2.8 lands in s0's [0, 3), 3.04 in s1's [3, 4).
    expect(picks(rnd, 2, s, scripted(s, [0.7, 0.76]))).toEqual(["s0", "s1"]);
    const t = tally(picks(rnd, 4000, s, context(s, 3)));
    expect(Math.abs(t.s0 - 3000)).toBeLessThan(120);
  });
});

describe("weighted-round-robin", () => {
  it("weights 5,1,1 give exactly 5/1/1 per 7 picks, interleaved", () => {
    const s = pool(3, (i) => ({ weight: i === 0 ? 5 : 1 }));
    const wrr = createPolicy("weighted-round-robin");
    const seven = ["s0", "s0", "s1", "s0", "s2", "s0", "s0"];
    expect(picks(wrr, 14, s, context(s))).toEqual([...seven, ...seven]);
  });

  it("never picks weight 0, and a server missing from the candidates just loses its turns", () => {
    const s = pool(3, (i) => ({ weight: [2, 0, 1][i] }));
    const wrr = createPolicy("weighted-round-robin");
    expect(picks(wrr, 6, s, context(s))).toEqual(["s0", "s2", "s0", "s0", "s2", "s0"]);
    expect(wrr.select(req, [s[1]], context(s))).toBeNull();
    expect(wrr.select(req, [], context(s))).toBeNull();
    const equal = pool(3);
    expect(picks(createPolicy("weighted-round-robin"), 4, [equal[0], equal[2]], context(equal))).toEqual(["s0", "s2", "s0", "s2"]);
  });
});

describe("dynamic-weighted-round-robin", () => {
  it("weights follow 1 - load; a server without a report keeps its weight", () => {
    const s = pool(2, (i) => ({ weight: 2, load: i === 0 ? 0.5 : NaN }));
    // Effective 1 and 2: per 3 picks, one to s0 and two to s1.
    expect(tally(picks(createPolicy("dynamic-weighted-round-robin"), 6, s, context(s)))).toEqual({ s0: 2, s1: 4 });
  });

  it("a saturated server keeps the floor share", () => {
    const s = pool(2, (i) => ({ load: i === 0 ? 1 : 0 }));
    expect(tally(picks(createPolicy("dynamic-weighted-round-robin", { floor: 0.25 }), 10, s, context(s)))).toEqual({ s0: 2, s1: 8 });
    expect(tally(picks(createPolicy("dynamic-weighted-round-robin"), 21, s, context(s)))).toEqual({ s0: 1, s1: 20 }); // default floor 0.05
  });

  it("with a period, a new report counts only from the next recomputation", () => {
    const s = pool(2, () => ({ load: 0 }));
    const ctx = context(s);
    const dwrr = createPolicy("dynamic-weighted-round-robin", { periodPs: 1e12, floor: 0.25 });
    expect(picks(dwrr, 4, s, ctx)).toEqual(["s0", "s1", "s0", "s1"]);
    s[0].load = 1;
    ctx.time = 0.5e12;
    expect(tally(picks(dwrr, 4, s, ctx))).toEqual({ s0: 2, s1: 2 });
    ctx.time = 1e12;
    expect(tally(picks(dwrr, 5, s, ctx))).toEqual({ s0: 1, s1: 4 });
  });
});

describe("connection-counting policies", () => {
  it("least-connections: fewest, skipping quiesced servers", () => {
    const s = pool(4, (i) => ({ activeConnections: [3, 1, 2, 0][i], weight: i === 3 ? 0 : 1 }));
    expect(createPolicy("least-connections").select(req, s, context(s))!.name).toBe("s1");
  });

  it("counts its own dispatches until post, so a burst before any splice spreads", () => {
    const s = pool(3);
    const ctx = context(s);
    const lc = createPolicy("least-connections");
    const burst = [0, 1, 2, 3].map(() => lc.select(req, s, ctx)!.name);
    expect(burst).toEqual(["s0", "s1", "s2", "s0"]);
    // s0's two dispatches fail: it is the least loaded again.
    lc.post!(s[0], req, { outcome: "failed", reason: "reset" });
    lc.post!(s[0], req, { outcome: "failed", reason: "no_answer" });
    expect(lc.select(req, s, ctx)!.name).toBe("s0");
    // Dispatches never posted (a client gone while connecting) are forgotten after the expiry.
    s[0].activeConnections = 1;
    ctx.time = IN_FLIGHT_EXPIRY_PS;
    expect(lc.select(req, s, ctx)!.name).toBe("s1");
  });

  it("weighted-least-connections picks by connections / weight, cross-multiplied", () => {
    const s = pool(3, (i) => ({ weight: [1, 3, 2][i], activeConnections: [1, 2, 2][i] }));
    // Ratios 1, 0.67, 1: WLC takes s1 where LC takes s0.
    expect(createPolicy("weighted-least-connections").select(req, s, context(s))!.name).toBe("s1");
    expect(createPolicy("least-connections").select(req, s, context(s))!.name).toBe("s0");
    // 7/3 against 12/5 (2.333 < 2.4) with large counts: exact.
    const big = pool(2, (i) => ({ weight: [3, 5][i], activeConnections: [7_000_000, 12_000_000][i] }));
    expect(createPolicy("weighted-least-connections").select(req, big, context(big))!.name).toBe("s0");
    // A burst at zero goes 1 : 3 : 2.
    const idle = pool(3, (i) => ({ weight: [1, 3, 2][i] }));
    const wlc = createPolicy("weighted-least-connections");
    const ctx = context(idle);
    expect(tally([0, 1, 2, 3, 4, 5].map(() => wlc.select(req, idle, ctx)!.name))).toEqual({ s0: 1, s1: 3, s2: 2 });
  });

  it("shortest-expected-delay and never-queue differ on an idle slow server", () => {
    // s0 fast (weight 10) with one connection, s1 slow (weight 1) idle.
    const s = pool(2, (i) => ({ weight: [10, 1][i], activeConnections: [1, 0][i] }));
    expect(createPolicy("shortest-expected-delay").select(req, s, context(s))!.name).toBe("s0"); // 2/10 < 1/1
    expect(createPolicy("never-queue").select(req, s, context(s))!.name).toBe("s1"); // idle
    expect(createPolicy("weighted-least-connections").select(req, s, context(s))!.name).toBe("s1"); // 1/10 > 0/1
    // Both busy: NQ is SED. 10/10 = 1/1 ties to the first; 11/10 > 2/2... s1 busy with 1: (1+1)/1 = 2.
    s[1].activeConnections = 1;
    s[0].activeConnections = 19; // 20/10 = 2 ties 2/1: first
    expect(createPolicy("never-queue").select(req, s, context(s))!.name).toBe("s0");
    s[0].activeConnections = 20; // 21/10 > 2
    expect(createPolicy("never-queue").select(req, s, context(s))!.name).toBe("s1");
    expect(createPolicy("shortest-expected-delay").select(req, s, context(s))!.name).toBe("s1");
  });

  it("least-loaded: lowest load index; least connections while any server has not reported", () => {
    const s = pool(3, (i) => ({ load: [0.5, 0.2, 0.9][i], activeConnections: [4, 9, 0][i] }));
    const ll = createPolicy("least-loaded");
    expect(ll.select(req, s, context(s))!.name).toBe("s1");
    s[1].load = 0.5; // s0 and s1 equal: fewer connections
    expect(createPolicy("least-loaded").select(req, s, context(s))!.name).toBe("s0");
    s[0].load = NaN; // unknown: connections decide, s2 with 0 wins despite the highest load
    expect(createPolicy("least-loaded").select(req, s, context(s))!.name).toBe("s2");
  });

  it("fastest-response: unmeasured servers first (fewest connections), then the lowest time", () => {
    const s = pool(4, (i) => ({ responseTimePs: [5e6, NaN, 1e6, NaN][i], activeConnections: [0, 2, 0, 1][i] }));
    expect(createPolicy("fastest-response").select(req, s, context(s))!.name).toBe("s3");
    s[1].responseTimePs = 3e6;
    s[3].responseTimePs = 2e6;
    expect(createPolicy("fastest-response").select(req, s, context(s))!.name).toBe("s2");
    s[2].weight = 0;
    expect(createPolicy("fastest-response").select(req, s, context(s))!.name).toBe("s3");
  });
});

describe("power-of-two", () => {
  it("draws two distinct servers and keeps the one with fewer connections", () => {
    const s = pool(4, (i) => ({ activeConnections: [5, 0, 0, 1][i] }));
    // 0.1 -> s0, 0.9 of the 3 others -> index 2, shifted past s0 -> s3: s3 (1) beats s0 (5).
    expect(createPolicy("power-of-two").select(req, s, scripted(s, [0.1, 0.9]))!.name).toBe("s3");
    // 0.6 -> s2, 0.6 of 3 -> 1 (below 2, kept) -> s1: tie 0 : 0 goes to the first drawn.
    expect(createPolicy("power-of-two").select(req, s, scripted(s, [0.6, 0.6]))!.name).toBe("s2");
    // Distinct: 0.3 -> s1, 0.3 of 3 -> 0 -> s0, never s1 twice.
    expect(createPolicy("power-of-two").select(req, s, scripted(s, [0.3, 0.3]))!.name).toBe("s1");
  });

  it("with the seeded source: the most loaded never wins, the others in proportion to the pairs they win", () => {
    const s = pool(4, (i) => ({ activeConnections: i }));
    const seq = picks(createPolicy("power-of-two"), 6000, s, context(s, 42));
    const t = tally(seq);
    expect(t.s3).toBeUndefined(); // loses every pair
    expect(Math.abs(t.s0 - 3000)).toBeLessThan(200); // wins 3 pairs of 6
    expect(Math.abs(t.s1 - 2000)).toBeLessThan(200);
    expect(Math.abs(t.s2 - 1000)).toBeLessThan(150);
    expect(seq.slice(0, 40)).toEqual(picks(createPolicy("power-of-two"), 40, s, context(s, 42)));
    expect(seq.slice(0, 40)).not.toEqual(picks(createPolicy("power-of-two"), 40, s, context(s, 43)));
  });
});

describe("source-hash", () => {
  const N = 3000;
  const map = (p: Policy<HttpRequest>, candidates: readonly ServerView[], ctx: TestContext) =>
    Array.from({ length: N }, (_, i) => p.select(fromClient(i), candidates, ctx)!.name);

  it("a client keeps its server; clients spread by weight", () => {
    const s = pool(3);
    const sh = createPolicy("source-hash");
    const ctx = context(s);
    const first = map(sh, s, ctx);
    expect(map(sh, s, ctx)).toEqual(first);
    for (const n of ["s0", "s1", "s2"]) expect(Math.abs(tally(first)[n] - N / 3)).toBeLessThan(N * 0.05);
    const w = pool(3, (i) => ({ weight: [2, 1, 1][i], configuredWeight: [2, 1, 1][i] }));
    const tw = tally(map(createPolicy("source-hash"), w, context(w)));
    expect(Math.abs(tw.s0 - N / 2)).toBeLessThan(N * 0.05);
  });

  it("a down or quiesced server's clients move, spread over the others; nobody else moves; they return", () => {
    const s = pool(3);
    const ctx = context(s);
    const sh = createPolicy("source-hash");
    const before = map(sh, s, ctx);
    for (const change of ["down", "quiesced"] as const) {
      if (change === "down") s[1].up = false;
      else s[1].weight = 0;
      const after = map(sh, s.filter((x) => x.up), ctx);
      const moved = before.map((b, i) => [b, after[i]] as const).filter(([b, a]) => b !== a);
      expect(moved.every(([b]) => b === "s1")).toBe(true);
      expect(moved.length).toBe(tally(before).s1);
      const dest = tally(moved.map(([, a]) => a));
      expect(dest.s0).toBeGreaterThan(moved.length * 0.35);
      expect(dest.s2).toBeGreaterThan(moved.length * 0.35);
      s[1].up = true;
      s[1].weight = 1;
      expect(map(sh, s, ctx)).toEqual(before);
    }
  });
});

describe("maglev", () => {
  const named = (n: number, weights: number[] = []) => pool(n, (i) => ({ name: `backend-${i}`, weight: weights[i] ?? 1, configuredWeight: weights[i] ?? 1 }));
  const shares = (table: Int32Array, n: number) => {
    const c = new Array<number>(n).fill(0);
    for (const x of table) c[x]++;
    return c;
  };

  it("fills the whole table, equal weights within 1%, 2:1 in proportion", () => {
    const t = maglevTable(named(5), 65537);
    expect(t.every((x) => x >= 0 && x < 5)).toBe(true);
    for (const c of shares(t, 5)) expect(Math.abs(c - 65537 / 5)).toBeLessThan(65537 / 5 * 0.01);
    const w = shares(maglevTable(named(3, [2, 1, 1]), 65537), 3);
    expect(Math.abs(w[0] / 65537 - 0.5)).toBeLessThan(0.01);
    expect(Math.abs(w[1] / 65537 - 0.25)).toBeLessThan(0.01);
    const two = shares(maglevTable(named(2, [2, 1]), 65537), 2);
    expect(Math.abs(two[0] / two[1] - 2)).toBeLessThan(0.02);
  });

  const N = 20_000;
  const keys = (p: Policy<HttpRequest>, candidates: readonly ServerView[], ctx: TestContext) =>
    Array.from({ length: N }, (_, i) => p.select(fromClient(i), candidates, ctx)!.name);

  it("a failed server moves only its own keys, spread over the rest, and they come back", () => {
    const s = named(5);
    const ctx = context(s);
    const mg = createPolicy("maglev");
    const before = keys(mg, s, ctx);
    for (const c of Object.values(tally(before))) expect(Math.abs(c - N / 5)).toBeLessThan(N / 5 * 0.06);
    s[2].up = false;
    const after = keys(mg, s.filter((x) => x.up), ctx);
    const moved = before.map((b, i) => [b, after[i]] as const).filter(([b, a]) => b !== a);
    expect(moved.length).toBe(tally(before)["backend-2"]);
    expect(moved.every(([b]) => b === "backend-2")).toBe(true);
    for (const c of Object.values(tally(moved.map(([, a]) => a)))) expect(c).toBeGreaterThan(moved.length * 0.15);
    s[2].up = true;
    expect(keys(mg, s, ctx)).toEqual(before);
  });

  it("a server removed from the pool rebuilds the table: nearly only its keys move", () => {
    const s = named(5);
    const mg = createPolicy("maglev");
    const before = keys(mg, s, context(s));
    const rest = s.filter((x) => x.index !== 2);
    const after = keys(mg, rest, context(rest));
    const others = before.filter((b, i) => b !== "backend-2" && b !== after[i]).length;
    expect(after.includes("backend-2")).toBe(false);
    expect(others / N).toBeLessThan(0.02); // Maglev's small disruption (paper 5.3), not a reshuffle
  });

  it("key url: a URL keeps its server whoever asks", () => {
    const s = named(4);
    const ctx = context(s);
    const mg = createPolicy("maglev", { key: "url", tableSize: 251 });
    const a = mg.select(request("/a.jpg", { clientIp: 1 }), s, ctx)!.name;
    for (let i = 2; i < 50; i++) expect(mg.select(request("/a.jpg", { clientIp: i }), s, ctx)!.name).toBe(a);
    const spread = tally(Array.from({ length: 2000 }, (_, i) => mg.select(request(`/obj/${i}`), s, ctx)!.name));
    expect(Object.keys(spread).length).toBe(4);
    for (const c of Object.values(spread)) expect(c).toBeGreaterThan(350);
  });
});

describe("catalogue and parameters", () => {
  it("lists every policy with its family and declared params", () => {
    const blind = ["random", "weighted-round-robin", "dynamic-weighted-round-robin", "least-connections", "weighted-least-connections",
      "shortest-expected-delay", "never-queue", "least-loaded", "fastest-response", "power-of-two", "source-hash", "maglev"];
    const entries = new Map(policyEntries().map((e) => [e.name, e]));
    for (const n of blind) expect(entries.get(n)?.family, n).toBe("content-blind");
    for (const n of ["hprio", "weighted-failover", "weighted-overflow"]) expect(entries.get(n)?.family, n).toBe("priority");
    expect(entries.get("maglev")!.params.map((p) => [p.name, p.default])).toEqual([["tableSize", 65537], ["key", "source"]]);
    for (const n of [...blind, "hprio", "weighted-failover", "weighted-overflow"]) expect(createPolicy(n).name).toBe(n);
  });

  it("unknown and out-of-range values are PolicyConfigErrors naming the field", () => {
    const err = (name: string, params: Record<string, unknown>, msg: RegExp) => {
      expect(() => createPolicy(name, params)).toThrow(PolicyConfigError);
      expect(() => createPolicy(name, params)).toThrow(msg);
    };
    err("least-connections", { weights: 1 }, /policy least-connections: unknown parameter 'weights' \(it takes none\)/);
    err("maglev", { size: 7 }, /unknown parameter 'size' \(known: tableSize, key\)/);
    err("maglev", { tableSize: 65536 }, /parameter tableSize: 65536 is not a prime/);
    err("maglev", { tableSize: 2 }, /parameter tableSize: 2 is below the minimum 3/);
    err("maglev", { key: "port" }, /parameter key: expected one of "source", "url", got "port"/);
    err("hprio", { rank: "weights" }, /policy hprio: parameter rank: expected one of "priority", "weight"/);
    err("source-hash", { tableBits: 21 }, /parameter tableBits: 21 is above the maximum 20/);
    err("dynamic-weighted-round-robin", { floor: 0 }, /parameter floor: 0 is below the minimum 0.01/);
    err("dynamic-weighted-round-robin", { periodPs: 1.5 }, /parameter periodPs: expected an integer/);
    err("random", { weighted: "yes" }, /parameter weighted: expected true or false/);
  });
});
