// Data-plane fuzzer shared by test/dataplane/fuzz.test.ts and scripts/fuzz-long.ts: a configured data
// plane with spliced flows installed through the CP's table adapter, valid builder packets for those
// flows and for everything classify answers, random bytes, and mutations of all of them. The oracle
// keeps its own copy of every installed direction (key -> rewrite), so a forwarded segment is checked
// against the flow its 4-tuple belongs to, not against what the tables say.
import { installSplice, readFlow, setFlowState, type FlowDirection } from "../../abi/flow-table.js";
import { packet, type TcpOption } from "../../packet/builder.js";
import { ip4ToU32, macBytes } from "../../packet/addr.js";
import { fixChecksums, mutate, MUTATIONS, tcpOffsets, type MutationName } from "../../packet/mutate.js";
import { internetChecksum, tcpChecksum } from "../../packet/checksum.js";
import { hex } from "../../packet/hex.js";
import type { Dataplane, DataplaneOptions, ProcessResult } from "../np/dataplane.js";
import { Random } from "../../lib/random.js";
import { Rings } from "../np/rings.js";

const RING_TO_CP = Rings.id("TO_CP");

/**
 * Data-plane options for the fuzz world of `seed`: every other world has a tiny exception ring that
 * the (absent) CP empties only now and then, so the images also run with the ring full.
 */
export function fuzzDataplaneOptions(seed: number): DataplaneOptions {
  return (seed >>> 1) & 1 ? { rings: { TO_CP: 4 }, drainToCp: false } : {};
}

export const FUZZ_VIP = "10.0.0.100";
export const FUZZ_LOCAL_IP = "10.1.0.100";
export const FUZZ_PORT_MACS = ["02:00:00:00:00:10", "02:00:00:00:00:11", "02:00:00:00:00:12", "02:00:00:00:00:13"];
const SERVICE_PORTS = [80, 8080];
const SERVERS = [
  { ip: "10.1.0.11", mac: "aa:bb:cc:00:01:01", port: 8080, switchPort: 1 },
  { ip: "10.1.0.12", mac: "aa:bb:cc:00:01:02", port: 80, switchPort: 2 },
  { ip: "10.1.0.13", mac: "aa:bb:cc:00:01:03", port: 8000, switchPort: 3 },
];
/** Largest frame the fuzzer makes (the harness accepts up to BUFFER_SIZE). */
const MAX_FRAME = 2048;

interface FuzzFlow {
  client: { ip: string; mac: string; port: number };
  service: number;
  server: (typeof SERVERS)[number];
  localPort: number;
  ts: boolean;
  sack: boolean;
}

export type PacketKind = "splice-fwd" | "splice-rev" | "client" | "server" | "arp" | "icmp" | "random" | "random-ip";

/** One installed direction of a splice, as the fuzz world installed it (the oracle's copy). */
export interface InstalledDirection {
  dir: FlowDirection;
  /** Its flow-table entry (for the state, which the data plane itself moves to CLOSING on FIN/RST). */
  index: number;
}

export interface FuzzPacket {
  inPort: number;
  frame: Uint8Array;
  kind: PacketKind;
  mutations: MutationName[];
  /**
   * The spliced direction the frame's 4-tuple (after mutation) belongs to; null when the generator
   * knows it belongs to none; absent when no oracle looked (a packet made elsewhere).
   */
  spliced?: InstalledDirection | null;
}

export interface FuzzStats {
  packets: number;
  ranClassify: number;
  ranSplice: number;
  byVerdict: Record<string, number>;
  byReason: Record<string, number>;
  byKind: Record<string, number>;
  traps: { image: string; error: string; inPort: number; frame: string; kind: string; mutations: string[] }[];
  /**
   * Results that break the image contract other than traps (unknown verdict, DROP without reason, wrong
   * checksums), and forwards to the wrong place: a spliced segment not rewritten to its own flow, a
   * segment of no flow forwarded as if spliced.
   */
  violations: string[];
  /** Forwarded segments of spliced flows whose rewrite the oracle compared with their flow's. */
  splicedChecked: number;
}

export function emptyStats(): FuzzStats {
  return { packets: 0, ranClassify: 0, ranSplice: 0, byVerdict: {}, byReason: {}, byKind: {}, traps: [], violations: [], splicedChecked: 0 };
}

