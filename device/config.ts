// The device configuration (`npswitch device --config FILE`, YAML): the switch's addresses, its ports
// (each a UDP socket on loopback that socat bridges to a TAP device), the servers, the dispatching
// policy, the control-plane limits, where the A/B slots live, which keys it trusts and the management
// API. Every field validated; errors name the file, field and line. scripts/testnet.sh writes the
// network part (switch, ports, servers) for its test network.
import { existsSync, readFileSync } from "node:fs";
import { dirname, isAbsolute, resolve } from "node:path";
import { z } from "zod";
import { NpswitchError } from "../lib/errors.js";
import { parseYamlConfig } from "../lib/yaml-config.js";
import { checkTcpChecksumField, cpLimitFields, cpLimitValues, ipv4, positiveInt } from "../sim/scenario/config-fields.js";
import { DEFAULT_MANAGEMENT_LISTEN } from "./protocol.js";

/** The device's CP limits: a real LAN, real clients (idle keep-alive connections live 2 minutes). */
const CP_LIMITS = { requestTimeoutMs: 10_000, idleTimeoutMs: 120_000, lingerMs: 500 };

const mac = z.string().regex(/^([0-9a-fA-F]{2}:){5}[0-9a-fA-F]{2}$/, "a MAC address like 02:00:00:00:00:10");
/** host:port on loopback: the device never listens or sends elsewhere. */
const loopback = z.string().regex(/^127\.\d{1,3}\.\d{1,3}\.\d{1,3}:\d{1,5}$/, "a loopback address and port like 127.0.0.1:20000");

export const DeviceConfigSchema = z.strictObject({
  name: z.string().min(1).default("npswitch"),
  /** Target profile: a built-in name or a JSON file. */
  target: z.string().default("ixp2400"),
  /** The image to run when no slot holds one yet (first start). */
  image: z.string().optional(),
  /** A/B slots, uploads and the active-slot record. */
  state_dir: z.string().default("./npswitch-state"),
  /** Public keys (PEM) an image must be signed by; default: the local development key. */
  trusted_keys: z.array(z.string()).default([]),
  management: z.strictObject({
    listen: loopback.default(DEFAULT_MANAGEMENT_LISTEN),
    /** File holding the bearer token; else $NPSWITCH_TOKEN. */
    token_file: z.string().optional(),
    /** Load above which an upload chunk is refused with 429. */
    flash_busy_load: z.number().min(0).max(1).default(0.9),
    flash_session_timeout_s: z.number().positive().default(60),
    /** After a swap: a trap in the new image within this many packets, or seconds, rolls it back. */
    probation_packets: positiveInt.default(10_000),
    probation_s: z.number().positive().default(30),
  }).default({ listen: DEFAULT_MANAGEMENT_LISTEN, flash_busy_load: 0.9, flash_session_timeout_s: 60, probation_packets: 10_000, probation_s: 30 }),
  switch: z.strictObject({
    vip: ipv4,
    local_ip: ipv4,
    service_port: z.number().int().min(1).max(65535).default(80),
    /** Microengines per pipeline stage, overriding the firmware manifest's assignment. */
    mes: z.record(z.string(), positiveInt).optional(),
    stage_queue: positiveInt.default(512),
    /** classify verifies the TCP checksum of every segment (docs/ARCHITECTURE.md for the default). */
    check_tcp_checksum: checkTcpChecksumField,
  }),
  ports: z.array(z.strictObject({
    name: z.string().min(1),
    mac,
    /** Where the device receives this port's frames. */
    listen: loopback,
    /** Where it sends them (socat's end). */
    peer: loopback,
  })).min(2),
  servers: z.array(z.strictObject({
    name: z.string().min(1),
    ip: ipv4,
    mac,
    /** The switch port the server is reached on. */
    port: z.number().int().nonnegative(),
    tcp_port: z.number().int().min(1).max(65535).default(80),
    weight: z.number().nonnegative().default(1),
    priority: z.number().int().default(0),
    upper_threshold: z.number().int().nonnegative().default(0),
    lower_threshold: z.number().int().nonnegative().default(0),
    tags: z.record(z.string(), z.string()).default({}),
  })).min(1),
  policy: z.strictObject({
    name: z.string().default("round-robin"),
    params: z.record(z.string(), z.unknown()).default({}),
  }).default({ name: "round-robin", params: {} }),
  cp: z.strictObject({
    ...cpLimitFields(CP_LIMITS),
    /** A server whose connect failed (RST or no SYN-ACK) stays down at least this long. */
    fail_timeout_ms: z.number().nonnegative().default(5000),
    /** Local ports on LOCAL_IP for connections to servers. */
    local_ports: z.tuple([z.number().int().min(1024).max(65535), z.number().int().min(1024).max(65535)]).default([10000, 65535]),
    /** A local port is not used towards the same server again for this long (the server's TIME_WAIT: 60 s on Linux). */
    port_reuse_s: z.number().nonnegative().default(60),
  }).default({ ...cpLimitValues(CP_LIMITS), fail_timeout_ms: 5000, local_ports: [10000, 65535], port_reuse_s: 60 }),
  /** Secret for SYN cookies; default: random at each start. */
  syn_cookie_secret: z.string().optional(),
});

export type DeviceConfig = z.infer<typeof DeviceConfigSchema>;

export function parseDeviceConfig(text: string, origin: string): DeviceConfig {
  const cfg = parseYamlConfig(DeviceConfigSchema, text, origin);
  for (const [i, s] of cfg.servers.entries()) {
    if (s.port >= cfg.ports.length) throw new NpswitchError(`${origin}: field servers.${i}.port: switch port ${s.port} does not exist (ports: 0..${cfg.ports.length - 1})`);
  }
  const names = new Set<string>();
  for (const [i, s] of cfg.servers.entries()) {
    if (names.has(s.name)) throw new NpswitchError(`${origin}: field servers.${i}.name: '${s.name}' is used twice`);
    names.add(s.name);
  }
  const listens = cfg.ports.map((p) => p.listen).concat(cfg.management.listen).filter((l) => !l.endsWith(":0"));
  const dup = listens.find((l, i) => listens.indexOf(l) !== i);
  if (dup) throw new NpswitchError(`${origin}: ${dup} is used twice (each port and the management API need their own; port 0 picks a free one)`);
  return cfg;
}

/** Read a config file; relative paths in it (image, state_dir, keys, token file) are taken from the file's folder. */
export function loadDeviceConfig(path: string): DeviceConfig {
  if (!existsSync(path)) throw new NpswitchError(`${path}: no such device config file`);
  const cfg = parseDeviceConfig(readFileSync(path, "utf8"), path);
  const base = dirname(resolve(path));
  const abs = (p: string) => (isAbsolute(p) ? p : resolve(base, p));
  return {
    ...cfg,
    image: cfg.image && abs(cfg.image),
    state_dir: abs(cfg.state_dir),
    trusted_keys: cfg.trusted_keys.map(abs),
    management: { ...cfg.management, token_file: cfg.management.token_file && abs(cfg.management.token_file) },
  };
}

export function splitHostPort(s: string): { host: string; port: number } {
  const i = s.lastIndexOf(":");
  return { host: s.slice(0, i), port: Number(s.slice(i + 1)) };
}
