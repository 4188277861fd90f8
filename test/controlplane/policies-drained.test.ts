// Every policy with drained (weight 0), down and overloaded servers: views from the real ServerPool (drain, down, removal, slow start), the CP's candidate filter, and each policy's own state (target maps, session tables, hash tables, credits, overload flags).
import { describe, expect, it } from "vitest";
import { createPolicy, policyNames, type Policy, type ServerView } from "../../controlplane/policies/index.js";
import type { HttpRequest } from "../../controlplane/http/request.js";
import type { LardPolicy } from "../../controlplane/policies/lard.js";
import type { LardReplicationPolicy } from "../../controlplane/policies/lard-replication.js";
import type { CookieAffinityPolicy } from "../../controlplane/policies/cookie-affinity.js";
import type { SitaEPolicy } from "../../controlplane/policies/sita-e.js";
import { ServerPool } from "../../controlplane/pool/pool.js";
import { resolveCpConfig, type ServerConfig } from "../../controlplane/config.js";
import { emptyStats } from "../../controlplane/stats.js";
import { context, pool, request, type MutableServer, type TestContext } from "./policy-harness.js";
import { BASE_CONFIG } from "./switch-wire.js";

const SECOND = 1e12;

/**
 * A pool as the CP keeps it: drain (configured weight 0), down (up false, weight 0), removal (tombstone),
 * slow start when a server comes back; `offered()` is the CP's candidate filter (up, weight > 0).
 */
function realPool(n: number, over: (i: number) => Partial<ServerConfig> = () => ({}), slowStartPs = 0) {
  let now = 0;
  const servers = Array.from({ length: n }, (_, i) => ({
    name: `s${i}`, ip: `10.1.0.${11 + i}`, mac: `aa:bb:cc:00:01:${(i + 1).toString(16).padStart(2, "0")}`, port: 1 + (i % 2), tcpPort: 80, ...over(i),
  }));
  const cfg = resolveCpConfig({ ...BASE_CONFIG, servers, pool: { slowStartPs } });
  const env = { now: () => now, setTimer: () => ({ cancel() {} }), charge() {} };
  const p = new ServerPool(cfg.servers, cfg.pool, cfg.portMacs.length, env, emptyStats(), { down() {} });
  const views = p.views as unknown as MutableServer[];
  const ctx = context(views);
  const at = (name: string) => p.indexOf(name);
  return {
    pool: p, views, ctx,
    get time() { return now; },
    set time(t: number) { now = t; ctx.time = t; p.refresh(); },
    offered: () => views.filter((v) => p.usable(v.index)),
    drain: (name: string) => p.setWeight(at(name), 0),
    setWeight: (name: string, w: number) => p.setWeight(at(name), w),
    down: (name: string) => p.setUp(at(name), false),
    up: (name: string) => p.setUp(at(name), true),
    remove: (name: string) => { const i = at(name); p.beginRemoval(i); p.finishRemoval(i); },
  };
}

/** Parse, select and post "spliced" as the CP does (the pool's counts are left as scripted); the pick's name. */
function dispatch(p: Policy<any>, req: HttpRequest, candidates: readonly ServerView[], ctx: TestContext): string | null {
  const info = p.parse ? p.parse(req) : req;
  const s = p.select(info, candidates, ctx);
  if (s && !candidates.includes(s)) throw new Error(`${p.name} picked ${s.name}, not a candidate`);
  if (s) p.post?.(s, req, { outcome: "spliced" });
  return s?.name ?? null;
}

const clientIp = (i: number) => (0x0a000000 + i * 7919) >>> 0;
/** Request i of a varied stream: 37 URLs, 50 clients. */
const varied = (i: number) => request(`/p/${i % 37}.html`, { clientIp: clientIp(i % 50) });
/** Request i of another stream: URLs and clients no policy has seen in `varied`. */
const fresh = (i: number) => request(`/q/${i % 41}.html`, { clientIp: clientIp(100 + (i % 50)) });

function tally(names: (string | null)[]): Record<string, number> {
  const t: Record<string, number> = {};
  for (const n of names) t[String(n)] = (t[String(n)] ?? 0) + 1;
  return t;
}

