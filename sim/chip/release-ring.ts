// The NP's in-order release ring: packets leave in arrival order, however their threads finish.
import { CAPACITIES } from "../../abi/layout.js";
import type { Scheduler } from "../engine/scheduler.js";

const MAX_BUFFERS = CAPACITIES.MAX_BUFFERS.value;

/** What the ring reads of the chip's options (the chip passes its own; read when a packet leaves). */
export interface ReleaseRingOptions {
  scheduler: Scheduler;
  /** A frame leaves on `port` at the current simulated time. */
  transmit: (port: number, frame: Uint8Array) => void;
  /** Keep every forwarded packet's NP latency (default true). */
  keepLatency?: boolean;
}

/** The chip's counters the ring keeps (the chip passes its own stats object). */
export interface ReleaseStats {
  txPackets: number;
  txBytes: number;
  latencyPs: number[];
}

/**
 * Packets leave in the order they arrived, as the IXP's ordered threads and reorder buffers make
 * them: threads on several MEs finish out of order (different cycles and memory waits), and TCP
 * would see reordered segments. Each packet gets a sequence number at receive (admit); when it is
 * done (forwarded, dropped, trapped or handed to the CP) it waits in this ring (retire) until every
 * earlier packet is done too. At most MAX_BUFFERS packets are in flight (each holds a buffer), so a
 * sequence number's slot is free again by the time it comes round.
 */
export class ReleaseRing {
  private nextSeq = 0;
  private releaseSeq = 0;
  private readonly retired = new Uint8Array(MAX_BUFFERS);
  private readonly outFrame: (Uint8Array | null)[] = new Array(MAX_BUFFERS).fill(null);
  private readonly outPort = new Int32Array(MAX_BUFFERS);
  private readonly outRxTime = new Float64Array(MAX_BUFFERS);
  private readonly opts: ReleaseRingOptions;
  private readonly stats: ReleaseStats;

  constructor(opts: ReleaseRingOptions, stats: ReleaseStats) {
    this.opts = opts;
    this.stats = stats;
  }

  /** The sequence number of a packet arriving now. */
  admit(): number {
    const seq = this.nextSeq;
    this.nextSeq = (this.nextSeq + 1) >>> 0;
    return seq;
  }

  /** Packet `seq` is done; send it (when `frame`) and every later done packet, once all earlier ones are. */
  retire(seq: number, port: number, frame: Uint8Array | null, rxTime = 0): void {
    const slot = seq % MAX_BUFFERS;
    this.retired[slot] = 1;
    this.outPort[slot] = port;
    this.outFrame[slot] = frame;
    this.outRxTime[slot] = rxTime;
    if (seq !== this.releaseSeq) return;
    for (;;) {
      const k = this.releaseSeq % MAX_BUFFERS;
      if (!this.retired[k]) break;
      const f = this.outFrame[k];
      if (f) {
        this.stats.txPackets++;
        this.stats.txBytes += f.length;
        if (this.opts.keepLatency !== false) this.stats.latencyPs.push(this.opts.scheduler.now - this.outRxTime[k]);
        this.opts.transmit(this.outPort[k], f);
      }
      this.retired[k] = 0;
      this.outFrame[k] = null;
      this.releaseSeq = (this.releaseSeq + 1) >>> 0;
    }
  }
}
