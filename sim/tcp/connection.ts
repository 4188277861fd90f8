// One TCP connection (RFC 9293) behaving like a Linux endpoint: window scaling and timestamps
// with PAWS (RFC 7323), SACK generation and a SACK scoreboard for retransmission (RFC 2018),
// RTO with Karn's rule and backoff (RFC 6298), slow start / congestion avoidance / fast
// retransmit and NewReno-style recovery (RFC 5681, RFC 6582), delayed ACKs, half-close.
import { type Scheduler } from "../engine/scheduler.js";
import { PS_PER_MS, type Picos } from "../../lib/time.js";
import type { TcpConfig, TcpCounters } from "./config.js";
import { Reassembly } from "./reassembly.js";
import { SendBuffer } from "./send-buffer.js";
import { seqAdd, seqDiff, seqGe, seqGt, seqLe, seqLt } from "../../packet/seq.js";
import { LazyTimer } from "./timer.js";
import { ACK, FIN, PSH, RST, SYN, MAX_SACK_BLOCKS, TCP_FLAGS_AT, allocTcpFrame, sealTcpFrame, tcpPayloadOffset, type ParsedTcp, type TcpFrameFields } from "../../packet/tcp-wire.js";

export enum TcpState {
  CLOSED, SYN_SENT, SYN_RECEIVED, ESTABLISHED, FIN_WAIT_1, FIN_WAIT_2, CLOSE_WAIT, CLOSING, LAST_ACK, TIME_WAIT,
}

export type CloseReason = "normal" | "reset" | "timeout" | "aborted";

/**
 * Application callbacks. They receive the connection, so one handler object can serve many
 * connections (no closure per connection needed). `onData` gets a view of the received frame:
 * copy it to keep it beyond the call if the frame may be reused (frames are never reused here).
 */
export interface TcpHandlers {
  onConnect?(conn: TcpConnection): void;
  onData?(conn: TcpConnection, data: Uint8Array): void;
  /** The peer sent FIN: no more data will arrive (the connection may still send). */
  onEnd?(conn: TcpConnection): void;
  /** The peer reset the connection. onClose("reset") follows. */
  onReset?(conn: TcpConnection): void;
  /** The connection is finished (both FINs exchanged, reset, timed out or aborted). Called once. */
  onClose?(conn: TcpConnection, reason: CloseReason): void;
}

/** What a connection needs from its host. */
export interface TcpHostServices {
  readonly config: TcpConfig;
  readonly counters: TcpCounters;
  readonly sched: Scheduler;
  /** The shared header-field scratch object, pre-filled with the host's MACs and IP. */
  fields(): TcpFrameFields;
  transmit(frame: Uint8Array): void;
  /** A fresh 32-bit random number (ISNs, timestamp offsets). */
  random32(): number;
  /** The connection reached CLOSED: forget it. */
  release(conn: TcpConnection): void;
  /** A passive connection became ESTABLISHED: hand it to the listener. */
  accepted(conn: TcpConnection): void;
}

const SYNCED_SEND_STATES = (1 << TcpState.ESTABLISHED) | (1 << TcpState.CLOSE_WAIT) | (1 << TcpState.FIN_WAIT_1) | (1 << TcpState.CLOSING) | (1 << TcpState.LAST_ACK);
const DATA_RECEIVE_STATES = (1 << TcpState.ESTABLISHED) | (1 << TcpState.FIN_WAIT_1) | (1 << TcpState.FIN_WAIT_2);

export class TcpConnection {
  state = TcpState.CLOSED;
  handlers: TcpHandlers = {};
  /** Free for the application (e.g. its per-connection state), so handlers need no closures. */
  context: unknown = undefined;
  /** Segments of this connection sent again. */
  retransmits = 0;

  // Send sequence space (RFC 9293 3.3.1).
  private iss = 0;
  private sndUna = 0;
  private sndNxt = 0;
  /** One past the highest sequence number sent. */
  private sndMax = 0;
  private sndWnd = 0;
  private sndWl1 = 0;
  private sndWl2 = 0;
  private sndShift = 0;
  /** Payload bytes per segment (peer MSS less our option bytes). */
  private sndMss = 536;
  private readonly sendBuf = new SendBuffer();
  private finRequested = false;
  private flushScheduled = false;
  private readonly flushFn: () => void;

  // Congestion control.
  private cwnd = 0;
  private ssthresh = 0x7fffffff;
  private dupAcks = 0;
  /** Extra sending room from duplicate ACKs before recovery (RFC 3042 limited transmit). */
  private limitedTransmit = 0;
  private inRecovery = false;
  private recover = 0;
  /** Holes below this were already retransmitted in the current recovery. */
  private retxNext = 0;
  /** SACK scoreboard: sacked ranges above sndUna, sorted, [l0, r0, l1, r1, ...]. */
  private sacked: number[] = [];

