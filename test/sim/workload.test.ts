// Workloads (sim/workload): Zipf popularity and heavy-tailed size generators against their
// theory for a fixed seed, determinism, and the open- and closed-loop drivers on real hosts.
import { describe, expect, it } from "vitest";
import { Scheduler } from "../../sim/engine/scheduler.js";
import { PS_PER_MS, PS_PER_S } from "../../lib/time.js";
import { HttpClient } from "../../sim/http/client.js";
import { HttpServer } from "../../sim/http/server.js";
import { Random } from "../../lib/random.js";
import { PAIR_SERVER_IP, hostPair } from "../../sim/tcp/pair.js";
import { SURGE_DEFAULTS, Zipf, exponential, sampleSize } from "../../sim/workload/distributions.js";
import { runClosedLoop, runOpenLoop, summarizeLatencies } from "../../sim/workload/drivers.js";
import { Workload } from "../../sim/workload/workload.js";

function median(v: number[]): number {
  const s = [...v].sort((a, b) => a - b);
  return s[s.length >> 1];
}

/** Standard normal CDF (Abramowitz-Stegun 7.1.26 via erf), for expected fractions. */
function phi(z: number): number {
  const t = 1 / (1 + 0.3275911 * Math.abs(z / Math.SQRT2));
  const erf = 1 - (((((1.061405429 * t - 1.453152027) * t) + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-(z * z) / 2);
  return z >= 0 ? (1 + erf) / 2 : (1 - erf) / 2;
}

describe("Zipf popularity", () => {
  it("matches 1/k^alpha over 200k draws", () => {
    const z = new Zipf(1000, 0.8);
    const rng = new Random(42);
    const n = 200_000;
    const counts = new Array(1000).fill(0);
    for (let i = 0; i < n; i++) counts[z.sample(rng)]++;
    let harmonic = 0;
    for (let k = 1; k <= 1000; k++) harmonic += 1 / Math.pow(k, 0.8);
    expect(z.probability(1)).toBeCloseTo(1 / harmonic, 12);
    for (let k = 1; k <= 20; k++) {
      const expected = n * z.probability(k);
      expect(Math.abs(counts[k - 1] - expected) / expected, `rank ${k}`).toBeLessThan(0.06);
    }
    // The ratio between ranks 1 and 10 is 10^alpha.
    expect(counts[0] / counts[9]).toBeGreaterThan(Math.pow(10, 0.8) * 0.93);
    expect(counts[0] / counts[9]).toBeLessThan(Math.pow(10, 0.8) * 1.07);
    const top10 = counts.slice(0, 10).reduce((a, b) => a + b, 0) / n;
    let p10 = 0;
    for (let k = 1; k <= 10; k++) p10 += z.probability(k);
    expect(Math.abs(top10 - p10)).toBeLessThan(0.005);
  });

  it("with alpha 0 is uniform", () => {
    const z = new Zipf(10, 0);
    const rng = new Random(1);
    const counts = new Array(10).fill(0);
    for (let i = 0; i < 100_000; i++) counts[z.sample(rng)]++;
    for (const c of counts) expect(Math.abs(c - 10_000)).toBeLessThan(400);
  });
});

describe("file sizes", () => {
  const bounds = { minBytes: 1, maxBytes: 100 << 20 };

  it("lognormal: log-sizes have the given mean and standard deviation", () => {
    const rng = new Random(7);
    const logs = Array.from({ length: 50_000 }, () => Math.log(sampleSize(rng, { kind: "lognormal", mu: 9, sigma: 1.5 }, bounds)));
    const mean = logs.reduce((a, b) => a + b, 0) / logs.length;
    const sd = Math.sqrt(logs.reduce((a, b) => a + (b - mean) ** 2, 0) / logs.length);
    expect(mean).toBeGreaterThan(8.97);
    expect(mean).toBeLessThan(9.03);
    expect(sd).toBeGreaterThan(1.47);
    expect(sd).toBeLessThan(1.53);
  });

  it("bounded Pareto: stays in bounds and has the theoretical mean and tail", () => {
    const rng = new Random(8);
    const [alpha, low, high] = [1.2, 1000, 1e6];
    const v = Array.from({ length: 200_000 }, () => sampleSize(rng, { kind: "boundedPareto", alpha, low, high }, bounds));
    expect(v.every((x) => x >= low && x <= high)).toBe(true);
    const norm = 1 - Math.pow(low / high, alpha);
    const mean = (Math.pow(low, alpha) / norm) * (alpha / (alpha - 1)) * (Math.pow(low, 1 - alpha) - Math.pow(high, 1 - alpha));
    const got = v.reduce((a, b) => a + b, 0) / v.length;
    expect(Math.abs(got - mean) / mean).toBeLessThan(0.08);
    // P(X > 10 L) = ((L/x)^a - (L/H)^a) / norm.
    const tail = v.filter((x) => x > 10_000).length / v.length;
    const tailExpected = (Math.pow(0.1, alpha) - Math.pow(low / high, alpha)) / norm;
    expect(Math.abs(tail - tailExpected)).toBeLessThan(0.003);
  });

  it("SURGE: lognormal body with a 7% Pareto tail from 133 KB", () => {
    const rng = new Random(9);
    const v = Array.from({ length: 40_000 }, () => sampleSize(rng, { kind: "surge" }, { minBytes: 1, maxBytes: 10 << 20 }));
    const { mu, sigma, tailStart, tailFraction } = SURGE_DEFAULTS;
    // Median m solves (1 - tail) * Phi((ln m - mu) / sigma) = 1/2 (the tail lies above it).
    const zMedian = 0.0944; // Phi(z) = 0.5 / 0.93
    expect(phi(zMedian)).toBeCloseTo(0.5 / (1 - tailFraction), 3);
    const m = Math.exp(mu + sigma * zMedian);
    expect(Math.abs(median(v) - m) / m).toBeLessThan(0.04);
    const above = v.filter((x) => x >= tailStart).length / v.length;
    const expected = tailFraction + (1 - tailFraction) * (1 - phi((Math.log(tailStart) - mu) / sigma));
    expect(Math.abs(above - expected)).toBeLessThan(0.006);
    expect(v.every((x) => x <= 10 << 20)).toBe(true);
  });

  it("exponential gaps have the given mean", () => {
    const rng = new Random(10);
    let sum = 0;
    for (let i = 0; i < 100_000; i++) sum += exponential(rng, 5);
    expect(Math.abs(sum / 100_000 - 5)).toBeLessThan(0.08);
  });
});

describe("Workload", () => {
  it("is a function of its seed: file set and request stream", () => {
    const make = (seed: number) => new Workload({ files: 500, zipfAlpha: 0.9, seed });
    const a = make(3), b = make(3), c = make(4);
    expect([...b.fileSet()]).toEqual([...a.fileSet()]);
    expect(b.nextSession(50)).toEqual(a.nextSession(50));
    expect(c.sizes).not.toEqual(a.sizes);
    expect(a.paths[0]).toBe("/f/000.bin");
    const r = make(3).nextRequest();
    expect(r.expectBytes).toBe(a.sizes[a.paths.indexOf(r.path)]);
  });

  it("mixes in POSTs at the given share", () => {
    const w = new Workload({ files: 10, zipfAlpha: 1, seed: 1, postFraction: 0.25, postBytes: 300 });
    const reqs = w.nextSession(4000);
    const posts = reqs.filter((r) => r.method === "POST");
    expect(Math.abs(posts.length / 4000 - 0.25)).toBeLessThan(0.03);
    expect(posts.every((p) => p.bodyBytes === 300)).toBe(true);
  });
});

describe("load drivers on two hosts", () => {
  function bed(seed: number) {
    const sched = new Scheduler();
    const pair = hostPair(sched, { seed });
    const workload = new Workload({ files: 200, zipfAlpha: 0.8, seed, sizes: { kind: "lognormal", mu: 8, sigma: 1 }, maxBytes: 64 << 10, postFraction: 0.1 });
    const server = new HttpServer(pair.server, { files: workload.fileSet() });
    const client = new HttpClient(pair.client, { server: PAIR_SERVER_IP });
    return { sched, workload, server, client };
  }

  it("open loop: Poisson arrivals at the rate, every response checked", () => {
    const { sched, workload, server, client } = bed(5);
    const stats = runOpenLoop(sched, [client], workload, { ratePerSecond: 400, durationPs: PS_PER_S, requestsPerConnection: 2, seed: 5 });
    sched.run();
    expect(stats.sessionsStarted).toBeGreaterThan(400 - 3 * 20);
    expect(stats.sessionsStarted).toBeLessThan(400 + 3 * 20);
    expect(stats.sessionsDone).toBe(stats.sessionsStarted);
    expect(stats.errors).toEqual([]);
    expect(stats.ok).toBe(2 * stats.sessionsStarted);
    expect(server.counters.connections).toBe(stats.sessionsStarted);
    expect(server.counters.postBodyMismatches).toBe(0);
    const s = summarizeLatencies(stats.latenciesPs);
    expect(s.count).toBe(stats.ok);
    expect(s.p50Ps).toBeLessThanOrEqual(s.p99Ps);
  });

  it("closed loop: at most one session per user at a time, think times between requests", () => {
    const { sched, workload, client } = bed(6);
    const stats = runClosedLoop(sched, [client], workload, { users: 3, thinkPs: 20 * PS_PER_MS, requestsPerConnection: 3, untilPs: PS_PER_S, seed: 6 });
    sched.run();
    expect(stats.errors).toEqual([]);
    expect(stats.sessionsDone).toBe(stats.sessionsStarted);
    // Each user: ~ (3 requests + 3 think gaps) per cycle of ~60 ms plus service: 10 to 20 sessions a second.
    expect(stats.sessionsStarted).toBeGreaterThan(3 * 8);
    expect(stats.sessionsStarted).toBeLessThan(3 * 25);
    const spans = new Map<number, [number, number]>();
    for (const r of client.results) {
      const s = spans.get(r.session) ?? [r.startPs, r.endPs];
      spans.set(r.session, [Math.min(s[0], r.startPs), Math.max(s[1], r.endPs)]);
    }
    const edges = [...spans.values()].flatMap(([a, b]) => [[a, 1], [b, -1]] as [number, number][]).sort((x, y) => x[0] - y[0] || x[1] - y[1]);
    let open = 0, most = 0;
    for (const [, d] of edges) most = Math.max(most, (open += d));
    expect(most).toBeLessThanOrEqual(3);
    expect(most).toBeGreaterThanOrEqual(2);
    // Think time separates the requests of a session.
    const firstSession = client.results.filter((r) => r.session === 0);
    expect(firstSession[1].startPs - firstSession[0].endPs).toBeGreaterThan(0);
  });
});
