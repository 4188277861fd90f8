// The control-plane program's connection-setup core (DESIGN "The path of a packet"): answer SYNs to the VIP
// with SYN cookies (RFC 4987), gather the HTTP request head, let the policy pick a server, connect to it from
// LOCAL_IP, install both splice directions in the data plane's flow table, replay the request, and tear the
// splice down after FINs, an RST or idleness. After the splice the CP sees the connection only at teardown.
// The pool (controlplane/pool) watches the servers; when one goes down, connections to it that have had no
// response byte are dispatched again (the request is replayed to another server), the others are reset.
import { FLAGS } from "../abi/layout.js";
import { crc32 } from "../abi/hash.js";
import { Random } from "../lib/random.js";
import { cpOwnsBuffer, type RingMessage } from "../abi/ring-message.js";
import type { CpEnv, CpTimer } from "./env.js";
import { resolveCpConfig, type CpConfig, type ResolvedConfig, type ResolvedServer } from "./config.js";
import { emptyStats, type CpStats, type RefusalReason } from "./stats.js";
import type { ConnectionResult, DispatchOutcome, Policy, PolicyContext, ServerView } from "./policies/policy.js";
import { ServerPool, type PoolMemberStatus, type ServerState } from "./pool/pool.js";
import type { AliveSignal, Registration } from "./pool/messages.js";
import type { ServerConfig } from "./config.js";
import { parseRequestHead, scanRequestHead, type HttpRequest } from "./http/request.js";
import { refusalResponse, type RefusalStatus } from "./http/responses.js";
import { ReceiveBuffer } from "./tcp/receive-buffer.js";
import { SynCookies, MAX_WSCALE, DEFAULT_MSS } from "./tcp/syn-cookie.js";
import { buildSegment, dataOptions, has, parseSegment, synOptions, type OutSegment, type ParsedSegment } from "./tcp/segment.js";
import { seqAdd, seqGe } from "../packet/seq.js";
import { planSplice } from "./splice-plan.js";
import type { FlowKey } from "../abi/flow-table.js";
import { PS_PER_MS } from "../lib/time.js";

export type { CpConfig } from "./config.js";
export type { CpStats } from "./stats.js";

/** Bytes of the timestamp option on a data segment (NOP NOP TS): taken off the MSS (RFC 6691). */
const TS_OPTION_BYTES = 12;
/** Local ports tried for room in the flow table before refusing. */
const PORT_TRIES = 16;

const descFlag = (name: string) => 1 << FLAGS.find((f) => f.prefix === "DESCF_")!.bits.findIndex((b) => b.name === name);
const DESCF_HOST = descFlag("HOST");
const DESCF_REQUEST_LINE = descFlag("REQUEST_LINE");

/** `resetting`: its server went down after response bytes reached the client; waiting for an ACK to reset it. */
type Phase = "request" | "connecting" | "spliced" | "closing" | "refused" | "resetting" | "closed";

/** RFC 9110 9.2.2: methods whose effect is the same however often the request is repeated. */
const IDEMPOTENT = new Set(["GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE"]);

/** The CP's connection to a server for one client connection. */
interface ServerLeg {
  server: ResolvedServer;
  localPort: number;
  /** Our ISN towards the server: the client's ISN, so client -> server sequence numbers need no translation. */
  isn: number;
  synTries: number;
  /** When the first SYN left (the response-time sample is taken only for an answer to it: Karn). */
  synSentPs: number;
  /** The policy that chose this server: its post and done hooks hear about the leg (unless swapped out). */
  policy: Policy<any>;
  timer?: CpTimer;
}

interface Connection {
  phase: Phase;
  clientKey: string;
  client: { ip: number; port: number; service: number; mac: Uint8Array; switchPort: number };
  clientIsn: number;
  /** Our ISN towards the client: the SYN cookie. */
  isnToClient: number;
  /** Our next sequence number towards the client. */
  sndNxt: number;
  /** The client's MSS class from the cookie. */
  mss: number;
  ts: boolean;
  /** The client's window shift when scaling is in effect with the client (we then advertised cfg.tcp.wscale). */
  clientWscale: number | null;
  sack: boolean;
  rx: ReceiveBuffer;
  /** Request bytes already scanned for CRLF CRLF (parse cost is charged once per byte). */
  scanned: number;
  /** Newest TSval from the client (what we echo) and newest TSval we sent it. */
  tsRecent: number;
  lastTsToClient: number;
  /** Newest window field from the client. */
  clientWin: number;
  clientFin: boolean;
  hints: { urlHash: number; hostHash: number };
  request?: HttpRequest;
  info?: unknown;
  /** The policy `info` was parsed for. */
  policy?: Policy<any>;
  /** The buffered request was let go (a response byte was seen): it can no longer be replayed elsewhere. */
  requestReleased: boolean;
  /** When the splice was installed. */
  splicedAtPs: number;
  tried: Set<number>;
  leg?: ServerLeg;
  requestTimer?: CpTimer;
  lingerTimer?: CpTimer;
  replay?: { segments: Uint8Array[]; port: number; tries: number; timer?: CpTimer };
  /** Phase resetting: ACK probes sent so far and the next one. */
  probe?: { tries: number; timer?: CpTimer };
  fwd?: number;
  rev?: number;
  finFwd: boolean;
  finRev: boolean;
  /** Counted in its server's activeConnections (from the splice to both FINs, an RST or removal). */
  countedActive?: boolean;
  reset: boolean;
  /** Counters of both entries at the last idle scan and since when they are unchanged. */
  activity: { sig: string; sincePs: number };
}

