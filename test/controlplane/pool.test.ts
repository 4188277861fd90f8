// The server pool's state machine on its own (controlplane/pool): registration, alive signals with load
// reports, down after missed signals, slow start on the way back, connect failures held down, quiesce,
// add and remove, the response-time EWMA. A scripted clock and timers stand in for the CP's host.
import { describe, expect, it } from "vitest";
import { ServerPool, type DownReason, type PoolEnv } from "../../controlplane/pool/pool.js";
import { slowStartWeight } from "../../controlplane/pool/slow-start.js";
import { DEFAULT_POOL, resolveCpConfig, type CpPoolOptions, type ServerConfig } from "../../controlplane/config.js";
import { emptyStats } from "../../controlplane/stats.js";
import { BASE_CONFIG, MS } from "./switch-wire.js";

const SERVERS: ServerConfig[] = [
  { name: "a", ip: "10.1.0.11", mac: "aa:bb:cc:00:01:01", port: 1, tcpPort: 80, weight: 4 },
  { name: "b", ip: "10.1.0.12", mac: "aa:bb:cc:00:01:02", port: 2, tcpPort: 80 },
];
const A = { ip: "10.1.0.11", tcpPort: 80 };
const B = { ip: "10.1.0.12", tcpPort: 80 };

function scripted(options: Partial<CpPoolOptions> = {}) {
  let now = 0;
  const timers: { at: number; fn: () => void; live: boolean }[] = [];
  const env: PoolEnv = {
    now: () => now,
    setTimer: (d, fn) => {
      const t = { at: now + d, fn, live: true };
      timers.push(t);
      return { cancel: () => void (t.live = false) };
    },
    charge: () => {},
  };
  const counters = emptyStats();
  const downs: [string, DownReason, number][] = [];
  const cfg = resolveCpConfig({ ...BASE_CONFIG, servers: SERVERS, pool: { aliveIntervalPs: 100 * MS, missedAlive: 3, slowStartPs: 1600 * MS, ...options } });
  const pool = new ServerPool(cfg.servers, cfg.pool, cfg.portMacs.length, env, counters, { down: (v, why) => void downs.push([v.name, why, now / MS]) });
  /** Move the clock to `ms`, firing due timers in order. */
  const at = (ms: number) => {
    for (;;) {
      const due = timers.filter((t) => t.live && t.at <= ms * MS).sort((x, y) => x.at - y.at)[0];
      if (!due) break;
      due.live = false;
      now = due.at;
      due.fn();
    }
    now = ms * MS;
  };
  return { pool, counters, downs, at, view: (i: number) => pool.views[i] };
}

