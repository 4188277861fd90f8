// Data-plane packet fixtures (Katran/PTF style): one input frame, the expected verdict, reason,
// port, output bytes (with a PTF mask of fields the device may rewrite) and ring message.
import type { Dataplane, ProcessResult, RingMessage, SwitchConfig, Verdict } from "../../sim/np/dataplane.js";
import { decode } from "../../sim/packet/decode.js";
import { hexDiff, hexDump } from "../../sim/packet/hex.js";
import { FLAGS } from "../../toolchain/abi/layout.js";

/**
 * Fields the device may rewrite, PTF style: 'eth.src', 'ipv4.ttl', 'ipv4.checksum', 'tcp.seq',
 * 'tcp.options', 'icmp.checksum', 'arp.sha', 'payload', ... (see FIELD_RANGES), or raw byte
 * ranges 'bytes:START-END' (END exclusive). Offsets are taken from the expected frame.
 */
export type Mask = string[];

export interface FixtureExpect {
  verdict: Verdict;
  /** Reason name (REASON members of toolchain/abi/layout.ts), e.g. 'IP_BAD_CHECKSUM'. */
  reason?: string;
  outPort?: number;
  output?: { bytes: Uint8Array; mask?: Mask };
  /** The packet's one ring message matches these fields (RingMessage: type, urlHash, flags, ...). */
  message?: Partial<RingMessage>;
  /** DescFlag bits that must be set / clear in the message (or the descriptor when no message). */
  flagsSet?: number;
  flagsClear?: number;
}

export interface Fixture {
  description: string;
  /** Config changes on top of DEFAULT_CONFIG (e.g. { checkTcpChecksum: true }). */
  config?: Partial<SwitchConfig>;
  /** Runs after configure, before the packet (install flows, fill tables). */
  setup?: (dp: Dataplane) => void;
  inPort: number;
  input: Uint8Array;
  expect: FixtureExpect;
}

// ---------------------------------------------------------------------------------------------
// The network the fixtures live in.

export const VIP = "10.0.0.100";
export const LOCAL_IP = "10.1.0.100";
export const SERVICE_PORT = 80;
/** Port 0 faces the clients, ports 1.. face the servers. */
export const PORT_MACS = ["02:00:00:00:00:10", "02:00:00:00:00:11", "02:00:00:00:00:12", "02:00:00:00:00:13"];
export const CLIENT_PORT = 0;
export const SERVER_PORT = 1;
export const CLIENT = { ip: "192.168.1.10", mac: "aa:bb:cc:00:00:01", port: 40000 };
export const CLIENT2 = { ip: "192.168.1.11", mac: "aa:bb:cc:00:00:02", port: 40001 };
export const SERVER = { ip: "10.1.0.11", mac: "aa:bb:cc:00:01:01", port: 8080 };
export const SERVER2 = { ip: "10.1.0.12", mac: "aa:bb:cc:00:01:02", port: 8080 };

/** Ethernet / IPv4 specs for the usual directions: client -> VIP on port 0, server -> LOCAL_IP on port 1. */
export const CLIENT_ETH = { src: CLIENT.mac, dst: PORT_MACS[CLIENT_PORT] };
export const CLIENT_TO_VIP = { src: CLIENT.ip, dst: VIP };
export const SERVER_ETH = { src: SERVER.mac, dst: PORT_MACS[SERVER_PORT] };
export const SERVER_TO_LOCAL = { src: SERVER.ip, dst: LOCAL_IP };

/** DescFlag bits by name (SYN, ACK, HAS_PAYLOAD, REQUEST_LINE, HOST, HEADERS_END, ...), from the declaration. */
export const DESCF: Record<string, number> = Object.fromEntries(
  FLAGS.find((f) => f.prefix === "DESCF_")!.bits.map((b, i) => [b.name, 1 << i]),
);

export const DEFAULT_CONFIG: SwitchConfig = {
  vip: VIP,
  localIp: LOCAL_IP,
  servicePorts: [SERVICE_PORT],
  portMacs: PORT_MACS,
  checkTcpChecksum: false,
};

// ---------------------------------------------------------------------------------------------
// Masks

type Range = [start: number, end: number];

