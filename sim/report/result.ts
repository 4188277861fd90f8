// The result of one simulation run: what `npswitch sim --json` prints and the HTML report draws.

export interface MeUtilization {
  me: number;
  stage: string;
  busy: number;
  stalled: number;
  idle: number;
  packets: number;
}

export interface SimResult {
  scenario: string;
  target: string;
  policy: string;
  seed: number;
  simulated_seconds: number;
  host_seconds: number;
  /** Frames received by the switch on all ports. */
  packets: number;
  /** Bits transmitted by the switch per simulated second. */
  throughput_gbps: number;
  packets_per_second: number;
  requests_completed: number;
  requests_failed: number;
  requests_per_second: number;
  /** Client-measured request latency, first request byte to last response byte. */
  latency_us: { p50: number; p90: number; p99: number; max: number; mean: number };
  /** Time a forwarded packet spends in the NP, receive to transmit. */
  np_latency_us: { p50: number; p99: number };
  np_latency_cycles: { p50: number; p99: number };
  me_utilization: MeUtilization[];
  cp_utilization: number;
  connections: number;
  cp_packets_per_connection: number;
  /** Spoofed SYNs the scenario's attack sent. */
  spoofed_syns: number;
  /** CP wake-ups for ring messages (one per message without batching) and the largest batch. */
  cp_batches: number;
  cp_max_batch: number;
  drops: Record<string, number>;
  traps: number;
  servers: { name: string; requests: number; bytes: number; cache_hit_rate: number }[];
  cp: Record<string, unknown>;
  /**
   * Where the CP spliced each connection: per key, the connections spliced to each server (indexed as
   * `servers`), by the client's IPv4 address and by the path (query dropped) of the connection's first
   * request. With one request per connection, by_url places every request.
   */
  placement: { by_client: Record<string, number[]>; by_url: Record<string, number[]> };
  /** Per time bucket: switch transmit rate and completed requests. */
  timeline: { t_ms: number; gbps: number; requests: number }[];
  /** Latency CDF points: [latency µs, cumulative fraction]. */
  latency_cdf: [number, number][];
}

/** Percentile of a sorted array (nearest rank). */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return 0;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i];
}

/** A CDF of at most `points` points from a sorted array. */
export function cdf(sorted: ArrayLike<number>, points = 100): [number, number][] {
  const n = sorted.length;
  if (n === 0) return [];
  const out: [number, number][] = [];
  const step = Math.max(1, Math.floor(n / points));
  for (let i = step - 1; i < n; i += step) out.push([sorted[i], (i + 1) / n]);
  if (out[out.length - 1][1] !== 1) out.push([sorted[n - 1], 1]);
  return out;
}

/** Round for stable, readable JSON. */
export const round = (x: number, digits = 3) => (Number.isFinite(x) ? Number(x.toFixed(digits)) : 0);
