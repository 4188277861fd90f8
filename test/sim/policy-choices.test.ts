// Each built-in policy's own choices in the simulator: per policy a small seeded world where its choice differs from round robin's, and the per-server, per-URL or per-client distribution it must produce.
import { beforeAll, describe, expect, it, vi } from "vitest";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { buildFirmware } from "../../toolchain/build/build.js";
import { decodeFirmware, type FirmwareImage } from "../../toolchain/image/format.js";
import { loadProfile } from "../../toolchain/target/profile.js";
import { loadScenario } from "../../sim/scenario/load.js";
import type { Scenario } from "../../sim/scenario/schema.js";
import type { SimResult } from "../../sim/report/result.js";
import { runWorld } from "../../sim/world/world.js";
import { createPolicy, type ServerView } from "../../controlplane/policies/index.js";
import { context, request, server } from "../controlplane/policy-harness.js";
import { npswitch, tempDir } from "../toolchain/cli-helpers.js";

// Test seams for what a scenario file cannot say (the world is untouched): a longer link to one server
// (Link subclass: extra one-way delay on the link of that name), slower service on one server (HttpServer
// subclass: its cache times scaled), and a Cookie header from some clients (HttpClient subclass: the simulated
// client has no cookie option, so the header line rides on the Host option's value).
// Where a policy is deterministic, the expectation comes from asking a fresh instance of the same policy, off
// line, about a pool that mirrors the simulated one: the simulated switch must make exactly those choices.
const seams = vi.hoisted(() => ({
  /** Extra one-way delay (ps) of the link named so (the world names server links server0, server1, ...). */
  slowLink: new Map<string, number>(),
  /** Factor on the service times (cache hit, miss, per KiB) of the server named so. */
  slowService: new Map<string, number>(),
  /** The Cookie header value a client (by host name: client0, client1, ...) sends, if any. */
  cookie: new Map<string, string>(),
}));

vi.mock("../../sim/net/link.js", async (importOriginal) => {
  const m = await importOriginal<typeof import("../../sim/net/link.js")>();
  class Link extends m.Link {
    constructor(sched: ConstructorParameters<typeof m.Link>[0], options: ConstructorParameters<typeof m.Link>[1]) {
      const extra = seams.slowLink.get(options.name ?? "") ?? 0;
      super(sched, extra > 0 ? { ...options, delayPs: options.delayPs + extra } : options);
    }
  }
  return { ...m, Link };
});

vi.mock("../../sim/http/server.js", async (importOriginal) => {
  const m = await importOriginal<typeof import("../../sim/http/server.js")>();
  class HttpServer extends m.HttpServer {
    constructor(host: ConstructorParameters<typeof m.HttpServer>[0], options: ConstructorParameters<typeof m.HttpServer>[1]) {
      const f = seams.slowService.get(options.name ?? host.name) ?? 1;
      const c = { ...m.DEFAULT_CACHE, ...options.cache };
      super(host, f === 1 ? options : { ...options, cache: { ...c, hitPs: c.hitPs * f, missPs: c.missPs * f, perKbPs: c.perKbPs * f } });
    }
  }
  return { ...m, HttpServer };
});

vi.mock("../../sim/http/client.js", async (importOriginal) => {
  const m = await importOriginal<typeof import("../../sim/http/client.js")>();
  class HttpClient extends m.HttpClient {
    constructor(host: ConstructorParameters<typeof m.HttpClient>[0], options: ConstructorParameters<typeof m.HttpClient>[1]) {
      const cookie = seams.cookie.get(host.name);
      super(host, cookie === undefined ? options : { ...options, hostHeader: `${options.hostHeader ?? "www.example.com"}\r\nCookie: ${cookie}` });
    }
  }
  return { ...m, HttpClient };
});

const work = tempDir("policy-choices");
let fwPath: string;
let firmware: FirmwareImage;