  // Retransmission timeout (RFC 6298).
  private srtt = -1;
  private rttvar = 0;
  private rto: Picos;
  private retries = 0;
  private rttTiming = false;
  private rttSeq = 0;
  private rttStart: Picos = 0;
  private readonly rtoTimer: LazyTimer;

  // Receive sequence space.
  private irs = 0;
  private rcvNxt = 0;
  private rcvShift = 0;
  private readonly reasm = new Reassembly();
  private finReceived = false;
  private unackedBytes = 0;
  private rcvMss = 536;
  private readonly delAckTimer: LazyTimer;
  private readonly timeWaitTimer: LazyTimer;

  // Negotiated options.
  private sackOk = false;
  private tsOk = false;
  private wsOk = false;
  private tsRecent = 0;
  private tsOffset = 0;
  private lastAckSent = 0;
  private closeReported = false;

  constructor(
    private readonly host: TcpHostServices,
    readonly localIp: number,
    readonly localPort: number,
    readonly remoteIp: number,
    readonly remotePort: number,
  ) {
    this.rto = host.config.initialRtoPs;
    this.flushFn = () => {
      this.flushScheduled = false;
      this.output();
    };
    this.rtoTimer = new LazyTimer(host.sched, () => this.onRetransmitTimeout());
    this.delAckTimer = new LazyTimer(host.sched, () => this.sendAck());
    this.timeWaitTimer = new LazyTimer(host.sched, () => this.finish("normal"));
  }

  // ---------------------------------------------------------------- application side

  /** Queue bytes for sending. The buffer is kept by reference: do not change it afterwards. */
  write(bytes: Uint8Array): void {
    if (this.finRequested) throw new Error(`write after end() on ${this.describe()}`);
    if (this.state === TcpState.CLOSED || this.state === TcpState.TIME_WAIT) throw new Error(`write on closed ${this.describe()}`);
    this.sendBuf.append(bytes);
    this.scheduleFlush();
  }

  /** Half-close: send FIN after the data written so far. */
  end(): void {
    if (this.finRequested || this.state === TcpState.CLOSED) return;
    this.finRequested = true;
    if (this.state === TcpState.ESTABLISHED || this.state === TcpState.SYN_RECEIVED) this.state = TcpState.FIN_WAIT_1;
    else if (this.state === TcpState.CLOSE_WAIT) this.state = TcpState.LAST_ACK;
    else if (this.state === TcpState.SYN_SENT) return this.finish("aborted");
    this.scheduleFlush();
  }

  /** Abort: send RST (in synchronized states) and close at once. */
  abort(): void {
    if (this.state === TcpState.CLOSED) return;
    if (this.state !== TcpState.SYN_SENT && this.state !== TcpState.TIME_WAIT) this.sendControl(this.sndNxt, this.rcvNxt, RST | ACK);
    this.finish("aborted");
  }

  /** Bytes written and not yet acknowledged by the peer. */
  get unacknowledged(): number {
    return this.sendBuf.length;
  }

  get smoothedRttPs(): number {
    return this.srtt;
  }

  get congestionWindow(): number {
    return this.cwnd;
  }

  describe(): string {
    const ip = (a: number) => `${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}`;
    return `${ip(this.localIp)}:${this.localPort}->${ip(this.remoteIp)}:${this.remotePort} ${TcpState[this.state]}`;
  }

  private scheduleFlush(): void {
    // Writes made during one event go out together once it ends (like TCP_CORK until the
    // syscall returns): a response header and body become full segments.
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    this.host.sched.at(this.host.sched.now, this.flushFn);
  }

  // ---------------------------------------------------------------- opening

  /** @internal Active open: send SYN. */
  openActive(): void {
    this.initSend();
    this.state = TcpState.SYN_SENT;
    this.host.counters.activeOpens++;
    this.output();
  }

  /** @internal Passive open from a listener on a received SYN. */
  openPassive(p: ParsedTcp): void {
    this.initSend();
    this.state = TcpState.SYN_RECEIVED;
    this.acceptSynOptions(p);
    this.irs = p.seq;
    this.rcvNxt = seqAdd(p.seq, 1);
    this.sndWnd = p.win; // never scaled in a SYN
    this.sndWl1 = p.seq;
    this.sndWl2 = this.iss;
    if (this.tsOk) this.tsRecent = p.tsVal;
    this.host.counters.passiveOpens++;
    this.output();
  }