export class ControlPlane {
  private readonly cfg: ResolvedConfig;
  private readonly cookies: SynCookies;
  private readonly counters: CpStats = emptyStats();
  /** The servers: registration, alive signals, up/down, weights and slow start (controlplane/pool). */
  readonly pool: ServerPool;
  private readonly servers: ServerState[];
  private readonly ctx: PolicyContext;
  private readonly byClient = new Map<string, Connection>();
  private readonly byServer = new Map<string, Connection>();
  private readonly byEntry = new Map<number, Connection>();
  private readonly spliced = new Set<Connection>();
  private idleTimer?: CpTimer;
  private portCursor: number;
  /** When each (server, local port) was last released (only with tcp.portReuseDelayPs). */
  private readonly portReleased = new Map<string, number>();
  private ipId = 0;
  /** Offset of our timestamp clock (1 ms ticks), from the secret: not guessable, but deterministic. */
  private readonly tsBase: number;

  constructor(config: CpConfig, private readonly env: CpEnv, private policy: Policy<any>) {
    this.cfg = resolveCpConfig(config);
    this.cookies = new SynCookies(this.cfg.synCookieSecret, this.cfg.tcp.mss, this.cfg.tcp.wscale);
    const secret = typeof config.synCookieSecret === "string" ? new TextEncoder().encode(config.synCookieSecret) : config.synCookieSecret;
    this.tsBase = crc32(secret);
    this.portCursor = this.cfg.tcp.firstPort ?? this.cfg.tcp.ephemeralPorts[0];
    this.pool = new ServerPool(this.cfg.servers, this.cfg.pool, this.cfg.portMacs.length, env, this.counters, {
      down: (view) => this.onServerDown(view.index),
    });
    this.servers = this.pool.views;
    const rng = new Random(this.tsBase);
    this.ctx = { now: () => this.env.now(), servers: this.servers, random: () => rng.float() };
    this.policy.init?.(this.ctx);
  }

  /** One message from the exception ring. */
  onMessage(msg: RingMessage): void {
    this.env.charge("message");
    this.counters.messages++;
    try {
      switch (msg.type) {
        case "SYN": return this.onSyn(msg);
        case "SEGMENT": return this.onSegment(msg);
        case "FIN":
        case "RST": return this.onTeardownReport(msg);
        default: return;
      }
    } finally {
      if (cpOwnsBuffer(msg)) this.env.freeBuffer(msg.desc);
    }
  }

  stats(): CpStats {
    return { ...this.counters, refusals: { ...this.counters.refusals }, poolEvents: [...this.counters.poolEvents], activeConnections: this.byClient.size };
  }

  /** The pool as policies see it (weights brought up to date). */
  serverViews(): readonly ServerView[] {
    return this.pool.refresh();
  }

  /** The pool with its health state, per server. */
  poolStatus(): PoolMemberStatus[] {
    return this.pool.status();
  }

  /** Force a server down (its connections are handled as after a crash) or back up. */
  setServerUp(name: string, up: boolean): void {
    this.pool.setUp(this.pool.indexOf(name), up);
  }

  /** A server's registration (out of band, not through the data plane). */
  onRegistration(r: Registration): boolean {
    this.env.charge("message");
    return this.pool.register(r);
  }

  /** A server's alive signal with its load report (out of band). */
  onAliveSignal(a: AliveSignal): boolean {
    this.env.charge("message");
    return this.pool.alive(a);
  }

  /** A server added at run time: up at once, in slow start. */
  addServer(cfg: ServerConfig): ServerView {
    return this.pool.add(cfg);
  }

  /**
   * Remove a server: it is drained (weight 0, no new connections) and leaves the pool when no connection
   * uses it any more, at once if none does. Returns whether it is gone already.
   */
  removeServer(name: string): boolean {
    const index = this.pool.indexOf(name);
    this.pool.beginRemoval(index);
    return this.finishRemovalIfIdle(index);
  }

  /**
   * Use `policy` for every dispatch from now on (connections in progress included: their request is parsed
   * again for it). Spliced connections are untouched: they live in the data plane. The old policy is shut
   * down now and hears nothing more (no post/done for the connections it placed).
   */
  swapPolicy(policy: Policy<any>): void {
    const old = this.policy;
    if (policy === old) return;
    this.policy = policy;
    policy.init?.(this.ctx);
    old.shutdown?.();
  }

  get policyName(): string {
    return this.policy.name;
  }

  /** Stop: cancel every timer, forget every connection (entries stay in the table), shut the policy down. */
  close(): void {
    for (const c of [...this.byClient.values()]) this.forget(c);
    this.idleTimer?.cancel();
    this.idleTimer = undefined;
    this.pool.close();
    this.policy.shutdown?.();
  }

  // ------------------------------------------------------------------------------------------------
  // Client side: SYN, handshake ACK, request bytes

  private readSegment(msg: RingMessage): ParsedSegment | null {
    const seg = parseSegment(this.env.frame(msg));
    if (!seg) {
      this.counters.badSegments++;
      return null;
    }
    return seg;
  }

  private onSyn(msg: RingMessage): void {
    const seg = this.readSegment(msg);
    if (!seg || seg.daddr !== this.cfg.vip || !this.cfg.servicePorts.has(seg.dport)) return;
    this.counters.syns++;
    const old = this.byClient.get(clientKey(seg));
    if (old) {
      // A live connection with this 4-tuple: an old duplicate SYN, not a new connection.
      if (old.phase !== "closing") return;
      // Its connection is over (both FINs or an RST) and its entries only linger: the client reuses
      // its port (RFC 9293 3.10.7.4, a new SYN in TIME-WAIT). The old splice goes now, so the new
      // handshake's segments reach the CP, not the old server.
      old.lingerTimer?.cancel();
      old.lingerTimer = undefined;
      this.removeSplice(old, false);
      this.counters.reusedTuples++;
    }
    this.env.charge("syn_cookie");
    const grant = this.cookies.issue(
      { saddr: seg.saddr, daddr: seg.daddr, sport: seg.sport, dport: seg.dport, isn: seg.seq, mss: seg.mss, wscale: seg.wscale, sackPermitted: seg.sackPermitted, tsVal: seg.ts?.val },
      this.env.now(), this.tsClock(),
    );
    this.send(msg.inPort, {
      srcMac: this.cfg.portMacs[msg.inPort], dstMac: seg.srcMac, saddr: seg.daddr, daddr: seg.saddr, sport: seg.dport, dport: seg.sport,
      seq: grant.isn, ack: seqAdd(seg.seq, 1), flags: "SA", win: Math.min(this.cfg.tcp.receiveBufferBytes, 65535),
      options: synOptions({ mss: grant.mss, sack: grant.sack, ts: grant.ts, wscale: grant.wscale }), ipId: this.nextIpId(),
    });
    this.counters.cookiesSent++;
  }

