// One TCP connection (RFC 9293) behaving like a Linux endpoint: window scaling and timestamps
// with PAWS (RFC 7323), SACK generation (RFC 2018), delayed ACKs, half-close. This file is its
// event processing (user calls, segment arrival, timeouts; RFC 9293 3.10); its variables and
// segment output are in control-block.ts, its sender's SACK scoreboard (RFC 6675), RTT
// estimation and RTO (RFC 6298) and congestion control (RFC 5681 / 6582 / 3042) in
// sack-scoreboard.ts, rtt.ts and congestion.ts.
import { TcpControlBlock, type TcpOutputServices } from "./control-block.js";
import { DATA_RECEIVE_STATES, SYNCED_SEND_STATES, TcpState } from "./state.js";
import { seqAdd, seqDiff, seqGe, seqGt, seqLe, seqLt } from "../../packet/seq.js";
import { LazyTimer } from "./timer.js";
import { ACK, FIN, RST, SYN, type ParsedTcp } from "../../packet/tcp-wire.js";

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
export interface TcpHostServices extends TcpOutputServices {
  /** A fresh 32-bit random number (ISNs, timestamp offsets). */
  random32(): number;
  /** The connection reached CLOSED: forget it. */
  release(conn: TcpConnection): void;
  /** A passive connection became ESTABLISHED: hand it to the listener. */
  accepted(conn: TcpConnection): void;
}

export class TcpConnection extends TcpControlBlock {
  declare protected readonly host: TcpHostServices;
  handlers: TcpHandlers = {};
  /** Free for the application (e.g. its per-connection state), so handlers need no closures. */
  context: unknown = undefined;

  private flushScheduled = false;
  private readonly flushFn: () => void;
  private finReceived = false;
  private rcvMss = 536;
  private readonly timeWaitTimer: LazyTimer;
  private closeReported = false;

  constructor(host: TcpHostServices, localIp: number, localPort: number, remoteIp: number, remotePort: number) {
    super(host, localIp, localPort, remoteIp, remotePort);
    this.flushFn = () => {
      this.flushScheduled = false;
      this.output();
    };
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
    return this.rtt.srtt;
  }

  get congestionWindow(): number {
    return this.cc.cwnd;
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
    this.cc.setInitialWindow(cfg.initialCwnd, this.sndMss);
  }

  // ---------------------------------------------------------------- timers

  protected onRetransmitTimeout(): void {
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
        this.rtt.backOff();
        this.rtoTimer.arm(now + this.rtt.rto);
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
    this.rtt.backOff();
    this.rtt.stopTiming(); // Karn: no RTT sample from retransmitted data
    if (synState) {
      this.sndNxt = this.iss;
    } else {
      this.cc.retransmitTimeout(this.sndUna, this.sndMax, this.sndMss);
      this.sndNxt = this.sndUna;
    }
    this.rtoTimer.arm(now + this.rtt.rto);
    this.output();
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
      this.rtt.stopTiming();
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
    this.rtt.synAcked(this.host.sched.now, this.retries !== 0);
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
    if (this.sackOk && p.sackCount) this.scoreboard.update(p, this.sndUna, this.sndMax);
    if (acked > 0) {
      this.rtt.acked(ack, now);
      this.retries = 0;
      this.sendBuf.ackTo(ack);
      this.sndUna = ack;
      if (seqLt(this.sndNxt, ack)) this.sndNxt = ack;
      this.scoreboard.prune(this.sndUna);
      if (this.cc.newAck(acked, this.sndUna, this.sndMax, this.sndMss)) {
        // Partial ACK in recovery (RFC 6582 3.2): the next hole is lost too.
        if (!this.retransmitNextHole() && seqGe(this.sndUna, this.scoreboard.highRxt)) this.retransmitAt(this.sndUna);
      }
      if (this.sndUna === this.sndMax) this.rtoTimer.disarm();
      else this.rtoTimer.arm(now + this.rtt.rto);
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

  private onDuplicateAck(): void {
    const response = this.cc.duplicateAck(this.sndUna, this.sndMax, this.sndMss);
    if (response === "fast-retransmit") {
      this.host.counters.fastRetransmits++;
      this.scoreboard.highRxt = this.sndUna;
      if (!this.retransmitNextHole()) this.retransmitAt(this.sndUna);
      this.rtt.stopTiming();
    } else if (response === "in-recovery") {
      // Each further duplicate means a segment left the network: fill a known hole with it,
      // or else send new data (window inflation).
      if (!this.retransmitNextHole()) this.cc.inflate(this.sndMss);
    }
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