  private initSend(): void {
    this.iss = this.host.random32();
    this.tsOffset = this.host.random32();
    this.sndUna = this.sndNxt = this.sndMax = this.iss;
    this.sendBuf.reset(seqAdd(this.iss, 1));
    this.rcvShift = this.host.config.wscale >= 0 ? this.host.config.wscale : 0;
  }

  /** Negotiate options from the peer's SYN or SYN-ACK: an option is used when both sides offer it. */
  private acceptSynOptions(p: ParsedTcp): void {
    const cfg = this.host.config;
    this.sackOk = cfg.sack && p.sackPermitted;
    this.tsOk = cfg.timestamps && p.hasTs;
    this.wsOk = cfg.wscale >= 0 && p.wscale >= 0;
    this.sndShift = this.wsOk ? Math.min(p.wscale, 14) : 0;
    if (!this.wsOk) this.rcvShift = 0;
    const peerMss = p.mss || 536;
    this.sndMss = Math.min(peerMss, cfg.mss) - (this.tsOk ? 12 : 0);
    this.rcvMss = Math.min(cfg.mss, 536);
    this.cwnd = cfg.initialCwnd * this.sndMss;
  }

  // ---------------------------------------------------------------- output

  private output(): void {
    const s = this.state;
    if (s === TcpState.SYN_SENT || s === TcpState.SYN_RECEIVED) {
      if (this.sndNxt === this.iss) this.sendSyn();
      return;
    }
    if (!((1 << s) & SYNCED_SEND_STATES)) return;
    const dataEnd = this.sendBuf.endSeq;
    const wnd = Math.min(this.sndWnd, this.cwnd + this.limitedTransmit);
    const wndEnd = seqAdd(this.sndUna, wnd);
    for (;;) {
      if (seqLt(this.sndNxt, dataEnd)) {
        if (seqLt(this.sndNxt, this.sndMax) && this.skipSacked()) continue;
        let len = Math.min(seqDiff(dataEnd, this.sndNxt), this.sndMss, this.sackedLimit(this.sndNxt));
        const room = seqDiff(wndEnd, this.sndNxt);
        if (room <= 0) {
          if (this.sndWnd === 0 && this.sndNxt === this.sndUna) this.rtoTimer.armIfIdle(this.host.sched.now + this.rto); // persist
          break;
        }
        if (len > room) {
          // Silly-window avoidance: with data in flight, wait for room for a full segment.
          if (room < this.sndMss && this.sndNxt !== this.sndUna) break;
          len = room;
        }
        const fin = this.finRequested && seqAdd(this.sndNxt, len) === dataEnd;
        this.sendData(this.sndNxt, len, fin);
        this.sndNxt = seqAdd(this.sndNxt, len + (fin ? 1 : 0));
        if (seqGt(this.sndNxt, this.sndMax)) this.sndMax = this.sndNxt;
        continue;
      }
      if (this.finRequested && this.sndNxt === dataEnd) {
        this.sendData(this.sndNxt, 0, true);
        this.sndNxt = seqAdd(this.sndNxt, 1);
        if (seqGt(this.sndNxt, this.sndMax)) this.sndMax = this.sndNxt;
      }
      break;
    }
    if (this.sndNxt !== this.sndUna) this.rtoTimer.armIfIdle(this.host.sched.now + this.rto);
  }

  /** When sndNxt sits in a SACKed range (go-back-N after an RTO), move past it. */
  private skipSacked(): boolean {
    const sk = this.sacked;
    for (let i = 0; i < sk.length; i += 2) {
      if (seqLe(sk[i], this.sndNxt) && seqLt(this.sndNxt, sk[i + 1])) {
        this.sndNxt = sk[i + 1];
        return true;
      }
    }
    return false;
  }

  /** Bytes from `seq` up to the next SACKed range (so a retransmission does not resend SACKed data). */
  private sackedLimit(seq: number): number {
    const sk = this.sacked;
    for (let i = 0; i < sk.length; i += 2) if (seqGt(sk[i], seq)) return seqDiff(sk[i], seq);
    return 0x7fffffff;
  }