const keyString = (saddr: number, daddr: number, sport: number, dport: number) => `${saddr >>> 0}:${daddr >>> 0}:${sport}:${dport}`;

/** Configure `dp` and install `flows` splices (some CLOSING or CLOSED); returns the generator for them. */
export function setUpFuzzWorld(dp: Dataplane, seed: number, flows = 48): PacketFuzzer {
  dp.configure({ vip: FUZZ_VIP, localIp: FUZZ_LOCAL_IP, servicePorts: SERVICE_PORTS, portMacs: FUZZ_PORT_MACS, checkTcpChecksum: seed % 2 === 0 });
  const rng = new Random(seed ^ 0x9e3779b9);
  const installed: FuzzFlow[] = [];
  const directions = new Map<string, InstalledDirection>();
  const mem = dp.memoryBytes();
  for (let i = 0; installed.length < flows && i < flows * 4; i++) {
    const f: FuzzFlow = {
      client: { ip: `192.168.${rng.int(0, 255)}.${rng.int(1, 254)}`, mac: `aa:bb:cc:10:00:${(i & 0xff).toString(16).padStart(2, "0")}`, port: rng.int(1024, 65535) },
      service: rng.pick(SERVICE_PORTS),
      server: rng.pick(SERVERS),
      localPort: 40000 + i,
      ts: rng.chance(0.7),
      sack: rng.chance(0.7),
    };
    const shift = rng.chance(0.6) ? 0 : rng.chance(0.9) ? rng.int(-4, 4) : rng.int(-16, 16);
    const fwd: FlowDirection = {
      key: { saddr: ip4ToU32(f.client.ip), daddr: ip4ToU32(FUZZ_VIP), sport: f.client.port, dport: f.service },
      rewrite: { saddr: ip4ToU32(FUZZ_LOCAL_IP), daddr: ip4ToU32(f.server.ip), sport: f.localPort, dport: f.server.port },
      outPort: f.server.switchPort, nextHopMac: macBytes(f.server.mac),
      seqDelta: rng.u32(), ackDelta: rng.u32(),
      timestamps: f.ts ? { tsvalDelta: rng.u32(), tsecrDelta: rng.u32() } : undefined, sack: f.sack, winShift: shift,
    };
    const rev: FlowDirection = {
      key: { saddr: ip4ToU32(f.server.ip), daddr: ip4ToU32(FUZZ_LOCAL_IP), sport: f.server.port, dport: f.localPort },
      rewrite: { saddr: ip4ToU32(FUZZ_VIP), daddr: ip4ToU32(f.client.ip), sport: f.service, dport: f.client.port },
      outPort: 0, nextHopMac: macBytes(f.client.mac),
      seqDelta: (-fwd.ackDelta) >>> 0, ackDelta: (-fwd.seqDelta) >>> 0,
      timestamps: f.ts ? { tsvalDelta: (-fwd.timestamps!.tsecrDelta) >>> 0, tsecrDelta: (-fwd.timestamps!.tsvalDelta) >>> 0 } : undefined, sack: f.sack, winShift: -shift,
    };
    try {
      const idx = installSplice(mem, { fwd, rev });
      if (rng.chance(0.1)) setFlowState(mem, idx.fwd, rng.chance(0.5) ? "CLOSING" : "CLOSED");
      installed.push(f);
      for (const [dir, index] of [[fwd, idx.fwd], [rev, idx.rev]] as const) directions.set(keyString(dir.key.saddr, dir.key.daddr, dir.key.sport, dir.key.dport), { dir, index });
    } catch {
      // duplicate 4-tuple or full bucket: draw another
    }
  }
  return new PacketFuzzer(new Random(seed), installed, directions);
}

/** Makes fuzz packets: valid builder packets of every kind, half of them mutated, plus random bytes. */
export class PacketFuzzer {
  constructor(readonly rng: Random, private readonly flows: FuzzFlow[], private readonly directions = new Map<string, InstalledDirection>()) {}

  /** The installed direction whose key is this frame's IPv4/TCP 4-tuple, or null. */
  splicedDirectionOf(frame: Uint8Array): InstalledDirection | null {
    const o = tcpOffsets(frame);
    if (o?.tcp === undefined) return null;
    const dv = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
    return this.directions.get(keyString(dv.getUint32(o.ip + 12), dv.getUint32(o.ip + 16), dv.getUint16(o.tcp), dv.getUint16(o.tcp + 2))) ?? null;
  }

