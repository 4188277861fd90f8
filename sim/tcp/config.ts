// TCP endpoint settings (defaults follow a Linux host) and the counters a host keeps.
import { PS_PER_MS, PS_PER_S, type Picos } from "../../lib/time.js";

export interface TcpConfig {
  /** MSS advertised in the SYN (MTU 1500 - 40). */
  mss: number;
  /** Receive window in bytes (the receive buffer; the application always reads at once). */
  rcvBufBytes: number;
  /** Our window-scale shift (RFC 7323), or -1 to not offer window scaling. */
  wscale: number;
  /** Offer SACK (RFC 2018). */
  sack: boolean;
  /** Offer timestamps (RFC 7323). */
  timestamps: boolean;
  /** Initial congestion window in segments (RFC 6928, Linux: 10). */
  initialCwnd: number;
  /** RFC 6298 bounds; Linux uses a 200 ms minimum and a 120 s maximum. */
  minRtoPs: Picos;
  maxRtoPs: Picos;
  initialRtoPs: Picos;
  /** Delayed-ACK timer (Linux: 40 ms minimum). */
  delayedAckPs: Picos;
  /** TIME_WAIT duration (Linux: 60 s; shortened here so simulations end). */
  timeWaitPs: Picos;
  /** Retransmissions of a SYN / of data before the connection is given up (Linux: 6 / 15). */
  synRetries: number;
  dataRetries: number;
  ttl: number;
}

export const DEFAULT_TCP_CONFIG: TcpConfig = {
  mss: 1460,
  rcvBufBytes: 1 << 20,
  wscale: 7,
  sack: true,
  timestamps: true,
  initialCwnd: 10,
  minRtoPs: 200 * PS_PER_MS,
  maxRtoPs: 120 * PS_PER_S,
  initialRtoPs: 1 * PS_PER_S,
  delayedAckPs: 40 * PS_PER_MS,
  timeWaitPs: 1 * PS_PER_S,
  synRetries: 6,
  dataRetries: 15,
  ttl: 64,
};

/** Per-host TCP counters (all connections of the host together). */
export class TcpCounters {
  segmentsSent = 0;
  segmentsReceived = 0;
  /** Payload bytes sent (retransmissions included) and received in order. */
  bytesSent = 0;
  bytesDelivered = 0;
  /** Segments sent again (any cause: RTO, fast retransmit, recovery, go-back-N). */
  retransmits = 0;
  fastRetransmits = 0;
  timeouts = 0;
  duplicateAcksReceived = 0;
  outOfOrderSegments = 0;
  /** Segments that carried SACK blocks. */
  sackSegmentsSent = 0;
  resetsSent = 0;
  resetsReceived = 0;
  /** Segments dropped by PAWS (RFC 7323 5) or outside the receive window. */
  pawsDrops = 0;
  unacceptableSegments = 0;
  activeOpens = 0;
  passiveOpens = 0;
  /** Connections given up after too many retransmissions. */
  connectionTimeouts = 0;
}