  private onSegment(msg: RingMessage): void {
    const seg = this.readSegment(msg);
    if (!seg) return;
    if (seg.daddr === this.cfg.vip) this.onClientSegment(msg, seg);
    else if (seg.daddr === this.cfg.localIp) this.onServerSegment(msg, seg);
  }

  private onClientSegment(msg: RingMessage, seg: ParsedSegment): void {
    let conn = this.byClient.get(clientKey(seg));
    if (!conn) {
      if (has(seg, "R") || has(seg, "S") || !has(seg, "A")) return;
      this.env.charge("syn_cookie");
      const c = this.cookies.check({ ...seg, tsEcr: seg.ts?.ecr }, this.env.now());
      if (!c) {
        this.counters.cookiesRejected++;
        // RFC 9293 3.10.7.1: a segment with ACK for no connection gets <SEQ=SEG.ACK><CTL=RST>.
        this.send(msg.inPort, {
          srcMac: this.cfg.portMacs[msg.inPort], dstMac: seg.srcMac, saddr: seg.daddr, daddr: seg.saddr, sport: seg.dport, dport: seg.sport,
          seq: seg.ack, flags: "R", win: 0, ipId: this.nextIpId(),
        });
        return;
      }
      this.env.charge("handshake");
      this.counters.connections++;
      conn = {
        phase: "request", clientKey: clientKey(seg),
        client: { ip: seg.saddr, port: seg.sport, service: seg.dport, mac: seg.srcMac, switchPort: msg.inPort },
        clientIsn: c.clientIsn, isnToClient: c.isn, sndNxt: seqAdd(c.isn, 1), mss: c.mss, ts: c.ts, clientWscale: c.clientWscale, sack: c.sack,
        rx: new ReceiveBuffer(seqAdd(c.clientIsn, 1), this.cfg.tcp.receiveBufferBytes), scanned: 0,
        tsRecent: seg.ts?.val ?? 0, lastTsToClient: seg.ts?.ecr ?? 0, clientWin: seg.win, clientFin: false,
        hints: { urlHash: 0, hostHash: 0 }, tried: new Set(), finFwd: false, finRev: false, reset: false,
        activity: { sig: "", sincePs: 0 }, requestReleased: false, splicedAtPs: 0,
      };
      const opened = conn;
      conn.requestTimer = this.env.setTimer(this.cfg.limits.requestTimeoutPs, () => this.onRequestTimeout(opened));
      this.byClient.set(conn.clientKey, conn);
    }
    if (conn.phase === "request" || conn.phase === "connecting") this.takeClientSegment(conn, msg, seg);
    else if (conn.phase === "refused") this.onRefusedSegment(conn, seg);
    else if (conn.phase === "resetting") this.onResettingSegment(conn, seg);
  }

  /** A segment of a connection not yet spliced: buffer its bytes, acknowledge, look for the request head. */
  private takeClientSegment(conn: Connection, msg: RingMessage, seg: ParsedSegment): void {
    if (has(seg, "R")) {
      this.counters.refusals.client_closed++;
      this.resetServerLeg(conn);
      this.forget(conn);
      return;
    }
    if (conn.ts && seg.ts && seqGe(seg.ts.val, conn.tsRecent)) conn.tsRecent = seg.ts.val;
    conn.clientWin = seg.win;
    let acknowledge = false;
    if (seg.payload.length > 0 && !conn.clientFin) {
      const inOrder = seg.seq === conn.rx.next;
      const taken = conn.rx.accept(seg.seq, seg.payload);
      if (taken === "new" && inOrder) {
        // The data plane's hashes describe these very bytes only when they are the ones we keep.
        if (msg.flags & DESCF_REQUEST_LINE && seg.seq === conn.rx.base) conn.hints.urlHash = msg.urlHash;
        if (msg.flags & DESCF_HOST) conn.hints.hostHash = msg.hostHash;
      }
      acknowledge = true;
    }
    if (has(seg, "F")) {
      if (seqAdd(seg.seq, seg.payload.length) === conn.rx.next) conn.clientFin = true;
      acknowledge = true;
    }
    if (acknowledge) this.sendToClient(conn, "A");
    if (conn.phase === "request") this.examineRequest(conn);
  }

  private examineRequest(conn: Connection): void {
    const bytes = conn.rx.bytes();
    if (bytes.length > conn.scanned) this.env.charge("parse_request_per_byte", bytes.length - conn.scanned);
    conn.scanned = bytes.length;
    const scan = scanRequestHead(bytes, this.cfg.limits.maxHeaderBytes);
    if (scan.kind === "garbage") return this.refuse(conn, "bad_request");
    if (scan.kind === "too_large") return this.refuse(conn, "header_too_large");
    if (scan.kind === "incomplete") {
      // A FIN before any request byte is a client that gave up (wrk closing its idle connections), not a bad request.
      if (conn.clientFin) this.refuse(conn, bytes.length === 0 ? "client_closed" : "bad_request");
      return;
    }
    const parsed = parseRequestHead(bytes.subarray(0, scan.headEnd), conn.hints);
    if ("error" in parsed) return this.refuse(conn, "bad_request");
    this.counters.requests++;
    conn.requestTimer?.cancel();
    conn.requestTimer = undefined;
    parsed.clientIp = conn.client.ip;
    conn.request = parsed;
    this.dispatch(conn);
  }

