// Two hosts joined by one link, no switch between them: the smallest network, for tests and
// benchmarks of the endpoints themselves.
import { type Scheduler } from "../engine/scheduler.js";
import { PS_PER_US } from "../../lib/time.js";
import { Link, type LinkOptions } from "../net/link.js";
import type { TcpConfig } from "./config.js";
import { Host } from "./host.js";

export interface HostPairOptions {
  link?: Partial<LinkOptions>;
  tcp?: Partial<TcpConfig>;
  /** Seeds the hosts (seed, seed + 1) and, unless link.seed is given, the link. */
  seed?: number;
}

export interface HostPair {
  link: Link;
  /** On side 0, 10.0.0.1. */
  client: Host;
  /** On side 1, 10.0.0.2. */
  server: Host;
}

export const PAIR_CLIENT_IP = "10.0.0.1";
export const PAIR_SERVER_IP = "10.0.0.2";
export const PAIR_CLIENT_MAC = "02:00:00:00:00:01";
export const PAIR_SERVER_MAC = "02:00:00:00:00:02";

/** 1 Gb/s, 50 µs one way, lossless unless `link` says otherwise. */
export function hostPair(sched: Scheduler, o: HostPairOptions = {}): HostPair {
  const seed = o.seed ?? 1;
  const link = new Link(sched, { bitsPerSecond: 1e9, delayPs: 50 * PS_PER_US, seed, ...o.link });
  const client = new Host(sched, { name: "client", mac: PAIR_CLIENT_MAC, ip: PAIR_CLIENT_IP, nextHopMac: PAIR_SERVER_MAC, seed, tcp: o.tcp }).plug(link, 0);
  const server = new Host(sched, { name: "server", mac: PAIR_SERVER_MAC, ip: PAIR_SERVER_IP, nextHopMac: PAIR_CLIENT_MAC, seed: seed + 1, tcp: o.tcp }).plug(link, 1);
  return { link, client, server };
}
