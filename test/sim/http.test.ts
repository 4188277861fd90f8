// HTTP/1.1 client and server (sim/http) over two hosts on one link: keep-alive and
// Connection: close, content checking (including a corrupted byte it must catch), 404 / 400 /
// POST, the LRU cache model and worker slots.
import { describe, expect, it } from "vitest";
import { Scheduler } from "../../sim/engine/scheduler.js";
import { PS_PER_MS, PS_PER_US } from "../../lib/time.js";
import { LruCache } from "../../sim/http/cache.js";
import { HttpClient, type HttpRequestSpec, type HttpResult } from "../../sim/http/client.js";
import { contentByte, contentOf, errorBody } from "../../sim/http/content.js";
import { HttpServer } from "../../sim/http/server.js";
import { PAIR_SERVER_IP, hostPair } from "../../sim/tcp/pair.js";
import { FrameVerdict, ParsedTcp, parseTcpFrame, sealTcpFrame } from "../../packet/tcp-wire.js";

const FILES = new Map<string, number>([
  ["/index.html", 5120],
  ["/big.bin", 1 << 20],
  ["/empty", 0],
  ...Array.from({ length: 30 }, (_, i) => [`/f${i}`, 100_000] as [string, number]),
]);

function setup(options: { cache?: ConstructorParameters<typeof HttpServer>[1]["cache"]; workers?: number; loss?: number } = {}) {
  const sched = new Scheduler();
  const pair = hostPair(sched, { link: { lossRate: options.loss ?? 0 } });
  const server = new HttpServer(pair.server, { files: FILES, cache: options.cache, workers: options.workers });
  const client = new HttpClient(pair.client, { server: PAIR_SERVER_IP });
  return { sched, server, client, link: pair.link, clientHost: pair.client, serverHost: pair.server };
}

function get(path: string, expectBytes = FILES.get(path)): HttpRequestSpec {
  return { path, expectStatus: 200, expectBytes };
}

describe("content", () => {
  it("is a deterministic function of path and offset", () => {
    const a = contentOf("/x", 1000);
    expect(contentOf("/x", 1000)).toEqual(a);
    expect(contentOf("/x", 10)).toEqual(a.subarray(0, 10));
    expect(contentByte("/x", 999)).toBe(a[999]);
    expect(contentOf("/y", 1000)).not.toEqual(a);
    // Not a short period: the bytes look uniform.
    const counts = new Array(256).fill(0);
    for (const b of contentOf("/z", 256_000)) counts[b]++;
    expect(Math.min(...counts)).toBeGreaterThan(800);
    expect(Math.max(...counts)).toBeLessThan(1200);
  });
});

describe("HTTP client and server", () => {
  it("runs 10 requests on one keep-alive connection, every byte checked", () => {
    const { sched, server, client, link } = setup();
    const paths = ["/index.html", "/big.bin", "/empty", ...Array.from({ length: 7 }, (_, i) => `/f${i}`)];
    let results: HttpResult[] = [];
    client.session(paths.map((p) => get(p)), (r) => { results = r; });
    sched.run();
    expect(results.map((r) => [r.path, r.status, r.bodyBytes, r.ok, r.error])).toEqual(paths.map((p) => [p, 200, FILES.get(p), true, undefined]));
    expect(server.counters.connections).toBe(1);
    expect(server.counters.requests).toBe(10);
    expect(client.counters).toMatchObject({ requests: 10, ok: 10, failed: 0, bodyMismatches: 0 });
    // Latency covers the response: the 1 MiB one takes at least its time on the wire.
    const big = results[1];
    expect(big.latencyPs).toBeGreaterThan(8 * PS_PER_MS);
    expect(results.every((r, i) => i === 0 || r.startPs >= results[i - 1].endPs)).toBe(true); // sequential, not pipelined
    expect(link.stats(0).framesSent + link.stats(1).framesSent).toBeGreaterThan(700);
  });

  it("with Connection: close, uses one connection per request and both sides close cleanly", () => {
    const { sched, server, client, clientHost, serverHost } = setup();
    const done: HttpResult[] = [];
    for (let i = 0; i < 5; i++) client.request(get(`/f${i}`), (r) => done.push(r));
    sched.run();
    expect(done.every((r) => r.ok)).toBe(true);
    expect(server.counters.connections).toBe(5);
    expect(clientHost.connectionCount + serverHost.connectionCount).toBe(0);
    expect(clientHost.counters.resetsSent + serverHost.counters.resetsSent).toBe(0);
  });

  it("stays byte-exact over a 2% lossy link", () => {
    const { sched, client, server } = setup({ loss: 0.02 });
    client.session([get("/big.bin"), get("/f1"), get("/f2")]);
    sched.run();
    expect(client.counters.ok).toBe(3);
    expect(server.host.counters.retransmits).toBeGreaterThan(0);
  });

  it("catches a single corrupted body byte (checksums made valid again)", () => {
    const { sched, client, link } = setup();
    const p = new ParsedTcp();
    let corrupted = false;
    const realClient = client.host;
    link.attach(0, {
      receive(frame) {
        if (!corrupted && parseTcpFrame(frame, p) === FrameVerdict.TCP && p.payloadLen > 1000) {
          frame = frame.slice();
          frame[p.payloadAt + 500] ^= 0x40;
          sealTcpFrame(frame);
          corrupted = true;
        }
        realClient.receive(frame);
      },
    });
    client.session([get("/f3")]);
    sched.run();
    expect(corrupted).toBe(true);
    expect(client.counters.bodyMismatches).toBe(1);
    expect(client.results[0].ok).toBe(false);
    expect(client.results[0].error).toMatch(/body differs .* at byte \d+/);
  });

  it("answers 404 for unknown paths (keeping the connection), checks POST bodies", () => {
    const { sched, client, server } = setup();
    client.session([
      { path: "/nope", expectStatus: 404 },
      { method: "POST", path: "/index.html", bodyBytes: 70_000, expectStatus: 200, expectBytes: 5120 },
      get("/f1"),
    ]);
    sched.run();
    expect(client.results.map((r) => [r.status, r.ok])).toEqual([[404, true], [200, true], [200, true]]);
    expect(client.results[0].bodyBytes).toBe(errorBody(404).length);
    expect(server.counters).toMatchObject({ connections: 1, status404: 1, status200: 2, postBodyBytes: 70_000, postBodyMismatches: 0 });
  });

  it("flags an unexpected status", () => {
    const { sched, client } = setup();
    client.session([{ path: "/missing", expectStatus: 200 }]);
    sched.run();
    expect(client.results[0]).toMatchObject({ status: 404, ok: false, error: "status 404, expected 200" });
  });

  it("answers garbage with 400 and closes", () => {
    const { sched, server, client: http } = setup();
    const chunks: Uint8Array[] = [];
    let ended = false;
    http.host.connect(PAIR_SERVER_IP, 80, {
      onConnect: (c) => c.write(new TextEncoder().encode("HELLO THERE\r\nthis is: not http\r\nno colon here\r\n\r\n")),
      onData: (_c, d) => chunks.push(d.slice()),
      onEnd: (c) => { ended = true; c.end(); },
    });
    sched.run();
    const text = new TextDecoder().decode(Buffer.concat(chunks));
    expect(text.startsWith("HTTP/1.1 400 Bad Request\r\n")).toBe(true);
    expect(text).toContain("Connection: close\r\n");
    expect(text.endsWith("\r\n\r\n" + new TextDecoder().decode(errorBody(400)))).toBe(true);
    expect(ended).toBe(true);
    expect(server.counters.status400).toBe(1);
  });

  it("requires Host in HTTP/1.1", () => {
    const { sched, client: http } = setup();
    let text = "";
    http.host.connect(PAIR_SERVER_IP, 80, {
      onConnect: (c) => c.write(new TextEncoder().encode("GET /f1 HTTP/1.1\r\n\r\n")),
      onData: (_c, d) => { text += new TextDecoder().decode(d); },
      onEnd: (c) => c.end(),
    });
    sched.run();
    expect(text.split("\r\n")[0]).toBe("HTTP/1.1 400 Bad Request");
  });
});