  private sendSyn(): void {
    const cfg = this.host.config;
    const f = this.host.fields();
    const active = this.state === TcpState.SYN_SENT;
    this.fillCommon(f, this.iss, active ? SYN : SYN | ACK);
    f.win = Math.min(cfg.rcvBufBytes, 0xffff);
    f.mss = cfg.mss;
    f.sackPermitted = active ? cfg.sack : this.sackOk;
    f.hasTs = active ? cfg.timestamps : this.tsOk;
    f.tsEcr = active ? 0 : this.tsRecent;
    f.wscale = (active ? cfg.wscale >= 0 : this.wsOk) ? cfg.wscale : -1;
    f.sackCount = 0;
    if (this.sndMax !== this.iss) this.countRetransmit();
    else {
      this.rttTiming = true;
      this.rttSeq = this.iss;
      this.rttStart = this.host.sched.now;
    }
    this.emit(f, 0);
    this.sndNxt = this.sndMax = seqAdd(this.iss, 1);
    this.rtoTimer.armIfIdle(this.host.sched.now + this.rto);
  }

  /** Send `len` bytes from `seq` (with FIN after them if `fin`), carrying ACK. */
  private sendData(seq: number, len: number, fin: boolean): void {
    const f = this.host.fields();
    let flags = ACK;
    if (len > 0 && seqAdd(seq, len) === this.sendBuf.endSeq) flags |= PSH;
    if (fin) flags |= FIN;
    this.fillCommon(f, seq, flags);
    this.fillAckFields(f);
    if (seqLt(seq, this.sndMax)) this.countRetransmit();
    else if (!this.rttTiming) {
      this.rttTiming = true;
      this.rttSeq = seq;
      this.rttStart = this.host.sched.now;
    }
    const frame = allocTcpFrame(f, len);
    if (len > 0) this.sendBuf.copyOut(seq, len, frame, tcpPayloadOffset(f));
    this.host.counters.bytesSent += len;
    this.finishEmit(frame);
  }

  /** A pure ACK (with SACK blocks when holding out-of-order data). */
  private sendAck(): void {
    if (this.state === TcpState.CLOSED || this.state === TcpState.SYN_SENT) return;
    const f = this.host.fields();
    this.fillCommon(f, this.sndNxt, ACK);
    this.fillAckFields(f);
    this.emit(f, 0);
  }

  /** A segment with only `flags` (RST variants) at `seq`/`ack`, with no options but timestamps. */
  private sendControl(seq: number, ack: number, flags: number): void {
    const f = this.host.fields();
    this.fillCommon(f, seq, flags);
    f.ack = ack;
    f.win = this.windowField();
    f.hasTs = this.tsOk;
    f.tsEcr = this.tsRecent;
    if (flags & RST) this.host.counters.resetsSent++;
    this.emit(f, 0);
  }

  private fillCommon(f: TcpFrameFields, seq: number, flags: number): void {
    f.sport = this.localPort;
    f.dport = this.remotePort;
    f.dstIp = this.remoteIp;
    f.seq = seq;
    f.flags = flags;
    f.ack = flags & ACK ? this.rcvNxt : 0;
    f.mss = 0;
    f.wscale = -1;
    f.sackPermitted = false;
    f.sackCount = 0;
    f.hasTs = this.tsOk;
    f.tsVal = (Math.floor(this.host.sched.now / PS_PER_MS) + this.tsOffset) >>> 0;
    f.tsEcr = 0;
  }

  private fillAckFields(f: TcpFrameFields): void {
    f.win = this.windowField();
    f.tsEcr = this.tsRecent;
    if (this.sackOk && !this.reasm.empty) {
      f.sackCount = this.reasm.sackBlocks(this.rcvNxt, f.sackBlocks, this.tsOk ? 3 : MAX_SACK_BLOCKS);
      if (f.sackCount) this.host.counters.sackSegmentsSent++;
    }
  }

  private windowField(): number {
    return Math.min(this.host.config.rcvBufBytes >>> this.rcvShift, 0xffff);
  }

  private emit(f: TcpFrameFields, payloadLen: number): void {
    this.finishEmit(allocTcpFrame(f, payloadLen));
  }

  private finishEmit(frame: Uint8Array): void {
    sealTcpFrame(frame);
    this.host.counters.segmentsSent++;
    if (frame[TCP_FLAGS_AT] & ACK) {
      // Any segment carrying ACK acknowledges everything received so far.
      this.lastAckSent = this.rcvNxt;
      this.unackedBytes = 0;
      this.delAckTimer.disarm();
    }
    this.host.transmit(frame);
  }

  private countRetransmit(): void {
    this.retransmits++;
    this.host.counters.retransmits++;
  }

  // ---------------------------------------------------------------- timers

