// Round-trip time estimation and the retransmission timeout of a TCP sender (RFC 6298): SRTT, RTTVAR, RTO, Karn's rule, backoff.
import { PS_PER_MS, type Picos } from "../../lib/time.js";
import { seqGt } from "../../packet/seq.js";
import type { TcpConfig } from "./config.js";

/**
 * One segment at a time is timed (as RFC 6298 section 3 allows); a sample updates SRTT and
 * RTTVAR (RFC 6298 2.2 / 2.3) and from them RTO, bounded by the configured minimum and maximum.
 */
export class RttEstimator {
  /** Smoothed round-trip time (SRTT) in picoseconds; -1 before the first measurement. */
  srtt = -1;
  /** Round-trip time variation (RTTVAR) in picoseconds. */
  rttvar = 0;
  /** Retransmission timeout (RTO) in picoseconds. */
  rto: Picos;
  /** A segment is being timed. */
  timing = false;
  /** Sequence number of the timed segment: an ACK beyond it completes the measurement. */
  private timedSeq = 0;
  private timedAt: Picos = 0;

  constructor(private readonly config: TcpConfig) {
    this.rto = config.initialRtoPs;
  }

  /** Time the segment starting at `seq`, sent at `now`. */
  startTiming(seq: number, now: Picos): void {
    this.timing = true;
    this.timedSeq = seq;
    this.timedAt = now;
  }

  /** Karn's algorithm: no sample is taken from a retransmitted segment. */
  stopTiming(): void {
    this.timing = false;
  }

  /** An ACK for `ack` arrived at `now`: take a sample if it covers the timed segment. */
  acked(ack: number, now: Picos): void {
    if (this.timing && seqGt(ack, this.timedSeq)) {
      this.sample(now - this.timedAt);
      this.timing = false;
    }
  }

  /** Our SYN was acknowledged at `now`: a sample unless it was retransmitted (Karn); timing ends. */
  synAcked(now: Picos, retransmitted: boolean): void {
    if (this.timing && !retransmitted) this.sample(now - this.timedAt);
    this.timing = false;
  }

  /** RFC 6298 5.5: double RTO on expiry, up to the maximum. */
  backOff(): void {
    this.rto = Math.min(this.rto * 2, this.config.maxRtoPs);
  }

  private sample(r: Picos): void {
    // RFC 6298 2.2 / 2.3 with alpha 1/8, beta 1/4, K = 4.
    if (this.srtt < 0) {
      this.srtt = r;
      this.rttvar = r / 2;
    } else {
      this.rttvar = 0.75 * this.rttvar + 0.25 * Math.abs(this.srtt - r);
      this.srtt = 0.875 * this.srtt + 0.125 * r;
    }
    const cfg = this.config;
    this.rto = Math.min(Math.max(Math.round(this.srtt + Math.max(4 * this.rttvar, PS_PER_MS)), cfg.minRtoPs), cfg.maxRtoPs);
  }
}