/** Parameters some policies need to run at all on a pool named s0..s3. */
const PARAMS: Record<string, Record<string, unknown>> = {
  "sita-e": { sizes: Object.fromEntries(Array.from({ length: 41 }, (_, i) => [[`/p/${i}.html`, 1000 * (i + 1)], [`/q/${i}.html`, 1000 * (i + 1)]]).flat()) },
};

describe("every policy through the CP's candidate filter", () => {
  it.each(policyNames())("%s: never a drained or down server, and both come back", (name) => {
    const rp = realPool(4);
    const p = createPolicy(name, PARAMS[name]);
    p.init?.(rp.ctx);
    const run = (n: number, from: number, stream = varied) => Array.from({ length: n }, (_, i) => dispatch(p, stream(from + i), rp.offered(), rp.ctx));
    run(100, 0); // state built with everyone up: LARD targets, learned sessions, hash tables, credits
    rp.drain("s1");
    rp.down("s2");
    expect(rp.views.map((v) => [v.up, v.weight, v.configuredWeight])).toEqual([[true, 1, 1], [true, 0, 0], [false, 0, 1], [true, 1, 1]]);
    rp.views.forEach((v, i) => (v.activeConnections = [5, 0, 0, 6][i])); // the drained and the down one look idlest
    const during = tally(run(200, 100));
    expect(during.s1).toBeUndefined();
    expect(during.s2).toBeUndefined();
    expect(during.null).toBeUndefined();
    rp.setWeight("s1", 1);
    rp.up("s2");
    const after = tally(run(200, 0, fresh));
    expect(after.null).toBeUndefined();
    // Back: every policy but the two that send everything to the first highest weight uses them again (new keys:
    // LARD's old targets rightly stay where they moved).
    if (!["weighted-failover", "weighted-overflow"].includes(name)) expect((after.s1 ?? 0) + (after.s2 ?? 0)).toBeGreaterThan(0);
  });
});

/** Policies that skip weight-0 servers themselves (documented in each), even when one is offered. */
const SKIPS_WEIGHT_ZERO = policyNames().filter((n) => n !== "round-robin");

describe("a drained or down server among the candidates, looking like the best choice", () => {
  it.each(SKIPS_WEIGHT_ZERO)("%s: never picks it while another server is there", (name) => {
    // s1 drained and s2 down (both weight 0) look idle, fast, unloaded and preferred; s0 and s3 are busy.
    const s = pool(4, (i) => (i === 1 || i === 2
      ? { weight: 0, configuredWeight: i === 1 ? 0 : 1, up: i !== 2, activeConnections: 0, load: 0, responseTimePs: 1, priority: 5 }
      : { activeConnections: 40, load: 0.9, responseTimePs: 1e9 }));
    const ctx = context(s);
    const p = createPolicy(name, PARAMS[name]);
    p.init?.(ctx);
    const picks = Array.from({ length: 200 }, (_, i) => dispatch(p, varied(i), s, ctx));
    expect(new Set(picks)).not.toContain("s1");
    expect(new Set(picks)).not.toContain("s2");
    expect(picks).not.toContain(null);
  });

  it("least-loaded: a drained server that never reported does not push everyone back to least connections", () => {
    const s = pool(3, (i) => ({ load: [0.2, NaN, 0.8][i], activeConnections: [9, 0, 1][i], weight: i === 1 ? 0 : 1, configuredWeight: i === 1 ? 0 : 1 }));
    expect(dispatch(createPolicy("least-loaded"), varied(0), s, context(s))).toBe("s0"); // by load, not s2's fewer connections
  });

  it("fastest-response: a drained server not measured yet is not tried first", () => {
    const s = pool(3, (i) => ({ responseTimePs: [5e8, NaN, 2e8][i], weight: i === 1 ? 0 : 1 }));
    expect(dispatch(createPolicy("fastest-response"), varied(0), s, context(s))).toBe("s2");
  });

  it("never-queue: a drained idle server is not the idle server it looks for", () => {
    const s = pool(3, (i) => ({ activeConnections: [1, 0, 2][i], weight: i === 1 ? 0 : 1 }));
    expect(dispatch(createPolicy("never-queue"), varied(0), s, context(s))).toBe("s0"); // SED among s0, s2
  });

  it("power-of-two: with one server left open every pair draws it", () => {
    const s = pool(3, (i) => ({ weight: i === 1 ? 1 : 0, activeConnections: [0, 90, 0][i] }));
    const p = createPolicy("power-of-two");
    const ctx = context(s);
    expect(new Set(Array.from({ length: 50 }, (_, i) => dispatch(p, varied(i), s, ctx)))).toEqual(new Set(["s1"]));
  });
});