  private onRequestTimeout(conn: Connection): void {
    this.env.charge("timer");
    conn.requestTimer = undefined;
    if (conn.phase !== "request") return;
    this.counters.timeouts++;
    this.refuse(conn, "timeout");
  }

  // ------------------------------------------------------------------------------------------------
  // Server side: choose, connect, fail over

  private dispatch(conn: Connection): void {
    const policy = this.policy;
    if (conn.policy !== policy) {
      // First dispatch, or the policy was swapped since the request was parsed.
      conn.policy = policy;
      conn.info = policy.parse ? policy.parse(conn.request!) : conn.request;
    }
    this.pool.refresh();
    // Up, weight above 0 (weight 0 = quiesced or being removed) and not tried yet for this request.
    const candidates = this.servers.filter((s) => this.pool.usable(s.index) && !conn.tried.has(s.index));
    this.env.charge("policy_select");
    const pick = candidates.length > 0 ? policy.select(conn.info, candidates, this.ctx) : null;
    if (!pick) return this.refuse(conn, "no_server");
    if (!candidates.includes(pick as ServerState)) throw new Error(`policy ${policy.name} selected '${pick.name}', which is not one of the candidates it was given`);
    const server = this.pool.server(pick.index);
    conn.tried.add(pick.index);
    const localPort = this.allocatePort(conn, server);
    if (localPort === null) {
      this.counters.tableFull++;
      return this.refuse(conn, "table_full");
    }
    this.env.charge("connect");
    const leg: ServerLeg = { server, localPort, isn: conn.clientIsn, synTries: 0, synSentPs: this.env.now(), policy };
    conn.leg = leg;
    conn.phase = "connecting";
    this.byServer.set(serverKey(server.ipU32, server.tcpPort, localPort), conn);
    this.sendServerSyn(conn, leg);
  }

  /** A local port whose server-side key is unused and for which the flow table has room now; null if none. */
  private allocatePort(conn: Connection, server: ResolvedServer): number | null {
    const [lo, hi] = this.cfg.tcp.ephemeralPorts;
    const fwd = this.clientFlowKey(conn);
    for (let tries = 0, scanned = 0; tries < PORT_TRIES && scanned <= hi - lo; scanned++) {
      const port = this.portCursor;
      this.portCursor = port >= hi ? lo : port + 1;
      const key = serverKey(server.ipU32, server.tcpPort, port);
      if (this.byServer.has(key)) continue;
      const released = this.portReleased.get(key);
      if (released !== undefined) {
        if (this.env.now() - released < (this.cfg.tcp.portReuseDelayPs ?? 0)) continue;
        this.portReleased.delete(key);
      }
      tries++;
      const rev: FlowKey = { saddr: server.ipU32, daddr: this.cfg.localIp, sport: server.tcpPort, dport: port };
      if (this.env.tables.canInstall({ fwd, rev })) return port;
    }
    return null;
  }

  private sendServerSyn(conn: Connection, leg: ServerLeg): void {
    const s = leg.server;
    this.send(s.port, {
      srcMac: this.cfg.portMacs[s.port], dstMac: s.macBytes, saddr: this.cfg.localIp, daddr: s.ipU32, sport: leg.localPort, dport: s.tcpPort,
      seq: leg.isn, flags: "S", win: Math.min(65535, conn.clientWin * 2 ** (conn.clientWscale ?? 0)),
      // Mirror the client's SYN, so both ends agree on what the splice translates.
      options: synOptions({
        mss: Math.min(conn.mss, this.cfg.tcp.mss), sack: conn.sack,
        ts: conn.ts ? { val: conn.tsRecent, ecr: 0 } : undefined, wscale: conn.clientWscale ?? undefined,
      }),
      ipId: this.nextIpId(),
    });
    leg.timer = this.env.setTimer(this.cfg.tcp.synRtoPs * 2 ** leg.synTries, () => this.onSynTimeout(conn, leg));
  }

  private onSynTimeout(conn: Connection, leg: ServerLeg): void {
    this.env.charge("timer");
    leg.timer = undefined;
    if (conn.leg !== leg || conn.phase !== "connecting") return;
    if (leg.synTries < this.cfg.tcp.maxSynRetries) {
      leg.synTries++;
      this.counters.serverSynRetries++;
      this.sendServerSyn(conn, leg);
      return;
    }
    this.failOver(conn, "no_answer");
  }

  /**
   * The connect to the leg's server failed: try another server. The failed server is marked down
   * (`serverFailed`) unless it is down already (then its other connections are being handled).
   */
  private failOver(conn: Connection, reason: "no_answer" | "reset", serverFailed = true): void {
    const leg = conn.leg!;
    this.counters.failovers++;
    this.releaseLeg(conn);
    if (serverFailed) this.pool.connectFailed(leg.server.index);
    this.post(leg, conn, { outcome: "failed", reason });
    if (conn.phase === "connecting") this.dispatch(conn);
  }

  private onServerSegment(msg: RingMessage, seg: ParsedSegment): void {
    const conn = this.byServer.get(serverKey(seg.saddr, seg.sport, seg.dport));
    if (!conn || conn.phase !== "connecting" || !conn.leg) {
      if (!has(seg, "R")) this.resetStray(msg, seg);
      return;
    }
    const leg = conn.leg;
    const acksSyn = has(seg, "A") && seg.ack === seqAdd(leg.isn, 1);
    if (has(seg, "R")) {
      if (acksSyn) this.failOver(conn, "reset");
      return;
    }
    if (has(seg, "S") && acksSyn) this.completeSplice(conn, leg, seg);
  }

