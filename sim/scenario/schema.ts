// The scenario a simulation runs: topology, switch, policy, clients and workload, servers and their
// cache, links. Written in YAML (sim/scenarios/*.yaml); every field validated with a precise error.
import { z } from "zod";

import { DEFAULT_CHECK_TCP_CHECKSUM } from "../../controlplane/config.js";
import { checkTcpChecksumField, cpLimitFields, cpLimitValues, ipv4, positiveInt } from "./config-fields.js";

const nonNegative = z.number().nonnegative();
/** A simulated switch's CP limits: short runs, a fast LAN. */
const CP_LIMITS = { requestTimeoutMs: 5000, idleTimeoutMs: 30_000, lingerMs: 20 };

export const LinkSchema = z.strictObject({
  gbps: z.number().positive().default(1),
  delay_us: nonNegative.default(10),
  loss: z.number().min(0).max(0.5).default(0),
  queue_kb: positiveInt.default(512),
});

export const ScenarioSchema = z.strictObject({
  name: z.string().min(1),
  description: z.string().default(""),
  seed: z.number().int().nonnegative().default(1),
  /** Simulated time limit; the run also ends when every request is done. */
  duration_ms: z.number().positive().default(2000),
  switch: z.strictObject({
    vip: ipv4.default("10.0.0.100"),
    local_ip: ipv4.default("10.1.0.100"),
    service_port: z.number().int().min(1).max(65535).default(80),
    /** Microengines per pipeline stage, overriding the firmware manifest's assignment. */
    mes: z.record(z.string(), positiveInt).optional(),
    stage_queue: positiveInt.default(512),
    check_tcp_checksum: checkTcpChecksumField,
    cp: z.strictObject(cpLimitFields(CP_LIMITS)).default(cpLimitValues(CP_LIMITS)),
  }).default({ vip: "10.0.0.100", local_ip: "10.1.0.100", service_port: 80, stage_queue: 512, check_tcp_checksum: DEFAULT_CHECK_TCP_CHECKSUM, cp: cpLimitValues(CP_LIMITS) }),
  policy: z.strictObject({
    name: z.string().default("round-robin"),
    params: z.record(z.string(), z.unknown()).default({}),
  }).default({ name: "round-robin", params: {} }),
  clients: z.strictObject({
    count: positiveInt.max(200),
    mode: z.enum(["closed", "open"]).default("closed"),
    /** Closed loop: think time between a response and the next request. */
    think_ms: nonNegative.default(0),
    /** Open loop: new requests per second over all clients (Poisson). */
    rate_per_s: z.number().positive().optional(),
    requests: positiveInt,
    requests_per_connection: positiveInt.default(1),
    method_post_fraction: z.number().min(0).max(1).default(0),
    link: LinkSchema.default({ gbps: 1, delay_us: 10, loss: 0, queue_kb: 512 }),
  }),
  servers: z.strictObject({
    count: positiveInt.max(6),
    workers: positiveInt.default(16),
    weights: z.array(positiveInt).optional(),
    cache: z.strictObject({
      capacity_mb: z.number().positive().default(16),
      hit_us: nonNegative.default(20),
      miss_us: nonNegative.default(1000),
      per_kb_us: nonNegative.default(0.5),
    }).default({ capacity_mb: 16, hit_us: 20, miss_us: 1000, per_kb_us: 0.5 }),
    link: LinkSchema.default({ gbps: 1, delay_us: 10, loss: 0, queue_kb: 512 }),
    /** Pool agents (sim/world/pool-agent.ts): alive-signal interval, signals missed before a server is down. */
    alive_ms: z.number().positive().default(100),
    missed_alive: positiveInt.default(3),
    /** A server back up ramps to its weight over this long. */
    slow_start_ms: nonNegative.default(1000),
    /** Largest share of a server link's bandwidth its control messages may use; the agent stretches its interval beyond. */
    control_share: z.number().positive().max(1).default(0.01),
    /** Servers (by index, 0-based) that crash at a time: they stop answering anything. */
    crash: z.array(z.strictObject({ server: z.number().int().nonnegative(), at_ms: nonNegative })).default([]),
  }),
  /** Hostile traffic alongside the clients. */
  attack: z.strictObject({
    /** Spoofed SYNs per second to the VIP on the client port (random sources that never answer). */
    syn_flood_per_s: nonNegative.default(0),
    start_ms: nonNegative.default(0),
    stop_ms: nonNegative.optional(),
  }).default({ syn_flood_per_s: 0, start_ms: 0 }),
  files: z.strictObject({
    count: positiveInt,
    zipf_alpha: nonNegative.default(1),
    /** Median file size; sizes follow SURGE (lognormal body, bounded Pareto tail: sim/workload/distributions.ts). */
    median_kb: z.number().positive().default(11.6),
    max_kb: z.number().positive().default(1024),
    /** Fixed size for every file (overrides the heavy-tailed distribution). */
    size_bytes: positiveInt.optional(),
  }),
}).superRefine((s, ctx) => {
  if (s.clients.mode === "open" && s.clients.rate_per_s === undefined) {
    ctx.addIssue({ code: "custom", path: ["clients", "rate_per_s"], message: "required when clients.mode is open" });
  }
  if (s.servers.weights && s.servers.weights.length !== s.servers.count) {
    ctx.addIssue({ code: "custom", path: ["servers", "weights"], message: `has ${s.servers.weights.length} entries for ${s.servers.count} servers` });
  }
  s.servers.crash.forEach((c, i) => {
    if (c.server >= s.servers.count) ctx.addIssue({ code: "custom", path: ["servers", "crash", i, "server"], message: `is ${c.server}: servers are numbered 0..${s.servers.count - 1}` });
  });
});

export type Scenario = z.infer<typeof ScenarioSchema>;