/** Byte range of each maskable field relative to its header; 'options' end at the header length. */
const FIELD_RANGES: Record<string, Record<string, Range>> = {
  eth: { dst: [0, 6], src: [6, 12], type: [12, 14] },
  arp: { htype: [0, 2], ptype: [2, 4], hlen: [4, 5], plen: [5, 6], op: [6, 8], sha: [8, 14], spa: [14, 18], tha: [18, 24], tpa: [24, 28] },
  ipv4: { version: [0, 1], ihl: [0, 1], tos: [1, 2], totalLength: [2, 4], id: [4, 6], flags: [6, 8], fragOffset: [6, 8], ttl: [8, 9], proto: [9, 10], checksum: [10, 12], src: [12, 16], dst: [16, 20], options: [20, -1] },
  tcp: { sport: [0, 2], dport: [2, 4], seq: [4, 8], ack: [8, 12], dataOffset: [12, 13], flags: [13, 14], win: [14, 16], checksum: [16, 18], urg: [18, 20], options: [20, -1] },
  icmp: { type: [0, 1], code: [1, 2], checksum: [2, 4], id: [4, 6], seq: [6, 8], data: [8, -2] },
  udp: { sport: [0, 2], dport: [2, 4], length: [4, 6], checksum: [6, 8] },
};

interface FrameLayout {
  starts: Record<string, number | undefined>;
  ends: Record<string, number | undefined>;
  length: number;
}

function layoutOf(frame: Uint8Array): FrameLayout {
  const d = decode(frame);
  const l3 = d.offsets.l3;
  const l4 = d.offsets.l4;
  const starts: FrameLayout["starts"] = { eth: d.eth ? 0 : undefined, arp: d.arp ? l3 : undefined, ipv4: d.ipv4 ? l3 : undefined };
  const ends: FrameLayout["ends"] = {};
  if (d.ipv4 && l3 !== undefined) ends.ipv4 = l3 + d.ipv4.ihl * 4;
  if (d.tcp) {
    starts.tcp = l4;
    ends.tcp = d.offsets.payload;
  }
  if (d.icmp) {
    starts.icmp = l4;
    ends.icmp = frame.length;
  }
  if (d.udp) starts.udp = l4;
  starts.payload = d.offsets.payload;
  return { starts, ends, length: frame.length };
}

function maskRange(name: string, layout: FrameLayout): Range {
  const raw = /^bytes:(\d+)-(\d+)$/.exec(name);
  if (raw) return [Number(raw[1]), Number(raw[2])];
  if (name === "payload") {
    const s = layout.starts.payload;
    if (s === undefined) throw new Error(`mask '${name}': the expected frame has no payload offset`);
    return [s, layout.length];
  }
  const [header, field] = name.split(".");
  const range = FIELD_RANGES[header]?.[field];
  if (!range) throw new Error(`mask '${name}': unknown field (known: ${Object.entries(FIELD_RANGES).flatMap(([h, fs]) => Object.keys(fs).map((f) => `${h}.${f}`)).join(", ")}, payload, bytes:A-B)`);
  const start = layout.starts[header];
  if (start === undefined) throw new Error(`mask '${name}': the expected frame has no ${header} header`);
  const end = range[1] === -1 || range[1] === -2 ? layout.ends[header] ?? layout.length : start + range[1];
  return [start + range[0], end];
}

/** Per-byte ignore flags for `mask` over `frame` (the expected frame). */
export function maskBytes(frame: Uint8Array, mask: Mask = []): boolean[] {
  const ignored = new Array<boolean>(frame.length).fill(false);
  const layout = layoutOf(frame);
  for (const name of mask) {
    const [a, b] = maskRange(name, layout);
    for (let i = a; i < Math.min(b, frame.length); i++) ignored[i] = true;
  }
  return ignored;
}

/** Name of the field at `offset` of `frame`, for diffs ('ipv4.ttl', 'tcp.checksum', 'payload[3]'). */
export function fieldAt(frame: Uint8Array, offset: number): string {
  const layout = layoutOf(frame);
  let best: string | undefined;
  for (const [header, fields] of Object.entries(FIELD_RANGES)) {
    const start = layout.starts[header];
    if (start === undefined) continue;
    for (const [field, [a, b]] of Object.entries(fields)) {
      const end = b < 0 ? layout.ends[header] ?? layout.length : start + b;
      if (offset >= start + a && offset < end) {
        best = `${header}.${field}`;
        break;
      }
    }
    if (best) return best;
  }
  const p = layout.starts.payload;
  if (p !== undefined && offset >= p) return `payload[${offset - p}]`;
  return `byte ${offset}`;
}

