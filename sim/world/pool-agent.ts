// Pool agents of the simulated servers: each registers with the control plane's pool and sends an alive
// signal with a load report every alive interval (seed 004: workers' manager, alive signals, paced
// communication); a scenario crash silences a server entirely. Approximation: the signals travel out of
// band, not through the data plane: each is handed to the CP as CP-core work after the server link's
// one-way delay plus the serialization time of CONTROL_MESSAGE_BYTES, and takes no room on the data link
// (at the default 1% share it would take at most 1% of it). Pacing: the agent never sends control bytes
// faster than control_share of its link's bandwidth; when alive_ms would exceed that it stretches its
// interval and announces the stretched one in each signal, so the pool's deadline follows it.
import { serializationPs, type Scheduler } from "../engine/scheduler.js";
import { PS_PER_MS, PS_PER_S, type Picos } from "../../lib/time.js";
import { Link } from "../net/link.js";
import type { Host } from "../tcp/host.js";
import type { HttpServer } from "../http/server.js";
import type { Scenario } from "../scenario/schema.js";
import type { ControlPlane } from "../../controlplane/cp.js";
import { CONTROL_MESSAGE_BYTES, type AliveSignal, type Registration } from "../../controlplane/pool/messages.js";

/** What an agent talks to: the control plane's pool entry points. */
export interface PoolEndpoint {
  onRegistration(r: Registration): boolean;
  onAliveSignal(a: AliveSignal): boolean;
}

export interface PoolAgentOptions {
  sched: Scheduler;
  server: HttpServer;
  /** Worker slots of the server (the load index is busy slots / workers). */
  workers: number;
  /** Requests per second the server registers with. */
  capacity: number;
  ip: string;
  tcpPort: number;
  /** The server's link: bandwidth (bits/s) and one-way delay (ps). */
  link: { bitsPerSecond: number; delayPs: Picos };
  aliveIntervalPs: Picos;
  /** Largest share of the link's bandwidth control messages may use (0..1]. */
  controlShare: number;
  /** Run `fn` on the CP core after `delayPs` (the world's CpEnv.setTimer). */
  toCp(delayPs: Picos, fn: () => void): void;
  cp: PoolEndpoint;
}

/** Shortest interval between two control messages at `share` of `bitsPerSecond`. */
export function pacedIntervalPs(bitsPerSecond: number, share: number): Picos {
  return Math.ceil((CONTROL_MESSAGE_BYTES * 8 * PS_PER_S) / (bitsPerSecond * share));
}

export class PoolAgent {
  /** The interval actually used: alive_ms, stretched by pacing when needed. */
  readonly intervalPs: Picos;
  messagesSent = 0;
  bytesSent = 0;
  crashed = false;
  private readonly transitPs: Picos;

  constructor(private readonly o: PoolAgentOptions) {
    this.intervalPs = Math.max(o.aliveIntervalPs, pacedIntervalPs(o.link.bitsPerSecond, o.controlShare));
    this.transitPs = o.link.delayPs + serializationPs(CONTROL_MESSAGE_BYTES, o.link.bitsPerSecond);
  }

  /** Register now, then signal every interval until crashed. */
  start(): void {
    const reg: Registration = { ip: this.o.ip, tcpPort: this.o.tcpPort, capacity: this.o.capacity, aliveIntervalPs: this.intervalPs };
    this.send(() => this.o.cp.onRegistration(reg));
    this.o.sched.after(this.intervalPs, () => this.tick());
  }

  /** Load index from the server's counters: requests parsed and not answered, less those waiting for a worker. */
  load(): number {
    const c = this.o.server.counters;
    const inService = Math.min(this.o.workers, Math.max(0, c.requests - c.responses - this.o.server.queued));
    return inService / this.o.workers;
  }

  private tick(): void {
    if (this.crashed) return;
    const signal: AliveSignal = { ip: this.o.ip, tcpPort: this.o.tcpPort, load: this.load(), intervalPs: this.intervalPs };
    this.send(() => this.o.cp.onAliveSignal(signal));
    this.o.sched.after(this.intervalPs, () => this.tick());
  }

  private send(deliver: () => void): void {
    this.messagesSent++;
    this.bytesSent += CONTROL_MESSAGE_BYTES;
    this.o.toCp(this.transitPs, deliver);
  }
}

/**
 * Crash a server: its agent falls silent and its host neither receives nor sends anything more (its cable
 * is pulled: frames to it vanish at the end of its link, frames it sends go into a link to nowhere).
 * Frames already on the wire still arrive.
 */
export function crashServer(sched: Scheduler, agent: PoolAgent, host: Host, link: Link): void {
  agent.crashed = true;
  link.attach(1, { receive: () => {} });
  host.plug(new Link(sched, { name: `${host.name}-crashed`, bitsPerSecond: link.options.bitsPerSecond, delayPs: 0 }), 1);
}

export interface PooledServer {
  http: HttpServer;
  /** The link between the server and the switch (the server at side 1). */
  link: Link;
}

/**
 * The scenario's pool: the CP's health settings from `servers:` (alive_ms, missed_alive, slow_start_ms),
 * one agent per server (capacity: its workers at the cache-miss service time, requests per second), and
 * the scheduled crashes.
 */
export function startPoolAgents(w: { sched: Scheduler; scenario: Scenario; cp: ControlPlane; servers: PooledServer[]; toCp(delayPs: Picos, fn: () => void): void }): PoolAgent[] {
  const sv = w.scenario.servers;
  w.cp.pool.configure({ aliveIntervalPs: sv.alive_ms * PS_PER_MS, missedAlive: sv.missed_alive, slowStartPs: sv.slow_start_ms * PS_PER_MS });
  const agents = w.servers.map((s) => new PoolAgent({
    sched: w.sched, server: s.http, workers: sv.workers, capacity: (sv.workers * 1e6) / Math.max(1, sv.cache.miss_us),
    ip: s.http.host.ipText, tcpPort: s.http.port, link: { bitsPerSecond: s.link.options.bitsPerSecond, delayPs: s.link.options.delayPs },
    aliveIntervalPs: sv.alive_ms * PS_PER_MS, controlShare: sv.control_share, toCp: w.toCp, cp: w.cp,
  }));
  for (const a of agents) a.start();
  for (const c of sv.crash) {
    const s = w.servers[c.server];
    w.sched.at(c.at_ms * PS_PER_MS, () => crashServer(w.sched, agents[c.server], s.http.host, s.link));
  }
  return agents;
}