  private onRetransmitTimeout(): void {
    const s = this.state;
    if (s === TcpState.CLOSED || s === TcpState.TIME_WAIT) return;
    const now = this.host.sched.now;
    const outstanding = this.sndMax !== this.sndUna;
    const dataWaiting = seqLt(this.sndNxt, this.sendBuf.endSeq);
    if (!outstanding) {
      if (this.sndWnd === 0 && dataWaiting && (1 << s) & SYNCED_SEND_STATES) {
        // Zero-window probe (RFC 9293 3.8.6.1): one byte beyond the window.
        this.sendData(this.sndNxt, 1, false);
        this.sndNxt = this.sndMax = seqAdd(this.sndNxt, 1);
        this.rto = Math.min(this.rto * 2, this.host.config.maxRtoPs);
        this.rtoTimer.arm(now + this.rto);
      }
      return;
    }
    const synState = s === TcpState.SYN_SENT || s === TcpState.SYN_RECEIVED;
    if (++this.retries > (synState ? this.host.config.synRetries : this.host.config.dataRetries)) {
      this.host.counters.connectionTimeouts++;
      if (!synState) this.sendControl(this.sndNxt, this.rcvNxt, RST | ACK);
      return this.finish("timeout");
    }
    this.host.counters.timeouts++;
    this.rto = Math.min(this.rto * 2, this.host.config.maxRtoPs);
    this.rttTiming = false; // Karn: no RTT sample from retransmitted data
    if (synState) {
      this.sndNxt = this.iss;
    } else {
      const flight = seqDiff(this.sndMax, this.sndUna);
      this.ssthresh = Math.max(flight >> 1, 2 * this.sndMss);
      this.cwnd = this.sndMss;
      this.inRecovery = false;
      this.dupAcks = 0;
      this.limitedTransmit = 0;
      this.sndNxt = this.sndUna;
    }
    this.rtoTimer.arm(now + this.rto);
    this.output();
  }

  private updateRto(sample: Picos): void {
    // RFC 6298 2.2 / 2.3 with alpha 1/8, beta 1/4, K = 4.
    if (this.srtt < 0) {
      this.srtt = sample;
      this.rttvar = sample / 2;
    } else {
      this.rttvar = 0.75 * this.rttvar + 0.25 * Math.abs(this.srtt - sample);
      this.srtt = 0.875 * this.srtt + 0.125 * sample;
    }
    const cfg = this.host.config;
    this.rto = Math.min(Math.max(Math.round(this.srtt + Math.max(4 * this.rttvar, PS_PER_MS)), cfg.minRtoPs), cfg.maxRtoPs);
  }

  // ---------------------------------------------------------------- input

  /** @internal A segment for this connection arrived; `frame` holds its payload at p.payloadAt. */
  input(p: ParsedTcp, frame: Uint8Array): void {
    this.host.counters.segmentsReceived++;
    if (this.state === TcpState.SYN_SENT) return this.inputSynSent(p);
    const flags = p.flags;
    if (this.state === TcpState.SYN_RECEIVED && flags & SYN && !(flags & ACK) && p.seq === this.irs) {
      // Our SYN-ACK was lost: the peer repeats its SYN.
      this.sndNxt = this.iss;
      this.rttTiming = false;
      return this.output();
    }
    if (this.tsOk && p.hasTs && !(flags & RST) && seqLt(p.tsVal, this.tsRecent)) {
      this.host.counters.pawsDrops++;
      return this.sendAck();
    }
    if (!this.acceptable(p)) {
      if (!(flags & RST)) {
        this.host.counters.unacceptableSegments++;
        this.sendAck();
        if (this.state === TcpState.TIME_WAIT && flags & FIN) this.timeWaitTimer.arm(this.host.sched.now + this.host.config.timeWaitPs);
      }
      return;
    }
    if (flags & RST) {
      // RFC 5961 3.2: only an exact match resets; any other in-window RST gets a challenge ACK.
      if (p.seq === this.rcvNxt) return this.resetByPeer();
      return this.sendAck();
    }
    if (flags & SYN) return this.sendAck(); // RFC 5961 4.2 challenge ACK
    if (!(flags & ACK)) return;
    if (p.hasTs && this.tsOk && seqLe(p.seq, this.lastAckSent) && seqGe(p.tsVal, this.tsRecent)) this.tsRecent = p.tsVal;

    if (this.state === TcpState.SYN_RECEIVED) {
      if (!(seqGt(p.ack, this.sndUna) && seqLe(p.ack, this.sndMax))) return this.sendControl(p.ack, 0, RST);
      this.state = this.finRequested ? TcpState.FIN_WAIT_1 : TcpState.ESTABLISHED;
      this.sndWnd = p.win << this.sndShift;
      this.sndWl1 = p.seq;
      this.sndWl2 = p.ack;
      this.host.accepted(this);
      if (this.closed) return;
    }
    if (!this.processAck(p)) return;
    if (this.state === TcpState.CLOSED || this.state === TcpState.TIME_WAIT) {
      if (this.state === TcpState.TIME_WAIT && flags & FIN) this.sendAck();
      return;
    }
    if ((p.payloadLen > 0 || flags & FIN) && (1 << this.state) & DATA_RECEIVE_STATES) this.processData(p, frame);
    if (!this.closed) this.output();
  }

