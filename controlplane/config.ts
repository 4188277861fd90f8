// Configuration of the control-plane program: the switch's addresses, services and ports, the server pool,
// the SYN-cookie secret, limits, TCP parameters and the pool's health settings; validated once, with errors
// that name the field.
import { CAPACITIES } from "../abi/layout.js";
import { PS_PER_MS } from "../lib/time.js";
import { ip4ToU32, macBytes } from "../packet/addr.js";
import type { SwitchConfig } from "../abi/switch-config.js";
import { MAX_WSCALE } from "./tcp/syn-cookie.js";

export interface ServerConfig {
  name: string;
  ip: string;
  mac: string;
  /** Switch port the server is reached on. */
  port: number;
  /** The server's TCP port. */
  tcpPort: number;
  weight?: number;
  /** Priority pool (higher preferred), LVS hprio. Default 0. */
  priority?: number;
  /** LVS-style connection thresholds; 0 or absent = no limit. */
  upperThreshold?: number;
  lowerThreshold?: number;
  /** Capacity in requests per second, as a server would register it. Default 1. */
  capacity?: number;
  tags?: Record<string, string>;
}

export interface CpLimits {
  /** Longest request head (request line and fields, CRLF CRLF included) before refusing with 431. */
  maxHeaderBytes: number;
  /** From the handshake's completion to a complete request head; then RST. */
  requestTimeoutPs: number;
  /** A spliced connection with no packet either way for this long is removed. */
  idleTimeoutPs: number;
  /** Entries stay this long after both FINs (or an RST), for the last ACK and retransmissions. */
  lingerPs: number;
}

export interface CpTcpOptions {
  /** The switch's MSS (what its ports carry): the SYN-ACK advertises min(client's, this). */
  mss: number;
  /** Window shift the switch advertises to clients that offer window scaling. */
  wscale: number;
  /** Client bytes buffered before the splice (the receive window); must hold maxHeaderBytes. */
  receiveBufferBytes: number;
  /** First retransmission of the SYN to a server; doubles each time. */
  synRtoPs: number;
  /** SYN retransmissions before failing over to another server. */
  maxSynRetries: number;
  /** First retransmission of the replayed request; doubles each time. */
  replayRtoPs: number;
  /** Replay retransmissions at most (stopped earlier once the client answers the server). */
  maxReplayRetries: number;
  /** Period of the idle scan (default idleTimeoutPs / 4). */
  idleScanPs?: number;
  /** Local ports on LOCAL_IP for server connections, inclusive. */
  ephemeralPorts: [number, number];
  /** The first local port tried (default: the range's first); a device picks a random one at each start. */
  firstPort?: number;
  /**
   * A local port is not used again towards the same server for this long after its connection ended:
   * the server may hold the old connection in TIME_WAIT (Linux: 60 s), and a SYN that PAWS rejects is
   * answered with an ACK instead of a SYN-ACK. 0 = no delay (the simulator's servers keep no TIME_WAIT).
   */
  portReuseDelayPs?: number;
}

/** How the pool watches its servers (controlplane/pool/pool.ts). */
export interface CpPoolOptions {
  /** Alive-signal interval a server is expected to keep when its signal does not say (ps). */
  aliveIntervalPs: number;
  /** Consecutive alive intervals missed before a monitored server is marked down. */
  missedAlive: number;
  /** After coming back up (or being added), the effective weight ramps to the configured one over this long; 0 = at once. */
  slowStartPs: number;
  /** A server marked down for a failed connect (no SYN-ACK, or RST) stays down at least this long (nginx fail_timeout). */
  failTimeoutPs: number;
  /** Weight of a new sample in the response-time EWMA (RFC 6298 SRTT: 1/8). */
  responseTimeAlpha: number;
  /**
   * Dispatch again, after a server crash, requests whose method is not idempotent (POST, PATCH). Off by
   * default: RFC 9110 9.2.2 forbids a proxy to retry them automatically (the crashed server may have acted).
   */
  redispatchNonIdempotent: boolean;
}