beforeAll(async () => {
  process.env.NPSWITCH_HOME = join(work, "home");
  fwPath = (await buildFirmware({ out: join(work, "fw.npfw") })).out;
  firmware = decodeFirmware(new Uint8Array(readFileSync(fwPath)));
});

const CONNECTIONS = 400;
const SLOW_PS = 500e6; // 500 µs more each way to the slow server (the others: 10 µs)
const SLOW_SERVICE = 20; // service times x20 on the slowly serving server

interface Setup {
  servers?: number;
  weights?: number[];
  clients?: number;
  params?: Record<string, unknown>;
  /** Server index whose link is slow. */
  slow?: number;
  /** Server index that serves slowly. */
  slowService?: number;
  /** Cookie header per client index. */
  cookies?: Record<number, string>;
  edit?: (sc: Scenario) => void;
}

/** One request per connection, so every request is a dispatch and by_url places each of them. */
function scenarioFor(policy: string, o: Setup): Scenario {
  const sc = loadScenario();
  sc.name = `choices-${policy}`;
  sc.seed = 3;
  sc.duration_ms = 60_000;
  sc.policy = { name: policy, params: o.params ?? {} };
  sc.clients = { ...sc.clients, count: o.clients ?? 16, think_ms: 0, requests: CONNECTIONS, requests_per_connection: 1 };
  sc.servers = { ...sc.servers, count: o.servers ?? o.weights?.length ?? 4, weights: o.weights };
  sc.files = { ...sc.files, count: 100, zipf_alpha: 1, median_kb: 2, max_kb: 32 };
  o.edit?.(sc);
  return sc;
}

async function simulate(policy: string, o: Setup = {}): Promise<SimResult> {
  seams.slowLink.clear();
  seams.slowService.clear();
  seams.cookie.clear();
  if (o.slow !== undefined) seams.slowLink.set(`server${o.slow}`, SLOW_PS);
  if (o.slowService !== undefined) seams.slowService.set(`server${o.slowService}`, SLOW_SERVICE);
  for (const [i, c] of Object.entries(o.cookies ?? {})) seams.cookie.set(`client${i}`, c);
  const sc = scenarioFor(policy, o);
  const { result: r } = await runWorld({ firmware, profile: loadProfile("ixp2400").profile, scenario: sc });
  // What every run must show before its distribution means anything.
  expect(r.policy).toBe(policy);
  expect(r.cp.errors, JSON.stringify(r.cp.errors)).toEqual([]);
  expect(r.requests_completed).toBe(CONNECTIONS);
  expect(r.requests_failed).toBe(0);
  expect(r.servers.reduce((n, s) => n + s.requests, 0)).toBe(CONNECTIONS);
  // The CP's placement and the servers' own counts agree.
  const placed = new Array<number>(r.servers.length).fill(0);
  for (const row of Object.values(r.placement.by_url)) row.forEach((n, i) => (placed[i] += n));
  expect(placed).toEqual(r.servers.map((s) => s.requests));
  return r;
}

const counts = (r: SimResult) => r.servers.map((s) => s.requests);
const share = (r: SimResult, i: number) => r.servers[i].requests / CONNECTIONS;
/** Servers a row's connections went to. */
const usedBy = (row: number[]) => row.flatMap((n, i) => (n > 0 ? [i] : []));
const clientIp = (i: number) => `192.168.0.${10 + i}`;
const ipU32 = (ip: string) => ip.split(".").reduce((a, b) => ((a << 8) | Number(b)) >>> 0, 0);

/** The simulated pool as policies see it (names server0.., the scenario's weights), for asking a policy off line. */
function views(n: number, weights: number[] = []): ServerView[] {
  return Array.from({ length: n }, (_, i) => server(i, { name: `server${i}`, ip: `10.1.0.${11 + i}`, weight: weights[i] ?? 1, configuredWeight: weights[i] ?? 1 }));
}