  private inputSynSent(p: ParsedTcp): void {
    const flags = p.flags;
    if (flags & ACK && (seqLe(p.ack, this.iss) || seqGt(p.ack, this.sndMax))) {
      if (!(flags & RST)) this.sendControl(p.ack, 0, RST);
      return;
    }
    if (flags & RST) {
      if (flags & ACK) this.resetByPeer();
      return;
    }
    if (!(flags & SYN)) return;
    this.acceptSynOptions(p);
    this.irs = p.seq;
    this.rcvNxt = seqAdd(p.seq, 1);
    if (this.tsOk) this.tsRecent = p.tsVal;
    if (!(flags & ACK)) {
      // Simultaneous open (RFC 9293 3.5): answer with SYN-ACK.
      this.state = TcpState.SYN_RECEIVED;
      this.sndNxt = this.iss;
      return this.output();
    }
    this.sndUna = p.ack;
    this.sndWnd = p.win << this.sndShift;
    this.sndWl1 = p.seq;
    this.sndWl2 = p.ack;
    if (this.rttTiming && this.retries === 0) this.updateRto(this.host.sched.now - this.rttStart);
    this.rttTiming = false;
    this.retries = 0;
    this.rtoTimer.disarm();
    this.state = this.finRequested ? TcpState.FIN_WAIT_1 : TcpState.ESTABLISHED;
    this.sendAck();
    this.handlers.onConnect?.(this);
    if (!this.closed) this.output();
  }

  /** RFC 9293 3.10.7.4 segment acceptability against the receive window. */
  private acceptable(p: ParsedTcp): boolean {
    const segLen = p.payloadLen + (p.flags & SYN ? 1 : 0) + (p.flags & FIN ? 1 : 0);
    const wnd = this.host.config.rcvBufBytes;
    const off = seqDiff(p.seq, this.rcvNxt);
    if (segLen === 0) return off >= 0 && off < wnd;
    const lastOff = off + segLen - 1;
    return (off >= 0 && off < wnd) || (lastOff >= 0 && lastOff < wnd);
  }

  /** Returns false when the segment is to be dropped. */
  private processAck(p: ParsedTcp): boolean {
    const ack = p.ack;
    if (seqGt(ack, this.sndMax)) {
      this.sendAck();
      return false;
    }
    const acked = seqDiff(ack, this.sndUna);
    const now = this.host.sched.now;
    if (this.sackOk && p.sackCount) this.updateScoreboard(p);
    if (acked > 0) {
      if (this.rttTiming && seqGt(ack, this.rttSeq)) {
        this.updateRto(now - this.rttStart);
        this.rttTiming = false;
      }
      this.retries = 0;
      this.sendBuf.ackTo(ack);
      this.sndUna = ack;
      if (seqLt(this.sndNxt, ack)) this.sndNxt = ack;
      this.pruneScoreboard();
      this.growWindow(acked);
      this.dupAcks = 0;
      this.limitedTransmit = 0;
      if (this.sndUna === this.sndMax) this.rtoTimer.disarm();
      else this.rtoTimer.arm(now + this.rto);
      this.updateWindow(p);
      if (this.finRequested && seqGt(this.sndUna, this.sendBuf.endSeq)) this.ourFinAcked();
      return true;
    }
    if (acked === 0 && p.payloadLen === 0 && !(p.flags & (SYN | FIN)) && this.sndMax !== this.sndUna && p.win << this.sndShift === this.sndWnd) {
      this.host.counters.duplicateAcksReceived++;
      this.onDuplicateAck();
    }
    this.updateWindow(p);
    return true;
  }

  private growWindow(acked: number): void {
    const mss = this.sndMss;
    if (this.inRecovery) {
      if (seqGe(this.sndUna, this.recover)) {
        this.inRecovery = false;
        this.cwnd = Math.min(this.ssthresh, seqDiff(this.sndMax, this.sndUna) + mss);
      } else {
        // Partial ACK (RFC 6582 3.2): the next hole is lost too.
        this.cwnd = Math.max(this.cwnd - acked + mss, mss);
        if (!this.retransmitNextHole() && seqGe(this.sndUna, this.retxNext)) this.retransmitAt(this.sndUna);
      }
      return;
    }
    if (this.cwnd < this.ssthresh) this.cwnd += Math.min(acked, 2 * mss); // slow start, RFC 3465 L = 2
    else this.cwnd += Math.max(1, Math.floor((mss * mss) / this.cwnd));
  }

