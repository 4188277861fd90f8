// A microengine with hardware threads, interleaved on memory waits: one thread runs at a time; a
// thread that issues a read swaps out until the data is there and another ready thread runs.
// Busy = executing; stalled = every thread with work is waiting on memory; idle = no work.
import type { Scheduler } from "../engine/scheduler.js";
import type { ThreadProgram } from "../timing/trace.js";
import type { MemorySystem } from "./memory-system.js";


const IDLE = 0, READY = 1, RUNNING = 2, WAITING = 3;

interface Thread {
  state: number;
  /** The thread's own program: fetch writes the next packet's into it (no copy, no allocation). */
  program: ThreadProgram;
  pc: number;
  token: number;
  /** When the read the thread waits for completes. */
  readyAt: number;
  /** Event handlers made once per thread, so the hot path allocates no closures. */
  onSuspend: () => void;
  onReady: () => void;
  onFinish: () => void;
}

export interface MeStats {
  id: number;
  busyPs: number;
  stalledPs: number;
  idlePs: number;
  packets: number;
}

export class Microengine {
  private readonly threads: Thread[];
  private readonly ready: number[] = [];
  private running = -1;
  private waiting = 0;
  private busyPs = 0;
  private stalledPs = 0;
  private idlePs = 0;
  private lastAccount = 0;
  private packets = 0;

  constructor(
    readonly id: number,
    threads: number,
    private readonly psPerCycle: number,
    private readonly ctxSwapPs: number,
    private readonly memory: MemorySystem,
    private readonly scheduler: Scheduler,
    /**
     * Takes the next packet of this ME's stage (running it functionally), writes its thread program
     * into `into`, and returns a token for `done`; -1 when there is no packet.
     */
    private readonly fetch: (into: ThreadProgram) => number,
    /** A thread finished the packet of `token`, now. */
    private readonly done: (token: number) => void,
  ) {
    this.threads = Array.from({ length: threads }, (_, t) => {
      const th: Thread = {
        state: IDLE, program: { ops: [], cycles: 0, waits: 0, posted: 0 }, pc: 0, token: -1, readyAt: 0,
        onSuspend: () => this.suspend(t),
        onReady: () => this.resume(t),
        onFinish: () => this.finish(t),
      };
      return th;
    });
  }

  /** New work may be waiting for this ME's stage. */
  wake(): void {
    if (this.running < 0) this.dispatch(this.scheduler.now);
  }

  stats(now: number): MeStats {
    this.account(now);
    return { id: this.id, busyPs: this.busyPs, stalledPs: this.stalledPs, idlePs: this.idlePs, packets: this.packets };
  }

  /** Close the time since the last change as stalled or idle (busy time is added per segment). */
  private account(now: number): void {
    if (this.running < 0 && now > this.lastAccount) {
      if (this.waiting > 0) this.stalledPs += now - this.lastAccount;
      else this.idlePs += now - this.lastAccount;
    }
    if (now > this.lastAccount) this.lastAccount = now;
  }

  private dispatch(now: number): void {
    this.account(now);
    let t = this.ready.length ? this.ready.shift() : undefined;
    if (t === undefined) {
      let idle = 0;
      while (idle < this.threads.length && this.threads[idle].state !== IDLE) idle++;
      if (idle === this.threads.length) return;
      const th = this.threads[idle];
      const token = this.fetch(th.program);
      if (token < 0) return;
      th.pc = 0;
      th.token = token;
      t = idle;
    }
    this.run(t, now + this.ctxSwapPs);
  }

  /** Run thread t from `start` through posted writes up to its next read (or its end). */
  private run(t: number, start: number): void {
    const th = this.threads[t];
    th.state = RUNNING;
    this.running = t;
    let at = start;
    const ops = th.program.ops;
    for (;;) {
      at += ops[th.pc] * this.psPerCycle;
      const kind = ops[th.pc + 1];
      const flags = ops[th.pc + 2];
      th.pc += 3;
      if (kind < 0) break;
      const ready = this.memory.access(kind, flags >>> 8, at);
      if ((flags & 1) === 0) {
        this.busyPs += at - start;
        this.lastAccount = at;
        th.readyAt = ready;
        this.scheduler.post(at, th.onSuspend);
        return;
      }
    }
    this.busyPs += at - start;
    this.lastAccount = at;
    this.scheduler.post(at, th.onFinish);
  }

  private suspend(t: number): void {
    const th = this.threads[t];
    th.state = WAITING;
    this.waiting++;
    this.running = -1;
    this.scheduler.post(th.readyAt, th.onReady);
    this.dispatch(this.scheduler.now);
  }

  /** Thread t's read completed: it is ready to run again. */
  private resume(t: number): void {
    this.waiting--;
    this.threads[t].state = READY;
    this.ready.push(t);
    if (this.running < 0) this.dispatch(this.scheduler.now);
  }

  private finish(t: number): void {
    const th = this.threads[t];
    const token = th.token;
    th.state = IDLE;
    th.token = -1;
    this.running = -1;
    this.packets++;
    this.done(token);
    this.dispatch(this.scheduler.now);
  }
}