describe("LARD and LARD/R: the target state and the T_low test with drained servers", () => {
  it("lard: a drained server with no connections is not the 'server below T_low' that makes a target move", () => {
    const s = pool(4, (i) => ({ activeConnections: [10, 30, 30, 30][i] }));
    const ctx = context(s);
    const p = createPolicy("lard") as LardPolicy;
    const key = request("/hot").urlHash;
    expect(dispatch(p, request("/hot"), s, ctx)).toBe("s0");
    s.forEach((x, i) => (x.activeConnections = [66, 0, 30, 30][i]));
    s[1].weight = 0;
    s[1].configuredWeight = 0;
    expect(dispatch(p, request("/hot"), s, ctx)).toBe("s0"); // above T_high, but only the drained s1 is below T_low
    expect(dispatch(p, request("/hot"), s.filter((x) => x.weight > 0), ctx)).toBe("s0"); // as the CP offers them
    expect(p.assignment(key)).toBe("s0");
    s[1].weight = 1;
    s[1].configuredWeight = 1;
    expect(dispatch(p, request("/hot"), s, ctx)).toBe("s1"); // s1 back and idle: now the target moves
  });

  it("lard: a target whose server is drained or down moves to the least loaded server and stays there when it returns", () => {
    const rp = realPool(4);
    const p = createPolicy("lard") as LardPolicy;
    const keyOf = (u: string) => request(u).urlHash;
    rp.views.forEach((v, i) => (v.activeConnections = [5, 0, 5, 5][i]));
    expect(dispatch(p, request("/a"), rp.offered(), rp.ctx)).toBe("s1");
    rp.views.forEach((v, i) => (v.activeConnections = [5, 3, 0, 5][i]));
    expect(dispatch(p, request("/b"), rp.offered(), rp.ctx)).toBe("s2");
    rp.drain("s1");
    rp.down("s2");
    rp.views.forEach((v, i) => (v.activeConnections = [7, 3, 0, 4][i])); // s1 and s2 look least loaded
    expect(dispatch(p, request("/a"), rp.views.filter((v) => v.up), rp.ctx)).toBe("s3"); // the drained s1 offered even
    expect(dispatch(p, request("/b"), rp.offered(), rp.ctx)).toBe("s3");
    expect([p.assignment(keyOf("/a")), p.assignment(keyOf("/b"))]).toEqual(["s3", "s3"]);
    rp.setWeight("s1", 1);
    rp.up("s2");
    expect(dispatch(p, request("/a"), rp.offered(), rp.ctx)).toBe("s3"); // locality: no move back below T_high
    expect(dispatch(p, request("/b"), rp.offered(), rp.ctx)).toBe("s3");
    expect(dispatch(p, request("/c"), rp.offered(), rp.ctx)).toBe("s2"); // a new target: the least loaded, s2 again
  });

  it("lard: at 2 T_high a target moves, but never to a drained server", () => {
    const s = pool(3, (i) => ({ activeConnections: [0, 5, 5][i] }));
    const ctx = context(s);
    const p = createPolicy("lard") as LardPolicy;
    expect(dispatch(p, request("/x"), s, ctx)).toBe("s0");
    s.forEach((x, i) => (x.activeConnections = [130, 0, 120][i]));
    s[1].weight = 0;
    expect(dispatch(p, request("/x"), s, ctx)).toBe("s2");
  });

  it("lard-r: a drained member is skipped, a set of only drained members gains the least loaded server, and the drained member leaves first", () => {
    const s = pool(4, (i) => ({ activeConnections: [0, 5, 5, 5][i] }));
    const ctx = context(s);
    const p = createPolicy("lard-r", { shrinkAfterSeconds: 20 }) as LardReplicationPolicy;
    const key = request("/v").urlHash;
    expect(dispatch(p, request("/v"), s, ctx)).toBe("s0");
    s.forEach((x, i) => (x.activeConnections = [70, 10, 30, 30][i]));
    expect(dispatch(p, request("/v"), s, ctx)).toBe("s1"); // s0 above T_high, s1 below T_low: s1 joins
    expect(p.serverSet(key)).toEqual(["s0", "s1"]);
    s[1].weight = 0;
    s[1].configuredWeight = 0;
    s.forEach((x, i) => (x.activeConnections = [40, 0, 30, 30][i]));
    expect(dispatch(p, request("/v"), s, ctx)).toBe("s0"); // the drained member, idle as it looks, is skipped
    s[0].weight = 0;
    expect(dispatch(p, request("/v"), s, ctx)).toBe("s2"); // no usable member: the least loaded usable server joins
    expect(p.serverSet(key)).toEqual(["s0", "s1", "s2"]);
    s[0].weight = 1;
    ctx.time = 21 * SECOND;
    s.forEach((x, i) => (x.activeConnections = [40, 0, 30, 30][i]));
    expect(dispatch(p, request("/v"), s, ctx)).toBe("s2");
    expect(p.serverSet(key)).toEqual(["s0", "s2"]); // the drained s1 leaves before the most loaded s0
  });

  it("lard-r: the T_low test ignores drained servers too", () => {
    const s = pool(3, (i) => ({ activeConnections: [0, 5, 5][i] }));
    const ctx = context(s);
    const p = createPolicy("lard-r") as LardReplicationPolicy;
    expect(dispatch(p, request("/w"), s, ctx)).toBe("s0");
    s.forEach((x, i) => (x.activeConnections = [66, 0, 30][i]));
    s[1].weight = 0;
    expect(dispatch(p, request("/w"), s, ctx)).toBe("s0");
    expect(p.serverSet(request("/w").urlHash)).toEqual(["s0"]);
  });
});

