// The control-plane program's connection-setup core (docs/ARCHITECTURE.md, "The path of a packet"): answer
// SYNs to the VIP with SYN cookies (RFC 4987), gather the HTTP request head, let the policy pick a server,
// connect to it from LOCAL_IP, install both splice directions in the data plane's flow table, and hand the
// rest to its parts in connection/: the request replay (replay.ts), teardown and idle removal
// (teardown.ts), and the path taken when a server goes down (server-down.ts). After the splice the CP sees
// the connection only at teardown.
import { FLAGS } from "../abi/layout.js";
import { crc32 } from "../abi/hash.js";
import { cpOwnsBuffer, type RingMessage } from "../abi/ring-message.js";
import type { FlowKey } from "../abi/flow-table.js";
import { seqAdd, seqDiff, seqGe } from "../packet/seq.js";
import { Random } from "../lib/random.js";
import type { CpEnv } from "./env.js";
import { resolveCpConfig, type CpConfig, type ResolvedConfig, type ResolvedServer, type ServerConfig } from "./config.js";
import { emptyStats, type CpStats, type RefusalReason } from "./stats.js";
import type { DispatchOutcome, Policy, PolicyContext, ServerView } from "./policies/policy.js";
import { ServerPool, type PoolMemberStatus, type ServerState } from "./pool/pool.js";
import type { AliveSignal, Registration } from "./pool/messages.js";
import { parseRequestHead, scanRequestHead } from "./http/request.js";
import { refusalResponse, type RefusalStatus } from "./http/responses.js";
import { ReceiveBuffer } from "./tcp/receive-buffer.js";
import { SynCookies, MAX_WSCALE, DEFAULT_MSS } from "./tcp/syn-cookie.js";
import { has, parseSegment, synOptions, type ParsedSegment } from "./tcp/segment.js";
import { planSplice } from "./splice-plan.js";
import { ConnectionTable, clientKey, legKey, serverKey, type Connection, type ServerLeg } from "./connection/record.js";
import { SegmentOut } from "./connection/segment-out.js";
import { RequestReplay } from "./connection/replay.js";
import { ServerDownPath } from "./connection/server-down.js";
import { SpliceTeardown } from "./connection/teardown.js";
import type { CpContext } from "./connection/context.js";

export type { CpConfig } from "./config.js";
export type { CpStats } from "./stats.js";

/** Local ports tried for room in the flow table before refusing. */
const PORT_TRIES = 16;

const descFlag = (name: string) => 1 << FLAGS.find((f) => f.prefix === "DESCF_")!.bits.findIndex((b) => b.name === name);
const DESCF_HOST = descFlag("HOST");
const DESCF_REQUEST_LINE = descFlag("REQUEST_LINE");

/** Whether offset `at` of the buffered request bytes is the start of a line (the first byte, or after LF). */
const startsLine = (bytes: Uint8Array, at: number): boolean => at === 0 || bytes[at - 1] === 0x0a;

export class ControlPlane {
  private readonly cfg: ResolvedConfig;
  private readonly cookies: SynCookies;
  private readonly counters: CpStats = emptyStats();
  /** The servers: registration, alive signals, up/down, weights and slow start (controlplane/pool). */
  readonly pool: ServerPool;
  private readonly servers: ServerState[];
  private readonly ctx: PolicyContext;
  private readonly conns = new ConnectionTable();
  private readonly out: SegmentOut;
  private readonly replay: RequestReplay;
  private readonly serverDown: ServerDownPath;
  private readonly teardown: SpliceTeardown;
  private portCursor: number;
  /** When each (server, local port) was last released (only with tcp.portReuseDelayPs). */
  private readonly portReleased = new Map<string, number>();

