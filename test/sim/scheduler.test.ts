// The event scheduler: time order, insertion order for ties, cancellation, bounded runs.
import { describe, expect, it } from "vitest";
import { Scheduler, serializationPs } from "../../sim/engine/scheduler.js";
import { PS_PER_S } from "../../lib/time.js";

describe("Scheduler", () => {
  it("runs events in time order and ties in insertion order", () => {
    const s = new Scheduler();
    const seen: string[] = [];
    s.at(300, () => seen.push("c"));
    s.at(100, () => seen.push("a1"));
    s.at(100, () => seen.push("a2"));
    s.at(200, () => { seen.push("b"); s.after(50, () => seen.push("b+50")); });
    s.run();
    expect(seen).toEqual(["a1", "a2", "b", "b+50", "c"]);
    expect(s.now).toBe(300);
  });

  it("cancels timers, stops at a time bound and at an event bound", () => {
    const s = new Scheduler();
    const seen: number[] = [];
    const t = s.at(10, () => seen.push(10));
    for (const at of [20, 30, 40, 50]) s.at(at, () => seen.push(at));
    t.cancel();
    s.run(35);
    expect(seen).toEqual([20, 30]);
    expect(s.now).toBe(35);
    s.run(Infinity, 1);
    expect(seen).toEqual([20, 30, 40]);
    expect(s.pending).toBe(1);
  });

  it("never schedules into the past", () => {
    const s = new Scheduler();
    let when = -1;
    s.at(100, () => s.at(5, () => { when = s.now; }));
    s.run();
    expect(when).toBe(100);
  });

  it("computes serialisation time", () => {
    expect(serializationPs(1500, 1e9)).toBe(12_000_000); // 12 µs on gigabit
    expect(serializationPs(125, 1e9)).toBe(PS_PER_S / 1e6);
  });
});