  /** RFC 9293 3.10.7.1: a server segment for no connection of ours (e.g. after a teardown) gets an RST. */
  private resetStray(msg: RingMessage, seg: ParsedSegment): void {
    this.counters.straySegments++;
    const ackIt = !has(seg, "A");
    this.send(msg.inPort, {
      srcMac: this.cfg.portMacs[msg.inPort], dstMac: seg.srcMac, saddr: seg.daddr, daddr: seg.saddr, sport: seg.dport, dport: seg.sport,
      seq: ackIt ? 0 : seg.ack, ack: ackIt ? seqAdd(seg.seq, seg.payload.length + (has(seg, "S") ? 1 : 0) + (has(seg, "F") ? 1 : 0)) : undefined,
      flags: ackIt ? "RA" : "R", win: 0, ipId: this.nextIpId(),
    });
  }

  // ------------------------------------------------------------------------------------------------
  // The splice

  /** The server's SYN-ACK: install both directions, then acknowledge it with the replayed request. */
  private completeSplice(conn: Connection, leg: ServerLeg, synAck: ParsedSegment): void {
    leg.timer?.cancel();
    leg.timer = undefined;
    const s = leg.server;
    // Karn: only an answer to the first SYN is a clean sample of the server's response time.
    if (leg.synTries === 0) this.pool.observeResponseTime(s.index, this.env.now() - leg.synSentPs);
    const serverTs = conn.ts && synAck.ts ? synAck.ts.val : null;
    if (conn.ts && !synAck.ts) this.counters.timestampMismatches++;
    const serverWscale = conn.clientWscale !== null && synAck.wscale !== undefined ? Math.min(synAck.wscale, MAX_WSCALE) : null;
    const serverMss = synAck.mss ?? DEFAULT_MSS;
    if (serverMss < Math.min(conn.mss, this.cfg.tcp.mss)) this.counters.mssMismatches++;
    const windows = {
      clientSends: conn.clientWscale ?? 0,
      serverReads: serverWscale !== null ? conn.clientWscale! : 0,
      serverSends: serverWscale ?? 0,
      clientReads: conn.clientWscale !== null ? this.cfg.tcp.wscale : 0,
    };
    const entries = planSplice({
      client: { ip: conn.client.ip, port: conn.client.port, mac: conn.client.mac, switchPort: conn.client.switchPort, isn: conn.clientIsn },
      server: { ip: s.ipU32, port: s.tcpPort, mac: s.macBytes, switchPort: s.port, isn: synAck.seq },
      vip: this.cfg.vip, service: conn.client.service, localIp: this.cfg.localIp, localPort: leg.localPort,
      isnToClient: conn.isnToClient, isnToServer: leg.isn, windows,
      sack: { client: conn.sack, server: synAck.sackPermitted },
      timestamps: serverTs === null ? null : { lastTsValToClient: conn.lastTsToClient, serverTsVal: serverTs, toServerOffset: 0 },
    });
    this.env.charge("install_splice");
    const installed = this.env.tables.install(entries);
    if (!installed.ok) {
      if (installed.reason === "full") this.counters.tableFull++;
      this.send(s.port, {
        srcMac: this.cfg.portMacs[s.port], dstMac: s.macBytes, saddr: this.cfg.localIp, daddr: s.ipU32, sport: leg.localPort, dport: s.tcpPort,
        seq: seqAdd(leg.isn, 1), flags: "R", win: 0, ipId: this.nextIpId(),
      });
      this.releaseLeg(conn);
      this.post(leg, conn, { outcome: "failed", reason: "table_full" });
      return this.refuse(conn, "table_full");
    }
    conn.phase = "spliced";
    conn.fwd = installed.fwd;
    conn.rev = installed.rev;
    this.byEntry.set(installed.fwd, conn);
    this.byEntry.set(installed.rev, conn);
    this.spliced.add(conn);
    conn.activity = { sig: "0,0,0,0", sincePs: this.env.now() };
    conn.splicedAtPs = this.env.now();
    this.counters.spliced++;
    const view = this.servers[s.index];
    view.activeConnections++;
    view.totalConnections++;
    conn.countedActive = true;
    this.post(leg, conn, { outcome: "spliced" });
    this.replayRequest(conn, leg, synAck, serverTs, windows.serverReads);
    this.armIdleScan();
  }

  /**
   * Send the client's bytes to the server: the first segment acknowledges the SYN-ACK. A client FIN
   * already received goes on the last segment. The segments are kept for retransmission (onReplayTimer).
   */
  private replayRequest(conn: Connection, leg: ServerLeg, synAck: ParsedSegment, serverTs: number | null, serverReads: number): void {
    const s = leg.server;
    const bytes = conn.rx.bytes();
    const mss = Math.min(synAck.mss ?? DEFAULT_MSS, conn.mss, this.cfg.tcp.mss) - (serverTs !== null ? TS_OPTION_BYTES : 0);
    const win = Math.min(65535, Math.floor((conn.clientWin * 2 ** (conn.clientWscale ?? 0)) / 2 ** serverReads));
    const options = dataOptions(serverTs !== null ? { val: conn.tsRecent, ecr: serverTs } : undefined);
    const segments: Uint8Array[] = [];
    for (let off = 0; off < bytes.length || (off === 0 && bytes.length === 0); off += mss) {
      const last = off + mss >= bytes.length;
      segments.push(buildSegment({
        srcMac: this.cfg.portMacs[s.port], dstMac: s.macBytes, saddr: this.cfg.localIp, daddr: s.ipU32, sport: leg.localPort, dport: s.tcpPort,
        seq: seqAdd(leg.isn, 1 + off), ack: seqAdd(synAck.seq, 1), flags: last ? (conn.clientFin ? "FPA" : "PA") : "A", win, options,
        payload: bytes.subarray(off, Math.min(bytes.length, off + mss)), ipId: this.nextIpId(),
      }));
    }
    if (conn.clientFin) conn.finFwd = true; // the client's FIN reaches the server through us, not the splice
    conn.replay = { segments, port: s.port, tries: 0 };
    this.transmit(conn.replay);
    this.scheduleReplay(conn);
  }