describe("cache model", () => {
  it("LRU: a working set that fits hits after the first pass; one that does not never hits", () => {
    const c = new LruCache(1000);
    for (let pass = 0; pass < 5; pass++) for (let i = 0; i < 9; i++) c.access(`/a${i}`, 100);
    expect(c.hits).toBe(36);
    expect(c.misses).toBe(9);
    const d = new LruCache(1000);
    for (let pass = 0; pass < 5; pass++) for (let i = 0; i < 11; i++) d.access(`/a${i}`, 100);
    expect(d.hits).toBe(0);
    expect(d.bytesUsed).toBeLessThanOrEqual(1000);
    expect(new LruCache(50).access("/x", 100)).toBe(false); // too big to admit
  });

  it("server hit rate and latency follow the working set against the capacity", () => {
    const cache = { capacityBytes: 1_000_000, hitPs: 50 * PS_PER_US, missPs: 10 * PS_PER_MS, perKbPs: 0 };
    const run = (files: number) => {
      const { sched, server, client } = setup({ cache });
      const reqs = [];
      for (let pass = 0; pass < 4; pass++) for (let i = 0; i < files; i++) reqs.push(get(`/f${i}`));
      client.session(reqs);
      sched.run();
      expect(client.counters.ok).toBe(reqs.length);
      const lat = client.results.map((r) => r.latencyPs);
      return { hitRate: server.cache.hitRate, hits: server.counters.cacheHits, misses: server.counters.cacheMisses, lat };
    };
    const fits = run(8); // 800 KB of a 1 MB cache
    expect(fits.hits).toBe(24);
    expect(fits.misses).toBe(8);
    expect(fits.hitRate).toBe(0.75);
    const spills = run(12); // 1.2 MB, cycled: LRU evicts each file before its turn comes again
    expect(spills.hits).toBe(0);
    expect(spills.hitRate).toBe(0);
    // Misses pay the 10 ms disk time, hits do not.
    expect(Math.min(...spills.lat)).toBeGreaterThan(10 * PS_PER_MS);
    expect(Math.max(...fits.lat.slice(8))).toBeLessThan(10 * PS_PER_MS);
  });

  it("queues requests when all worker slots are busy", () => {
    const cache = { capacityBytes: 0, hitPs: 0, missPs: 20 * PS_PER_MS, perKbPs: 0 };
    const { sched, server, client } = setup({ cache, workers: 1 });
    for (let i = 0; i < 3; i++) client.request(get(`/f${i}`));
    sched.run();
    expect(client.counters.ok).toBe(3);
    expect(server.counters.maxQueued).toBe(2);
    const lat = client.results.map((r) => r.latencyPs).sort((a, b) => a - b);
    expect(lat[0]).toBeGreaterThan(20 * PS_PER_MS);
    expect(lat[1]).toBeGreaterThan(40 * PS_PER_MS);
    expect(lat[2]).toBeGreaterThan(60 * PS_PER_MS);
  });
});