describe("pool: alive signals and crash detection", () => {
  it("marks a registered server down exactly missedAlive intervals after its last signal, once", () => {
    const t = scripted();
    t.pool.register({ ...A, capacity: 250 });
    t.pool.register(B);
    for (const ms of [100, 200]) {
      t.at(ms);
      t.pool.alive({ ...A, load: 0.25 });
      t.pool.alive({ ...B, load: 0.5 });
    }
    // a goes silent after 200 ms; b keeps signalling.
    for (let ms = 300; ms <= 1000; ms += 100) {
      t.at(ms - 1);
      if (ms === 500) expect(t.view(0).up, "at 499 ms").toBe(true);
      t.at(ms);
      t.pool.alive({ ...B, load: 0.5 });
    }
    expect(t.downs).toEqual([["a", "missed_alive", 500]]); // 200 + 3 x 100 ms
    expect(t.view(0)).toMatchObject({ up: false, weight: 0, configuredWeight: 4, load: 0.25, capacity: 250 });
    expect(t.view(1)).toMatchObject({ up: true, weight: 1, load: 0.5, capacity: 1 });
    expect(t.counters).toMatchObject({ serversMarkedDown: 1, aliveSignals: 12 });
    expect(t.pool.status()[0]).toMatchObject({ state: "down", downReason: "missed_alive", downCount: 1, monitored: true, aliveSignals: 2 });
  });

  it("brings it back with slow start: 1/16 of the weight, ramping in sixteenths to all of it", () => {
    const t = scripted();
    t.pool.register(A);
    t.at(300); // down at 300 ms
    expect(t.view(0).up).toBe(false);
    t.at(1000);
    t.pool.alive({ ...A, load: 0.1 });
    // It keeps signalling every 100 ms; the weight at chosen times (slowStartPs 1600 ms, configured 4: each
    // 100 ms adds 4/16).
    const seen = new Map<number, number>();
    const states = new Map<number, string>();
    for (const ms of [1000, 1100, 1100.5, 1200, 1300, 1400, 1500, 1600, 1700, 1800, 1900, 2000, 2100, 2200, 2300, 2400, 2500, 2599, 2600]) {
      t.at(ms);
      t.pool.alive({ ...A, load: 0.1 });
      seen.set(ms, t.pool.refresh()[0].weight);
      states.set(ms, t.pool.status()[0].state);
    }
    expect([1000, 1100, 1100.5, 1200, 1800, 2599, 2600].map((ms) => seen.get(ms))).toEqual([0.25, 0.25, 0.5, 0.5, 2, 4, 4]);
    expect([states.get(1800), states.get(2599)]).toEqual(["slow_start", "up"]);
    expect(t.counters).toMatchObject({ serversMarkedDown: 1, serversBackUp: 1 });
    expect(t.counters.poolEvents).toEqual([
      { atPs: 300 * MS, server: "a", event: "down", reason: "missed_alive" },
      { atPs: 1000 * MS, server: "a", event: "up" },
    ]);
  });

  it("follows the interval a server announces when it paces itself (no false alarm)", () => {
    const t = scripted();
    t.pool.register({ ...A, aliveIntervalPs: 400 * MS });
    t.at(1199);
    expect(t.view(0).up).toBe(true); // the default 100 ms would have failed it at 300 ms
    t.at(1200);
    expect(t.view(0).up).toBe(false);
  });

  it("ignores and counts signals from unknown addresses; clamps the load index", () => {
    const t = scripted();
    expect(t.pool.alive({ ip: "10.9.9.9", tcpPort: 80, load: 0.5 })).toBe(false);
    expect(t.pool.register({ ip: "10.1.0.11", tcpPort: 81 })).toBe(false);
    expect(t.pool.alive({ ...A, load: 7, responseTimePs: 3 * MS })).toBe(true);
    expect(t.view(0).load).toBe(1);
    expect(t.pool.status()[0].reportedResponseTimePs).toBe(3 * MS);
    expect(t.counters.unknownPoolSignals).toBe(2);
  });

  it("never marks down a server that does not send alive signals (unmonitored)", () => {
    const t = scripted();
    t.at(100_000);
    expect(t.view(0).up).toBe(true);
    expect(t.downs).toEqual([]);
  });
});