describe("hash tables and the pool's own drain", () => {
  const N = 3000;
  const keys = (p: Policy<HttpRequest>, rp: ReturnType<typeof realPool>) => Array.from({ length: N }, (_, i) => dispatch(p, request(`/u/${i}`, { clientIp: clientIp(i) }), rp.offered(), rp.ctx));

  for (const [name, params] of [["source-hash", {}], ["maglev", { tableSize: 4093 }], ["maglev", { tableSize: 4093, key: "url" }], ["url-hash", {}]] as const) {
    it(`${name} ${JSON.stringify(params)}: draining a server (configured weight 0) moves only its keys; they come back with its weight`, () => {
      const rp = realPool(4, (i) => ({ weight: [2, 1, 1, 1][i] }));
      const p = createPolicy(name, params) as Policy<HttpRequest>;
      p.init?.(rp.ctx);
      const before = keys(p, rp);
      for (const change of ["drain", "down"] as const) {
        if (change === "drain") rp.drain("s1");
        else rp.down("s1");
        const after = keys(p, rp);
        const moved = before.map((b, i) => [b, after[i]] as const).filter(([b, a]) => b !== a);
        expect(moved.filter(([b]) => b !== "s1"), `${change}: keys of other servers moved`).toEqual([]);
        expect(moved.length).toBe(tally(before).s1);
        expect(new Set(moved.map(([, a]) => a))).toEqual(new Set(["s0", "s2", "s3"]));
        if (change === "drain") rp.setWeight("s1", 1);
        else rp.up("s1");
        expect(keys(p, rp)).toEqual(before);
      }
    });
  }

  it("source-hash: the clients of a down or drained server spread over every other server, whatever the pool's size", () => {
    for (const n of [3, 4, 5, 6]) {
      const rp = realPool(n);
      const p = createPolicy("source-hash") as Policy<HttpRequest>;
      p.init?.(rp.ctx);
      const before = keys(p, rp);
      rp.down("s1");
      const after = keys(p, rp);
      const dest = tally(after.filter((_, i) => before[i] === "s1"));
      const others = rp.views.filter((v) => v.name !== "s1").map((v) => v.name);
      for (const o of others) expect(dest[o] ?? 0, `${n} servers, ${o}: ${JSON.stringify(dest)}`).toBeGreaterThan((tally(before).s1 / others.length) * 0.6);
    }
  });

  it("source-hash and maglev: a server removed for good leaves the table (its slots are dealt again)", () => {
    for (const name of ["source-hash", "maglev"]) {
      const rp = realPool(4);
      const p = createPolicy(name, name === "maglev" ? { tableSize: 4093 } : {}) as Policy<HttpRequest>;
      p.init?.(rp.ctx);
      keys(p, rp);
      rp.remove("s1");
      const after = tally(keys(p, rp));
      expect(after.s1).toBeUndefined();
      // Dealt over three servers now: each holds about a third, not the quarter it had plus s1's share by chance.
      for (const s of ["s0", "s2", "s3"]) expect(Math.abs(after[s] - N / 3)).toBeLessThan(N * 0.06);
    }
  });
});

