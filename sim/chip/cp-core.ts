// The NP's control-processor (CP) core: its work queue and busy time, and the ring-message inbox.
import type { RingMessage } from "../../abi/ring-message.js";
import type { Scheduler } from "../engine/scheduler.js";
import type { ChipTiming } from "../timing/costs.js";

/** What the chip asks of the control processor program it hosts. */
export interface CpProgram {
  /** Messages from the data plane, in ring order, at the time the CP core starts on them. */
  onMessages(msgs: RingMessage[]): void;
}

/** What the core reads of the chip's options (the chip passes its own; read when used). */
export interface CpCoreOptions {
  timing: Pick<ChipTiming, "cpPsPerCycle">;
  scheduler: Scheduler;
  /** A frame leaves on `port` at the current simulated time. */
  transmit: (port: number, frame: Uint8Array) => void;
  /** Take every waiting message in one wake-up (default) or one per wake-up. */
  cpBatching?: boolean;
  /** Cycles of one CP wake-up (interrupt, context switch), paid per batch. */
  cpWakeupCycles?: number;
}

/** The chip's counters the core keeps (the chip passes its own stats object). */
export interface CpStats {
  cpBusyPs: number;
  cpMessages: number;
  cpBatches: number;
  cpMaxBatch: number;
}

/**
 * The CP core runs queued work one piece at a time: a piece runs (in zero simulated time) when the
 * core is free, the cycles it charges occupy the core, and the frames it sends leave when it ends.
 * Ring messages wait in an inbox; one wake-up (a piece of work paying the wake-up cycles) hands the
 * program those waiting — all of them with batching, else one.
 */
export class CpCore {
  private readonly queue: (() => void)[] = [];
  /** Ring messages the CP has not taken yet. */
  private readonly inbox: RingMessage[] = [];
  private batchQueued = false;
  private running = false;
  private active = false;
  private cycles = 0;
  private outbox: { port: number; frame: Uint8Array }[] = [];
  private program: CpProgram | null = null;
  private readonly opts: CpCoreOptions;
  private readonly stats: CpStats;

  constructor(opts: CpCoreOptions, stats: CpStats) {
    this.opts = opts;
    this.stats = stats;
  }

  /** Attach the control processor program that receives ring messages. */
  attach(program: CpProgram): void {
    this.program = program;
  }

  /**
   * Queue work on the core. It runs when the core is free; the cycles it charges (charge) occupy
   * the core; the frames it sends (send) leave when it ends.
   */
  run(work: () => void): void {
    this.queue.push(work);
    if (!this.running) this.next();
  }

  /** Charge cycles to the work now running on the core. */
  charge(cycles: number): void {
    if (!this.active) throw new Error("chargeCp outside CP work");
    this.cycles += cycles;
  }

  /** A frame the CP sends: it leaves when the current CP work ends. */
  send(port: number, frame: Uint8Array): void {
    if (this.active) this.outbox.push({ port, frame });
    else this.opts.transmit(port, frame);
  }

  /** A ring message for the program: false (and nothing done) when no program is attached. */
  deliver(msg: RingMessage): boolean {
    if (!this.program) return false;
    this.inbox.push(msg);
    if (!this.batchQueued) this.queueBatch();
    return true;
  }

  private next(): void {
    const work = this.queue.shift();
    if (!work) return;
    this.running = true;
    this.active = true;
    this.cycles = 0;
    const outbox: { port: number; frame: Uint8Array }[] = (this.outbox = []);
    try {
      work();
    } finally {
      this.active = false;
    }
    const busy = this.cycles * this.opts.timing.cpPsPerCycle;
    this.stats.cpBusyPs += busy;
    this.opts.scheduler.after(busy, () => {
      for (const f of outbox) this.opts.transmit(f.port, f.frame);
      this.running = false;
      this.next();
    });
  }

  /** One CP wake-up takes the waiting messages (all of them when batching, else one). */
  private queueBatch(): void {
    this.batchQueued = true;
    this.run(() => {
      this.batchQueued = false;
      const n = this.opts.cpBatching === false ? 1 : this.inbox.length;
      const batch = this.inbox.splice(0, n);
      this.charge(this.opts.cpWakeupCycles ?? 0);
      this.stats.cpBatches++;
      this.stats.cpMessages += batch.length;
      if (batch.length > this.stats.cpMaxBatch) this.stats.cpMaxBatch = batch.length;
      this.program!.onMessages(batch);
      if (this.inbox.length && !this.batchQueued) this.queueBatch();
    });
  }
}