/** The server index a fresh instance of `policy` picks for each key, all servers idle (the choice does not depend on load). */
function oracle(policy: string, params: Record<string, unknown>, pool: ServerView[], req: (key: string) => ReturnType<typeof request>) {
  const p = createPolicy(policy, params);
  const ctx = context(pool);
  p.init?.(ctx);
  return (key: string) => {
    const r = req(key);
    const s = p.select(p.parse ? p.parse(r) : r, pool, ctx);
    return s!.index;
  };
}

/** Each key's connections all went to the one server `expected` names. */
function expectPinned(rows: Record<string, number[]>, expected: (key: string) => number) {
  const wrong = Object.entries(rows).filter(([k, row]) => usedBy(row).some((i) => i !== expected(k)));
  expect(wrong.map(([k, row]) => `${k}: ${row.join("/")}, expected all on server${expected(k)}`)).toEqual([]);
}

describe("content-blind policies choose as they must in the simulator", () => {
  it("round-robin: equal shares whatever the weights (3:1:1:1 -> 100 each)", async () => {
    const r = await simulate("round-robin", { weights: [3, 1, 1, 1] });
    expect(counts(r)).toEqual([100, 100, 100, 100]);
  });

  it("random (weighted): weights 3:1 draw about 3/4 to server0", async () => {
    const r = await simulate("random", { weights: [3, 1], params: { weighted: true } });
    expect(share(r, 0)).toBeGreaterThan(0.65);
    expect(share(r, 0)).toBeLessThan(0.85);
  });

  it("weighted-round-robin: weights 3:1 give exactly 300/100", async () => {
    const r = await simulate("weighted-round-robin", { weights: [3, 1] });
    expect(counts(r)).toEqual([300, 100]);
  });

  it("dynamic-weighted-round-robin: equal weights, but the slowly serving server reports a high load and gets under 12%", async () => {
    const r = await simulate("dynamic-weighted-round-robin", { slowService: 3, edit: (sc) => (sc.servers.alive_ms = 1) });
    expect(share(r, 3)).toBeLessThan(0.12);
    for (const i of [0, 1, 2]) expect(share(r, i)).toBeGreaterThan(0.25);
  });

  it("least-connections: the slowly serving server holds its connections longer and gets under 10%", async () => {
    const r = await simulate("least-connections", { slowService: 3 });
    expect(share(r, 3)).toBeLessThan(0.1);
    for (const i of [0, 1, 2]) expect(share(r, i)).toBeGreaterThan(0.25);
  });

  it("weighted-least-connections: weights 3:1 give server0 60-95%", async () => {
    const r = await simulate("weighted-least-connections", { weights: [3, 1] });
    expect(share(r, 0)).toBeGreaterThan(0.6);
    expect(share(r, 0)).toBeLessThan(0.95);
  });

  it("shortest-expected-delay: weights 3:1 give server0 60-95%", async () => {
    const r = await simulate("shortest-expected-delay", { weights: [3, 1] });
    expect(share(r, 0)).toBeGreaterThan(0.6);
    expect(share(r, 0)).toBeLessThan(0.95);
  });

  it("never-queue: two clients never find the first two servers busy, so servers 2 and 3 get nothing", async () => {
    const r = await simulate("never-queue", { clients: 2 });
    expect(counts(r).slice(2)).toEqual([0, 0]);
    expect(Math.min(...counts(r).slice(0, 2))).toBeGreaterThan(50);
  });

  it("least-loaded: the slowly serving server reports the highest load index and gets under 10%", async () => {
    const r = await simulate("least-loaded", { slowService: 3, edit: (sc) => (sc.servers.alive_ms = 1) });
    expect(share(r, 3)).toBeLessThan(0.1);
  });

  it("fastest-response: the server with the slow handshake is measured and then avoided (under 5%)", async () => {
    const r = await simulate("fastest-response", { slow: 3 });
    expect(r.servers[3].requests).toBeGreaterThan(0);
    expect(share(r, 3)).toBeLessThan(0.05);
  });

  it("power-of-two: the slowly serving server has more connections in every pair it is drawn in and gets under 10%", async () => {
    const r = await simulate("power-of-two", { slowService: 3 });
    expect(share(r, 3)).toBeLessThan(0.1);
  });

  it("source-hash: three clients, each always on its own hashed server (the policy's table, asked off line)", async () => {
    const r = await simulate("source-hash", { clients: 3 });
    const expected = oracle("source-hash", {}, views(4), (ip) => request("/", { clientIp: ipU32(ip) }));
    expect(Object.keys(r.placement.by_client).sort()).toEqual([0, 1, 2].map(clientIp).sort());
    expectPinned(r.placement.by_client, expected);
    expect(counts(r).filter((n) => n === 0).length).toBeGreaterThanOrEqual(1);
  });

  it("maglev (key source): three clients, each always on the server its Maglev slot names", async () => {
    const r = await simulate("maglev", { clients: 3, params: { tableSize: 251 } });
    const expected = oracle("maglev", { tableSize: 251 }, views(4), (ip) => request("/", { clientIp: ipU32(ip) }));
    expect(Object.keys(r.placement.by_client)).toHaveLength(3);
    expectPinned(r.placement.by_client, expected);
    expect(counts(r).filter((n) => n === 0).length).toBeGreaterThanOrEqual(1);
  });
});