describe("weighted turns and load factors with drained servers", () => {
  it("weighted-round-robin: a drained server returns to exactly its share, without a burst from stale credit", () => {
    const rp = realPool(3, (i) => ({ weight: [3, 2, 1][i] }));
    const p = createPolicy("weighted-round-robin");
    const run = (n: number) => Array.from({ length: n }, (_, i) => dispatch(p, varied(i), rp.offered(), rp.ctx));
    expect(tally(run(12))).toEqual({ s0: 6, s1: 4, s2: 2 });
    run(1); // a turn in the middle of the cycle: s1 holds credit 2 now
    rp.drain("s1");
    expect(tally(run(8))).toEqual({ s0: 6, s2: 2 });
    // Offered even (weight 0), its credit never wins it a turn.
    expect(tally(Array.from({ length: 8 }, (_, i) => dispatch(p, varied(i), rp.views, rp.ctx)))).toEqual({ s0: 6, s2: 2 });
    rp.setWeight("s1", 2);
    const back = run(6);
    expect(tally(back)).toEqual({ s0: 3, s1: 2, s2: 1 });
    expect(tally(run(60))).toEqual({ s0: 30, s1: 20, s2: 10 });
  });

  it("dynamic-weighted-round-robin: a drained server that reports load 0 gets nothing; a saturated one keeps only the floor", () => {
    const rp = realPool(3);
    const p = createPolicy("dynamic-weighted-round-robin", { floor: 0.1 });
    rp.views.forEach((v, i) => (v.load = [0.5, 0, 1][i]));
    rp.drain("s1");
    const t = tally(Array.from({ length: 60 }, (_, i) => dispatch(p, varied(i), rp.offered(), rp.ctx)));
    expect(t).toEqual({ s0: 50, s2: 10 }); // factors 0.5 : 0.1
  });

  it("random (weighted): a drained server is never drawn, the others in proportion", () => {
    const rp = realPool(3, (i) => ({ weight: [3, 5, 1][i] }));
    rp.drain("s1");
    const p = createPolicy("random", { weighted: true });
    const t = tally(Array.from({ length: 4000 }, (_, i) => dispatch(p, varied(i), rp.offered(), rp.ctx)));
    expect(t.s1).toBeUndefined();
    expect(t.s0 / 4000).toBeGreaterThan(0.7);
    expect(t.s0 / 4000).toBeLessThan(0.8);
  });
});

