// The server pool: the CP's workers' manager (seed 004: register request, alive signals as the proof a
// server is alive, crash detection). Servers register with their capacity and send alive signals with a
// load report; a monitored server that misses `missedAlive` consecutive intervals is marked down, as is one
// that fails a connect (held down for failTimeoutPs, like nginx max_fails=1 / fail_timeout). A server that
// comes back, or is added, goes through slow start. Weight 0 quiesces a server (drain); removal drains
// first. Indices are never reused: a removed server stays in the array, down with weight 0, so policies
// that keep per-index state stay right.
import type { CpTimer } from "../env.js";
import type { CpOp } from "../costs.js";
import type { ServerView } from "../policies/policy.js";
import { resolvePoolOptions, resolveServer, type CpPoolOptions, type ResolvedServer, type ServerConfig } from "../config.js";
import { POOL_EVENTS_KEPT, type CpStats, type PoolEvent } from "../stats.js";
import type { AliveSignal, Registration, ServerAddress } from "./messages.js";
import { slowStartWeight } from "./slow-start.js";

type Mutable<T> = { -readonly [K in keyof T]: T[K] };
export type ServerState = Mutable<ServerView>;

/** Why a server is down. */
export type DownReason = "missed_alive" | "connect_failed" | "manual" | "removed";

/** A server's place in its life cycle, for stats. */
export type MemberState = "up" | "slow_start" | "draining" | "down" | "removing" | "removed";

export interface PoolMemberStatus {
  index: number;
  name: string;
  address: string;
  state: MemberState;
  /** Sends alive signals (registered or signalled at least once); unmonitored servers are assumed alive. */
  monitored: boolean;
  downReason?: DownReason;
  /** Times it was marked down. */
  downCount: number;
  aliveSignals: number;
  /** The interval its alive signals are expected at (ps). */
  aliveIntervalPs: number;
  /** Time of its last alive signal (ps), NaN before the first. */
  lastAlivePs: number;
  /** What the server itself reported as its response time (ps), NaN when never. */
  reportedResponseTimePs: number;
  view: ServerView;
}

/** What the pool needs from the CP's host: a clock, timers and cycle accounting. */
export interface PoolEnv {
  now(): number;
  setTimer(delayPs: number, fn: () => void): CpTimer;
  charge(op: CpOp, units?: number): void;
}

export interface PoolEvents {
  /** A server was marked down (not for a removal): its connections need attention. */
  down(view: ServerView, reason: DownReason): void;
}

interface Member {
  view: ServerState;
  server: ResolvedServer;
  monitored: boolean;
  intervalPs: number;
  lastAlivePs: number;
  /** Origin of the slow-start ramp (-Infinity: none). */
  upSincePs: number;
  /** A server down for a failed connect stays down until then. */
  holdUntilPs: number;
  holdTimer?: CpTimer;
  downReason?: DownReason;
  removing: boolean;
  removed: boolean;
  downCount: number;
  aliveSignals: number;
  reportedResponseTimePs: number;
}

export class PoolError extends Error {}

const addressKey = (ip: string, tcpPort: number) => `${ip}:${tcpPort}`;

export class ServerPool {
  /** The pool as policies see it (PolicyContext.servers): one object per server, updated in place. */
  readonly views: ServerState[] = [];
  private readonly members: Member[] = [];
  private check?: CpTimer;
  private checkAtPs = Infinity;

  constructor(
    servers: readonly ResolvedServer[],
    private opts: CpPoolOptions,
    private readonly portCount: number,
    private readonly env: PoolEnv,
    private readonly counters: CpStats,
    private readonly events: PoolEvents,
  ) {
    for (const s of servers) this.push(s, -Infinity);
  }

  get options(): CpPoolOptions {
    return this.opts;
  }

  /** Change the health settings at run time (checked like the configuration's pool section). */
  configure(change: Partial<CpPoolOptions>): void {
    this.opts = resolvePoolOptions({ ...this.opts, ...change });
    for (const m of this.members) if (!m.monitored) m.intervalPs = this.opts.aliveIntervalPs;
    this.refresh();
    this.armCheck();
  }

  get size(): number {
    return this.members.length;
  }

  /** The resolved configuration of server `index`. */
  server(index: number): ResolvedServer {
    return this.member(index).server;
  }

  /** Index of the server named `name` (not removed), or an error naming the servers there are. */
  indexOf(name: string): number {
    const m = this.members.find((x) => !x.removed && x.view.name === name);
    if (!m) throw new PoolError(`no server named '${name}' (have: ${this.members.filter((x) => !x.removed).map((x) => x.view.name).join(", ") || "none"})`);
    return m.view.index;
  }

  /** Bring every effective weight up to date (slow start moves with the clock). */
  refresh(): readonly ServerView[] {
    const now = this.env.now();
    for (const m of this.members) m.view.weight = this.effectiveWeight(m, now);
    return this.views;
  }

  /** Servers a new request may go to: up, weight above 0, not removed. */
  usable(index: number): boolean {
    const m = this.members[index];
    return m !== undefined && !m.removed && m.view.up && m.view.weight > 0;
  }