  next(): FuzzPacket {
    const rng = this.rng;
    const base = this.base();
    const mutations: MutationName[] = [];
    let frame = base.frame;
    if (base.kind !== "random" && rng.chance(base.kind.startsWith("splice") ? 0.4 : 0.6)) {
      const n = rng.chance(0.7) ? 1 : rng.int(2, 4);
      for (let i = 0; i < n; i++) {
        const m = rng.pick(MUTATIONS);
        mutations.push(m);
        frame = mutate(rng, frame, m, MAX_FRAME);
      }
      // Mostly keep the checksums right so the mutation reaches the checks after them.
      if (rng.chance(0.8)) fixChecksums(frame, rng.chance(0.8));
    }
    return { inPort: base.inPort, frame, kind: base.kind, mutations, spliced: this.splicedDirectionOf(frame) };
  }

  private base(): { inPort: number; frame: Uint8Array; kind: PacketKind } {
    const rng = this.rng;
    const r = rng.below(100);
    if (this.flows.length && r < 38) return this.spliced("splice-fwd");
    if (this.flows.length && r < 68) return this.spliced("splice-rev");
    if (r < 76) return this.client();
    if (r < 80) return this.server();
    if (r < 84) return this.arp();
    if (r < 88) return this.icmp();
    if (r < 94) return { inPort: rng.below(4), frame: rng.bytes(rng.chance(0.2) ? rng.below(64) : rng.int(0, 1518)), kind: "random" };
    return this.randomIp();
  }

  private tcpOptions(syn: boolean): TcpOption[] {
    const rng = this.rng;
    const opts: TcpOption[] = [];
    if (syn) {
      if (rng.chance(0.8)) opts.push({ kind: "mss", value: rng.pick([536, 1460, 8960, rng.below(65536)]) });
      if (rng.chance(0.6)) opts.push({ kind: "sackPermitted" });
      if (rng.chance(0.6)) opts.push({ kind: "wscale", shift: rng.pick([0, 7, 14, 15, 255]) });
    }
    if (rng.chance(0.6)) {
      if (rng.chance(0.5)) opts.push({ kind: "nop" }, { kind: "nop" });
      opts.push({ kind: "ts", val: rng.u32(), ecr: rng.u32() });
    }
    if (!syn && rng.chance(0.35)) {
      if (rng.chance(0.5)) opts.push({ kind: "nop" }, { kind: "nop" });
      const blocks: [number, number][] = [];
      const n = rng.int(1, opts.length ? 3 : 4);
      for (let i = 0; i < n; i++) {
        const l = rng.u32();
        blocks.push([l, (l + rng.int(1, 100000)) >>> 0]);
      }
      opts.push({ kind: "sack", blocks });
    }
    if (rng.chance(0.1)) opts.push({ kind: "raw", bytes: Uint8Array.of(rng.int(9, 254), 2) });
    if (rng.chance(0.1)) opts.push({ kind: "eol" });
    // TCP options fit in 40 bytes.
    while (opts.reduce((n, o) => n + optLen(o), 0) > 40) opts.pop();
    return opts;
  }

  private payload(http: boolean): Uint8Array | string {
    const rng = this.rng;
    if (rng.chance(0.4)) return "";
    if (http && rng.chance(0.6)) {
      const host = rng.pick(["www.example.com", "Shop.Example.ORG:8080", "", " x ", "a".repeat(rng.below(400))]);
      const req = `${rng.pick(["GET", "POST", "HEAD", "get", "PROPFIND"])} /${"p".repeat(rng.below(200))}?q=${rng.u32()} HTTP/1.${rng.below(3)}\r\nHost: ${host}\r\nUser-Agent: fuzz\r\n\r\n`;
      const cut = rng.chance(0.3) ? rng.below(req.length + 1) : req.length;
      return req.slice(0, cut);
    }
    return rng.bytes(rng.chance(0.7) ? rng.below(200) : rng.int(200, 1400));
  }

  private flags(): string {
    return this.rng.pick(["A", "A", "PA", "PA", "FA", "R", "RA", "S", "SA", "FPA", "U", "AE", "AC"]);
  }

