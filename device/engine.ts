// The simulator's engine against the wall clock. The chip and its CP core run on the same scheduler as
// in `npswitch sim`; here the scheduler follows real time: a frame from a port is received at the
// current wall-clock instant, events run up to that instant plus a short lead, and a timer wakes the
// engine for the next event further ahead (CP timers: retransmissions, linger, idle scans). The lead
// lets a packet's few microseconds of simulated processing finish at once instead of waiting for a
// millisecond timer; it never reorders events, and no CP timer fires more than LEAD early.
//
// Images swap between two packets (NpChip.swapImages): hot when the new firmware has the running
// one's table layout and stage shape (flow tables, counters and spliced connections stay); cold
// otherwise (a new chip and control plane: tables cleared, connections reset). After a swap, a trap
// in the new image during the probation swaps the previous image back.
import { createPolicy } from "../controlplane/policies/index.js";
import type { CpConfig } from "../controlplane/cp.js";
import type { FirmwareImage } from "../toolchain/image/format.js";
import { Scheduler } from "../sim/engine/scheduler.js";
import { PS_PER_MS } from "../lib/time.js";
import { NpChip, type CompiledImage } from "../sim/chip/np.js";
import { chipImages, createSwitch, type Switch } from "../sim/chip/switch.js";
import type { ChipTiming } from "../sim/timing/costs.js";

/** Events this close ahead of the wall clock run at once. */
export const LEAD_PS = 2 * PS_PER_MS;
/** Longest stretch of engine work before the event loop gets a turn (ports, management API). */
const SLICE_MS = 20;

export interface EngineOptions {
  timing: ChipTiming;
  cp: CpConfig;
  policy: { name: string; params: Record<string, unknown> };
  mes?: Record<string, number>;
  stageQueue?: number;
  cpBatching?: boolean;
  /** A frame leaves on a port. */
  transmit: (port: number, frame: Uint8Array) => void;
  /** Something the operator should know (swap, rollback). */
  log: (line: string) => void;
}

export interface Running {
  firmware: FirmwareImage;
  compiled: CompiledImage[];
}

export interface Probation {
  previous: Running;
  untilPs: number;
  untilRx: number;
  trapsAtSwap: number;
  onRollback: (why: string) => void;
}

export class RealtimeEngine {
  readonly sched = new Scheduler();
  private sw!: Switch;
  private running!: Running;
  private readonly t0 = performance.now();
  private timer: NodeJS.Timeout | null = null;
  /** When the armed timer fires (performance.now() ms). */
  private timerAt = 0;
  private inbox: { port: number; frame: Uint8Array }[] = [];
  private drainQueued = false;
  private probation: Probation | null = null;
  private stopped = false;
  /** Load: wall time spent in the engine over the last full window. */
  private busyMs = 0;
  private windowStart = performance.now();
  private lastLoad = 0;
  /** Frames the chip sent during the engine work now running, sent when it ends (see queueTx). */
  private outPorts: number[] = [];
  private outFrames: Uint8Array[] = [];
  private working = false;

  private constructor(private readonly o: EngineOptions) {}

  static async start(o: EngineOptions, firmware: FirmwareImage): Promise<RealtimeEngine> {
    const e = new RealtimeEngine(o);
    e.running = { firmware, compiled: await NpChip.compile(e.images(firmware), o.timing) };
    e.sw = await e.build(e.running);
    return e;
  }

  get chip(): NpChip {
    return this.sw.chip;
  }

  get cp(): Switch["cp"] {
    return this.sw.cp;
  }

  get firmware(): FirmwareImage {
    return this.running.firmware;
  }

  private images(firmware: FirmwareImage) {
    return chipImages(firmware, this.o.timing.meCount, this.o.mes ? { counts: this.o.mes, origin: "device config: field switch.mes" } : undefined);
  }

  private async build(r: Running): Promise<Switch> {
    return createSwitch({
      firmware: r.firmware, compiled: r.compiled, timing: this.o.timing, sched: this.sched, transmit: this.queueTx, cp: this.o.cp,
      policy: createPolicy(this.o.policy.name, this.o.policy.params),
      stageQueue: this.o.stageQueue, cpBatching: this.o.cpBatching, keepLatency: false,
    });
  }

  /** Wall-clock time since start, in the scheduler's picoseconds. */
  wallPs(): number {
    return Math.round((performance.now() - this.t0) * 1e9);
  }

  /** A frame arrived on `port`: it enters the chip at the next turn of the event loop, with the others that came meanwhile. */
  receive(port: number, frame: Uint8Array): void {
    if (this.stopped) return;
    this.inbox.push({ port, frame });
    if (!this.drainQueued) {
      this.drainQueued = true;
      setImmediate(() => this.drain());
    }
  }

  private drain(): void {
    this.drainQueued = false;
    const started = performance.now();
    const frames = this.inbox;
    this.inbox = [];
    this.working = true;
    const wall = this.wallPs();
    if (wall > this.sched.now) this.sched.run(wall);
    for (const f of frames) this.chip.receive(f.port, f.frame);
    this.pump(started);
  }

  /**
   * A frame the chip sends. During a turn of engine work it waits for the turn's end: the sends then
   * go out back to back, after the simulation work, instead of each one waking the port's relay
   * (socat) in the middle of it, which costs a context switch per frame on a busy host. Outside a
   * turn it goes at once.
   */
  private readonly queueTx = (port: number, frame: Uint8Array): void => {
    if (!this.working) return this.o.transmit(port, frame);
    this.outPorts.push(port);
    this.outFrames.push(frame);
  };

