// The control plane's run-time management API: what the device's management endpoint (and tests, and the
// simulator) call on a running ControlPlane: weights, drain, add and remove servers, swap the dispatching
// policy, pool settings, statistics. Plain functions; errors are PoolError / CpConfigError /
// PolicyConfigError with a message that names the server, field or parameter.
import type { ControlPlane } from "./cp.js";
import type { CpPoolOptions, ServerConfig } from "./config.js";
import type { CpStats } from "./stats.js";
import { createPolicy } from "./policies/index.js";
import type { Policy, ServerView } from "./policies/policy.js";
import type { PoolMemberStatus } from "./pool/pool.js";

export type { PoolMemberStatus, MemberState, DownReason } from "./pool/pool.js";

export interface SwitchStats {
  /** The CP's counters (connections, refusals, pool signals, re-dispatches...). */
  cp: CpStats;
  /** Name of the policy new connections go through. */
  policy: string;
  /** Every server, removed ones included (indices are never reused). */
  servers: PoolMemberStatus[];
}

/** Set a server's weight; 0 quiesces it (no new connections; spliced ones continue in the data plane). */
export function setWeight(cp: ControlPlane, server: string, weight: number): ServerView {
  const i = cp.pool.indexOf(server);
  cp.pool.setWeight(i, weight);
  return cp.pool.views[i];
}

/** Drain a server: weight 0. Its spliced connections continue; setWeight brings it back. */
export function drain(cp: ControlPlane, server: string): ServerView {
  return setWeight(cp, server, 0);
}

/** Add a server at run time: up at once, in slow start. Its index is the next free one. */
export function addServer(cp: ControlPlane, cfg: ServerConfig): ServerView {
  return cp.addServer(cfg);
}

/**
 * Remove a server: drained now, removed when no connection uses it any more. `removed` says whether that
 * happened at once; else it happens as its last connection ends (watch pool() for state "removed").
 */
export function removeServer(cp: ControlPlane, name: string): { removed: boolean } {
  return { removed: cp.removeServer(name) };
}

/**
 * New connections (and connections still being dispatched) use `policy` from now on; spliced connections
 * are untouched (they live in the data plane). Takes a Policy, or a built-in's name with its parameters.
 */
export function swapPolicy(cp: ControlPlane, policy: Policy<any> | { name: string; params?: Record<string, unknown> }): string {
  const p = "select" in policy ? policy : createPolicy(policy.name, policy.params);
  cp.swapPolicy(p);
  return p.name;
}

/** Force a server down (its connections are handled as after a crash) or back up (slow start). */
export function setServerUp(cp: ControlPlane, server: string, up: boolean): ServerView {
  cp.setServerUp(server, up);
  return cp.pool.views[cp.pool.indexOf(server)];
}

/** Change the pool's health settings (alive interval, missed signals, slow start, ...). */
export function configurePool(cp: ControlPlane, change: Partial<CpPoolOptions>): CpPoolOptions {
  cp.pool.configure(change);
  return cp.pool.options;
}

export function stats(cp: ControlPlane): SwitchStats {
  return { cp: cp.stats(), policy: cp.policyName, servers: cp.poolStatus() };
}

export function pool(cp: ControlPlane): PoolMemberStatus[] {
  return cp.poolStatus();
}