  private spliced(kind: "splice-fwd" | "splice-rev"): { inPort: number; frame: Uint8Array; kind: PacketKind } {
    const rng = this.rng;
    const f = rng.pick(this.flows);
    const flags = this.flags();
    const syn = flags.includes("S");
    const tcp = { seq: rng.u32(), ack: rng.u32(), flags, win: rng.pick([0, 1, 512, 29200, 65535, rng.below(65536)]), options: this.tcpOptions(syn) };
    const ttl = rng.chance(0.04) ? rng.pick([0, 1, 2]) : rng.pick([64, 128, 255, 3]);
    const frame = kind === "splice-fwd"
      ? packet().eth({ src: f.client.mac, dst: FUZZ_PORT_MACS[0] }).ipv4({ src: f.client.ip, dst: FUZZ_VIP, ttl, id: rng.below(65536) })
        .tcp({ sport: f.client.port, dport: f.service, ...tcp }).payload(this.payload(true)).build()
      : packet().eth({ src: f.server.mac, dst: FUZZ_PORT_MACS[f.server.switchPort] }).ipv4({ src: f.server.ip, dst: FUZZ_LOCAL_IP, ttl, id: rng.below(65536) })
        .tcp({ sport: f.server.port, dport: f.localPort, ...tcp }).payload(this.payload(false)).build();
    return { inPort: kind === "splice-fwd" ? 0 : f.server.switchPort, frame, kind };
  }

  private client(): { inPort: number; frame: Uint8Array; kind: PacketKind } {
    const rng = this.rng;
    const flags = rng.chance(0.4) ? "S" : this.flags();
    const frame = packet().eth({ src: "aa:bb:cc:20:00:01", dst: FUZZ_PORT_MACS[0] })
      .ipv4({ src: `172.16.${rng.below(256)}.${rng.below(256)}`, dst: rng.chance(0.9) ? FUZZ_VIP : FUZZ_LOCAL_IP })
      .tcp({ sport: rng.int(1, 65535), dport: rng.chance(0.85) ? rng.pick(SERVICE_PORTS) : rng.below(65536), seq: rng.u32(), ack: rng.u32(), flags, options: this.tcpOptions(flags.includes("S")) })
      .payload(this.payload(true)).build();
    return { inPort: 0, frame, kind: "client" };
  }

  private server(): { inPort: number; frame: Uint8Array; kind: PacketKind } {
    const rng = this.rng;
    const s = rng.pick(SERVERS);
    const frame = packet().eth({ src: s.mac, dst: FUZZ_PORT_MACS[s.switchPort] }).ipv4({ src: s.ip, dst: FUZZ_LOCAL_IP })
      .tcp({ sport: s.port, dport: rng.int(1024, 65535), seq: rng.u32(), ack: rng.u32(), flags: rng.pick(["SA", "A", "PA", "FA", "R"]), options: this.tcpOptions(true) })
      .payload(this.payload(false)).build();
    return { inPort: s.switchPort, frame, kind: "server" };
  }

  private arp(): { inPort: number; frame: Uint8Array; kind: PacketKind } {
    const rng = this.rng;
    const frame = packet().eth({ src: "aa:bb:cc:20:00:02", dst: "ff:ff:ff:ff:ff:ff" })
      .arp({ op: rng.chance(0.9) ? "request" : rng.below(65536), sha: "aa:bb:cc:20:00:02", spa: "192.168.0.9", tpa: rng.pick([FUZZ_VIP, FUZZ_LOCAL_IP, "10.9.9.9"]) })
      .build();
    return { inPort: rng.below(8), frame, kind: "arp" };
  }

  private icmp(): { inPort: number; frame: Uint8Array; kind: PacketKind } {
    const rng = this.rng;
    const frame = packet().eth({ src: "aa:bb:cc:20:00:03", dst: FUZZ_PORT_MACS[0] })
      .ipv4({ src: "192.168.0.9", dst: rng.pick([FUZZ_VIP, FUZZ_LOCAL_IP]), ttl: rng.below(256) })
      .icmp({ type: rng.chance(0.85) ? 8 : rng.below(256), code: rng.chance(0.9) ? 0 : rng.below(256), id: rng.below(65536), seq: rng.below(65536), data: rng.bytes(rng.chance(0.5) ? rng.below(64) : rng.int(64, 1400)) })
      .build();
    return { inPort: rng.below(4), frame, kind: "icmp" };
  }