describe("priority pools: drained, down and overloaded members (LVS thresholds)", () => {
  it("hprio: a drained top member with no connections does not keep the top pool open when its mate is overloaded", () => {
    const rp = realPool(3, (i) => (i < 2 ? { priority: 1, upperThreshold: 10, lowerThreshold: 5 } : {}));
    const p = createPolicy("hprio");
    rp.views[0].activeConnections = 10;
    rp.drain("s1");
    expect(Array.from({ length: 3 }, (_, i) => dispatch(p, varied(i), rp.offered(), rp.ctx))).toEqual(["s2", "s2", "s2"]);
    rp.views[0].activeConnections = 5; // not below the lower threshold: still overloaded
    expect(dispatch(p, varied(0), rp.offered(), rp.ctx)).toBe("s2");
    rp.setWeight("s1", 1); // s1 back, empty: the top pool is open again, through s1 only
    expect(Array.from({ length: 2 }, (_, i) => dispatch(p, varied(i), rp.offered(), rp.ctx))).toEqual(["s1", "s1"]);
    rp.views[0].activeConnections = 4;
    expect(new Set(Array.from({ length: 4 }, (_, i) => dispatch(p, varied(i), rp.offered(), rp.ctx)))).toEqual(new Set(["s0", "s1"]));
  });

  it("hprio rank weight: a top member coming back in slow start stays in the top pool (its ramp is its share there)", () => {
    const rp = realPool(3, (i) => ({ weight: [5, 5, 1][i] }), 16 * SECOND);
    const p = createPolicy("hprio", { rank: "weight" });
    const run = (n: number) => tally(Array.from({ length: n }, (_, i) => dispatch(p, varied(i), rp.offered(), rp.ctx)));
    rp.down("s0");
    rp.down("s1");
    expect(run(4)).toEqual({ s2: 4 });
    rp.time = 1 * SECOND;
    rp.up("s0");
    expect(rp.views[0].weight).toBe(5 / 16); // below the spillover's 1, still a weight-5 server
    expect(run(4)).toEqual({ s0: 4 });
    rp.time = 5 * SECOND;
    rp.up("s1");
    rp.time = 9 * SECOND;
    expect([rp.views[0].weight, rp.views[1].weight]).toEqual([2.5, 1.25]); // 8/16 and 4/16 of 5
    expect(run(36)).toEqual({ s0: 24, s1: 12 }); // one pool, turns by the ramped weights, none to the spillover
  });

  it("weighted-failover: the highest weight drained or down hands over to the next; overloaded, until below its lower threshold", () => {
    const rp = realPool(3, (i) => ({ weight: [3, 2, 1][i], upperThreshold: 4, lowerThreshold: 2 }));
    const p = createPolicy("weighted-failover");
    const next = () => dispatch(p, varied(0), rp.offered(), rp.ctx);
    expect(next()).toBe("s0");
    rp.drain("s0");
    expect(next()).toBe("s1");
    rp.down("s1");
    expect(next()).toBe("s2");
    rp.setWeight("s0", 3);
    rp.up("s1");
    rp.views[0].activeConnections = 4;
    expect(next()).toBe("s1");
    rp.views[0].activeConnections = 2;
    expect(next()).toBe("s1"); // hysteresis: 2 is not below 2
    rp.views[0].activeConnections = 1;
    expect(next()).toBe("s0");
  });

  it("weighted-overflow: fills by weight to the upper threshold; a drained or down server takes nothing even with room", () => {
    const rp = realPool(3, (i) => ({ weight: [3, 2, 1][i], upperThreshold: 2 }));
    const p = createPolicy("weighted-overflow");
    const next = () => dispatch(p, varied(0), rp.offered(), rp.ctx);
    const conns = (c: number[]) => rp.views.forEach((v, i) => (v.activeConnections = c[i]));
    conns([1, 0, 0]);
    expect(next()).toBe("s0");
    rp.drain("s0");
    expect(next()).toBe("s1");
    conns([0, 2, 1]);
    expect(next()).toBe("s2"); // s1 full; the drained s0 is empty but takes nothing
    conns([0, 2, 2]);
    expect(next()).toBeNull();
    rp.setWeight("s0", 3);
    rp.down("s1");
    conns([2, 0, 1]);
    expect(next()).toBe("s2"); // s0 full, s1 down and empty
  });
});

