// Load generators over HttpClients: open loop (Poisson session arrivals at a fixed rate,
// whatever the responses do) and closed loop (a fixed population of users, each running
// sessions back to back with exponential think times). Both draw from seeded streams only.
import { type Scheduler } from "../engine/scheduler.js";
import { PS_PER_S, type Picos } from "../../lib/time.js";
import { Random } from "../../lib/random.js";
import type { HttpClient, HttpResult } from "../http/client.js";
import { exponential } from "./distributions.js";
import type { Workload } from "./workload.js";

export interface LoadStats {
  sessionsStarted: number;
  sessionsDone: number;
  requests: number;
  ok: number;
  failed: number;
  bodyBytes: number;
  /** Latency of every finished request in picoseconds, in completion order. */
  latenciesPs: number[];
  /** First errors seen (at most 20), for failure messages. */
  errors: string[];
}

function newStats(): LoadStats {
  return { sessionsStarted: 0, sessionsDone: 0, requests: 0, ok: 0, failed: 0, bodyBytes: 0, latenciesPs: [], errors: [] };
}

function collect(stats: LoadStats, results: HttpResult[]): void {
  stats.sessionsDone++;
  for (const r of results) {
    stats.requests++;
    if (r.ok) {
      stats.ok++;
      stats.bodyBytes += r.bodyBytes;
      stats.latenciesPs.push(r.latencyPs);
    } else {
      stats.failed++;
      if (stats.errors.length < 20) stats.errors.push(`${r.method} ${r.path}: ${r.error}`);
    }
  }
}

export interface OpenLoopOptions {
  /** Session arrivals per simulated second (Poisson). */
  ratePerSecond: number;
  /** Arrivals happen in [startPs, startPs + durationPs). */
  startPs?: Picos;
  durationPs: Picos;
  requestsPerConnection?: number;
  seed: number;
}

/** Start Poisson-arriving sessions on `clients` (round robin). Returns live statistics. */
export function runOpenLoop(sched: Scheduler, clients: HttpClient[], workload: Workload, o: OpenLoopOptions): LoadStats {
  if (!(o.ratePerSecond > 0)) throw new RangeError(`open-loop rate ${o.ratePerSecond} must be positive`);
  const stats = newStats();
  const rng = new Random(o.seed);
  const meanGap = PS_PER_S / o.ratePerSecond;
  const end = (o.startPs ?? sched.now) + o.durationPs;
  const perConn = o.requestsPerConnection ?? 1;
  const done = (r: HttpResult[]) => collect(stats, r);
  let next = 0;
  const arrive = (): void => {
    clients[next].session(workload.nextSession(perConn), done);
    next = (next + 1) % clients.length;
    stats.sessionsStarted++;
    const at = sched.now + Math.max(1, Math.round(exponential(rng, meanGap)));
    if (at < end) sched.at(at, arrive);
  };
  const first = (o.startPs ?? sched.now) + Math.round(exponential(rng, meanGap));
  if (first < end) sched.at(first, arrive);
  return stats;
}

export interface ClosedLoopOptions {
  /** Number of users, each with at most one session open. */
  users: number;
  /** Mean think time (exponential) between requests and between sessions; 0 for none. */
  thinkPs: Picos;
  requestsPerConnection?: number;
  /** Users start sessions until this time. */
  untilPs: Picos;
  seed: number;
}

/** Run `users` closed-loop users on `clients` (user i uses clients[i % n]). Returns live statistics. */
export function runClosedLoop(sched: Scheduler, clients: HttpClient[], workload: Workload, o: ClosedLoopOptions): LoadStats {
  const stats = newStats();
  const rng = new Random(o.seed);
  const perConn = o.requestsPerConnection ?? 1;
  const think = () => (o.thinkPs > 0 ? Math.round(exponential(rng, o.thinkPs)) : 0);
  const sessionOptions = o.thinkPs > 0 ? { think } : {};
  for (let u = 0; u < o.users; u++) {
    const client = clients[u % clients.length];
    const start = (): void => {
      if (sched.now >= o.untilPs) return;
      stats.sessionsStarted++;
      client.session(workload.nextSession(perConn), (r) => {
        collect(stats, r);
        sched.after(think(), start);
      }, sessionOptions);
    };
    // Stagger the start so users do not move in lockstep.
    sched.after(o.thinkPs > 0 ? think() : rng.below(1000) * 1000, start);
  }
  return stats;
}

export interface LatencySummary {
  count: number;
  meanPs: number;
  p50Ps: number;
  p90Ps: number;
  p99Ps: number;
  maxPs: number;
}

/** Mean and nearest-rank percentiles of latencies. */
export function summarizeLatencies(latenciesPs: readonly number[]): LatencySummary {
  const v = [...latenciesPs].sort((a, b) => a - b);
  const n = v.length;
  const pct = (p: number) => (n ? v[Math.min(n - 1, Math.max(0, Math.ceil((p / 100) * n) - 1))] : 0);
  return { count: n, meanPs: n ? v.reduce((a, b) => a + b, 0) / n : 0, p50Ps: pct(50), p90Ps: pct(90), p99Ps: pct(99), maxPs: n ? v[n - 1] : 0 };
}