  /** Ethernet + a plausible IPv4 header to us, then random bytes. */
  private randomIp(): { inPort: number; frame: Uint8Array; kind: PacketKind } {
    const rng = this.rng;
    const frame = packet().eth({ src: "aa:bb:cc:20:00:04", dst: FUZZ_PORT_MACS[0] })
      .ipv4({ src: "192.168.0.10", dst: rng.pick([FUZZ_VIP, FUZZ_LOCAL_IP]), proto: rng.pick([6, 6, 6, 1, 17, rng.below(256)]) })
      .payload(rng.bytes(rng.int(0, 200))).build();
    return { inPort: rng.below(4), frame, kind: "random-ip" };
  }
}

function optLen(o: TcpOption): number {
  switch (o.kind) {
    case "mss": return 4;
    case "wscale": return 3;
    case "sackPermitted": return 2;
    case "sack": return 2 + 8 * o.blocks.length;
    case "ts": return 10;
    case "nop": case "eol": return 1;
    case "raw": return o.bytes.length;
  }
}

/** Process one fuzz packet and account for it; frees the buffer of TO_CP packets (no CP here). */
export function runFuzzPacket(dp: Dataplane, p: FuzzPacket, stats: FuzzStats): ProcessResult {
  // The entry's state as the packet finds it (the data plane moves it to CLOSING on a FIN or RST).
  const stateBefore = p.spliced ? readFlow(dp.memoryBytes(), p.spliced.index).state : undefined;
  const input = p.frame;
  const r = dp.process(p.inPort, p.frame);
  if (r.verdict === "TO_CP") dp.freeBuffer(r.descAddr);
  if (stats.packets % 64 === 0) dp.rings.drain(RING_TO_CP);
  stats.packets++;
  if (r.ran.includes("classify")) stats.ranClassify++;
  if (r.ran.includes("splice")) stats.ranSplice++;
  stats.byVerdict[r.verdict] = (stats.byVerdict[r.verdict] ?? 0) + 1;
  if (r.reason) stats.byReason[r.reason] = (stats.byReason[r.reason] ?? 0) + 1;
  stats.byKind[p.kind] = (stats.byKind[p.kind] ?? 0) + 1;
  if (r.trap) {
    stats.traps.push({ image: r.trap.image, error: r.trap.error, inPort: p.inPort, frame: hex(p.frame), kind: p.kind, mutations: p.mutations });
  } else if (r.verdict === "INVALID" || r.verdict === "NEXT") {
    stats.violations.push(`${r.ran.join(" -> ")} returned ${r.rawVerdict} (${r.verdict}) for ${p.kind} [${p.mutations.join(",")}] port ${p.inPort}: ${hex(p.frame)}`);
  } else if (r.verdict === "DROP" && (!r.reason || r.reason === "NONE")) {
    stats.violations.push(`${r.ran.join(" -> ")} dropped without a reason: ${p.kind} [${p.mutations.join(",")}] port ${p.inPort}: ${hex(p.frame)}`);
  } else if (r.verdict === "FORWARD") {
    const bad = checksumFault(input, r.frame) ?? (p.spliced !== undefined ? forwardFault(input, r, p.spliced, stateBefore) : undefined);
    if (p.spliced && !bad) stats.splicedChecked++;
    if (bad) stats.violations.push(`${r.ran.join(" -> ")} forwarded ${bad}: ${p.kind} [${p.mutations.join(",")}] port ${p.inPort}\n in:  ${hex(input)}\n out: ${hex(r.frame)}`);
  }
  return r;
}

const u32At = (f: Uint8Array, at: number) => ((f[at] << 24) | (f[at + 1] << 16) | (f[at + 2] << 8) | f[at + 3]) >>> 0;
const u16At = (f: Uint8Array, at: number) => (f[at] << 8) | f[at + 1];
const macHex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join(":");
const ipText = (n: number) => [n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff].join(".");

/**
 * Where a forwarded frame went wrong, if it did. A TCP segment of no spliced flow must not be forwarded
 * at all (classify itself answers only ARP and ICMP echo); one of a spliced flow must leave as that
 * flow's rewrite says: its out port, next-hop and port MACs, addresses, ports, TTL one less, sequence
 * and acknowledgement numbers moved by its deltas; never while the flow is CLOSED, nor a pure SYN on a
 * CLOSING flow (a new connection, the CP's).
 */