describe("priority policies choose as they must in the simulator", () => {
  it("hprio (rank weight): weights 2,2,1,1 make servers 0 and 1 the top pool, in turn: exactly 200/200/0/0", async () => {
    const r = await simulate("hprio", { weights: [2, 2, 1, 1], params: { rank: "weight" } });
    expect(counts(r)).toEqual([200, 200, 0, 0]);
  });

  it("weighted-failover: everything to the highest weight (1,3,2,1 -> server1)", async () => {
    const r = await simulate("weighted-failover", { weights: [1, 3, 2, 1] });
    expect(counts(r)).toEqual([0, CONNECTIONS, 0, 0]);
  });

  it("weighted-overflow: no thresholds, so the highest weight takes everything (1,2,3,1 -> server2)", async () => {
    const r = await simulate("weighted-overflow", { weights: [1, 2, 3, 1] });
    expect(counts(r)).toEqual([0, 0, CONNECTIONS, 0]);
  });
});

describe("content-aware policies choose as they must in the simulator", () => {
  it("url-hash: every URL of a Zipf mix on exactly its rendezvous server", async () => {
    const r = await simulate("url-hash");
    const expected = oracle("url-hash", {}, views(4), (path) => request(path));
    expect(Object.keys(r.placement.by_url).length).toBeGreaterThan(30);
    expectPinned(r.placement.by_url, expected);
    expect(counts(r).every((n) => n > 0)).toBe(true);
  });

  it("service-partitioning: path rules send each URL to its group; server0 is in none", async () => {
    const rules = [{ path: "/f/0", group: "server1" }, { pathRegex: "[13579]\\.bin$", group: "server2" }];
    const r = await simulate("service-partitioning", { params: { rules, defaultGroup: "server3" } });
    const expected = (path: string) => (path.startsWith("/f/0") ? 1 : /[13579]\.bin$/.test(path) ? 2 : 3);
    expectPinned(r.placement.by_url, expected);
    expect(r.servers[0].requests).toBe(0);
    for (const i of [1, 2, 3]) expect(r.servers[i].requests).toBeGreaterThan(0);
  });

  it("cookie-affinity: a SERVERID cookie pins its client's connections to the server it names", async () => {
    const cookies = { 0: "SERVERID=server2", 1: "lang=en; SERVERID=server3", 2: "SERVERID=server2" };
    const r = await simulate("cookie-affinity", { clients: 4, cookies });
    const pinned = Object.fromEntries(Object.entries(r.placement.by_client).filter(([ip]) => ip !== clientIp(3)));
    expectPinned(pinned, (ip) => ({ [clientIp(0)]: 2, [clientIp(1)]: 3, [clientIp(2)]: 2 })[ip]!);
    // Client 3 sends no cookie: weighted least connections, which always finds server0 or server1 idle.
    const loose = r.placement.by_client[clientIp(3)];
    expect(loose[0] + loose[1]).toBe(CONNECTIONS - r.servers[2].requests - r.servers[3].requests);
    expect(usedBy(loose).every((i) => i <= 1)).toBe(true);
  });

  it("sita-e: configured sizes split the URL space at equal load: the 90 small files to server0, the 10 large to server1", async () => {
    const paths = Array.from({ length: 100 }, (_, i) => `/f/${String(i).padStart(2, "0")}.bin`);
    // 90 x 100 B and 10 x 900 B carry the same load, so the cut-off falls between the two sizes (no split size).
    const sizes = Object.fromEntries(paths.map((p, i) => [p, i < 90 ? 100 : 900]));
    const r = await simulate("sita-e", { servers: 2, params: { sizes, recomputeEvery: 100_000 } });
    expect(Object.keys(r.placement.by_url).every((p) => p in sizes)).toBe(true);
    expectPinned(r.placement.by_url, (path) => (sizes[path] === 100 ? 0 : 1));
    expect(r.servers[1].requests).toBeGreaterThan(0);
  });

  it("cap: each class in weighted turn of its own (3:1 within 1 in every class)", async () => {
    const dynamic = ["/f/1", "/f/3", "/f/5", "/f/7", "/f/9"];
    const r = await simulate("cap", { weights: [3, 1], params: { dynamic } });
    const perClass = { dynamic: [0, 0], static: [0, 0] };
    for (const [path, row] of Object.entries(r.placement.by_url)) {
      const c = dynamic.some((d) => path.startsWith(d)) ? perClass.dynamic : perClass.static;
      row.forEach((n, i) => (c[i] += n));
    }
    for (const [cls, [a, b]] of Object.entries(perClass)) {
      expect(a + b, cls).toBeGreaterThan(50);
      expect(Math.abs(a - (3 * (a + b)) / 4), `${cls}: ${a}/${b}`).toBeLessThanOrEqual(1);
    }
  });

  for (const policy of ["lard", "lard-r"]) {
    it(`${policy}: below T_high every URL of a Zipf mix stays on the one server it was assigned`, async () => {
      const r = await simulate(policy, { edit: (sc) => (sc.servers.cache.capacity_mb = 0.1) });
      const rows = Object.values(r.placement.by_url);
      expect(rows.length).toBeGreaterThan(30);
      expect(rows.filter((row) => usedBy(row).length !== 1)).toEqual([]);
      expect(counts(r).filter((n) => n > 0).length).toBeGreaterThanOrEqual(3);
    });
  }
});

describe("npswitch sim passes the scenario's policy to the switch", () => {
  it("weighted-round-robin from a scenario file: weights 3:1 give exactly 150/50", () => {
    const file = join(work, "weighted.yaml");
    writeFileSync(file, [
      "name: weighted", "seed: 1", "duration_ms: 60000", "policy: { name: weighted-round-robin }",
      "clients: { count: 8, think_ms: 0, requests: 200, requests_per_connection: 1 }",
      "servers: { count: 2, weights: [3, 1] }", "files: { count: 50, median_kb: 2, max_kb: 16 }", "",
    ].join("\n"));
    const out = npswitch(["sim", fwPath, "--scenario", file, "--json"], { home: join(work, "home") });
    expect(out.stderr).toBe("");
    const r = JSON.parse(out.stdout) as SimResult;
    expect(r.policy).toBe("weighted-round-robin");
    expect(r.requests_completed).toBe(200);
    expect(counts(r)).toEqual([150, 50]);
  });
});
