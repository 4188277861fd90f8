// LARD against weighted round robin (Pai et al., ASPLOS 1998): throughput and server cache hit rate
// on a workload whose working set exceeds one server's cache but fits the servers' caches together.
// Four servers with 4 MB LRU caches, a disk miss costing 2 ms, Zipf(0.8) over 400 files of
// SURGE-like sizes (median 12 KB, about 10 MB in all), 96 closed-loop clients, one request per
// connection, 10 Gb/s links (so the servers' caches, not the links, decide).
import { scenario, simulateScenario } from "./lib/world.js";
import { writeResult, type Figure } from "./lib/results.js";

const sc = scenario({
  name: "lard-vs-wrr", duration_ms: 60_000,
  clients: { count: 96, mode: "closed", think_ms: 0, requests: 12_000, requests_per_connection: 1, link: { gbps: 10, delay_us: 50 } },
  servers: { count: 4, workers: 4, cache: { capacity_mb: 4, hit_us: 100, miss_us: 2000, per_kb_us: 0.2 }, link: { gbps: 10, delay_us: 10 } },
  files: { count: 400, zipf_alpha: 0.8, median_kb: 12, max_kb: 256 },
});
const figures: Figure[] = [];
const rows: Record<string, { rps: number; hit: number }> = {};
for (const policy of ["weighted-round-robin", "lard", "lard-r"]) {
  const r = await simulateScenario(sc, policy);
  const served = r.servers.reduce((n, s) => n + s.requests, 0);
  const hit = r.servers.reduce((n, s) => n + s.cache_hit_rate * s.requests, 0) / Math.max(1, served);
  rows[policy] = { rps: r.requests_per_second, hit };
  console.log(`${policy.padEnd(22)} ${r.requests_per_second.toFixed(0).padStart(6)} req/s  cache hit rate ${(hit * 100).toFixed(1)}%  p50 ${r.latency_us.p50} µs  ${r.requests_completed} ok, ${r.requests_failed} failed  per server ${r.servers.map((s) => s.requests).join("/")}  (host ${r.host_seconds.toFixed(1)} s)`);
  figures.push({ name: `${policy} throughput`, value: Math.round(r.requests_per_second), unit: "req/s" });
  figures.push({ name: `${policy} cache hit rate`, value: Number((hit * 100).toFixed(1)), unit: "%" });
}
const ratio = rows["lard"].rps / rows["weighted-round-robin"].rps;
console.log(`LARD / WRR throughput: ${ratio.toFixed(2)}x (published: 2-4x)`);
figures.push({ name: "LARD / WRR throughput", value: Number(ratio.toFixed(2)), unit: "x" });
console.log(`wrote ${writeResult("lard", figures, rows)}`);