// ---------------------------------------------------------------------------------------------
// Running

/** Compare `actual` with `expected` under `mask`; undefined when equal, else a readable diff. */
export function compareFrames(expected: Uint8Array, actual: Uint8Array, mask?: Mask): string | undefined {
  const ignored = maskBytes(expected, mask);
  let same = expected.length === actual.length;
  for (let i = 0; same && i < expected.length; i++) if (!ignored[i] && expected[i] !== actual[i]) same = false;
  if (same) return undefined;
  const lengths = expected.length === actual.length ? "" : `length: expected ${expected.length}, actual ${actual.length}\n`;
  return lengths + hexDiff(expected, actual, ignored, (i) => fieldAt(expected, i));
}

/** Every way `result` differs from `fx.expect`, as lines; empty when it matches. */
export function checkResult(fx: Fixture, r: ProcessResult, dropCountDelta?: number): string[] {
  const e = fx.expect;
  const problems: string[] = [];
  if (r.trap) problems.push(`image ${r.trap.image} trapped: ${r.trap.error}`);
  if (r.verdict !== e.verdict) problems.push(`verdict: expected ${e.verdict}, got ${r.verdict}${r.reason ? ` (${r.reason})` : ""}`);
  if (e.reason !== undefined && r.reason !== e.reason) problems.push(`reason: expected ${e.reason}, got ${r.reason ?? "none"}`);
  if (r.verdict === "DROP" && dropCountDelta !== undefined && dropCountDelta !== 1) problems.push(`counter of ${r.reason}: went up by ${dropCountDelta}, expected 1`);
  if (e.outPort !== undefined && r.outPort !== e.outPort) problems.push(`out port: expected ${e.outPort}, got ${r.outPort ?? "none"}`);
  if (e.output) {
    const diff = compareFrames(e.output.bytes, r.frame, e.output.mask);
    if (diff) problems.push(`output frame differs${e.output.mask?.length ? ` (masked: ${e.output.mask.join(", ")})` : ""}:\n${diff}`);
  }
  if (e.message) {
    const toCp = r.messages.filter((m) => m.ring === "TO_CP");
    if (toCp.length !== 1) problems.push(`message: expected one on TO_CP, got ${toCp.length}`);
    else {
      for (const [k, v] of Object.entries(e.message)) {
        const got = (toCp[0] as unknown as Record<string, unknown>)[k];
        if (got !== v) problems.push(`message.${k}: expected ${fmt(v)}, got ${fmt(got)}`);
      }
    }
  }
  if (e.flagsSet !== undefined || e.flagsClear !== undefined) {
    const flags = r.messages[0]?.flags ?? (r.desc.FLAGS as number);
    if (e.flagsSet !== undefined && (flags & e.flagsSet) !== e.flagsSet) problems.push(`flags: expected bits 0x${e.flagsSet.toString(16)} set, flags are 0x${flags.toString(16)}`);
    if (e.flagsClear !== undefined && (flags & e.flagsClear) !== 0) problems.push(`flags: expected bits 0x${e.flagsClear.toString(16)} clear, flags are 0x${flags.toString(16)}`);
  }
  return problems;
}

function fmt(v: unknown): string {
  return typeof v === "number" ? `${v} (0x${(v >>> 0).toString(16)})` : String(v);
}

/** Configure, set up, process the input, and throw one readable error listing every mismatch. */
export function runFixture(dp: Dataplane, fx: Fixture): ProcessResult {
  dp.configure({ ...DEFAULT_CONFIG, ...fx.config });
  fx.setup?.(dp);
  const before = dp.counters().reasons;
  const r = dp.process(fx.inPort, fx.input);
  const delta = r.reason !== undefined ? dp.counters().reasons[r.reason] - before[r.reason] : undefined;
  const problems = checkResult(fx, r, delta);
  if (problems.length) {
    throw new Error(
      `fixture "${fx.description}"\n` + problems.map((p) => `  - ${p}`).join("\n") + `\ninput (port ${fx.inPort}, ${fx.input.length} bytes):\n${hexDump(fx.input)}`,
    );
  }
  return r;
}