describe("content-aware state with drained servers", () => {
  it("cookie-affinity: a session on a drained server moves and is learned anew; a SERVERID naming it goes elsewhere until it is back", () => {
    const rp = realPool(3);
    const p = createPolicy("cookie-affinity") as CookieAffinityPolicy;
    p.init?.(rp.ctx);
    const withCookie = (v: string) => request("/", { cookie: `SERVERID=${v}` });
    rp.views.forEach((v, i) => (v.activeConnections = [4, 0, 2][i]));
    expect(dispatch(p, withCookie("sess-1"), rp.offered(), rp.ctx)).toBe("s1"); // least connections, learned
    expect(p.sessions().get("sess-1")).toBe("s1");
    rp.drain("s1");
    expect(dispatch(p, withCookie("sess-1"), rp.offered(), rp.ctx)).toBe("s2");
    expect(p.sessions().get("sess-1")).toBe("s2");
    expect(dispatch(p, withCookie("s1"), rp.offered(), rp.ctx)).toBe("s2");
    rp.setWeight("s1", 1);
    expect(dispatch(p, withCookie("sess-1"), rp.offered(), rp.ctx)).toBe("s2"); // the session stays where it went
    expect(dispatch(p, withCookie("s1"), rp.offered(), rp.ctx)).toBe("s1"); // the name wins again
  });

  it("service-partitioning: a group's drained member is skipped; a group drained entirely refuses or falls back", () => {
    const tags = (g: string) => ({ tags: { partition: g } });
    const rp = realPool(4, (i) => tags(["web", "app", "app", "web"][i]));
    const rules = [{ path: "/app/", group: "app" }];
    const refuse = createPolicy("service-partitioning", { rules, defaultGroup: "web" });
    const fallback = createPolicy("service-partitioning", { rules, defaultGroup: "web", fallback: "default" });
    for (const p of [refuse, fallback]) p.init?.(rp.ctx);
    rp.views.forEach((v, i) => (v.activeConnections = [0, 0, 9, 0][i]));
    rp.drain("s1");
    expect(dispatch(refuse, request("/app/x"), rp.offered(), rp.ctx)).toBe("s2");
    rp.down("s2");
    expect(dispatch(refuse, request("/app/x"), rp.offered(), rp.ctx)).toBeNull();
    expect(dispatch(fallback, request("/app/x"), rp.offered(), rp.ctx)).toBe("s0");
  });

  it("cap: the only server tagged for a class drained: the class goes to all the others, never to it", () => {
    const rp = realPool(3, (i) => ({ tags: { class: i === 1 ? "dynamic" : "static" } }));
    const p = createPolicy("cap");
    expect(dispatch(p, request("/api/x"), rp.offered(), rp.ctx)).toBe("s1");
    rp.drain("s1");
    expect(tally(Array.from({ length: 4 }, () => dispatch(p, request("/api/x"), rp.offered(), rp.ctx)))).toEqual({ s0: 2, s2: 2 });
  });

  it("sita-e: intervals are cut over the servers that take work: a drained one has none, a down one none either", () => {
    const sizes = { "/a": 100, "/b": 100, "/c": 100, "/d": 100, "/e": 100, "/f": 100 };
    const rp = realPool(3);
    const p = createPolicy("sita-e", { sizes }) as SitaEPolicy;
    p.init?.(rp.ctx);
    expect(p.cutoffs()).toHaveLength(2);
    rp.drain("s1");
    expect(p.cutoffs()).toHaveLength(1);
    rp.down("s2");
    expect(p.cutoffs()).toHaveLength(0);
    expect(new Set(Object.keys(sizes).map((u) => dispatch(p, request(u), rp.offered(), rp.ctx)))).toEqual(new Set(["s0"]));
  });
});

describe("overloaded servers for the load-reading policies", () => {
  // s1 is the overloaded one: the most connections, load 1, the slowest answers.
  const busy = () => pool(3, (i) => ({ activeConnections: [10, 200, 12][i], load: [0.3, 1, 0.4][i], responseTimePs: [2e8, 9e9, 3e8][i] }));
  it.each(["least-connections", "weighted-least-connections", "shortest-expected-delay", "never-queue", "least-loaded", "fastest-response", "power-of-two"])(
    "%s: never the overloaded server while a lighter one is offered", (name) => {
      const s = busy();
      const ctx = context(s);
      const p = createPolicy(name);
      const picks = Array.from({ length: 100 }, (_, i) => dispatch(p, varied(i), s, ctx));
      expect(picks).not.toContain("s1");
    });

  it("lard: a target whose server is at 2 T_high moves even with nobody below T_low; below it, it stays", () => {
    const s = pool(3, (i) => ({ activeConnections: [0, 5, 5][i] }));
    const ctx = context(s);
    const p = createPolicy("lard") as LardPolicy;
    expect(dispatch(p, request("/y"), s, ctx)).toBe("s0");
    s.forEach((x, i) => (x.activeConnections = [129, 60, 50][i]));
    expect(dispatch(p, request("/y"), s, ctx)).toBe("s0");
    s[0].activeConnections = 130;
    expect(dispatch(p, request("/y"), s, ctx)).toBe("s2");
  });
});
