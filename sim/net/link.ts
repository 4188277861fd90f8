// A full-duplex point-to-point Ethernet link: per direction a byte-limited tail-drop transmit
// queue, serialization at the line rate (with preamble, FCS and inter-frame gap on the wire),
// propagation delay and optional seeded random loss. Frames reach the far side's `receive`.
import { serializationPs, type Scheduler } from "../engine/scheduler.js";
import { type Picos } from "../../lib/time.js";
import { Random } from "../../lib/random.js";
import { Fifo } from "./fifo.js";

/** Anything a link can deliver a frame to: a host NIC, a switch port. */
export interface NetPort {
  receive(frame: Uint8Array): void;
}

export type LinkSide = 0 | 1;

/** Called for every frame an endpoint sends (accepted by its queue) or receives, at that time. */
export type LinkTap = (timePs: Picos, side: LinkSide, dir: "tx" | "rx", frame: Uint8Array) => void;

export interface LinkOptions {
  bitsPerSecond: number;
  /** One-way propagation delay. */
  delayPs: Picos;
  /** Probability that a frame is lost on the wire (after it used its transmit time). Default 0. */
  lossRate?: number;
  /** Seed for the loss process; each direction draws from its own stream. Default 1. */
  seed?: number;
  /** Bytes that may wait behind the frame being transmitted, per direction; more are tail-dropped. Default 1 MiB. */
  queueBytes?: number;
  /** Bytes on the wire per frame beyond the frame: preamble+SFD 8, FCS 4, inter-frame gap 12. Default 24. */
  wireOverheadBytes?: number;
  /** Minimum frame size without FCS (shorter frames take this long to send). Default 60. */
  minFrameBytes?: number;
  name?: string;
}

export interface LinkDirectionStats {
  framesSent: number;
  bytesSent: number;
  framesDelivered: number;
  bytesDelivered: number;
  /** Frames refused because the transmit queue was full. */
  queueDrops: number;
  /** Frames lost on the wire by the loss process. */
  lossDrops: number;
  /** Largest number of bytes seen waiting in the transmit queue. */
  maxQueueBytes: number;
}

interface Waiting { startPs: Picos; bytes: number }

/** One direction of the link: a transmitter at `from`, a receiver at the other side. */
class Direction {
  readonly stats: LinkDirectionStats = { framesSent: 0, bytesSent: 0, framesDelivered: 0, bytesDelivered: 0, queueDrops: 0, lossDrops: 0, maxQueueBytes: 0 };
  busyUntil: Picos = 0;
  queuedBytes = 0;
  readonly waiting = new Fifo<Waiting>();
  readonly inFlight = new Fifo<Uint8Array>();
  readonly deliver: () => void;
  readonly rng: Random;

  constructor(private readonly link: Link, readonly to: LinkSide, seed: number) {
    this.rng = new Random(seed);
    // One bound callback per direction: arrivals are in FIFO order, so each event takes the head.
    this.deliver = () => this.link.arrive(this);
  }
}

export class Link {
  readonly name: string;
  private readonly ports: (NetPort | undefined)[] = [undefined, undefined];
  private readonly dirs: [Direction, Direction];
  private readonly taps: LinkTap[] = [];
  private readonly queueLimit: number;
  private readonly overhead: number;
  private readonly minFrame: number;
  private readonly lossRate: number;

  constructor(private readonly sched: Scheduler, readonly options: LinkOptions) {
    if (!(options.bitsPerSecond > 0)) throw new RangeError(`link bandwidth ${options.bitsPerSecond} must be positive`);
    if (!(options.delayPs >= 0)) throw new RangeError(`link delay ${options.delayPs} must be >= 0`);
    this.name = options.name ?? "link";
    this.queueLimit = options.queueBytes ?? 1 << 20;
    this.overhead = options.wireOverheadBytes ?? 24;
    this.minFrame = options.minFrameBytes ?? 60;
    this.lossRate = options.lossRate ?? 0;
    const seed = options.seed ?? 1;
    this.dirs = [new Direction(this, 1, seed), new Direction(this, 0, (seed ^ 0x5bd1e995) >>> 0)];
  }

  /** Wire `port` to `side`; frames sent from the other side are delivered to it. */
  attach(side: LinkSide, port: NetPort): void {
    this.ports[side] = port;
  }

  addTap(tap: LinkTap): void {
    this.taps.push(tap);
  }

  /** Statistics of the direction whose transmitter is at `from`. */
  stats(from: LinkSide): LinkDirectionStats {
    return this.dirs[from].stats;
  }

  /** Time a frame of `bytes` occupies the wire. */
  wireTimePs(bytes: number): Picos {
    return serializationPs(Math.max(bytes, this.minFrame) + this.overhead, this.options.bitsPerSecond);
  }

  /** Queue `frame` for transmission from `from`. Returns false when the queue is full (tail drop). */
  send(from: LinkSide, frame: Uint8Array): boolean {
    const d = this.dirs[from];
    const now = this.sched.now;
    // Frames whose transmission has started no longer count against the queue.
    for (let w = d.waiting.peek(); w !== undefined && w.startPs <= now; w = d.waiting.peek()) {
      d.queuedBytes -= w.bytes;
      d.waiting.shift();
    }
    if (d.busyUntil > now && d.queuedBytes + frame.length > this.queueLimit) {
      d.stats.queueDrops++;
      return false;
    }
    const start = d.busyUntil > now ? d.busyUntil : now;
    d.busyUntil = start + this.wireTimePs(frame.length);
    if (start > now) {
      d.queuedBytes += frame.length;
      d.waiting.push({ startPs: start, bytes: frame.length });
      if (d.queuedBytes > d.stats.maxQueueBytes) d.stats.maxQueueBytes = d.queuedBytes;
    }
    d.stats.framesSent++;
    d.stats.bytesSent += frame.length;
    for (let i = 0; i < this.taps.length; i++) this.taps[i](now, from, "tx", frame);
    if (this.lossRate > 0 && d.rng.chance(this.lossRate)) {
      d.stats.lossDrops++;
      return true;
    }
    d.inFlight.push(frame);
    this.sched.at(d.busyUntil + this.options.delayPs, d.deliver);
    return true;
  }

  /** @internal The head frame of `d` reaches its receiver. */
  arrive(d: Direction): void {
    const frame = d.inFlight.shift()!;
    d.stats.framesDelivered++;
    d.stats.bytesDelivered += frame.length;
    for (let i = 0; i < this.taps.length; i++) this.taps[i](this.sched.now, d.to, "rx", frame);
    const port = this.ports[d.to];
    if (port) port.receive(frame);
  }
}
