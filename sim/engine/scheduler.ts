// The simulator's discrete-event scheduler: integer picosecond time, ties broken by insertion
// order, so a run is deterministic for a given seed whatever the host does.

export type Picos = number;
export const PS_PER_NS = 1_000;
export const PS_PER_US = 1_000_000;
export const PS_PER_MS = 1_000_000_000;
export const PS_PER_S = 1_000_000_000_000;

/** Time to send `bytes` on a link of `bitsPerSecond`, in picoseconds (rounded up). */
export function serializationPs(bytes: number, bitsPerSecond: number): Picos {
  return Math.ceil((bytes * 8 * PS_PER_S) / bitsPerSecond);
}

interface Event {
  at: Picos;
  seq: number;
  run: () => void;
  cancelled: boolean;
}

export interface Timer {
  cancel(): void;
  readonly at: Picos;
}

/** A binary min-heap of events keyed by (at, seq). */
export class Scheduler {
  private heap: Event[] = [];
  private seq = 0;
  private current: Picos = 0;
  private executed = 0;

  get now(): Picos {
    return this.current;
  }

  get eventsRun(): number {
    return this.executed;
  }

  get pending(): number {
    return this.heap.length;
  }

  /** Time of the earliest pending event (possibly a cancelled one), or undefined when none. */
  get nextAt(): Picos | undefined {
    return this.heap[0]?.at;
  }

  /** Run `fn` at absolute time `at` (not before now). */
  at(at: Picos, fn: () => void): Timer {
    if (!Number.isFinite(at)) throw new RangeError(`event time ${at} is not finite`);
    const ev: Event = { at: Math.max(Math.round(at), this.current), seq: this.seq++, run: fn, cancelled: false };
    this.push(ev);
    return { cancel: () => { ev.cancelled = true; }, at: ev.at };
  }

  /** Run `fn` at `at` with no handle to cancel it (no allocation beyond the event: for hot paths). */
  post(at: Picos, fn: () => void): void {
    this.push({ at: Math.max(Math.round(at), this.current), seq: this.seq++, run: fn, cancelled: false });
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
    while (this.heap.length && n < maxEvents) {
      const top = this.heap[0];
      if (top.at > until) break;
      this.pop();
      if (top.cancelled) continue;
      this.current = top.at;
      this.executed++;
      n++;
      top.run();
    }
    if (advance && until !== Infinity && this.current < until && (this.heap.length === 0 || this.heap[0].at > until)) this.current = until;
  }

  private less(a: Event, b: Event): boolean {
    return a.at < b.at || (a.at === b.at && a.seq < b.seq);
  }

  private push(ev: Event): void {
    const h = this.heap;
    h.push(ev);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(h[i], h[p])) break;
      [h[i], h[p]] = [h[p], h[i]];
      i = p;
    }
  }

  private pop(): Event {
    const h = this.heap;
    const top = h[0];
    const last = h.pop()!;
    if (h.length) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1, r = l + 1;
        let m = i;
        if (l < h.length && this.less(h[l], h[m])) m = l;
        if (r < h.length && this.less(h[r], h[m])) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m], h[i]];
        i = m;
      }
    }
    return top;
  }
}
