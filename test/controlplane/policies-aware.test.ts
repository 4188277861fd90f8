// Content-aware dispatching policies: scripted situations with the exact choices (url-hash, service
// partitioning, cookie affinity, SITA-E, CAP, LARD, LARD/R) and their parameter validation.
import { describe, expect, it } from "vitest";
import { createPolicy, policyEntries, PolicyConfigError, type Policy, type ServerView } from "../../controlplane/policies/index.js";
import type { HttpRequest } from "../../controlplane/http/request.js";
import type { CookieAffinityPolicy } from "../../controlplane/policies/cookie-affinity.js";
import type { SitaEPolicy } from "../../controlplane/policies/sita-e.js";
import type { CapPolicy } from "../../controlplane/policies/cap.js";
import type { LardPolicy } from "../../controlplane/policies/lard.js";
import type { LardReplicationPolicy } from "../../controlplane/policies/lard-replication.js";
import { Random } from "../../lib/random.js";
import { context, pool, request, server, type MutableServer, type TestContext } from "./policy-harness.js";
import { BASE_CONFIG, CLIENT, SERVERS, bench, fromClient, type Bench } from "./switch-wire.js";

const SECOND = 1e12;

/** Parse and select as the CP does; the name of the pick, or null. */
function pick(p: Policy<any>, req: HttpRequest, candidates: readonly ServerView[], ctx: TestContext): string | null {
  const info = p.parse ? p.parse(req) : req;
  const s = p.select(info, candidates, ctx);
  if (s && !candidates.includes(s)) throw new Error(`${s.name} is not a candidate`);
  return s?.name ?? null;
}

/** The CP's order of hooks for one connection: init once, then parse, select, post spliced. */
function dispatch(p: Policy<any>, req: HttpRequest, candidates: readonly ServerView[], ctx: TestContext): string | null {
  const info = p.parse ? p.parse(req) : req;
  const s = p.select(info, candidates, ctx);
  if (s) p.post?.(s, req, { outcome: "spliced" });
  return s?.name ?? null;
}

const loads = (servers: MutableServer[], active: number[]) => active.forEach((a, i) => (servers[i].activeConnections = a));

