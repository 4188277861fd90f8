// The simulator's discrete-event scheduler: integer picosecond time, ties broken by insertion
// order, so a run is deterministic for a given seed whatever the host does.

import { PS_PER_S, type Picos } from "../../lib/time.js";

/** Time to send `bytes` on a link of `bitsPerSecond`, in picoseconds (rounded up). */
export function serializationPs(bytes: number, bitsPerSecond: number): Picos {
  return Math.ceil((bytes * 8 * PS_PER_S) / bitsPerSecond);
}

export interface Timer {
  cancel(): void;
  readonly at: Picos;
}

/**
 * A binary min-heap of events keyed by (at, seq), kept in parallel arrays so that posting an event
 * allocates nothing (the hot path: a few events per simulated packet). Cancellable events (`at`,
 * `after`) are tracked by their seq: a cancelled one is skipped when it reaches the top.
 */
export class Scheduler {
  private atOf = new Float64Array(1024);
  private seqOf = new Float64Array(1024);
  private fnOf: (() => void)[] = [];
  private size = 0;
  private seq = 0;
  private current: Picos = 0;
  private executed = 0;
  /** Seqs of cancellable events not yet run or cancelled, and of those cancelled but still in the heap. */
  private readonly live = new Set<number>();
  private readonly cancelled = new Set<number>();

  get now(): Picos {
    return this.current;
  }

  get eventsRun(): number {
    return this.executed;
  }

  get pending(): number {
    return this.size;
  }

  /** Time of the earliest pending event (possibly a cancelled one), or undefined when none. */
  get nextAt(): Picos | undefined {
    return this.size ? this.atOf[0] : undefined;
  }

  /** Run `fn` at absolute time `at` (not before now). */
  at(at: Picos, fn: () => void): Timer {
    if (!Number.isFinite(at)) throw new RangeError(`event time ${at} is not finite`);
    const when = Math.max(Math.round(at), this.current);
    const seq = this.seq;
    this.push(when, fn);
    this.live.add(seq);
    return new EventHandle(this, seq, when);
  }

  /** Cancel the cancellable event `seq` if it has not run yet (EventHandle.cancel). */
  cancelEvent(seq: number): void {
    if (this.live.delete(seq)) this.cancelled.add(seq);
  }

  /** Run `fn` at `at` with no handle to cancel it (allocates nothing: for hot paths). */
  post(at: Picos, fn: () => void): void {
    this.push(Math.max(Math.round(at), this.current), fn);
  }

  /** Run `fn` after `delay` picoseconds. */
  after(delay: Picos, fn: () => void): Timer {
    return this.at(this.current + delay, fn);
  }

  /**
   * Run events in time order until none is left, time passes `until`, or `maxEvents` ran. The clock
   * then stands at `until` (or at the last event run, with `advance` false: a real-time driver runs
   * the events just ahead of the wall clock without moving the clock ahead of it).
   */
  run(until: Picos = Infinity, maxEvents = Infinity, advance = true): void {
    let n = 0;
    while (this.size && n < maxEvents) {
      const at = this.atOf[0];
      if (at > until) break;
      const seq = this.seqOf[0];
      const fn = this.pop();
      if (this.cancelled.size && this.cancelled.delete(seq)) continue;
      if (this.live.size) this.live.delete(seq);
      this.current = at;
      this.executed++;
      n++;
      fn();
    }
    if (advance && until !== Infinity && this.current < until && (this.size === 0 || this.atOf[0] > until)) this.current = until;
  }

  private push(at: Picos, fn: () => void): void {
    if (this.size === this.atOf.length) {
      const grow = (a: Float64Array) => {
        const b = new Float64Array(a.length * 2);
        b.set(a);
        return b;
      };
      this.atOf = grow(this.atOf);
      this.seqOf = grow(this.seqOf);
    }
    const A = this.atOf, S = this.seqOf, F = this.fnOf;
    const seq = this.seq++;
    let i = this.size++;
    // Sift up: move parents down until the new event's place is found.
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (A[p] < at || (A[p] === at && S[p] < seq)) break;
      A[i] = A[p];
      S[i] = S[p];
      F[i] = F[p];
      i = p;
    }
    A[i] = at;
    S[i] = seq;
    F[i] = fn;
  }

  /** Remove the top event and return its function. */
  private pop(): () => void {
    const A = this.atOf, S = this.seqOf, F = this.fnOf;
    const top = F[0];
    const last = --this.size;
    const at = A[last], seq = S[last], fn = F[last];
    F[last] = undefined as unknown as () => void; // let the closure go
    if (last === 0) return top;
    // Sift the last event down from the root.
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= last) break;
      const r = l + 1;
      let m = l;
      if (r < last && (A[r] < A[l] || (A[r] === A[l] && S[r] < S[l]))) m = r;
      if (at < A[m] || (at === A[m] && seq < S[m])) break;
      A[i] = A[m];
      S[i] = S[m];
      F[i] = F[m];
      i = m;
    }
    A[i] = at;
    S[i] = seq;
    F[i] = fn;
    return top;
  }
}

/** The handle `Scheduler.at` returns: a plain object, no closure per event (timers are armed per segment). */
class EventHandle implements Timer {
  constructor(private readonly sched: Scheduler, private readonly seq: number, readonly at: Picos) {}

  cancel(): void {
    this.sched.cancelEvent(this.seq);
  }
}