  private onDuplicateAck(): void {
    this.dupAcks++;
    if (!this.inRecovery && this.dupAcks < 3) {
      // Limited transmit (RFC 3042): each of the first two duplicates lets one new segment out,
      // so that small windows still produce the three duplicates fast retransmit needs.
      this.limitedTransmit = this.dupAcks * this.sndMss;
      return;
    }
    this.limitedTransmit = 0;
    if (!this.inRecovery && this.dupAcks === 3) {
      this.host.counters.fastRetransmits++;
      const flight = seqDiff(this.sndMax, this.sndUna);
      this.ssthresh = Math.max(flight >> 1, 2 * this.sndMss);
      this.cwnd = this.ssthresh + 3 * this.sndMss;
      this.inRecovery = true;
      this.recover = this.sndMax;
      this.retxNext = this.sndUna;
      if (!this.retransmitNextHole()) this.retransmitAt(this.sndUna);
      this.rttTiming = false;
    } else if (this.inRecovery) {
      // Each further duplicate means a segment left the network: fill a known hole with it,
      // or else send new data (window inflation).
      if (!this.retransmitNextHole()) this.cwnd += this.sndMss;
    }
  }

  /** Retransmit one segment at `seq` (the next hole in recovery). */
  private retransmitAt(seq: number): void {
    const dataEnd = this.sendBuf.endSeq;
    const len = Math.min(seqDiff(dataEnd, seq), this.sndMss, this.sackedLimit(seq));
    const fin = this.finRequested && seqAdd(seq, len) === dataEnd && seqGt(this.sndMax, dataEnd);
    if (len <= 0 && !fin) return;
    this.sendData(seq, Math.max(len, 0), fin);
    const end = seqAdd(seq, Math.max(len, 0) + (fin ? 1 : 0));
    if (seqGt(end, this.retxNext)) this.retxNext = end;
  }

  /** With SACK: retransmit the first not-yet-retransmitted hole below the highest SACKed byte. */
  private retransmitNextHole(): boolean {
    const sk = this.sacked;
    if (!this.sackOk || sk.length === 0) return false;
    let seq = seqGt(this.retxNext, this.sndUna) ? this.retxNext : this.sndUna;
    for (let i = 0; i < sk.length; i += 2) {
      if (seqLe(sk[i + 1], seq)) continue;
      if (seqLt(seq, sk[i])) {
        this.retransmitAt(seq);
        return true;
      }
      seq = sk[i + 1];
    }
    return false;
  }

  private updateScoreboard(p: ParsedTcp): void {
    for (let b = 0; b < p.sackCount; b++) {
      const l = p.sackBlocks[2 * b], r = p.sackBlocks[2 * b + 1];
      if (!seqLt(l, r) || seqLe(r, this.sndUna) || seqGt(r, this.sndMax)) continue; // D-SACK or bogus
      this.insertSacked(seqLt(l, this.sndUna) ? this.sndUna : l, r);
    }
  }

  private insertSacked(l: number, r: number): void {
    const sk = this.sacked;
    const out: number[] = [];
    let placed = false;
    for (let i = 0; i < sk.length; i += 2) {
      const a = sk[i], b = sk[i + 1];
      if (seqLt(b, l)) out.push(a, b);
      else if (seqLt(r, a)) {
        if (!placed) { out.push(l, r); placed = true; }
        out.push(a, b);
      } else {
        if (seqLt(a, l)) l = a;
        if (seqGt(b, r)) r = b;
      }
    }
    if (!placed) out.push(l, r);
    this.sacked = out;
  }

  private pruneScoreboard(): void {
    const sk = this.sacked;
    if (sk.length === 0) return;
    let i = 0;
    while (i < sk.length && seqLe(sk[i + 1], this.sndUna)) i += 2;
    if (i > 0) this.sacked = sk.slice(i);
    if (this.sacked.length && seqLt(this.sacked[0], this.sndUna)) this.sacked[0] = this.sndUna;
  }

  private updateWindow(p: ParsedTcp): void {
    if (seqLt(this.sndWl1, p.seq) || (this.sndWl1 === p.seq && seqLe(this.sndWl2, p.ack))) {
      this.sndWnd = p.win << this.sndShift;
      this.sndWl1 = p.seq;
      this.sndWl2 = p.ack;
    }
  }