  isRemoving(index: number): boolean {
    return this.member(index).removing;
  }

  // ----------------------------------------------------------------------------------------------
  // Signals from the servers

  /** A server subscribes: by its address; returns false (and counts) when no configured server has it. */
  register(r: Registration): boolean {
    const m = this.byAddress(r);
    if (!m) return false;
    if (r.capacity !== undefined && r.capacity > 0 && Number.isFinite(r.capacity)) m.view.capacity = r.capacity;
    this.heard(m, r.aliveIntervalPs);
    return true;
  }

  /** An alive signal: proof of life and a load report. Returns false (and counts) for an unknown address. */
  alive(a: AliveSignal): boolean {
    const m = this.byAddress(a);
    if (!m) return false;
    this.counters.aliveSignals++;
    m.aliveSignals++;
    if (Number.isFinite(a.load)) m.view.load = Math.min(1, Math.max(0, a.load));
    if (a.responseTimePs !== undefined && a.responseTimePs >= 0) m.reportedResponseTimePs = a.responseTimePs;
    this.heard(m, a.intervalPs);
    return true;
  }

  /** The CP's own measure: its SYN to the server's SYN-ACK, folded into an EWMA (RFC 6298 SRTT style). */
  observeResponseTime(index: number, samplePs: number): void {
    const v = this.member(index).view;
    const a = this.opts.responseTimeAlpha;
    v.responseTimePs = Number.isNaN(v.responseTimePs) ? samplePs : v.responseTimePs + a * (samplePs - v.responseTimePs);
  }

  /** A connect to the server failed (no SYN-ACK after the retries, or an RST): down for failTimeoutPs at least. */
  connectFailed(index: number): void {
    const m = this.member(index);
    if (m.removed) return;
    m.holdUntilPs = this.env.now() + this.opts.failTimeoutPs;
    if (!m.monitored) {
      // Nobody will tell us it is back: try it again after the hold (passive health check).
      m.holdTimer?.cancel();
      m.holdTimer = this.env.setTimer(this.opts.failTimeoutPs, () => {
        this.env.charge("timer");
        m.holdTimer = undefined;
        if (!m.view.up && m.downReason === "connect_failed" && !m.removed) this.bringUp(m);
      });
    }
    this.markDown(m, "connect_failed");
  }

  // ----------------------------------------------------------------------------------------------
  // Management (controlplane/api.ts)

  /** Force a server up or down; a server forced down stays down until forced up. */
  setUp(index: number, up: boolean): void {
    const m = this.member(index);
    if (m.removed) throw new PoolError(`server '${m.view.name}' was removed`);
    if (up && !m.view.up) {
      m.holdTimer?.cancel();
      m.holdUntilPs = 0;
      if (m.monitored) m.lastAlivePs = this.env.now(); // a fresh deadline, not an instant miss
      this.bringUp(m);
    } else if (!up) this.markDown(m, "manual");
  }

  /** Set the configured weight (0 quiesces: no new connections, spliced ones continue). */
  setWeight(index: number, weight: number): void {
    const m = this.member(index);
    if (!(weight >= 0) || !Number.isFinite(weight)) throw new PoolError(`weight ${weight} for '${m.view.name}': expected a number >= 0`);
    if (m.removing || m.removed) throw new PoolError(`server '${m.view.name}' is being removed; its weight stays 0`);
    m.view.configuredWeight = weight;
    m.view.weight = this.effectiveWeight(m, this.env.now());
  }

  /** A new server, up at once and in slow start (its caches are cold). */
  add(cfg: ServerConfig): ServerView {
    if (this.members.some((x) => !x.removed && x.view.name === cfg.name)) throw new PoolError(`a server named '${cfg.name}' is already in the pool`);
    if (this.members.some((x) => !x.removed && x.server.ip === cfg.ip && x.server.tcpPort === cfg.tcpPort)) {
      throw new PoolError(`server address ${addressKey(cfg.ip, cfg.tcpPort)} is already in the pool`);
    }
    const index = this.members.length;
    const s = resolveServer(cfg, index, this.portCount, `server '${cfg.name}'`);
    return this.push(s, this.env.now()).view;
  }

  /** First step of a removal: drain (weight 0). The CP finishes it when no connection uses the server. */
  beginRemoval(index: number): void {
    const m = this.member(index);
    if (m.removed) return;
    m.removing = true;
    m.view.configuredWeight = 0;
    m.view.weight = 0;
  }

  finishRemoval(index: number): void {
    const m = this.member(index);
    if (m.removed) return;
    m.removed = true;
    m.removing = false;
    m.holdTimer?.cancel();
    m.view.up = false;
    m.view.weight = 0;
    m.downReason = "removed";
    this.armCheck();
  }

  status(): PoolMemberStatus[] {
    const now = this.env.now();
    return this.members.map((m) => {
      const view = { ...m.view, weight: this.effectiveWeight(m, now) };
      return {
        index: m.view.index, name: m.view.name, address: addressKey(m.server.ip, m.server.tcpPort), state: this.stateOf(m, view.weight),
        monitored: m.monitored, ...(m.downReason && !m.view.up ? { downReason: m.downReason } : {}), downCount: m.downCount,
        aliveSignals: m.aliveSignals, aliveIntervalPs: m.intervalPs, lastAlivePs: m.lastAlivePs, reportedResponseTimePs: m.reportedResponseTimePs, view,
      };
    });
  }