describe("pool: failed connects, weights, add and remove", () => {
  it("holds a server down for failTimeoutPs after a failed connect; unmonitored, it is tried again then", () => {
    const t = scripted({ failTimeoutPs: 5000 * MS });
    t.at(10);
    t.pool.connectFailed(1);
    expect(t.downs).toEqual([["b", "connect_failed", 10]]);
    t.at(5009);
    expect(t.view(1).up).toBe(false);
    t.at(5010);
    expect(t.view(1)).toMatchObject({ up: true, weight: 1 / 16 });
  });

  it("a monitored server failing a connect stays down through its alive signals until the hold ends", () => {
    const t = scripted({ failTimeoutPs: 1000 * MS });
    t.pool.register(A);
    t.at(50);
    t.pool.connectFailed(0);
    for (let ms = 100; ms <= 1000; ms += 100) {
      t.at(ms);
      t.pool.alive({ ...A, load: 0 });
      expect(t.view(0).up, `${ms} ms`).toBe(false);
    }
    t.at(1100);
    t.pool.alive({ ...A, load: 0 });
    expect(t.view(0).up).toBe(true);
    expect(t.counters.serversMarkedDown).toBe(1);
  });

  it("weight 0 quiesces a server (not usable for new connections) and setWeight restores it", () => {
    const t = scripted();
    t.pool.setWeight(0, 0);
    expect(t.pool.usable(0)).toBe(false);
    expect(t.view(0)).toMatchObject({ up: true, weight: 0, configuredWeight: 0 });
    expect(t.pool.status()[0].state).toBe("draining");
    t.pool.setWeight(0, 3);
    expect(t.pool.usable(0)).toBe(true);
    expect(t.view(0).weight).toBe(3); // no slow start: it never went away
    expect(() => t.pool.setWeight(0, -1)).toThrow(/weight -1 for 'a': expected a number >= 0/);
  });

  it("adds a server at the next index in slow start; removes by draining, keeping its index as a tombstone", () => {
    const t = scripted();
    t.at(100);
    const c = t.pool.add({ name: "c", ip: "10.1.0.13", mac: "aa:bb:cc:00:01:03", port: 1, tcpPort: 80, weight: 2, capacity: 80 });
    expect(c).toMatchObject({ index: 2, up: true, weight: 2 / 16, configuredWeight: 2, capacity: 80 });
    t.at(900);
    expect(t.pool.refresh()[2].weight).toBe(1);
    expect(() => t.pool.add({ ...SERVERS[0], name: "a2" })).toThrow(/address 10\.1\.0\.11:80 is already in the pool/);
    expect(() => t.pool.add({ ...SERVERS[0], ip: "10.1.0.99" })).toThrow(/'a' is already in the pool/);
    expect(() => t.pool.add({ name: "d", ip: "10.1.0.14", mac: "aa:bb:cc:00:01:04", port: 7, tcpPort: 80 })).toThrow(/server 'd'\.port = 7: expected an integer in 0\.\.2/);
    t.pool.beginRemoval(0);
    expect(t.pool.status()[0]).toMatchObject({ state: "removing", view: { up: true, weight: 0 } });
    expect(() => t.pool.setWeight(0, 1)).toThrow(/being removed/);
    t.pool.finishRemoval(0);
    expect(t.pool.status()[0]).toMatchObject({ state: "removed", view: { up: false, weight: 0 } });
    expect(() => t.pool.indexOf("a")).toThrow(/no server named 'a' \(have: b, c\)/);
    expect(t.pool.alive({ ...A, load: 0 })).toBe(false); // its address is no longer known
    const again = t.pool.add({ ...SERVERS[0] });
    expect(again.index).toBe(3);
    expect(t.pool.indexOf("a")).toBe(3);
    expect(t.pool.views.map((v) => v.index)).toEqual([0, 1, 2, 3]);
  });

  it("smooths the CP's SYN -> SYN-ACK samples with weight 1/8 (RFC 6298 SRTT)", () => {
    const t = scripted();
    expect(t.view(0).responseTimePs).toBeNaN();
    t.pool.observeResponseTime(0, 800 * MS);
    expect(t.view(0).responseTimePs).toBe(800 * MS);
    t.pool.observeResponseTime(0, 1600 * MS);
    expect(t.view(0).responseTimePs).toBe(900 * MS);
    t.pool.observeResponseTime(0, 100 * MS);
    expect(t.view(0).responseTimePs).toBe(800 * MS);
  });
});

describe("pool: slow-start ramp and configuration", () => {
  it("ramps in sixteenths, never 0, full from the end of the period", () => {
    expect([0, 1, 62, 63, 500, 999, 1000, 5000].map((e) => slowStartWeight(16, e, 1000))).toEqual([1, 1, 1, 2, 8, 16, 16, 16]);
    expect(slowStartWeight(3, 10, 0)).toBe(3);
    expect(slowStartWeight(0, 10, 1000)).toBe(0);
  });

  it("validates the pool section with errors naming the field", () => {
    expect(() => resolveCpConfig({ ...BASE_CONFIG, pool: { missedAlive: 0 } })).toThrow("cp config: pool.missedAlive = 0: expected an integer in 1..1000");
    expect(() => resolveCpConfig({ ...BASE_CONFIG, pool: { responseTimeAlpha: 2 } })).toThrow(/pool\.responseTimeAlpha = 2/);
    expect(() => resolveCpConfig({ ...BASE_CONFIG, pool: { aliveIntervalPs: 0 } })).toThrow(/pool\.aliveIntervalPs = 0: expected a positive time/);
    expect(resolveCpConfig(BASE_CONFIG).pool).toEqual(DEFAULT_POOL);
  });
});
