// Congestion control of a TCP sender (RFC 5681): slow start, congestion avoidance, fast retransmit / fast recovery with NewReno partial ACKs (RFC 6582) and limited transmit (RFC 3042).
import { seqDiff, seqGe } from "../../packet/seq.js";

/** What a duplicate ACK calls for from the sender (returned by CongestionControl.duplicateAck). */
export type DupAckResponse =
  /** One of the first two duplicates: cwnd allows one more new segment each (RFC 3042). */
  | "limited-transmit"
  /** The third duplicate: fast recovery entered; retransmit the first unacknowledged segment. */
  | "fast-retransmit"
  /** A further duplicate during fast recovery: a segment left the network. */
  | "in-recovery"
  /** Nothing to do. */
  | "none";

/** Duplicate ACKs that trigger fast retransmit (RFC 5681 3.2 DupThresh). */
const DUP_THRESH = 3;

/** The sender's congestion state. Sequence numbers are SND.UNA / SND.MAX; windows are in bytes. */
export class CongestionControl {
  /** Congestion window (cwnd). */
  cwnd = 0;
  /** Slow-start threshold (ssthresh); arbitrarily high at first (RFC 5681 3.1). */
  ssthresh = 0x7fffffff;
  /** Duplicate ACKs in a row. */
  private dupAcks = 0;
  /** Extra sending room from duplicate ACKs before recovery (RFC 3042 limited transmit). */
  private limitedTransmit = 0;
  private inRecovery = false;
  /** RFC 6582 "recover": the highest sequence number sent when fast recovery began. */
  private recover = 0;

  /** Initial window (RFC 5681 3.1, RFC 6928): `segments` full-sized segments of `smss` bytes. */
  setInitialWindow(segments: number, smss: number): void {
    this.cwnd = segments * smss;
  }

  /** The window congestion control allows in flight: cwnd plus any limited-transmit room. */
  get sendWindow(): number {
    return this.cwnd + this.limitedTransmit;
  }

  /**
   * An ACK advanced SND.UNA (now `sndUna`) by `acked` bytes. Grows cwnd (slow start with
   * appropriate byte counting L = 2, RFC 3465; congestion avoidance) or, in fast recovery, ends
   * it or deflates cwnd. Returns true for a partial ACK (RFC 6582 3.2): the next hole is lost too.
   */
  newAck(acked: number, sndUna: number, sndMax: number, smss: number): boolean {
    let partialAck = false;
    if (this.inRecovery) {
      if (seqGe(sndUna, this.recover)) {
        this.inRecovery = false;
        this.cwnd = Math.min(this.ssthresh, seqDiff(sndMax, sndUna) + smss);
      } else {
        this.cwnd = Math.max(this.cwnd - acked + smss, smss);
        partialAck = true;
      }
    } else if (this.cwnd < this.ssthresh) this.cwnd += Math.min(acked, 2 * smss); // slow start, RFC 3465 L = 2
    else this.cwnd += Math.max(1, Math.floor((smss * smss) / this.cwnd));
    this.dupAcks = 0;
    this.limitedTransmit = 0;
    return partialAck;
  }

  /** A duplicate ACK arrived (RFC 5681 3.2); on the third, ssthresh and cwnd drop and recovery begins. */
  duplicateAck(sndUna: number, sndMax: number, smss: number): DupAckResponse {
    this.dupAcks++;
    if (!this.inRecovery && this.dupAcks < DUP_THRESH) {
      // Limited transmit (RFC 3042): each of the first two duplicates lets one new segment out,
      // so that small windows still produce the three duplicates fast retransmit needs.
      this.limitedTransmit = this.dupAcks * smss;
      return "limited-transmit";
    }
    this.limitedTransmit = 0;
    if (!this.inRecovery && this.dupAcks === DUP_THRESH) {
      const flightSize = seqDiff(sndMax, sndUna);
      this.ssthresh = Math.max(flightSize >> 1, 2 * smss);
      this.cwnd = this.ssthresh + 3 * smss;
      this.inRecovery = true;
      this.recover = sndMax;
      return "fast-retransmit";
    }
    return this.inRecovery ? "in-recovery" : "none";
  }

  /** Window inflation in fast recovery (RFC 5681 3.2 step 4): a duplicate ACK lets new data out. */
  inflate(smss: number): void {
    this.cwnd += smss;
  }

  /** The retransmission timer expired (RFC 5681 3.1 equation 4): back to slow start from one segment. */
  retransmitTimeout(sndUna: number, sndMax: number, smss: number): void {
    const flightSize = seqDiff(sndMax, sndUna);
    this.ssthresh = Math.max(flightSize >> 1, 2 * smss);
    this.cwnd = smss;
    this.inRecovery = false;
    this.dupAcks = 0;
    this.limitedTransmit = 0;
  }
}
