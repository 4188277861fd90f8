// A TCP connection's transmission control block (RFC 9293 3.3.1) and its segment output: the send loop, SYN / data / ACK / RST construction, retransmission of one segment.
import { type Scheduler } from "../engine/scheduler.js";
import { PS_PER_MS } from "../../lib/time.js";
import type { TcpConfig, TcpCounters } from "./config.js";
import { CongestionControl } from "./congestion.js";
import { Reassembly } from "./reassembly.js";
import { RttEstimator } from "./rtt.js";
import { SackScoreboard } from "./sack-scoreboard.js";
import { SendBuffer } from "./send-buffer.js";
import { SYNCED_SEND_STATES, TcpState } from "./state.js";
import { seqAdd, seqDiff, seqGt, seqLt } from "../../packet/seq.js";
import { LazyTimer } from "./timer.js";
import { ACK, FIN, PSH, RST, SYN, MAX_SACK_BLOCKS, TCP_FLAGS_AT, allocTcpFrame, sealTcpFrame, tcpPayloadOffset, type TcpFrameFields } from "../../packet/tcp-wire.js";

/** What a connection needs from its host to send segments. */
export interface TcpOutputServices {
  readonly config: TcpConfig;
  readonly counters: TcpCounters;
  readonly sched: Scheduler;
  /** The shared header-field scratch object, pre-filled with the host's MACs and IP. */
  fields(): TcpFrameFields;
  transmit(frame: Uint8Array): void;
}

/**
 * The connection's variables and how segments are built from them. TcpConnection (connection.ts)
 * extends it with event processing: user calls, segment arrival, timeouts.
 */
export abstract class TcpControlBlock {
  state = TcpState.CLOSED;
  /** Segments of this connection sent again. */
  retransmits = 0;

  // Send sequence space (RFC 9293 3.3.1).
  protected iss = 0;
  protected sndUna = 0;
  protected sndNxt = 0;
  /** One past the highest sequence number sent. */
  protected sndMax = 0;
  protected sndWnd = 0;
  protected sndWl1 = 0;
  protected sndWl2 = 0;
  protected sndShift = 0;
  /** Payload bytes per segment (peer MSS less our option bytes). */
  protected sndMss = 536;
  protected readonly sendBuf = new SendBuffer();
  protected finRequested = false;

  protected readonly cc = new CongestionControl();
  protected readonly scoreboard = new SackScoreboard();

  // Retransmission timeout (RFC 6298).
  protected readonly rtt: RttEstimator;
  /** Consecutive expiries of the retransmission timer. */
  protected retries = 0;
  protected readonly rtoTimer: LazyTimer;

  // Receive sequence space.
  protected irs = 0;
  protected rcvNxt = 0;
  protected rcvShift = 0;
  protected readonly reasm = new Reassembly();
  protected unackedBytes = 0;
  protected readonly delAckTimer: LazyTimer;

  // Negotiated options.
  protected sackOk = false;
  protected tsOk = false;
  protected wsOk = false;
  protected tsRecent = 0;
  protected tsOffset = 0;
  protected lastAckSent = 0;

  constructor(
    protected readonly host: TcpOutputServices,
    readonly localIp: number,
    readonly localPort: number,
    readonly remoteIp: number,
    readonly remotePort: number,
  ) {
    this.rtt = new RttEstimator(host.config);
    this.rtoTimer = new LazyTimer(host.sched, () => this.onRetransmitTimeout());
    this.delAckTimer = new LazyTimer(host.sched, () => this.sendAck());
  }

  protected abstract onRetransmitTimeout(): void;

  protected output(): void {
    const s = this.state;
    if (s === TcpState.SYN_SENT || s === TcpState.SYN_RECEIVED) {
      if (this.sndNxt === this.iss) this.sendSyn();
      return;
    }
    if (!((1 << s) & SYNCED_SEND_STATES)) return;
    const dataEnd = this.sendBuf.endSeq;
    const wnd = Math.min(this.sndWnd, this.cc.sendWindow);
    const wndEnd = seqAdd(this.sndUna, wnd);
    for (;;) {
      if (seqLt(this.sndNxt, dataEnd)) {
        if (seqLt(this.sndNxt, this.sndMax)) {
          // Going back after an RTO: do not resend what the peer SACKed.
          const sackedEnd = this.scoreboard.sackedRangeEnd(this.sndNxt);
          if (sackedEnd !== undefined) {
            this.sndNxt = sackedEnd;
            continue;
          }
        }
        let len = Math.min(seqDiff(dataEnd, this.sndNxt), this.sndMss, this.scoreboard.bytesBeforeSacked(this.sndNxt));
        const room = seqDiff(wndEnd, this.sndNxt);
        if (room <= 0) {
          if (this.sndWnd === 0 && this.sndNxt === this.sndUna) this.rtoTimer.armIfIdle(this.host.sched.now + this.rtt.rto); // persist
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
    if (this.sndNxt !== this.sndUna) this.rtoTimer.armIfIdle(this.host.sched.now + this.rtt.rto);
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
    else this.rtt.startTiming(this.iss, this.host.sched.now);
    this.emit(f, 0);
    this.sndNxt = this.sndMax = seqAdd(this.iss, 1);
    this.rtoTimer.armIfIdle(this.host.sched.now + this.rtt.rto);
  }

  /** Send `len` bytes from `seq` (with FIN after them if `fin`), carrying ACK. */
  protected sendData(seq: number, len: number, fin: boolean): void {
    const f = this.host.fields();
    let flags = ACK;
    if (len > 0 && seqAdd(seq, len) === this.sendBuf.endSeq) flags |= PSH;
    if (fin) flags |= FIN;
    this.fillCommon(f, seq, flags);
    this.fillAckFields(f);
    if (seqLt(seq, this.sndMax)) this.countRetransmit();
    else if (!this.rtt.timing) this.rtt.startTiming(seq, this.host.sched.now);
    const frame = allocTcpFrame(f, len);
    if (len > 0) this.sendBuf.copyOut(seq, len, frame, tcpPayloadOffset(f));
    this.host.counters.bytesSent += len;
    this.finishEmit(frame);
  }

  /** A pure ACK (with SACK blocks when holding out-of-order data). */
  protected sendAck(): void {
    if (this.state === TcpState.CLOSED || this.state === TcpState.SYN_SENT) return;
    const f = this.host.fields();
    this.fillCommon(f, this.sndNxt, ACK);
    this.fillAckFields(f);
    this.emit(f, 0);
  }

  /** A segment with only `flags` (RST variants) at `seq`/`ack`, with no options but timestamps. */
  protected sendControl(seq: number, ack: number, flags: number): void {
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

  /** Retransmit one segment at `seq` (the next hole in recovery). */
  protected retransmitAt(seq: number): void {
    const dataEnd = this.sendBuf.endSeq;
    const len = Math.min(seqDiff(dataEnd, seq), this.sndMss, this.scoreboard.bytesBeforeSacked(seq));
    const fin = this.finRequested && seqAdd(seq, len) === dataEnd && seqGt(this.sndMax, dataEnd);
    if (len <= 0 && !fin) return;
    this.sendData(seq, Math.max(len, 0), fin);
    this.scoreboard.retransmitted(seqAdd(seq, Math.max(len, 0) + (fin ? 1 : 0)));
  }

  /** With SACK: retransmit the first not-yet-retransmitted hole below the highest SACKed byte. */
  protected retransmitNextHole(): boolean {
    if (!this.sackOk) return false;
    const seq = this.scoreboard.nextHole(this.sndUna);
    if (seq === undefined) return false;
    this.retransmitAt(seq);
    return true;
  }
}