  private transmit(replay: { segments: Uint8Array[]; port: number }): void {
    for (const f of replay.segments) {
      this.env.charge("tx_frame");
      this.env.send(replay.port, f);
    }
  }

  private scheduleReplay(conn: Connection): void {
    const replay = conn.replay!;
    if (replay.tries >= this.cfg.tcp.maxReplayRetries) return;
    replay.timer = this.env.setTimer(this.cfg.tcp.replayRtoPs * 2 ** replay.tries, () => this.onReplayTimer(conn));
  }

  /**
   * The server's ACKs of the replay are spliced to the client, so the CP cannot see them. It retransmits on
   * a bounded schedule until the client has sent anything through the splice (it only does once the
   * server's answer reached it, which implies the server has the request). Duplicates are harmless: the
   * server discards bytes it already acknowledged.
   */
  private onReplayTimer(conn: Connection): void {
    this.env.charge("timer");
    const replay = conn.replay;
    if (!replay || conn.fwd === undefined || (conn.phase !== "spliced" && conn.phase !== "closing")) return;
    replay.timer = undefined;
    const fwd = this.env.tables.read(conn.fwd);
    this.noteAnswer(conn, this.env.tables.read(conn.rev!));
    if (!fwd || fwd.packets > 0 || fwd.lastSeen !== 0 || fwd.finSeen || fwd.rstSeen) return; // any client segment through the splice
    replay.tries++;
    this.counters.replayRetransmits += replay.segments.length;
    this.transmit(replay);
    this.scheduleReplay(conn);
  }

  // ------------------------------------------------------------------------------------------------
  // Teardown

  private onTeardownReport(msg: RingMessage): void {
    const conn = this.byEntry.get(msg.flow);
    if (!conn || (conn.phase !== "spliced" && conn.phase !== "closing")) return;
    if (msg.type === "RST") conn.reset = true;
    else if (msg.flow === conn.fwd) conn.finFwd = true;
    else conn.finRev = true;
    if (!((conn.finFwd && conn.finRev) || conn.reset) || conn.lingerTimer) return;
    conn.phase = "closing";
    this.endActive(conn); // LVS: a finished connection is inactive while its entries linger
    conn.lingerTimer = this.env.setTimer(this.cfg.limits.lingerPs, () => {
      this.env.charge("timer");
      conn.lingerTimer = undefined;
      this.removeSplice(conn, false);
    });
  }

  private removeSplice(conn: Connection, idle: boolean): void {
    if (conn.phase === "closed") return;
    this.env.charge("teardown");
    this.unsplice(conn);
    this.counters.teardowns++;
    if (idle) this.counters.idleTeardowns++;
    this.forget(conn);
  }

  /**
   * Remove both entries of the splice and tell the policy that placed it (done hook) what the flow table
   * counted: the server -> client entry's PACKETS (segments with payload) and the splice's lifetime.
   */
  private unsplice(conn: Connection): void {
    if (conn.fwd === undefined) return;
    const rev = this.env.tables.read(conn.rev!);
    this.env.tables.remove(conn.fwd);
    this.byEntry.delete(conn.fwd);
    this.byEntry.delete(conn.rev!);
    this.spliced.delete(conn);
    conn.fwd = undefined;
    conn.rev = undefined;
    conn.replay?.timer?.cancel();
    conn.replay = undefined;
    const leg = conn.leg;
    if (!leg) return;
    const view = this.servers[leg.server.index];
    this.endActive(conn);
    const result: ConnectionResult = { responsePackets: rev?.packets ?? 0, durationPs: this.env.now() - conn.splicedAtPs };
    if (leg.policy === this.policy && conn.request) leg.policy.done?.(view, conn.request, result);
  }

  /** The connection no longer counts in its server's activeConnections (at FINs/RST, or removal). */
  private endActive(conn: Connection): void {
    if (!conn.countedActive || !conn.leg) return;
    conn.countedActive = false;
    this.servers[conn.leg.server.index].activeConnections--;
  }

  /** A response byte went to the client: the request can no longer be replayed elsewhere, so let it go. */
  private noteAnswer(conn: Connection, rev: { packets: number } | null): void {
    if (!rev || rev.packets === 0 || conn.requestReleased) return;
    conn.requestReleased = true;
    conn.rx = new ReceiveBuffer(conn.rx.next, 0); // keeps `next`, drops the bytes
    if (conn.replay) conn.replay.segments = [];
  }

  private armIdleScan(): void {
    if (this.idleTimer || this.spliced.size === 0) return;
    this.idleTimer = this.env.setTimer(this.cfg.tcp.idleScanPs, () => {
      this.env.charge("timer");
      this.idleTimer = undefined;
      this.scanIdle();
      this.armIdleScan();
    });
  }

  /**
   * Idle check. LAST_SEEN is the microengines' 32-bit timestamp counter (it wraps within seconds at ME
   * clock rates, and its unit is the chip's), so the CP compares it with its own earlier reading instead of
   * with a clock: a connection whose PACKETS/LAST_SEEN have not moved for idleTimeoutPs is idle.
   */
  private scanIdle(): void {
    const now = this.env.now();
    for (const conn of [...this.spliced]) {
      if (conn.phase !== "spliced" && conn.phase !== "closing") continue;
      const f = this.env.tables.read(conn.fwd!);
      const r = this.env.tables.read(conn.rev!);
      if (!f || !r) {
        this.forget(conn); // someone else removed the entries
        continue;
      }
      this.noteAnswer(conn, r);
      const sig = `${f.packets},${f.lastSeen},${r.packets},${r.lastSeen}`;
      if (sig !== conn.activity.sig) conn.activity = { sig, sincePs: now };
      else if (now - conn.activity.sincePs >= this.cfg.limits.idleTimeoutPs) this.removeSplice(conn, true);
    }
  }

