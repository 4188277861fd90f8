// A simulated host: one Ethernet interface with a MAC and an IPv4 address wired to one link,
// sending everything to its next hop (the switch port), answering ARP for its own address
// (RFC 826), and running TCP: listening sockets, active opens and the demultiplexing of
// received segments to connections (RST for segments that match none, RFC 9293 3.10.7.1).
import type { Scheduler } from "../engine/scheduler.js";
import type { Link, LinkSide, NetPort } from "../net/link.js";
import { Random } from "../../lib/random.js";
import { ip4Bytes, ip4ToU32, macBytes, type Ip4, type Mac } from "../../packet/addr.js";
import { packet } from "../../packet/builder.js";
import { decode } from "../../packet/decode.js";
import { DEFAULT_TCP_CONFIG, TcpCounters, type TcpConfig } from "./config.js";
import { TcpConnection, type TcpHandlers, type TcpHostServices } from "./connection.js";
import { TcpState } from "./state.js";
import { seqAdd, seqGt } from "../../packet/seq.js";
import { ACK, FIN, FRAME_VERDICT_TEXT, FrameVerdict, ParsedTcp, RST, SYN, TcpFrameFields, allocTcpFrame, parseTcpFrame, sealTcpFrame } from "../../packet/tcp-wire.js";

export interface HostOptions {
  name?: string;
  mac: Mac;
  ip: Ip4;
  /** MAC of the next hop (the switch port this host is wired to): the destination of every frame. */
  nextHopMac: Mac;
  /** Seed for ISNs, timestamp offsets and ephemeral ports. */
  seed: number;
  tcp?: Partial<TcpConfig>;
  /** Ephemeral port range for active opens (Linux: 32768-60999). */
  ephemeralPorts?: [number, number];
}

/** Why a received frame was not given to a connection, beyond the frame verdicts. */
export enum HostDrop {
  NOT_FOR_US_MAC = 11, // numbered on from FrameVerdict
  NOT_FOR_US_IP = 12,
  NO_CONNECTION = 13,
  ARP_IGNORED = 14,
}
const HOST_DROP_TEXT = ["not our MAC", "not our IP", "no connection or listener", "ARP not for us"];
if (FRAME_VERDICT_TEXT.length !== HostDrop.NOT_FOR_US_MAC) throw new Error("HostDrop must number on from FrameVerdict");

/** Drop-reason names, indexed like Host.drops. */
export const HOST_DROP_REASONS: readonly string[] = [...FRAME_VERDICT_TEXT, ...HOST_DROP_TEXT];

export type ConnectionListener = (conn: TcpConnection) => void;

export class Host implements NetPort, TcpHostServices {
  readonly name: string;
  readonly mac: Uint8Array;
  readonly ip: number;
  readonly ipText: string;
  readonly nextHopMac: Uint8Array;
  readonly config: TcpConfig;
  readonly counters = new TcpCounters();
  /** Frames dropped, indexed by reason (HOST_DROP_REASONS). ARP and TCP frames handled are not counted. */
  readonly drops: number[] = new Array<number>(HOST_DROP_REASONS.length).fill(0);
  framesReceived = 0;
  framesSent = 0;
  arpRepliesSent = 0;

  private readonly rng: Random;
  private readonly scratch = new TcpFrameFields();
  private readonly parsed = new ParsedTcp();
  /** localPort -> (remoteIp * 65536 + remotePort) -> connection. */
  private readonly conns = new Map<number, Map<number, TcpConnection>>();
  private readonly listeners = new Map<number, ConnectionListener>();
  private ipId: number;
  private nextEphemeral: number;
  private readonly ephemeral: [number, number];
  private link: Link | undefined;
  private side: LinkSide = 0;