  private ourFinAcked(): void {
    if (this.state === TcpState.FIN_WAIT_1) this.state = TcpState.FIN_WAIT_2;
    else if (this.state === TcpState.CLOSING) this.enterTimeWait();
    else if (this.state === TcpState.LAST_ACK) this.finish("normal");
  }

  private processData(p: ParsedTcp, frame: Uint8Array): void {
    let seq = p.seq;
    let at = p.payloadAt;
    let len = p.payloadLen;
    let fin = (p.flags & FIN) !== 0;
    const front = seqDiff(this.rcvNxt, seq);
    if (front > 0) {
      // Partly old: keep the new tail (acceptability guaranteed something is new or a FIN).
      const cut = Math.min(front, len);
      at += cut;
      len -= cut;
      seq = seqAdd(seq, cut);
      if (len === 0 && !(fin && seq === this.rcvNxt)) return this.sendAck();
    }
    const room = this.host.config.rcvBufBytes - seqDiff(seq, this.rcvNxt);
    if (len > room) {
      len = room;
      fin = false;
    }
    if (seq !== this.rcvNxt) {
      this.host.counters.outOfOrderSegments++;
      this.reasm.insert(seq, frame.subarray(at, at + len), fin);
      return this.sendAck();
    }
    const hadHoles = !this.reasm.empty;
    if (len > 0) {
      this.rcvNxt = seqAdd(this.rcvNxt, len);
      this.deliver(frame.subarray(at, at + len));
      if (this.closed) return;
    }
    if (fin) return this.finArrived();
    if (hadHoles) {
      for (let piece = this.reasm.takeAt(this.rcvNxt); piece; piece = this.reasm.takeAt(this.rcvNxt)) {
        this.rcvNxt = piece.end;
        if (piece.data.length) this.deliver(piece.data);
        if (this.closed) return;
        if (piece.fin) return this.finArrived();
      }
      return this.sendAck(); // a hole filled: tell the sender at once
    }
    if (len > this.rcvMss) this.rcvMss = Math.min(len, this.host.config.mss);
    this.unackedBytes += len;
    if (this.unackedBytes > this.rcvMss) this.sendAck(); // every second full-sized segment
    else this.delAckTimer.armIfIdle(this.host.sched.now + this.host.config.delayedAckPs);
  }

  private deliver(data: Uint8Array): void {
    this.host.counters.bytesDelivered += data.length;
    this.handlers.onData?.(this, data);
  }

  private finArrived(): void {
    this.rcvNxt = seqAdd(this.rcvNxt, 1);
    this.finReceived = true;
    this.sendAck();
    const wasFinWait2 = this.state === TcpState.FIN_WAIT_2;
    if (this.state === TcpState.ESTABLISHED) this.state = TcpState.CLOSE_WAIT;
    else if (this.state === TcpState.FIN_WAIT_1) this.state = TcpState.CLOSING;
    this.handlers.onEnd?.(this);
    if (wasFinWait2 && !this.closed) this.enterTimeWait();
  }

  /** Read through a getter so that checks after application callbacks are not narrowed away. */
  get closed(): boolean {
    return this.state === TcpState.CLOSED;
  }

  get peerFinished(): boolean {
    return this.finReceived;
  }

  // ---------------------------------------------------------------- closing

  private resetByPeer(): void {
    this.host.counters.resetsReceived++;
    this.handlers.onReset?.(this);
    this.finish("reset");
  }

  private enterTimeWait(): void {
    this.state = TcpState.TIME_WAIT;
    this.rtoTimer.disarm();
    this.delAckTimer.disarm();
    this.timeWaitTimer.arm(this.host.sched.now + this.host.config.timeWaitPs);
    this.reportClose("normal");
  }

  /** @internal Leave TIME_WAIT early (a new SYN for the same four-tuple). */
  destroy(): void {
    this.finish("normal");
  }

  private finish(reason: CloseReason): void {
    if (this.state === TcpState.CLOSED) return;
    this.state = TcpState.CLOSED;
    this.rtoTimer.disarm();
    this.delAckTimer.disarm();
    this.timeWaitTimer.disarm();
    this.host.release(this);
    this.reportClose(reason);
  }

  private reportClose(reason: CloseReason): void {
    if (this.closeReported) return;
    this.closeReported = true;
    this.handlers.onClose?.(this, reason);
  }

  /** @internal For tests and tracing. */
  get sequence(): { iss: number; irs: number; sndUna: number; sndNxt: number; rcvNxt: number; sndWnd: number; sndMss: number } {
    return { iss: this.iss, irs: this.irs, sndUna: this.sndUna, sndNxt: this.sndNxt, rcvNxt: this.rcvNxt, sndWnd: this.sndWnd, sndMss: this.sndMss };
  }
}