export interface CpConfig {
  vip: string;
  localIp: string;
  servicePorts: number[];
  /** MAC address of each switch port, by port number. */
  portMacs: string[];
  servers: ServerConfig[];
  synCookieSecret: string | Uint8Array;
  limits: CpLimits;
  tcp?: Partial<CpTcpOptions>;
  pool?: Partial<CpPoolOptions>;
  /** classify verifies the TCP checksum of every segment (default DEFAULT_CHECK_TCP_CHECKSUM). */
  checkTcpChecksum?: boolean;
}


export const DEFAULT_TCP: CpTcpOptions = {
  mss: 1460,
  wscale: 7,
  receiveBufferBytes: 65535,
  synRtoPs: 1000 * PS_PER_MS,
  maxSynRetries: 2,
  replayRtoPs: 200 * PS_PER_MS,
  maxReplayRetries: 3,
  ephemeralPorts: [32768, 60999],
};

export const DEFAULT_POOL: CpPoolOptions = {
  aliveIntervalPs: 1000 * PS_PER_MS,
  missedAlive: 3,
  slowStartPs: 10_000 * PS_PER_MS,
  failTimeoutPs: 10_000 * PS_PER_MS,
  responseTimeAlpha: 1 / 8,
  redispatchNonIdempotent: false,
};

export interface ResolvedServer extends Required<ServerConfig> {
  index: number;
  ipU32: number;
  macBytes: Uint8Array;
}

export interface ResolvedConfig {
  vip: number;
  localIp: number;
  servicePorts: Set<number>;
  portMacs: Uint8Array[];
  servers: ResolvedServer[];
  synCookieSecret: string | Uint8Array;
  limits: CpLimits;
  tcp: CpTcpOptions & { idleScanPs: number };
  pool: CpPoolOptions;
}

export class CpConfigError extends Error {}

function fail(field: string, what: string): never {
  throw new CpConfigError(`cp config: ${field} ${what}`);
}

function int(field: string, v: unknown, min: number, max: number): number {
  if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max) fail(field, `= ${String(v)}: expected an integer in ${min}..${max}`);
  return v;
}

function addr(field: string, v: string): number {
  try {
    return ip4ToU32(v);
  } catch {
    fail(field, `'${v}' is not an IPv4 address`);
  }
}

function mac(field: string, v: string): Uint8Array {
  try {
    return macBytes(v);
  } catch {
    fail(field, `'${v}' is not a MAC address (aa:bb:cc:dd:ee:ff)`);
  }
}

export function resolveCpConfig(cfg: CpConfig): ResolvedConfig {
  const ports = CAPACITIES.MAX_PORTS.value;
  if (cfg.portMacs.length === 0 || cfg.portMacs.length > ports) fail("portMacs", `has ${cfg.portMacs.length} entries: expected 1..${ports}`);
  if (cfg.servicePorts.length === 0 || cfg.servicePorts.length > CAPACITIES.MAX_SERVICES.value) fail("servicePorts", `has ${cfg.servicePorts.length} entries: expected 1..${CAPACITIES.MAX_SERVICES.value}`);
  cfg.servicePorts.forEach((p, i) => int(`servicePorts[${i}]`, p, 1, 65535));
  if (cfg.servers.length === 0) fail("servers", "is empty: at least one server is needed");
  const names = new Set<string>();
  const servers = cfg.servers.map((s, i): ResolvedServer => {
    if (names.has(s.name)) fail(`servers[${i}].name`, `'${s.name}' is used twice`);
    names.add(s.name);
    return resolveServer(s, i, cfg.portMacs.length, `servers[${i}]`);
  });
  const limits = cfg.limits;
  int("limits.maxHeaderBytes", limits.maxHeaderBytes, 64, 1 << 20);
  for (const k of ["requestTimeoutPs", "idleTimeoutPs", "lingerPs"] as const) {
    if (!(limits[k] > 0)) fail(`limits.${k}`, `= ${limits[k]}: expected a positive time in picoseconds`);
  }
  const tcp = { ...DEFAULT_TCP, ...cfg.tcp };
  int("tcp.mss", tcp.mss, 88, 65495);
  int("tcp.wscale", tcp.wscale, 0, MAX_WSCALE);
  int("tcp.receiveBufferBytes", tcp.receiveBufferBytes, limits.maxHeaderBytes, 1 << 24);
  int("tcp.maxSynRetries", tcp.maxSynRetries, 0, 16);
  int("tcp.maxReplayRetries", tcp.maxReplayRetries, 0, 16);
  const [lo, hi] = tcp.ephemeralPorts;
  int("tcp.ephemeralPorts[0]", lo, 1024, 65535);
  int("tcp.ephemeralPorts[1]", hi, lo, 65535);
  if (tcp.firstPort !== undefined) int("tcp.firstPort", tcp.firstPort, lo, hi);
  const pool = resolvePoolOptions(cfg.pool);
  const secret = cfg.synCookieSecret;
  if ((typeof secret === "string" ? Buffer.byteLength(secret) : secret.length) < 8) fail("synCookieSecret", "is shorter than 8 bytes");
  return {
    vip: addr("vip", cfg.vip),
    localIp: addr("localIp", cfg.localIp),
    servicePorts: new Set(cfg.servicePorts),
    portMacs: cfg.portMacs.map((m, i) => mac(`portMacs[${i}]`, m)),
    servers,
    synCookieSecret: secret,
    limits,
    tcp: { ...tcp, idleScanPs: tcp.idleScanPs ?? Math.max(1, Math.floor(limits.idleTimeoutPs / 4)) },
    pool,
  };
}

