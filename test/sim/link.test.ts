// The point-to-point Ethernet link (sim/net/link.ts): timing, FIFO order, tail drop, loss, taps.
import { describe, expect, it } from "vitest";
import { Scheduler, serializationPs } from "../../sim/engine/scheduler.js";
import { PS_PER_US } from "../../lib/time.js";
import { Link, type NetPort } from "../../sim/net/link.js";

class Sink implements NetPort {
  readonly got: { at: number; frame: Uint8Array }[] = [];
  constructor(private readonly sched: Scheduler) {}
  receive(frame: Uint8Array): void {
    this.got.push({ at: this.sched.now, frame });
  }
}

function frameOf(len: number, tag: number): Uint8Array {
  const f = new Uint8Array(len);
  f[0] = tag;
  return f;
}

describe("link", () => {
  it("delivers after serialization (frame + 24 bytes of preamble, FCS, gap) plus propagation delay", () => {
    const sched = new Scheduler();
    const link = new Link(sched, { bitsPerSecond: 1e9, delayPs: 5 * PS_PER_US });
    const sink = new Sink(sched);
    link.attach(1, sink);
    link.send(0, frameOf(1514, 1));
    sched.run();
    // 1538 bytes at 1 Gb/s = 12.304 µs, then 5 µs.
    expect(sink.got.map((g) => g.at)).toEqual([12_304_000 + 5 * PS_PER_US]);
  });

  it("pads short frames to the 60-byte minimum in time, queues back-to-back frames in order", () => {
    const sched = new Scheduler();
    const link = new Link(sched, { bitsPerSecond: 1e9, delayPs: 0 });
    const sink = new Sink(sched);
    link.attach(1, sink);
    for (let i = 0; i < 3; i++) link.send(0, frameOf(42, i));
    sched.run();
    const slot = serializationPs(60 + 24, 1e9);
    expect(sink.got.map((g) => g.at)).toEqual([slot, 2 * slot, 3 * slot]);
    expect(sink.got.map((g) => g.frame[0])).toEqual([0, 1, 2]);
    expect(link.stats(0).maxQueueBytes).toBe(84);
  });

  it("is full duplex: each direction has its own transmitter", () => {
    const sched = new Scheduler();
    const link = new Link(sched, { bitsPerSecond: 1e9, delayPs: 1000 });
    const a = new Sink(sched), b = new Sink(sched);
    link.attach(0, a);
    link.attach(1, b);
    link.send(0, frameOf(1000, 1));
    link.send(1, frameOf(1000, 2));
    sched.run();
    expect(a.got[0].at).toBe(b.got[0].at);
    expect(a.got[0].frame[0]).toBe(2);
    expect(b.got[0].frame[0]).toBe(1);
  });

  it("tail-drops beyond the queue's byte limit and counts it", () => {
    const sched = new Scheduler();
    const link = new Link(sched, { bitsPerSecond: 1e9, delayPs: 0, queueBytes: 3000 });
    const sink = new Sink(sched);
    link.attach(1, sink);
    // One frame goes on the wire at once; two of 1500 fill the queue; the rest are dropped.
    const accepted = Array.from({ length: 6 }, (_, i) => link.send(0, frameOf(1500, i)));
    expect(accepted).toEqual([true, true, true, false, false, false]);
    sched.run();
    expect(sink.got.map((g) => g.frame[0])).toEqual([0, 1, 2]);
    expect(link.stats(0)).toMatchObject({ framesSent: 3, framesDelivered: 3, queueDrops: 3, maxQueueBytes: 3000 });
    // Once drained, the queue accepts again.
    expect(link.send(0, frameOf(1500, 9))).toBe(true);
  });

  it("loses frames at the configured rate, the same ones for the same seed", () => {
    const run = (seed: number) => {
      const sched = new Scheduler();
      const link = new Link(sched, { bitsPerSecond: 10e9, delayPs: 0, lossRate: 0.1, seed, queueBytes: 1 << 30 });
      const sink = new Sink(sched);
      link.attach(1, sink);
      for (let i = 0; i < 20_000; i++) link.send(0, frameOf(64, i & 0xff));
      sched.run();
      return { lost: link.stats(0).lossDrops, delivered: sink.got.length, pattern: sink.got.slice(0, 200).map((g) => g.frame[0]).join(",") };
    };
    const a = run(5), b = run(5), c = run(6);
    expect(a.lost + a.delivered).toBe(20_000);
    expect(a.lost / 20_000).toBeGreaterThan(0.09);
    expect(a.lost / 20_000).toBeLessThan(0.11);
    expect(b).toEqual(a);
    expect(c.pattern).not.toBe(a.pattern);
  });

  it("taps see every frame sent and received at each endpoint, with its time", () => {
    const sched = new Scheduler();
    const link = new Link(sched, { bitsPerSecond: 1e9, delayPs: 1000 });
    link.attach(1, new Sink(sched));
    const seen: string[] = [];
    link.addTap((t, side, dir, f) => seen.push(`${t} ${side} ${dir} ${f[0]}`));
    sched.at(500, () => link.send(0, frameOf(100, 7)));
    sched.run();
    const wire = serializationPs(124, 1e9);
    expect(seen).toEqual([`500 0 tx 7`, `${500 + wire + 1000} 1 rx 7`]);
  });
});