  private flushTx(): void {
    this.working = false;
    const ports = this.outPorts, frames = this.outFrames;
    for (let i = 0; i < frames.length; i++) this.o.transmit(ports[i], frames[i]);
    ports.length = 0;
    frames.length = 0;
  }

  /** Run what is due (up to the wall clock plus the lead), check the probation, arm the timer for what is next. */
  pump(started = performance.now()): void {
    if (this.stopped) return void this.flushTx();
    this.working = true;
    const deadline = started + SLICE_MS;
    try {
      for (;;) {
        const until = this.wallPs() + LEAD_PS;
        this.sched.run(until, 5000, false);
        const next = this.sched.nextAt;
        if (next === undefined || next > until || performance.now() > deadline) break;
      }
      this.checkProbation();
    } finally {
      this.flushTx();
    }
    const now = performance.now();
    this.account(now - started);
    const next = this.sched.nextAt;
    if (next === undefined) return;
    // Wake for the next event; a timer already armed no later than that stays (re-arming on every
    // batch of frames costs more than the early wake-up).
    const wakeAt = now + Math.min(1000, Math.max(0, (next - LEAD_PS - this.wallPs()) / 1e9));
    if (this.timer && this.timerAt <= wakeAt) return;
    if (this.timer) clearTimeout(this.timer);
    this.timerAt = wakeAt;
    this.timer = setTimeout(this.onTimer, wakeAt - now);
  }

  private readonly onTimer = () => {
    this.timer = null;
    this.pump();
  };

  private account(ms: number): void {
    this.busyMs += ms;
    const now = performance.now();
    if (now - this.windowStart >= 1000) {
      this.lastLoad = Math.min(1, this.busyMs / (now - this.windowStart));
      this.busyMs = 0;
      this.windowStart = now;
    }
  }

  /** The policy a cold swap's new control plane starts with (the API changed the running one's). */
  setPolicy(name: string, params: Record<string, unknown>): void {
    this.o.policy = { name, params };
  }

  /** Share of the wall clock the engine was busy, over the last second (0..1). */
  load(): number {
    const now = performance.now();
    const span = now - this.windowStart;
    return span >= 250 ? Math.max(this.lastLoad, Math.min(1, this.busyMs / span)) : this.lastLoad;
  }

  /** Whether `firmware` can replace the running image keeping the tables: same layout, same stages, same MEs. */
  hotSwappable(firmware: FirmwareImage): boolean {
    const a = this.running.firmware.manifest, b = firmware.manifest;
    if (a.layout !== b.layout || a.abi !== b.abi || a.pipeline.join() !== b.pipeline.join()) return false;
    const shape = this.chip.stageShape();
    const imgs = this.images(firmware);
    return shape.every((s) => imgs.find((i) => i.name === s.name)?.mes.length === s.mes);
  }

  /**
   * Run `firmware` from the next packet on. Returns whether the spliced connections were kept.
   * With `probation`, a trap in it within the probation swaps `previous` back and calls onRollback.
   */
  async swap(firmware: FirmwareImage, probation?: { packets: number; seconds: number; onRollback: (why: string) => void }): Promise<{ keptConnections: boolean }> {
    const compiled = await NpChip.compile(this.images(firmware), this.o.timing);
    const previous = this.running;
    const kept = await this.install({ firmware, compiled });
    const c = this.chip.counts();
    this.probation = probation ? {
      previous, untilPs: this.sched.now + probation.seconds * 1000 * PS_PER_MS, untilRx: c.rx + probation.packets, trapsAtSwap: c.traps,
      onRollback: probation.onRollback,
    } : null;
    return { keptConnections: kept };
  }

  /** Go back to an image that ran before (its compiled modules are kept). */
  async restore(previous: Running): Promise<{ keptConnections: boolean }> {
    this.probation = null;
    return { keptConnections: await this.install(previous) };
  }

  get current(): Running {
    return this.running;
  }

  /**
   * Swap: hot (same chip: the new instances take the next packet, tables kept; no await before the swap)
   * or cold (a new chip and control plane are built while the old one keeps running, then replace it).
   */
  private async install(next: Running): Promise<boolean> {
    if (this.hotSwappable(next.firmware)) {
      this.chip.swapImages(next.compiled);
      this.running = next;
      return true;
    }
    const old = this.sw;
    const sw = await this.build(next);
    const spliced = old.cp.stats().spliced - old.cp.stats().teardowns;
    old.cp.close();
    this.sw = sw;
    this.running = next;
    this.o.log(`cold swap (table layout or stages differ): tables cleared, up to ${spliced} spliced connection(s) of the previous image lost`);
    return false;
  }

  private checkProbation(): void {
    const p = this.probation;
    if (!p) return;
    const c = this.chip.counts();
    if (c.traps > p.trapsAtSwap) {
      this.probation = null;
      const why = `the new image trapped ${c.traps - p.trapsAtSwap} time(s) within its probation`;
      this.o.log(`rollback: ${why}`);
      void this.install(p.previous).then(() => p.onRollback(why));
      return;
    }
    if (c.rx >= p.untilRx || this.sched.now >= p.untilPs) this.probation = null;
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.sw.cp.close();
  }
}