  // ------------------------------------------------------------------------------------------------
  // Refusals

  private refuse(conn: Connection, reason: RefusalReason): void {
    this.counters.refusals[reason]++;
    conn.requestTimer?.cancel();
    conn.requestTimer = undefined;
    const status: Partial<Record<RefusalReason, RefusalStatus>> = { header_too_large: 431, bad_request: 400, no_server: 503 };
    const code = status[reason];
    if (code === undefined) {
      this.sendToClient(conn, "RA");
      this.forget(conn);
      return;
    }
    // The answer and our FIN; the state stays for lingerPs to acknowledge the client's FIN.
    const body = refusalResponse(code);
    this.sendToClient(conn, "FPA", body);
    conn.sndNxt = seqAdd(conn.sndNxt, body.length + 1);
    conn.phase = "refused";
    conn.lingerTimer = this.env.setTimer(this.cfg.limits.lingerPs, () => {
      this.env.charge("timer");
      conn.lingerTimer = undefined;
      this.forget(conn);
    });
  }

  private onRefusedSegment(conn: Connection, seg: ParsedSegment): void {
    if (has(seg, "R")) return this.forget(conn);
    if (!has(seg, "F")) return;
    conn.clientFin = true;
    this.sendToClient(conn, "A", undefined, seqAdd(seg.seq, seg.payload.length + 1));
    this.forget(conn);
  }

  private resetServerLeg(conn: Connection): void {
    const leg = conn.leg;
    if (!leg || conn.phase !== "connecting") return;
    const s = leg.server;
    this.send(s.port, {
      srcMac: this.cfg.portMacs[s.port], dstMac: s.macBytes, saddr: this.cfg.localIp, daddr: s.ipU32, sport: leg.localPort, dport: s.tcpPort,
      seq: seqAdd(leg.isn, 1), flags: "R", win: 0, ipId: this.nextIpId(),
    });
  }

  private releaseLeg(conn: Connection): void {
    const leg = conn.leg;
    if (!leg) return;
    leg.timer?.cancel();
    leg.timer = undefined;
    const key = serverKey(leg.server.ipU32, leg.server.tcpPort, leg.localPort);
    this.byServer.delete(key);
    if (this.cfg.tcp.portReuseDelayPs) this.portReleased.set(key, this.env.now());
    conn.leg = undefined;
    this.finishRemovalIfIdle(leg.server.index);
  }

  /** Drop every trace of the connection in the CP (not in the flow table). */
  private forget(conn: Connection): void {
    if (conn.phase === "closed") return;
    for (const t of [conn.requestTimer, conn.lingerTimer, conn.leg?.timer, conn.replay?.timer, conn.probe?.timer]) t?.cancel();
    const server = conn.leg?.server.index;
    if (conn.leg) this.byServer.delete(serverKey(conn.leg.server.ipU32, conn.leg.server.tcpPort, conn.leg.localPort));
    if (conn.fwd !== undefined) this.byEntry.delete(conn.fwd);
    if (conn.rev !== undefined) this.byEntry.delete(conn.rev);
    this.spliced.delete(conn);
    this.byClient.delete(conn.clientKey);
    conn.phase = "closed";
    if (server !== undefined) this.finishRemovalIfIdle(server);
  }

  /** A server being removed leaves the pool once no connection has a leg to it. */
  private finishRemovalIfIdle(index: number): boolean {
    if (!this.pool.isRemoving(index)) return false;
    for (const c of this.byClient.values()) if (c.leg?.server.index === index) return false;
    this.pool.finishRemoval(index);
    return true;
  }

  // ------------------------------------------------------------------------------------------------
  // A server went down: dispatch its unanswered connections again, reset the others

  /**
   * Every connection with a leg to the server: one still connecting fails over at once (no waiting for
   * SYN retries); a spliced one is dispatched again when nothing was answered yet (dispatchAgain), else
   * reset. Connections already closing are left to finish.
   */
  private onServerDown(index: number): void {
    for (const conn of [...this.byClient.values()]) {
      if (conn.leg?.server.index !== index) continue;
      if (conn.phase === "connecting") this.failOver(conn, "no_answer", false);
      else if (conn.phase === "spliced") this.dispatchAgain(conn);
    }
  }

  /**
   * A spliced connection whose server went down. It can go to another server exactly when the client
   * has seen nothing of this server and the CP holds everything the client sent:
   *   - the server -> client entry's PACKETS is 0 (the data plane counts only segments with payload) and it
   *     carried no FIN or RST: not one response byte reached the client, so the client's sequence space
   *     for the server's bytes is still at our cookie ISN + 1;
   *   - the client -> server entry's PACKETS is 0: every byte the client sent is in our receive buffer
   *     (a client FIN through the splice is at rx.next, and is replayed too);
   *   - the method is idempotent (RFC 9110 9.2.2), or pool.redispatchNonIdempotent says to retry anyway.
   * Then: remove both entries, pick another server with the policy, connect, and on its SYN-ACK install a
   * new splice (new server-side deltas; the client-side ones are unchanged) and replay the buffered bytes.
   * Otherwise the client is reset (resetClient). A client that reset already is simply forgotten.
   */
  private dispatchAgain(conn: Connection): void {
    const leg = conn.leg!;
    const fwd = this.env.tables.read(conn.fwd!);
    const rev = this.env.tables.read(conn.rev!);
    if (!fwd || !rev) return this.forget(conn); // someone else removed the entries
    const unsafeMethod = !IDEMPOTENT.has(conn.request!.method) && !this.pool.options.redispatchNonIdempotent;
    const replayable = rev.packets === 0 && !rev.finSeen && !rev.rstSeen && fwd.packets === 0 && !conn.requestReleased;
    if (fwd.rstSeen) {
      this.unsplice(conn);
      return this.forget(conn);
    }
    if (!replayable || unsafeMethod) {
      if (replayable) this.counters.crashResetsUnsafeMethod++;
      return this.resetClient(conn);
    }
    // The client may have seen the old server's TSvals (on its pure ACKs) run ahead of what we last sent:
    // at most one tick per ms since the splice (RFC 7323 5.4), so move our clock past that (PAWS).
    const elapsedMs = Math.ceil((this.env.now() - conn.splicedAtPs) / PS_PER_MS);
    conn.lastTsToClient = seqAdd(conn.lastTsToClient, elapsedMs + 1);
    this.unsplice(conn);
    this.releaseLeg(conn);
    if (fwd.finSeen) conn.clientFin = true;
    conn.finFwd = false;
    conn.finRev = false;
    conn.reset = false;
    conn.tried.add(leg.server.index);
    conn.phase = "connecting";
    this.counters.redispatched++;
    this.dispatch(conn);
  }

