// Control-plane figures on the ixp2400's simulated XScale CP: connection-setup rate with dispatcher
// batching off and on (the CP saturated by 128 closed-loop clients opening one-request connections
// for tiny files), and CP packets
// per spliced connection for 1 KB and 1 MB responses.
import { scenario, simulateScenario } from "./lib/world.js";
import { writeResult, type Figure } from "./lib/results.js";

const figures: Figure[] = [];
const details: Record<string, unknown> = {};

// Setup rate: offered well above what the CP can do; connections spliced per simulated second.
for (const batching of [false, true]) {
  const r = await simulateScenario(scenario({
    name: `cp-setup-${batching ? "batched" : "unbatched"}`, duration_ms: 100,
    switch: { cp: { batching, request_timeout_ms: 5000 } },
    clients: { count: 128, mode: "closed", think_ms: 0, requests: 6_000, requests_per_connection: 1, link: { gbps: 10, delay_us: 5 } },
    servers: { count: 4, workers: 64, cache: { capacity_mb: 64, hit_us: 5, miss_us: 5, per_kb_us: 0 }, link: { gbps: 10, delay_us: 5 } },
    files: { count: 100, size_bytes: 200 },
  }));
  const rate = r.connections / r.simulated_seconds;
  console.log(`batching ${batching ? "on " : "off"}: ${r.connections} connections spliced in ${(r.simulated_seconds * 1000).toFixed(1)} ms simulated = ${rate.toFixed(0)} connections/s; CP ${(r.cp_utilization * 100).toFixed(1)}% busy, ${r.cp_batches} wake-ups, largest batch ${r.cp_max_batch}; ${r.requests_completed} requests completed (host ${r.host_seconds.toFixed(1)} s)`);
  figures.push({ name: `CP connection setup, batching ${batching ? "on" : "off"}`, value: Math.round(rate), unit: "connections/s" });
  details[`setup_batching_${batching}`] = { rate, cp_utilization: r.cp_utilization, batches: r.cp_batches, max_batch: r.cp_max_batch, connections: r.connections };
}

// CP packets per spliced connection: the same small number whatever the response size.
for (const [label, bytes] of [["1 KB", 1024], ["1 MB", 1 << 20]] as const) {
  const r = await simulateScenario(scenario({
    name: `cp-packets-${label}`, duration_ms: 20_000,
    clients: { count: 4, mode: "closed", think_ms: 0, requests: 40, requests_per_connection: 1 },
    servers: { count: 2 }, files: { count: 10, size_bytes: bytes },
  }));
  console.log(`${label} responses: ${r.cp_packets_per_connection} CP packets per spliced connection over ${r.connections} connections (${r.packets} switch packets, ${r.requests_completed}/${r.requests_completed + r.requests_failed} requests ok)`);
  figures.push({ name: `CP packets per spliced connection, ${label} responses`, value: r.cp_packets_per_connection, unit: "packets" });
}
console.log(`wrote ${writeResult("cp", figures, details)}`);