  constructor(readonly sched: Scheduler, options: HostOptions) {
    this.name = options.name ?? String(options.ip);
    this.mac = macBytes(options.mac);
    this.ip = ip4ToU32(options.ip);
    this.ipText = Array.from(ip4Bytes(options.ip)).join(".");
    this.nextHopMac = macBytes(options.nextHopMac);
    this.config = { ...DEFAULT_TCP_CONFIG, ...options.tcp };
    if (this.config.wscale > 14) throw new RangeError(`window scale ${this.config.wscale} above 14 (RFC 7323 2.3)`);
    this.rng = new Random(options.seed);
    this.ipId = this.rng.below(0x10000);
    this.ephemeral = options.ephemeralPorts ?? [32768, 60999];
    this.nextEphemeral = this.ephemeral[0] + this.rng.below(this.ephemeral[1] - this.ephemeral[0] + 1);
    this.scratch.srcMac.set(this.mac);
    this.scratch.dstMac.set(this.nextHopMac);
    this.scratch.srcIp = this.ip;
    this.scratch.ttl = this.config.ttl;
  }

  /** Wire this host's interface to `side` of `link`. */
  plug(link: Link, side: LinkSide): this {
    this.link = link;
    this.side = side;
    link.attach(side, this);
    return this;
  }

  listen(port: number, onConnection: ConnectionListener): void {
    if (this.listeners.has(port)) throw new Error(`${this.name}: port ${port} is already listening`);
    this.listeners.set(port, onConnection);
  }

  unlisten(port: number): void {
    this.listeners.delete(port);
  }

  /** Open a connection to dstIp:dstPort from an ephemeral port; SYN leaves at once. */
  connect(dstIp: Ip4, dstPort: number, handlers: TcpHandlers = {}, context?: unknown): TcpConnection {
    const remote = ip4ToU32(dstIp);
    const localPort = this.pickPort(remote, dstPort);
    const conn = new TcpConnection(this, this.ip, localPort, remote, dstPort);
    conn.handlers = handlers;
    conn.context = context;
    this.table(localPort).set(remote * 0x10000 + dstPort, conn);
    conn.openActive();
    return conn;
  }

  /** Connections currently known (any state but CLOSED). */
  get connectionCount(): number {
    let n = 0;
    for (const m of this.conns.values()) n += m.size;
    return n;
  }

  dropCounts(): Record<string, number> {
    const out: Record<string, number> = {};
    this.drops.forEach((n, i) => { if (n) out[HOST_DROP_REASONS[i]] = n; });
    return out;
  }

  // ---------------------------------------------------------------- NetPort

  receive(frame: Uint8Array): void {
    this.framesReceived++;
    const p = this.parsed;
    const verdict = parseTcpFrame(frame, p);
    if (verdict === FrameVerdict.ARP) return this.receiveArp(frame);
    if (verdict !== FrameVerdict.TCP) {
      this.drops[verdict]++;
      return;
    }
    if (!this.macMatches(frame)) {
      this.drops[HostDrop.NOT_FOR_US_MAC]++;
      return;
    }
    if (p.dstIp !== this.ip) {
      this.drops[HostDrop.NOT_FOR_US_IP]++;
      return;
    }
    const key = p.srcIp * 0x10000 + p.sport;
    let conn = this.conns.get(p.dport)?.get(key);
    if (conn && conn.state === TcpState.TIME_WAIT && p.flags & SYN && !(p.flags & ACK) && seqGt(p.seq, conn.sequence.rcvNxt)) {
      // A new incarnation of the four-tuple (RFC 9293 3.10.7.4 note; Linux tcp_timewait_state_process).
      conn.destroy();
      conn = undefined;
    }
    if (conn) return conn.input(p, frame);
    const listener = this.listeners.get(p.dport);
    if (listener && (p.flags & (SYN | ACK | RST)) === SYN) {
      const c = new TcpConnection(this, this.ip, p.dport, p.srcIp, p.sport);
      this.table(p.dport).set(key, c);
      this.counters.segmentsReceived++;
      return c.openPassive(p);
    }
    this.drops[HostDrop.NO_CONNECTION]++;
    if (!(p.flags & RST)) this.resetUnknown(p);
  }