  /**
   * The client had response bytes (or sent bytes we do not hold): its connection cannot be saved. The CP
   * does not know the client's RCV.NXT, so it sends an ACK probe with an old sequence number, which the
   * client must answer with an ACK (RFC 9293 3.10.7.4); that ACK reaches the CP (the entries are gone) and
   * gets <SEQ=SEG.ACK><CTL=RST>, which the client accepts (an exact match, RFC 5961 3.2). Probes are
   * repeated on the replay schedule; after the last the state is dropped.
   */
  private resetClient(conn: Connection): void {
    this.counters.crashResets++;
    const elapsedMs = Math.ceil((this.env.now() - conn.splicedAtPs) / PS_PER_MS);
    conn.lastTsToClient = seqAdd(conn.lastTsToClient, elapsedMs + 1);
    this.unsplice(conn);
    conn.phase = "resetting";
    conn.lingerTimer?.cancel();
    conn.lingerTimer = undefined;
    conn.probe = { tries: 0 };
    this.sendProbe(conn);
  }

  private sendProbe(conn: Connection): void {
    const probe = conn.probe!;
    this.sendToClient(conn, "A", undefined, undefined, conn.isnToClient);
    probe.timer = this.env.setTimer(this.cfg.tcp.replayRtoPs * 2 ** probe.tries, () => {
      this.env.charge("timer");
      probe.timer = undefined;
      if (conn.phase !== "resetting") return;
      if (probe.tries >= this.cfg.tcp.maxReplayRetries) return this.forget(conn);
      probe.tries++;
      this.sendProbe(conn);
    });
  }

  private onResettingSegment(conn: Connection, seg: ParsedSegment): void {
    if (has(seg, "R")) return this.forget(conn);
    if (!has(seg, "A")) return;
    const c = conn.client;
    this.send(c.switchPort, {
      srcMac: this.cfg.portMacs[c.switchPort], dstMac: c.mac, saddr: this.cfg.vip, daddr: c.ip, sport: c.service, dport: c.port,
      seq: seg.ack, flags: "R", win: 0, ipId: this.nextIpId(),
    });
    this.forget(conn);
  }

  // ------------------------------------------------------------------------------------------------
  // Helpers

  /** The post hook of the policy that chose the leg's server, unless that policy was swapped out. */
  private post(leg: ServerLeg, conn: Connection, result: DispatchOutcome): void {
    if (leg.policy === this.policy && leg.policy.post && conn.request) leg.policy.post(this.servers[leg.server.index], conn.request, result);
  }

  private clientFlowKey(conn: Connection): FlowKey {
    return { saddr: conn.client.ip, daddr: this.cfg.vip, sport: conn.client.port, dport: conn.client.service };
  }

  /** Our timestamp clock: 1 ms ticks (RFC 7323 5.4 allows 1 ms to 1 s) from a secret-derived origin. */
  private tsClock(): number {
    return (Math.floor(this.env.now() / PS_PER_MS) + this.tsBase) >>> 0;
  }

  private nextIpId(): number {
    this.ipId = (this.ipId + 1) & 0xffff;
    return this.ipId;
  }

  private send(port: number, seg: OutSegment): void {
    this.env.charge("tx_frame");
    this.env.send(port, buildSegment(seg));
  }

  /** A segment to the client from VIP:service at our next sequence number, acknowledging what we hold. */
  private sendToClient(conn: Connection, flags: string, payload?: Uint8Array, ack?: number, seq?: number): void {
    let ts: { val: number; ecr: number } | undefined;
    if (conn.ts) {
      const now = this.tsClock();
      conn.lastTsToClient = seqGe(now, conn.lastTsToClient) ? now : conn.lastTsToClient;
      ts = { val: conn.lastTsToClient, ecr: conn.tsRecent };
    }
    const c = conn.client;
    this.send(c.switchPort, {
      srcMac: this.cfg.portMacs[c.switchPort], dstMac: c.mac, saddr: this.cfg.vip, daddr: c.ip, sport: c.service, dport: c.port,
      seq: seq ?? conn.sndNxt, ack: ack ?? seqAdd(conn.rx.next, conn.clientFin ? 1 : 0), flags,
      win: conn.rx.window >> (conn.clientWscale !== null ? this.cfg.tcp.wscale : 0), options: dataOptions(ts), payload, ipId: this.nextIpId(),
    });
  }
}

const clientKey = (s: { saddr: number; sport: number; dport: number }) => `${s.saddr}:${s.sport}:${s.dport}`;
const serverKey = (ip: number, port: number, localPort: number) => `${ip}:${port}:${localPort}`;