/** One server's configuration checked and completed; `index` is its stable position in the pool. */
export function resolveServer(s: ServerConfig, index: number, portCount: number, field: string): ResolvedServer {
  if (!s.name) fail(`${field}.name`, "is empty");
  const weight = s.weight ?? 1;
  if (!(weight >= 0) || !Number.isFinite(weight)) fail(`${field}.weight`, `= ${String(s.weight)}: expected a number >= 0`);
  const capacity = s.capacity ?? 1;
  if (!(capacity > 0) || !Number.isFinite(capacity)) fail(`${field}.capacity`, `= ${String(s.capacity)}: expected a positive number`);
  return {
    ...s, weight, priority: s.priority ?? 0, upperThreshold: s.upperThreshold ?? 0, lowerThreshold: s.lowerThreshold ?? 0,
    capacity, tags: s.tags ?? {}, index,
    ipU32: addr(`${field}.ip`, s.ip), macBytes: mac(`${field}.mac`, s.mac),
    port: int(`${field}.port`, s.port, 0, portCount - 1), tcpPort: int(`${field}.tcpPort`, s.tcpPort, 1, 65535),
  };
}

export function resolvePoolOptions(given: Partial<CpPoolOptions> = {}): CpPoolOptions {
  const p = { ...DEFAULT_POOL, ...given };
  for (const k of ["aliveIntervalPs", "failTimeoutPs"] as const) {
    if (!(p[k] > 0) || !Number.isFinite(p[k])) fail(`pool.${k}`, `= ${p[k]}: expected a positive time in picoseconds`);
  }
  if (!(p.slowStartPs >= 0) || !Number.isFinite(p.slowStartPs)) fail("pool.slowStartPs", `= ${p.slowStartPs}: expected a time >= 0 in picoseconds`);
  int("pool.missedAlive", p.missedAlive, 1, 1000);
  if (!(p.responseTimeAlpha > 0 && p.responseTimeAlpha <= 1)) fail("pool.responseTimeAlpha", `= ${p.responseTimeAlpha}: expected a number in (0, 1]`);
  if (typeof p.redispatchNonIdempotent !== "boolean") fail("pool.redispatchNonIdempotent", "must be true or false");
  return p;
}

/**
 * Whether classify verifies TCP checksums when a configuration does not say: no. The switch rewrites
 * checksums incrementally (RFC 1624), which carries a wrong checksum through as wrong, so the endpoints
 * still detect a damaged segment; checking on the microengines costs a pass over every payload byte
 * (scenario and device config field `switch.check_tcp_checksum`). The one place this default is set.
 */
export const DEFAULT_CHECK_TCP_CHECKSUM = false;

/** The data plane's Config for this control-plane configuration (what the CP writes before traffic). */
export function switchConfigOf(cfg: CpConfig): SwitchConfig {
  return {
    vip: cfg.vip, localIp: cfg.localIp, servicePorts: cfg.servicePorts, portMacs: cfg.portMacs,
    checkTcpChecksum: cfg.checkTcpChecksum ?? DEFAULT_CHECK_TCP_CHECKSUM,
  };
}