  constructor(config: CpConfig, private readonly env: CpEnv, private policy: Policy<any>) {
    this.cfg = resolveCpConfig(config);
    this.cookies = new SynCookies(this.cfg.synCookieSecret, this.cfg.tcp.mss, this.cfg.tcp.wscale);
    const secret = typeof config.synCookieSecret === "string" ? new TextEncoder().encode(config.synCookieSecret) : config.synCookieSecret;
    const tsBase = crc32(secret);
    this.out = new SegmentOut(env, this.cfg, tsBase);
    this.portCursor = this.cfg.tcp.firstPort ?? this.cfg.tcp.ephemeralPorts[0];
    this.pool = new ServerPool(this.cfg.servers, this.cfg.pool, this.cfg.portMacs.length, env, this.counters, {
      down: (view) => this.serverDown.onServerDown(view.index),
    });
    this.servers = this.pool.views;
    const core: CpContext = { cfg: this.cfg, env, counters: this.counters, pool: this.pool, servers: this.servers, conns: this.conns, out: this.out };
    this.replay = new RequestReplay(core);
    this.teardown = new SpliceTeardown(core, { forget: (conn) => this.forget(conn), currentPolicy: () => this.policy });
    this.serverDown = new ServerDownPath(core, {
      failOver: (conn, reason, serverFailed) => this.failOver(conn, reason, serverFailed),
      unsplice: (conn) => this.teardown.unsplice(conn),
      releaseLeg: (conn) => this.releaseLeg(conn),
      forget: (conn) => this.forget(conn),
      dispatch: (conn) => this.dispatch(conn),
    });
    const rng = new Random(tsBase);
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
        case "RST": return this.teardown.onReport(msg);
        default: return;
      }
    } finally {
      if (cpOwnsBuffer(msg)) this.env.freeBuffer(msg.desc);
    }
  }

  stats(): CpStats {
    return { ...this.counters, refusals: { ...this.counters.refusals }, poolEvents: [...this.counters.poolEvents], activeConnections: this.conns.byClient.size };
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
    for (const c of [...this.conns.byClient.values()]) this.forget(c);
    this.teardown.close();
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
    const old = this.conns.byClient.get(clientKey(seg));
    if (old) {
      // A live connection with this 4-tuple: an old duplicate SYN, not a new connection.
      if (old.phase !== "closing") return;
      // Its connection is over (both FINs or an RST) and its entries only linger: the client reuses
      // its port (RFC 9293 3.10.7.4, a new SYN in TIME-WAIT). The old splice goes now, so the new
      // handshake's segments reach the CP, not the old server.
      old.lingerTimer?.cancel();
      old.lingerTimer = undefined;
      this.teardown.remove(old, false);
      this.counters.reusedTuples++;
    }
    this.env.charge("syn_cookie");
    const grant = this.cookies.issue(
      { saddr: seg.saddr, daddr: seg.daddr, sport: seg.sport, dport: seg.dport, isn: seg.seq, mss: seg.mss, wscale: seg.wscale, sackPermitted: seg.sackPermitted, tsVal: seg.ts?.val },
      this.env.now(), this.out.tsClock(),
    );
    this.out.send(msg.inPort, this.out.replyAddressing(msg.inPort, seg), {
      seq: grant.isn, ack: seqAdd(seg.seq, 1), flags: "SA", win: Math.min(this.cfg.tcp.receiveBufferBytes, 65535),
      options: synOptions({ mss: grant.mss, sack: grant.sack, ts: grant.ts, wscale: grant.wscale }),
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
    let conn = this.conns.byClient.get(clientKey(seg));
    if (!conn) {
      if (has(seg, "R") || has(seg, "S") || !has(seg, "A")) return;
      this.env.charge("syn_cookie");
      const c = this.cookies.check({ ...seg, tsEcr: seg.ts?.ecr }, this.env.now());
      if (!c) {
        this.counters.cookiesRejected++;
        // RFC 9293 3.10.7.1: a segment with ACK for no connection gets <SEQ=SEG.ACK><CTL=RST>.
        this.out.send(msg.inPort, this.out.replyAddressing(msg.inPort, seg), { seq: seg.ack, flags: "R", win: 0 });
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
      this.conns.byClient.set(conn.clientKey, conn);
    }
    if (conn.phase === "request" || conn.phase === "connecting") this.takeClientSegment(conn, msg, seg);
    else if (conn.phase === "refused") this.onRefusedSegment(conn, seg);
    else if (conn.phase === "resetting") this.serverDown.onResettingSegment(conn, seg);
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
        // classify looks for "Host:" at the start of a segment too; that is a field line only when the
        // segment starts a line (a request split inside "X-Forwarded-" | "Host: ..." is not).
        if (msg.flags & DESCF_HOST && startsLine(conn.rx.bytes(), seqDiff(seg.seq, conn.rx.base))) conn.hints.hostHash = msg.hostHash;
      }
      acknowledge = true;
    }
    if (has(seg, "F")) {
      if (seqAdd(seg.seq, seg.payload.length) === conn.rx.next) conn.clientFin = true;
      acknowledge = true;
    }
    if (acknowledge) this.out.toClient(conn, "A");
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
    this.conns.byServer.set(serverKey(server.ipU32, server.tcpPort, localPort), conn);
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
      if (this.conns.byServer.has(key)) continue;
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
    this.out.toServer(leg, {
      seq: leg.isn, flags: "S", win: Math.min(65535, conn.clientWin * 2 ** (conn.clientWscale ?? 0)),
      // Mirror the client's SYN, so both ends agree on what the splice translates.
      options: synOptions({
        mss: Math.min(conn.mss, this.cfg.tcp.mss), sack: conn.sack,
        ts: conn.ts ? { val: conn.tsRecent, ecr: 0 } : undefined, wscale: conn.clientWscale ?? undefined,
      }),
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
    const conn = this.conns.byServer.get(serverKey(seg.saddr, seg.sport, seg.dport));
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
    this.out.send(msg.inPort, this.out.replyAddressing(msg.inPort, seg), {
      seq: ackIt ? 0 : seg.ack, ack: ackIt ? seqAdd(seg.seq, seg.payload.length + (has(seg, "S") ? 1 : 0) + (has(seg, "F") ? 1 : 0)) : undefined,
      flags: ackIt ? "RA" : "R", win: 0,
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
      this.out.toServer(leg, { seq: seqAdd(leg.isn, 1), flags: "R", win: 0 });
      this.releaseLeg(conn);
      this.post(leg, conn, { outcome: "failed", reason: "table_full" });
      return this.refuse(conn, "table_full");
    }
    conn.phase = "spliced";
    this.conns.addEntries(conn, installed.fwd, installed.rev);
    conn.activity = { sig: "0,0,0,0", sincePs: this.env.now() };
    conn.splicedAtPs = this.env.now();
    this.counters.spliced++;
    const view = this.servers[s.index];
    view.activeConnections++;
    view.totalConnections++;
    conn.countedActive = true;
    this.post(leg, conn, { outcome: "spliced" });
    this.replay.start(conn, leg, synAck, serverTs, windows.serverReads);
    this.teardown.armIdleScan();
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
      this.out.toClient(conn, "RA");
      this.forget(conn);
      return;
    }
    // The answer and our FIN; the state stays for lingerPs to acknowledge the client's FIN.
    const body = refusalResponse(code);
    this.out.toClient(conn, "FPA", body);
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
    this.out.toClient(conn, "A", undefined, seqAdd(seg.seq, seg.payload.length + 1));
    this.forget(conn);
  }

  private resetServerLeg(conn: Connection): void {
    const leg = conn.leg;
    if (!leg || conn.phase !== "connecting") return;
    this.out.toServer(leg, { seq: seqAdd(leg.isn, 1), flags: "R", win: 0 });
  }

  private releaseLeg(conn: Connection): void {
    const leg = conn.leg;
    if (!leg) return;
    leg.timer?.cancel();
    leg.timer = undefined;
    const key = legKey(leg);
    this.conns.byServer.delete(key);
    if (this.cfg.tcp.portReuseDelayPs) this.portReleased.set(key, this.env.now());
    conn.leg = undefined;
    this.finishRemovalIfIdle(leg.server.index);
  }

  /** Drop every trace of the connection in the CP (not in the flow table). */
  private forget(conn: Connection): void {
    if (conn.phase === "closed") return;
    for (const t of [conn.requestTimer, conn.lingerTimer, conn.leg?.timer, conn.replay?.timer, conn.probe?.timer]) t?.cancel();
    const server = conn.leg?.server.index;
    this.conns.remove(conn);
    conn.phase = "closed";
    if (server !== undefined) this.finishRemovalIfIdle(server);
  }

  /** A server being removed leaves the pool once no connection has a leg to it. */
  private finishRemovalIfIdle(index: number): boolean {
    if (!this.pool.isRemoving(index)) return false;
    if (this.conns.hasLegTo(index)) return false;
    this.pool.finishRemoval(index);
    return true;
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

}