describe("registry of content-aware policies", () => {
  it("lists each with family, description and declared params, and creates it with the defaults", () => {
    const aware = policyEntries().filter((e) => e.family === "content-aware");
    expect(aware.map((e) => e.name).sort()).toEqual(["cap", "cookie-affinity", "lard", "lard-r", "service-partitioning", "sita-e", "url-hash"]);
    for (const e of aware) {
      expect(e.description.length).toBeGreaterThan(20);
      for (const p of e.params) expect(p.doc.length, `${e.name}.${p.name}`).toBeGreaterThan(10);
      const servers = pool(3);
      const ctx = context(servers);
      const policy = createPolicy(e.name);
      policy.init?.(ctx);
      expect(policy.name).toBe(e.name);
      expect(servers.map((s) => s.name)).toContain(pick(policy, request("/index.html"), servers, ctx));
      expect(pick(policy, request("/index.html"), [], ctx)).toBeNull();
    }
    const lard = policyEntries().find((e) => e.name === "lard")!;
    expect(lard.params.map((p) => [p.name, p.default])).toEqual([["tLow", 25], ["tHigh", 65], ["maxTargets", 100_000], ["includeHost", false]]);
  });

  it("checks parameters by name", () => {
    expect(() => createPolicy("lard", { tHigh: 0 })).toThrow(/policy lard: parameter tHigh: 0 is below the minimum 1/);
    expect(() => createPolicy("lard", { tLow: 70 })).toThrow(/policy lard: parameter tLow: 70 must be below tHigh \(65\)/);
    expect(() => createPolicy("lard-r", { K: 5 })).toThrow(/unknown parameter 'K' \(known: tLow, tHigh, shrinkAfterSeconds/);
    expect(() => createPolicy("url-hash", { includeHost: "yes" })).toThrow(/parameter includeHost: expected true or false/);
    expect(() => createPolicy("sita-e", { decay: 2 })).toThrow(/parameter decay: 2 is above the maximum 1/);
    expect(() => createPolicy("sita-e", { sizes: { "a.html": 10 } })).toThrow(/parameter sizes\['a\.html'\]: expected a path/);
    expect(() => createPolicy("sita-e", { sizes: { "/a.html": -1 } })).toThrow(/parameter sizes\['\/a\.html'\]: expected a size in bytes >= 0, got -1/);
    expect(() => createPolicy("cookie-affinity", { cookie: "a b" })).toThrow(/parameter cookie: 'a b' is not a cookie name/);
    expect(() => createPolicy("cap", { cpuBound: ["/search", "search"] })).toThrow(/policy cap: parameter cpuBound\[1\]: 'search' is neither an extension/);
    expect(() => createPolicy("cap", { defaultClass: "video" })).toThrow(/parameter defaultClass: expected one of cpu-bound, disk-bound, dynamic, static/);
    expect(() => createPolicy("cap", { defaultClass: "video" })).toThrow(PolicyConfigError);
  });
});

describe("url-hash", () => {
  const urls = Array.from({ length: 10_000 }, (_, i) => `/site/page-${i}.html?v=${i % 7}`);

  it("sends a URL to the same server whatever the load, and spreads 10k URLs evenly (chi-square)", () => {
    const servers = pool(5);
    const ctx = context(servers);
    const p = createPolicy("url-hash");
    const first = pick(p, request("/a/b.jpg"), servers, ctx);
    loads(servers, [90, 80, 70, 60, 50]);
    for (let i = 0; i < 20; i++) expect(pick(p, request("/a/b.jpg"), servers, ctx)).toBe(first);
    expect(pick(createPolicy("url-hash"), request("/a/b.jpg"), servers, ctx)).toBe(first); // no state: a fresh instance agrees
    const counts = new Map<string, number>();
    for (const u of urls) {
      const s = pick(p, request(u), servers, ctx)!;
      counts.set(s, (counts.get(s) ?? 0) + 1);
    }
    const expected = urls.length / 5;
    const chi2 = [...counts.values()].reduce((a, c) => a + (c - expected) ** 2 / expected, 0);
    expect(counts.size).toBe(5);
    // 4 degrees of freedom: P(chi2 > 18.47) = 0.001 for a uniform split.
    expect(chi2).toBeLessThan(18.47);
  });

  it("respects weights, and a quiesced server gets nothing", () => {
    const servers = pool(4, (i) => ({ weight: [1, 2, 3, 0][i] }));
    const ctx = context(servers);
    const p = createPolicy("url-hash");
    const counts = [0, 0, 0, 0];
    for (const u of urls) counts[Number(pick(p, request(u), servers, ctx)!.slice(1))]++;
    expect(counts[3]).toBe(0);
    counts.slice(0, 3).forEach((c, i) => expect(Math.abs(c / urls.length - (i + 1) / 6)).toBeLessThan(0.02));
  });

  it("a removed server moves only its own URLs, spread over the rest", () => {
    const servers = pool(5);
    const ctx = context(servers);
    const p = createPolicy("url-hash");
    const without2 = servers.filter((s) => s.index !== 2);
    const moved = new Map<string, number>();
    let stayed = 0;
    for (const u of urls) {
      const before = pick(p, request(u), servers, ctx)!;
      const after = pick(p, request(u), without2, ctx)!;
      if (before === "s2") moved.set(after, (moved.get(after) ?? 0) + 1);
      else {
        expect(after).toBe(before);
        stayed++;
      }
    }
    const movedTotal = urls.length - stayed;
    expect(movedTotal).toBeGreaterThan(1800);
    expect(movedTotal).toBeLessThan(2200);
    expect([...moved.keys()].sort()).toEqual(["s0", "s1", "s3", "s4"]);
    for (const c of moved.values()) expect(Math.abs(c / movedTotal - 0.25)).toBeLessThan(0.05);
  });

  it("keys by Host too when asked", () => {
    const servers = pool(8);
    const ctx = context(servers);
    const hosts = Array.from({ length: 16 }, (_, i) => `h${i}.example.com`);
    const plain = createPolicy("url-hash");
    const byHost = createPolicy("url-hash", { includeHost: true });
    expect(new Set(hosts.map((host) => pick(plain, request("/", { host, hostHash: 0x1000 + hosts.indexOf(host) }), servers, ctx))).size).toBe(1);
    expect(new Set(hosts.map((host) => pick(byHost, request("/", { host, hostHash: 0x1000 + hosts.indexOf(host) }), servers, ctx))).size).toBeGreaterThanOrEqual(5);
  });
});

describe("service-partitioning", () => {
  const rules = [
    { path: "/images/", group: "static" },
    { pathRegex: "\\.php(\\?|$)", group: "dyn" },
    { host: "*.api.example.com", group: "api" },
    { header: { name: "X-Tenant", value: "gold" }, group: "gold" },
    { method: ["POST", "PUT"], path: "/upload", group: "s4" },
  ];
  const make = () => {
    const servers = [
      server(0, { tags: { partition: "static" } }),
      server(1, { tags: { partition: "static" } }),
      server(2, { tags: { partition: "dyn" } }),
      server(3, { tags: { partition: "api, gold" } }),
      server(4),
      server(5, { tags: { partition: "web" } }),
    ];
    return { servers, ctx: context(servers) };
  };

  it("first matching rule names the group, else the default; least connections within the group", () => {
    const { servers, ctx } = make();
    const p = createPolicy("service-partitioning", { rules, defaultGroup: "web" });
    p.init!(ctx);
    loads(servers, [3, 1, 9, 9, 9, 9]);
    const at = (url: string, over: Partial<HttpRequest> = {}) => pick(p, request(url, over), servers, ctx);
    expect(at("/images/logo.png")).toBe("s1"); // static group, s1 has fewer connections
    servers[1].activeConnections = 3;
    expect(at("/images/logo.png")).toBe("s0"); // tie: lower index
    expect(at("/images/logo.php")).toBe("s0"); // rule 0 matches first
    expect(at("/shop/cart.php?id=3")).toBe("s2");
    expect(at("/shop/cart.phpx")).toBe("s5"); // regex does not match: default
    expect(at("/v1/users", { host: "eu.api.example.com:8080" })).toBe("s3");
    expect(at("/v1/users", { host: "api.example.com" })).toBe("s5"); // "*." needs a subdomain
    expect(at("/", { headers: [{ name: "x-tenant", value: "gold" }] })).toBe("s3");
    expect(at("/", { headers: [{ name: "x-tenant", value: "Gold" }] })).toBe("s5");
    expect(at("/upload/f", { method: "PUT" })).toBe("s4"); // group by server name
    expect(at("/upload/f", { method: "GET" })).toBe("s5"); // both conditions must hold
    expect(at("/about")).toBe("s5");
    expect(p.parse!(request("http://www.example.com/images/x.gif"))).toEqual({ group: "static", rule: 0 });
  });

  it("counts its dispatches not spliced yet: a burst read in one CP batch spreads over the group", () => {
    const { servers, ctx } = make();
    const p = createPolicy("service-partitioning", { rules, defaultGroup: "web" });
    p.init!(ctx);
    loads(servers, [2, 2, 0, 0, 0, 0]);
    // Six selects before any install (activeConnections unchanged): 3 each, not 6 to s0.
    const burst = Array.from({ length: 6 }, () => pick(p, request("/images/a.png"), servers, ctx));
    expect(burst).toEqual(["s0", "s1", "s0", "s1", "s0", "s1"]);
    // Installed (post spliced, now counted by the pool): the in-flight count is settled, not doubled.
    for (const name of burst) {
      const s = servers.find((x) => x.name === name)!;
      s.activeConnections++;
      p.post!(s, request("/images/a.png"), { outcome: "spliced" });
    }
    servers[0].activeConnections--;
    expect(pick(p, request("/images/a.png"), servers, ctx)).toBe("s0");
  });

  it("a group with no candidate refuses, or falls back as configured", () => {
    const { servers, ctx } = make();
    const noStatic = servers.filter((s) => s.tags.partition !== "static");
    loads(servers, [0, 0, 5, 1, 7, 6]);
    const at = (fallback: string) => {
      const p = createPolicy("service-partitioning", { rules, defaultGroup: "web", fallback });
      p.init!(ctx);
      return pick(p, request("/images/a.png"), noStatic, ctx);
    };
    expect(at("refuse")).toBeNull();
    expect(at("default")).toBe("s5");
    expect(at("any")).toBe("s3");
    const everyone = createPolicy("service-partitioning", { rules }); // default group "" = every server
    expect(pick(everyone, request("/about"), servers, ctx)).toBe("s0");
    servers[1].weight = 0;
    servers[0].activeConnections = 1;
    expect(pick(everyone, request("/images/a.png"), servers, ctx)).toBe("s0"); // quiesced s1 takes nothing new
  });

  it("an invalid rule is an error naming the rule index and field", () => {
    const bad = (r: unknown[], extra: Record<string, unknown> = {}) => () => createPolicy("service-partitioning", { rules: r, ...extra });
    expect(bad([{ path: "/a" }])).toThrow(/policy service-partitioning: parameter rules\[0\]\.group: expected a group name, got undefined/);
    expect(bad([{ path: "/a", group: "x" }, { pathRegex: "(", group: "y" }])).toThrow(/parameter rules\[1\]\.pathRegex: bad regular expression/);
    expect(bad([{ path: "a", group: "x" }])).toThrow(/rules\[0\]\.path: expected a path prefix starting with '\/'/);
    expect(bad([{ path: "/a", group: "x" }, { path: "/b", group: "x" }, { header: { name: "X Y" }, group: "x" }])).toThrow(/rules\[2\]\.header\.name: expected a header field name/);
    expect(bad([{ header: { name: "a", value: "1", regex: "1" }, group: "x" }])).toThrow(/rules\[0\]\.header: give value or regex, not both/);
    expect(bad([{ header: { name: "a", flags: "i" }, group: "x" }])).toThrow(/rules\[0\]\.header\.flags: unknown field/);
    expect(bad([{ method: "get", group: "x" }])).toThrow(/rules\[0\]\.method: expected an upper-case method/);
    expect(bad([{ host: "a.com/x", group: "x" }])).toThrow(/rules\[0\]\.host: expected a host name/);
    expect(bad([{ prefix: "/a", group: "x" }])).toThrow(/rules\[0\]\.prefix: unknown field \(known: path, pathRegex, host, header, method, group\)/);
    expect(bad([{ path: "/a", group: "x" }, { group: "x" }])).toThrow(/parameter rules\[1\]: no condition/);
    expect(bad(["/a"])).toThrow(/parameter rules\[0\]: expected a mapping/);
    expect(() => createPolicy("service-partitioning", { rules: { path: "/a" } })).toThrow(/parameter rules: expected a list of rules/);
    expect(bad([], { fallback: "maybe" })).toThrow(/parameter fallback: expected one of refuse, default, any, got "maybe"/);
    const { ctx } = make();
    const p = createPolicy("service-partitioning", { rules: [{ path: "/a", group: "static" }, { path: "/b", group: "video" }] });
    expect(() => p.init!(ctx)).toThrow(/parameter rules\[1\]\.group: 'video' names no server \(by name or tags\.partition\)/);
    expect(() => createPolicy("service-partitioning", { defaultGroup: "nope" }).init!(ctx)).toThrow(/parameter defaultGroup: 'nope' names no server/);
  });
});

describe("cookie-affinity", () => {
  it("goes where a SERVERID value names, even to a draining server; falls back to least connections", () => {
    const servers = pool(3);
    const ctx = context(servers);
    const p = createPolicy("cookie-affinity");
    p.init!(ctx);
    loads(servers, [4, 2, 9]);
    const at = (cookie?: string, cands: readonly ServerView[] = servers) => dispatch(p, request("/cart", cookie === undefined ? {} : { cookie }), cands, ctx);
    expect(at("lang=de; SERVERID=s2")).toBe("s2");
    expect(at('SERVERID="s0"')).toBe("s0");
    servers[2].weight = 0;
    expect(at("SERVERID=s2")).toBe("s2"); // drain: sessions finish on it
    expect(at()).toBe("s1"); // no cookie: least connections
    expect(at("JSESSIONID=s2")).toBe("s1"); // not the configured cookie
    expect(at("SERVERID=s2", [servers[0], servers[1]])).toBe("s1"); // s2 failed for this request
    expect(at("SERVERID=s2", [servers[0], servers[1]])).toBe("s1"); // still s1 while s2 is away (learned)
    expect(at("SERVERID=s2")).toBe("s2"); // back: the name wins
  });

  it("JSESSIONID: a jvmRoute suffix names the server, other values are learned with expiry", () => {
    const servers = pool(3);
    const ctx = context(servers);
    const p = createPolicy("cookie-affinity", { cookie: "JSESSIONID", ttlSeconds: 60, maxSessions: 2 }) as CookieAffinityPolicy;
    p.init!(ctx);
    const at = (id: string) => dispatch(p, request("/app", { cookie: `JSESSIONID=${id}` }), servers, ctx);
    loads(servers, [5, 5, 5]);
    expect(at("8F3AC1.s2")).toBe("s2");
    loads(servers, [5, 1, 5]);
    expect(at("abc")).toBe("s1"); // unknown: least connections, learned
    loads(servers, [0, 9, 5]);
    expect(at("abc")).toBe("s1"); // sticky despite the load
    expect(at("xyz")).toBe("s0");
    expect([...p.sessions()]).toEqual([["abc", "s1"], ["xyz", "s0"]]);
    ctx.time = 30 * SECOND;
    expect(at("abc")).toBe("s1"); // used at 30 s: lives until 90 s
    ctx.time = 85 * SECOND;
    expect(p.sessions()).toEqual(new Map([["abc", "s1"]])); // xyz unused since 0 s
    loads(servers, [9, 9, 0]);
    expect(at("xyz")).toBe("s2"); // expired: chosen afresh
    expect(at("new")).toBe("s2"); // a third session evicts the least recently used (abc)
    expect([...p.sessions().keys()]).toEqual(["xyz", "new"]);
    expect(at("abc")).toBe("s2");
  });

  it("without a cookie, a burst before any install spreads by least connections counting its own dispatches", () => {
    const servers = pool(3);
    const ctx = context(servers);
    const p = createPolicy("cookie-affinity");
    p.init!(ctx);
    loads(servers, [1, 0, 0]);
    expect(Array.from({ length: 5 }, () => pick(p, request("/"), servers, ctx))).toEqual(["s1", "s2", "s0", "s1", "s2"]);
  });

  it("learns only from spliced connections, and not at all with learn: false", () => {
    const servers = pool(2);
    const ctx = context(servers);
    const p = createPolicy("cookie-affinity", { cookie: "sid" }) as CookieAffinityPolicy;
    const req = request("/", { cookie: "sid=q1" });
    p.post!(servers[1], req, { outcome: "failed", reason: "reset" });
    expect(p.sessions().size).toBe(0);
    p.post!(servers[1], req, { outcome: "spliced" });
    expect(pick(p, req, servers, ctx)).toBe("s1");
    const off = createPolicy("cookie-affinity", { cookie: "sid", learn: false }) as CookieAffinityPolicy;
    off.post!(servers[1], req, { outcome: "spliced" });
    expect(pick(off, req, servers, ctx)).toBe("s0");
  });
});

describe("sita-e", () => {
  const done = (p: Policy<any>, s: ServerView, url: string, packets: number, times = 1) => {
    for (let i = 0; i < times; i++) p.done!(s, request(url), { responsePackets: packets, durationPs: 1e9 });
  };

  it("puts the cut-offs where each interval carries a third of the load", () => {
    const servers = pool(3);
    const ctx = context(servers);
    const p = createPolicy("sita-e", { sizes: { "/a": 1, "/b": 20, "/c": 400 }, recomputeEvery: 421 }) as SitaEPolicy;
    p.init!(ctx);
    // Before any completion the configured sizes count once each: load 1 + 20 + 400, /c's mass holds both cut-offs.
    expect(p.cutoffs()).toEqual([400, 400]);
    expect(pick(p, request("/b?x=1"), servers, ctx)).toBe("s0");
    done(p, servers[0], "/a", 99, 400); // 400 x 1 byte: the configured size wins over the packet estimate
    done(p, servers[0], "/b", 1, 20); // 20 x 20
    expect(p.stats()).toEqual({ completions: 420, rebuilds: 0, distinctSizes: 3 });
    done(p, servers[0], "/c", 1, 1); // 1 x 400: the 421st completion rebuilds
    expect(p.stats().rebuilds).toBe(1);
    expect(p.cutoffs()).toEqual([1, 20]);
    for (let i = 0; i < 20; i++) {
      expect(pick(p, request("/a"), servers, ctx)).toBe("s0");
      expect(pick(p, request("/b"), servers, ctx)).toBe("s1");
      expect(pick(p, request("/c"), servers, ctx)).toBe("s2");
    }
    expect(pick(p, request("/never-seen"), servers, ctx)).toBe("s0"); // unknown size: smallest interval
    const big = createPolicy("sita-e", { sizes: { "/a": 1, "/b": 20, "/c": 400 }, unknownSize: 1e6 });
    expect(pick(big, request("/never-seen"), servers, ctx)).toBe("s2");
    // s1 down: the two others take halves; /b's load mass [1/3, 2/3) holds the cut-off at 1/2, so /b is split evenly.
    const two = [servers[0], servers[2]];
    expect(p.cutoffs(two)).toEqual([20]);
    expect(pick(p, request("/a"), two, ctx)).toBe("s0");
    expect(pick(p, request("/c"), two, ctx)).toBe("s2");
    const toS0 = Array.from({ length: 1000 }, () => pick(p, request("/b"), two, ctx)).filter((n) => n === "s0").length;
    expect(Math.abs(toS0 / 1000 - 0.5)).toBeLessThan(0.06);
    servers[0].weight = 2; // weights 2:1: s0's share ends at 2/3, past /b's mass
    expect(p.cutoffs(two)).toEqual([20]);
    for (let i = 0; i < 20; i++) expect(pick(p, request("/b"), two, ctx)).toBe("s0");
  });

  it("equalizes the expected load of a heavy-tailed size distribution", () => {
    const rng = new Random(7);
    const sizes: Record<string, number> = {};
    // Bounded Pareto, alpha 1.5, 1 kB to 1 MB: the SITA-E paper's kind of workload.
    for (let i = 0; i < 2000; i++) sizes[`/f/${i}`] = Math.round(1000 / Math.pow(1 - rng.float() * (1 - Math.pow(1e-3, 1.5)), 1 / 1.5));
    const servers = pool(4);
    const ctx = context(servers, 3);
    const p = createPolicy("sita-e", { sizes }) as SitaEPolicy;
    p.init!(ctx);
    const cut = p.cutoffs();
    expect(cut).toHaveLength(3);
    expect(cut[0]).toBeLessThan(cut[1]);
    expect(cut[1]).toBeLessThan(cut[2]);
    const total = Object.values(sizes).reduce((a, b) => a + b, 0);
    const load = [0, 0, 0, 0];
    const reps = 20;
    for (const [path, size] of Object.entries(sizes)) {
      for (let r = 0; r < reps; r++) {
        const k = Number(pick(p, request(path), servers, ctx)!.slice(1));
        load[k] += size / reps;
        // Interval order: nothing smaller than a cut-off goes above it, nothing larger below it.
        if (k > 0) expect(size).toBeGreaterThanOrEqual(cut[k - 1]);
        if (k < 3) expect(size).toBeLessThanOrEqual(cut[k]);
      }
    }
    for (const l of load) expect(Math.abs(l / total - 0.25)).toBeLessThan(0.01);
    // The small files go to s0: a large majority of requests, a quarter of the bytes.
    const requestsToS0 = Object.values(sizes).filter((s) => s < cut[0]).length;
    expect(requestsToS0 / 2000).toBeGreaterThan(0.5);
  });

  it("learns sizes from the done hook and splits a size that straddles a cut-off in the exact proportion", () => {
    const servers = pool(3);
    const ctx = context(servers, 5);
    const p = createPolicy("sita-e", { mss: 1000, recomputeEvery: 110 }) as SitaEPolicy;
    p.init!(ctx);
    loads(servers, [3, 1, 2]);
    expect(pick(p, request("/small"), servers, ctx)).toBe("s1"); // nothing known yet: least connections
    done(p, servers[0], "/small", 1, 100); // 100 x 1000 bytes
    done(p, servers[0], "/big", 10, 10); // 10 x 10000 bytes
    expect(p.stats()).toMatchObject({ completions: 110, rebuilds: 1 });
    done(p, servers[0], "/mid", 12);
    done(p, servers[0], "/mid", 8);
    expect(p.sizeOf({ urlHash: request("/mid").urlHash, path: "/mid" })).toBe(10_000); // a URL's size: the mean of its completions
    // Load: /small [0, 1/2), /big [1/2, 1): the cut-offs at 1/3 and 2/3 fall inside them.
    expect(p.cutoffs()).toEqual([1000, 10_000]);
    const n = 3000;
    const share = (url: string) => {
      const c = [0, 0, 0];
      for (let i = 0; i < n; i++) c[Number(pick(p, request(url), servers, ctx)!.slice(1))]++;
      return c.map((x) => x / n);
    };
    const small = share("/small");
    const big = share("/big");
    [2 / 3, 1 / 3, 0].forEach((f, i) => expect(Math.abs(small[i] - f)).toBeLessThan(0.03));
    [0, 1 / 3, 2 / 3].forEach((f, i) => expect(Math.abs(big[i] - f)).toBeLessThan(0.03));
    // Hence equal expected load: 100 small + 10 big per 110 requests.
    const loadOf = (k: number) => 100 * 1000 * small[k] + 10 * 10_000 * big[k];
    for (let k = 0; k < 3; k++) expect(Math.abs(loadOf(k) / (200_000 / 3) - 1)).toBeLessThan(0.06);
  });

  it("rebuilds every N completions with the older histogram decayed", () => {
    const servers = pool(2);
    const ctx = context(servers);
    const p = createPolicy("sita-e", { mss: 1, recomputeEvery: 10, decay: 0.5 }) as SitaEPolicy;
    p.init!(ctx);
    done(p, servers[0], "/x", 1, 9);
    done(p, servers[0], "/y", 9, 1); // window 1: 9 x 1 + 1 x 9
    expect(p.cutoffs()).toEqual([1]);
    expect(pick(p, request("/y"), servers, ctx)).toBe("s1");
    done(p, servers[0], "/z", 4, 10); // window 2: 10 x 4, plus half of window 1: 4.5 x 1 + 0.5 x 9 = 49 bytes
    expect(p.stats().rebuilds).toBe(2);
    expect(p.cutoffs()).toEqual([4]); // half of 49 lies inside size 4's mass [4.5, 44.5)
    expect(pick(p, request("/x"), servers, ctx)).toBe("s0");
    expect(pick(p, request("/y"), servers, ctx)).toBe("s1");
  });
});

describe("cap", () => {
  it("classifies by extension and prefix, the more specific class first", () => {
    const p = createPolicy("cap") as CapPolicy;
    const cls = (url: string) => p.classify(request(url));
    expect(cls("/search?q=np")).toBe("cpu-bound");
    expect(cls("/search.php")).toBe("cpu-bound");
    expect(cls("/download/a.jpg")).toBe("disk-bound");
    expect(cls("/pub/image.ISO")).toBe("disk-bound");
    expect(cls("/cgi-bin/form")).toBe("dynamic");
    expect(cls("/shop/cart.php?id=1")).toBe("dynamic");
    expect(cls("/a/b.JPG")).toBe("static");
    expect(cls("http://www.example.com/x.css")).toBe("static");
    expect(cls("/")).toBe("static");
    const custom = createPolicy("cap", { cpuBound: ["/render"], defaultClass: "dynamic" }) as CapPolicy;
    expect(custom.classify(request("/search"))).toBe("dynamic");
    expect(custom.classify(request("/render/3"))).toBe("cpu-bound");
  });

  it("round-robins each class separately, so every server gets a balanced mix", () => {
    const servers = pool(3);
    const ctx = context(servers);
    const pattern = ["/index.html", "/cgi-bin/q", "/search?q=1"]; // static, dynamic, cpu-bound, repeated
    const mix = (p: Policy<any>) => {
      const m = new Map<string, number>();
      for (let i = 0; i < 300; i++) {
        const url = pattern[i % 3];
        const key = `${pick(p, request(url), servers, ctx)} ${url}`;
        m.set(key, (m.get(key) ?? 0) + 1);
      }
      return m;
    };
    // A global round robin hands each server one class only.
    const rr = mix(createPolicy("round-robin"));
    expect(rr.get("s0 /index.html")).toBe(100);
    const capMix = mix(createPolicy("cap"));
    for (const s of ["s0", "s1", "s2"]) for (const url of pattern) expect(capMix.get(`${s} ${url}`)).toBe(s === "s0" ? 34 : 33);
    const p = createPolicy("cap");
    expect(["/a.html", "/b.php", "/c.html", "/d.php", "/e.html"].map((u) => pick(p, request(u), servers, ctx))).toEqual(["s0", "s0", "s1", "s1", "s2"]);
  });

  it("weights, a down server, and class tags", () => {
    const servers = pool(3, (i) => ({ weight: [2, 1, 1][i] }));
    const ctx = context(servers);
    const p = createPolicy("cap");
    expect(Array.from({ length: 8 }, () => pick(p, request("/x.html"), servers, ctx))).toEqual(["s0", "s1", "s2", "s0", "s0", "s1", "s2", "s0"]);
    expect(pick(p, request("/x.html"), [servers[1], servers[2]], ctx)).toBe("s1");
    const tagged = pool(3, (i) => (i === 2 ? { tags: { class: "cpu-bound,disk-bound" } } : {}));
    const t = createPolicy("cap");
    expect(Array.from({ length: 4 }, () => pick(t, request("/x.html"), tagged, ctx))).toEqual(["s0", "s1", "s0", "s1"]);
    expect(Array.from({ length: 3 }, () => pick(t, request("/search"), tagged, ctx))).toEqual(["s0", "s1", "s2"]);
    expect(pick(t, request("/x.html"), [tagged[2]], ctx)).toBe("s2"); // nobody tagged for the class is left: any server
  });
});

describe("lard", () => {
  it("keeps a target on its server under low load and reassigns exactly at the thresholds", () => {
    const servers = pool(3);
    const ctx = context(servers);
    const p = createPolicy("lard") as LardPolicy;
    const at = (url = "/a.html") => pick(p, request(url), servers, ctx);
    loads(servers, [10, 5, 7]);
    expect(at()).toBe("s1"); // unassigned: least loaded
    expect(p.assignment(request("/a.html").urlHash)).toBe("s1");
    loads(servers, [0, 60, 0]);
    expect(at()).toBe("s1"); // locality: below T_high it stays
    loads(servers, [0, 65, 0]);
    expect(at()).toBe("s1"); // at T_high: not above it
    loads(servers, [25, 66, 30]);
    expect(at()).toBe("s1"); // above T_high but nobody below T_low
    loads(servers, [30, 66, 24]);
    expect(at()).toBe("s2"); // above T_high and s2 below T_low: moved to the least loaded
    loads(servers, [30, 0, 129]);
    expect(at()).toBe("s1"); // 129 > T_high with s1 idle: moved again
  });

  it("moves at twice T_high even when no server is below T_low", () => {
    const servers = pool(3);
    const ctx = context(servers);
    const p = createPolicy("lard") as LardPolicy;
    const at = () => pick(p, request("/hot"), servers, ctx);
    loads(servers, [0, 1, 1]);
    expect(at()).toBe("s0");
    loads(servers, [129, 100, 110]);
    expect(at()).toBe("s0");
    loads(servers, [130, 100, 110]);
    expect(at()).toBe("s1");
    loads(servers, [130, 120, 110]);
    expect(at()).toBe("s1"); // the new assignment holds
  });

  it("assigns many targets for locality, moves a target off a server that is down or drained, and takes custom thresholds", () => {
    const servers = pool(3);
    const ctx = context(servers);
    const p = createPolicy("lard", { tLow: 2, tHigh: 4 }) as LardPolicy;
    const at = (url: string, c: readonly ServerView[] = servers) => pick(p, request(url), c, ctx);
    loads(servers, [0, 1, 1]);
    expect(at("/x")).toBe("s0");
    loads(servers, [1, 0, 1]);
    expect(at("/y")).toBe("s1");
    loads(servers, [1, 1, 0]);
    expect(at("/z")).toBe("s2");
    loads(servers, [4, 3, 3]);
    expect([at("/x"), at("/y"), at("/z")]).toEqual(["s0", "s1", "s2"]);
    loads(servers, [5, 3, 1]);
    expect(at("/x")).toBe("s2"); // 5 > T_high 4 and s2 < T_low 2
    loads(servers, [0, 8, 3]);
    expect(at("/y")).toBe("s0"); // 8 >= 2 T_high
    expect(at("/z", [servers[0], servers[1]])).toBe("s0"); // s2 is no candidate: reassigned
    expect(at("/z")).toBe("s0"); // and remembered
    servers[0].weight = 0;
    expect(at("/z")).toBe("s2"); // drained: its targets move
  });
});

describe("lard-r", () => {
  it("grows the set under load and shrinks it after K seconds without change", () => {
    const servers = pool(4);
    const ctx = context(servers);
    const p = createPolicy("lard-r", { shrinkAfterSeconds: 20 }) as LardReplicationPolicy;
    const key = request("/hot").urlHash;
    const at = () => pick(p, request("/hot"), servers, ctx);
    loads(servers, [3, 5, 5, 5]);
    expect(at()).toBe("s0");
    expect(p.serverSet(key)).toEqual(["s0"]);
    ctx.time = 1 * SECOND;
    loads(servers, [65, 10, 30, 30]);
    expect(at()).toBe("s0"); // at T_high: no growth
    loads(servers, [66, 25, 30, 30]);
    expect(at()).toBe("s0"); // nobody below T_low
    loads(servers, [66, 24, 30, 30]);
    expect(at()).toBe("s1"); // s1 joins and takes the request
    expect(p.serverSet(key)).toEqual(["s0", "s1"]);
    ctx.time = 2 * SECOND;
    loads(servers, [50, 40, 0, 0]);
    expect(at()).toBe("s1"); // least loaded member, no growth below T_high
    loads(servers, [131, 130, 100, 90]);
    expect(at()).toBe("s3"); // member min 130 = 2 T_high: the cluster's least loaded joins
    expect(p.serverSet(key)).toEqual(["s0", "s1", "s3"]);
    loads(servers, [40, 30, 0, 20]);
    ctx.time = 22 * SECOND;
    expect(at()).toBe("s3"); // exactly K since the last change: no shrink
    expect(p.serverSet(key)).toEqual(["s0", "s1", "s3"]);
    ctx.time = 22 * SECOND + 1;
    expect(at()).toBe("s3");
    expect(p.serverSet(key)).toEqual(["s1", "s3"]); // the most loaded member other than the chosen one leaves
    ctx.time = 40 * SECOND;
    expect(at()).toBe("s3");
    expect(p.serverSet(key)).toEqual(["s1", "s3"]); // the removal restarted the clock
    ctx.time = 43 * SECOND;
    loads(servers, [40, 10, 0, 20]);
    expect(at()).toBe("s1");
    expect(p.serverSet(key)).toEqual(["s1"]); // s3 was the most loaded member now
    ctx.time = 100 * SECOND;
    expect(at()).toBe("s1");
    expect(p.serverSet(key)).toEqual(["s1"]); // one member is never removed
  });

  it("skips members that are down and adds the least loaded server when none is left", () => {
    const servers = pool(3);
    const ctx = context(servers);
    const p = createPolicy("lard-r") as LardReplicationPolicy;
    const key = request("/v").urlHash;
    const at = (c: readonly ServerView[] = servers) => pick(p, request("/v"), c, ctx);
    loads(servers, [0, 5, 5]);
    expect(at()).toBe("s0");
    loads(servers, [70, 20, 5]);
    expect(at()).toBe("s2");
    expect(p.serverSet(key)).toEqual(["s0", "s2"]);
    loads(servers, [0, 20, 5]);
    expect(at([servers[1], servers[2]])).toBe("s2"); // s0 not offered: the other member
    expect(at([servers[1]])).toBe("s1"); // no member left: s1 joins
    expect(p.serverSet(key)).toEqual(["s0", "s2", "s1"]);
    ctx.time = 21 * SECOND;
    loads(servers, [0, 20, 5]);
    expect(at([servers[1], servers[2]])).toBe("s2");
    expect(p.serverSet(key)).toEqual(["s2", "s1"]); // the member that is not a candidate leaves first
  });
});

describe("content-aware policies in the control plane", () => {
  /** A client connection carrying `head` up to the CP's SYN to a server: the port that SYN leaves on (1: s1, 2: s2). */
  function serverPortFor(b: Bench, head: string, sport: number): number {
    b.deliver(0, fromClient({ seq: 1000, flags: "S", win: 64240, options: [{ kind: "mss", value: 1460 }] }, sport));
    const cookie = b.take(0)[0].tcp!.seq;
    b.deliver(0, fromClient({ seq: 1001, ack: cookie + 1, flags: "A" }, sport));
    b.deliver(0, fromClient({ seq: 1001, ack: cookie + 1, flags: "PA", payload: head }, sport));
    b.take(0);
    const ports = [1, 2].filter((p) => b.take(p).some((f) => f.tcp?.flagText === "S"));
    expect(ports).toHaveLength(1);
    return ports[0];
  }

  it("parse sees the request the CP read: service partitioning by path and Host, cookie affinity by SERVERID", async () => {
    const servers = [{ ...SERVERS[0], tags: { partition: "web" } }, { ...SERVERS[1], tags: { partition: "app" } }];
    const rules = [{ pathRegex: "^/cgi-bin/", group: "app" }, { host: "admin.example.com", group: "app" }];
    const b = await bench({ servers }, createPolicy("service-partitioning", { rules, defaultGroup: "web" }));
    const get = (path: string, host = "www.example.com") => `GET ${path} HTTP/1.1\r\nHost: ${host}\r\n\r\n`;
    expect(serverPortFor(b, get("/cgi-bin/search?q=1"), CLIENT.port)).toBe(2);
    expect(serverPortFor(b, get("/index.html"), CLIENT.port + 1)).toBe(1);
    expect(serverPortFor(b, get("/index.html", "Admin.Example.com"), CLIENT.port + 2)).toBe(2);
    const c = await bench({ servers: BASE_CONFIG.servers }, createPolicy("cookie-affinity"));
    const withCookie = (v: string) => `GET / HTTP/1.1\r\nHost: x\r\nCookie: lang=en; SERVERID=${v}\r\n\r\n`;
    expect(serverPortFor(c, withCookie("s2"), CLIENT.port)).toBe(2);
    expect(serverPortFor(c, withCookie("s1"), CLIENT.port + 1)).toBe(1);
    expect(serverPortFor(c, withCookie("s2"), CLIENT.port + 2)).toBe(2);
  });
});