function forwardFault(input: Uint8Array, r: ProcessResult, spliced: InstalledDirection | null, state: string | undefined): string | undefined {
  const inTcp = tcpOffsets(input)?.tcp !== undefined;
  if (!spliced) {
    if (r.ran.includes("splice")) return "a packet of no spliced flow through splice";
    if (inTcp) return "a TCP segment of no spliced flow";
    return undefined;
  }
  const { dir } = spliced;
  const flow = `flow ${ipText(dir.key.saddr)}:${dir.key.sport} -> ${ipText(dir.key.daddr)}:${dir.key.dport} (entry ${spliced.index})`;
  if (state === "CLOSED") return `a segment of CLOSED ${flow}`;
  const inFlags = input[tcpOffsets(input)!.tcp! + 13];
  if (state === "CLOSING" && (inFlags & 0x17) === 0x02) return `a pure SYN on CLOSING ${flow} as if spliced`;
  const o = tcpOffsets(r.frame);
  if (o?.tcp === undefined) return `a segment of ${flow} as a frame that is not IPv4/TCP`;
  const f = r.frame, ip = o.ip, tcp = o.tcp, inIp = tcpOffsets(input)!.ip, inTcpAt = tcpOffsets(input)!.tcp!;
  const want = (what: string, got: number | string, expected: number | string) => (got === expected ? undefined : `${what} ${got}, its rewrite says ${expected}`);
  const fault =
    want("out port", r.outPort ?? -1, dir.outPort) ??
    want("Ethernet destination", macHex(f.subarray(0, 6)), macHex(dir.nextHopMac)) ??
    want("Ethernet source", macHex(f.subarray(6, 12)), FUZZ_PORT_MACS[dir.outPort] ?? "(no such port)") ??
    want("source address", ipText(u32At(f, ip + 12)), ipText(dir.rewrite.saddr)) ??
    want("destination address", ipText(u32At(f, ip + 16)), ipText(dir.rewrite.daddr)) ??
    want("source port", u16At(f, tcp), dir.rewrite.sport) ??
    want("destination port", u16At(f, tcp + 2), dir.rewrite.dport) ??
    want("TTL", f[ip + 8], input[inIp + 8] - 1) ??
    want("sequence number", u32At(f, tcp + 4), (u32At(input, inTcpAt + 4) + dir.seqDelta) >>> 0) ??
    (inFlags & 0x10 ? want("acknowledgement number", u32At(f, tcp + 8), (u32At(input, inTcpAt + 8) + dir.ackDelta) >>> 0) : undefined);
  return fault && `a segment of ${flow} with ${fault}`;
}

/** Whether the TCP checksum of an IPv4/TCP frame verifies (over the segment its total length gives). */
function tcpChecksumOk(f: Uint8Array): boolean | undefined {
  const o = tcpOffsets(f);
  if (o?.tcp === undefined) return undefined;
  const seg = f.subarray(o.tcp, o.tcp + o.tcpLen!);
  return tcpChecksum(f.subarray(o.ip + 12, o.ip + 16), f.subarray(o.ip + 16, o.ip + 20), seg) === ((seg[16] << 8) | seg[17]);
}

/**
 * A forwarded frame must carry correct checksums: the IPv4 header always (classify verified it on the
 * way in), ICMP replies always, TCP whenever the arriving segment's checksum was right.
 */
function checksumFault(input: Uint8Array, output: Uint8Array): string | undefined {
  const o = tcpOffsets(output);
  if (!o) return undefined;
  const ihl = (output[o.ip] & 0xf) * 4;
  if (internetChecksum(output.subarray(o.ip, o.ip + ihl)) !== 0) return "a frame with a wrong IPv4 header checksum";
  if (output[o.ip + 9] === 1) {
    const total = (output[o.ip + 2] << 8) | output[o.ip + 3];
    if (internetChecksum(output.subarray(o.ip + ihl, o.ip + total)) !== 0) return "an ICMP message with a wrong checksum";
  }
  if (tcpChecksumOk(input) && tcpChecksumOk(output) === false) return "a segment whose TCP checksum no longer verifies";
  return undefined;
}

export function formatTrap(t: FuzzStats["traps"][number]): string {
  return `image ${t.image} trapped (${t.error}) on a ${t.kind} packet [mutations: ${t.mutations.join(", ") || "none"}] in port ${t.inPort}:\n${t.frame}`;
}