  /** Stop the pool's timers. */
  close(): void {
    this.check?.cancel();
    this.check = undefined;
    this.checkAtPs = Infinity;
    for (const m of this.members) m.holdTimer?.cancel();
  }

  // ----------------------------------------------------------------------------------------------

  private push(s: ResolvedServer, upSincePs: number): Member {
    const view: ServerState = {
      index: s.index, name: s.name, ip: s.ip, tcpPort: s.tcpPort, weight: s.weight, configuredWeight: s.weight, up: true,
      activeConnections: 0, totalConnections: 0, load: NaN, capacity: s.capacity, responseTimePs: NaN, priority: s.priority,
      upperThreshold: s.upperThreshold, lowerThreshold: s.lowerThreshold, tags: s.tags,
    };
    const m: Member = {
      view, server: s, monitored: false, intervalPs: this.opts.aliveIntervalPs, lastAlivePs: NaN, upSincePs, holdUntilPs: 0,
      removing: false, removed: false, downCount: 0, aliveSignals: 0, reportedResponseTimePs: NaN,
    };
    this.members.push(m);
    this.views.push(view);
    view.weight = this.effectiveWeight(m, this.env.now());
    return m;
  }

  private member(index: number): Member {
    const m = this.members[index];
    if (!m) throw new PoolError(`no server with index ${index} (the pool has ${this.members.length})`);
    return m;
  }

  private byAddress(a: ServerAddress): Member | undefined {
    const m = this.members.find((x) => !x.removed && x.server.ip === a.ip && x.server.tcpPort === a.tcpPort);
    if (!m) this.counters.unknownPoolSignals++;
    return m;
  }

  /** A registration or alive signal from `m`: alive now, expected again within its interval. */
  private heard(m: Member, intervalPs: number | undefined): void {
    m.monitored = true;
    if (intervalPs !== undefined && intervalPs > 0 && Number.isFinite(intervalPs)) m.intervalPs = intervalPs;
    m.lastAlivePs = this.env.now();
    const held = m.downReason === "connect_failed" && this.env.now() < m.holdUntilPs;
    if (!m.view.up && m.downReason !== "manual" && !held) this.bringUp(m);
    this.armCheck();
  }

  private effectiveWeight(m: Member, now: number): number {
    if (m.removed || !m.view.up) return 0;
    return slowStartWeight(m.view.configuredWeight, now - m.upSincePs, this.opts.slowStartPs);
  }

  private stateOf(m: Member, weight: number): MemberState {
    if (m.removed) return "removed";
    if (m.removing) return "removing";
    if (!m.view.up) return "down";
    if (m.view.configuredWeight === 0) return "draining";
    return weight < m.view.configuredWeight ? "slow_start" : "up";
  }

  private markDown(m: Member, reason: DownReason): void {
    if (!m.view.up) {
      if (reason === "manual") m.downReason = reason;
      return;
    }
    m.view.up = false;
    m.view.weight = 0;
    m.downReason = reason;
    m.downCount++;
    this.counters.serversMarkedDown++;
    if (reason !== "removed") this.log({ atPs: this.env.now(), server: m.view.name, event: "down", reason });
    this.armCheck();
    this.events.down(m.view, reason);
  }

  private bringUp(m: Member): void {
    m.view.up = true;
    m.downReason = undefined;
    m.upSincePs = this.env.now();
    m.view.weight = this.effectiveWeight(m, this.env.now());
    this.counters.serversBackUp++;
    this.log({ atPs: this.env.now(), server: m.view.name, event: "up" });
    this.armCheck();
  }

  private log(e: PoolEvent): void {
    const events = this.counters.poolEvents;
    events.push(e);
    if (events.length > POOL_EVENTS_KEPT) events.splice(0, events.length - POOL_EVENTS_KEPT);
  }

  /** One timer, at the earliest deadline of a monitored server that is up. */
  private armCheck(): void {
    let next = Infinity;
    for (const m of this.members) if (m.monitored && m.view.up && !m.removed) next = Math.min(next, this.deadline(m));
    if (next === Infinity) {
      this.check?.cancel();
      this.check = undefined;
      this.checkAtPs = Infinity;
      return;
    }
    if (this.check && this.checkAtPs <= next) return; // it fires first and re-arms
    this.check?.cancel();
    this.checkAtPs = next;
    this.check = this.env.setTimer(Math.max(0, next - this.env.now()), () => {
      this.env.charge("timer");
      this.check = undefined;
      this.checkAtPs = Infinity;
      this.sweep();
      this.armCheck();
    });
  }

  private deadline(m: Member): number {
    return m.lastAlivePs + this.opts.missedAlive * m.intervalPs;
  }

  private sweep(): void {
    const now = this.env.now();
    for (const m of this.members) {
      if (m.monitored && m.view.up && !m.removed && now >= this.deadline(m)) this.markDown(m, "missed_alive");
    }
  }
}