  private macMatches(frame: Uint8Array): boolean {
    if (frame[0] & 1) return true; // group address
    for (let i = 0; i < 6; i++) if (frame[i] !== this.mac[i]) return false;
    return true;
  }

  /** RST for a segment that matches no connection (RFC 9293 3.10.7.1). */
  private resetUnknown(p: ParsedTcp): void {
    const f = this.fields();
    f.sport = p.dport;
    f.dport = p.sport;
    f.dstIp = p.srcIp;
    f.win = 0;
    f.mss = 0;
    f.wscale = -1;
    f.sackPermitted = false;
    f.sackCount = 0;
    f.hasTs = false;
    if (p.flags & ACK) {
      f.seq = p.ack;
      f.ack = 0;
      f.flags = RST;
    } else {
      f.seq = 0;
      f.ack = seqAdd(p.seq, p.payloadLen + (p.flags & SYN ? 1 : 0) + (p.flags & FIN ? 1 : 0));
      f.flags = RST | ACK;
    }
    this.counters.resetsSent++;
    const frame = allocTcpFrame(f, 0);
    sealTcpFrame(frame);
    this.counters.segmentsSent++;
    this.transmit(frame);
  }

  private receiveArp(frame: Uint8Array): void {
    const d = decode(frame);
    const arp = d.arp;
    if (!arp || arp.op !== 1 || arp.tpa !== this.ipText || arp.ptype !== 0x0800) {
      this.drops[HostDrop.ARP_IGNORED]++;
      return;
    }
    const reply = packet()
      .eth({ src: this.mac, dst: arp.sha })
      .arp({ op: "reply", sha: this.mac, spa: this.ipText, tha: arp.sha, tpa: arp.spa })
      .build();
    const padded = new Uint8Array(Math.max(reply.length, 60)); // the NIC pads to the Ethernet minimum
    padded.set(reply);
    this.arpRepliesSent++;
    this.transmit(padded);
  }

  // ---------------------------------------------------------------- TcpHostServices

  /** @internal */
  fields(): TcpFrameFields {
    const f = this.scratch;
    f.ipId = this.ipId;
    this.ipId = (this.ipId + 1) & 0xffff;
    return f;
  }

  /** @internal Send a frame out of the interface. */
  transmit(frame: Uint8Array): void {
    this.framesSent++;
    if (this.link) this.link.send(this.side, frame);
  }

  /** @internal */
  random32(): number {
    return this.rng.u32();
  }

  /** @internal */
  release(conn: TcpConnection): void {
    const m = this.conns.get(conn.localPort);
    const key = conn.remoteIp * 0x10000 + conn.remotePort;
    if (m?.get(key) === conn) {
      m.delete(key);
      if (m.size === 0) this.conns.delete(conn.localPort);
    }
  }

  /** @internal */
  accepted(conn: TcpConnection): void {
    const listener = this.listeners.get(conn.localPort);
    if (listener) listener(conn);
    else conn.abort();
  }

  private table(localPort: number): Map<number, TcpConnection> {
    let m = this.conns.get(localPort);
    if (!m) this.conns.set(localPort, (m = new Map()));
    return m;
  }

  private pickPort(remote: number, remotePort: number): number {
    const [lo, hi] = this.ephemeral;
    const span = hi - lo + 1;
    for (let i = 0; i < span; i++) {
      const port = this.nextEphemeral;
      this.nextEphemeral = port === hi ? lo : port + 1;
      if (this.listeners.has(port)) continue;
      if (!this.conns.get(port)?.has(remote * 0x10000 + remotePort)) return port;
    }
    throw new Error(`${this.name}: no free ephemeral port towards ${remote >>> 24}.${(remote >>> 16) & 255}.${(remote >>> 8) & 255}.${remote & 255}:${remotePort}`);
  }
}
