// Policy "lard": Locality-Aware Request Distribution (Pai, Aron, Banga, Svendsen, Druschel, Zwaenepoel, Nahum,
// "Locality-Aware Request Distribution in Cluster-based Network Servers", ASPLOS 1998, basic LARD, fig. 2).
//
// Each target (URL, by the DP's URL hash) is served by one server, so its files stay in that server's cache:
//   unassigned (or its server is not a candidate)                     -> the least loaded server, remembered;
//   load(target's server) > T_high and some server has load < T_low,
//   or load(target's server) >= 2 T_high                              -> reassigned to the least loaded server;
//   else                                                              -> the target's server.
// Load is the server's active connections (the paper's measure), least loaded ties to the lower index; a
// quiesced server (weight 0) takes no new target. The paper's front-end also caps the cluster's connections
// at (n-1) T_high + T_low - 1 and queues above it; this switch cannot queue, so that limit is not applied.
// The target table keeps the `maxTargets` most recently used targets.
import type { HttpRequest } from "../http/request.js";
import type { Policy, PolicyContext, PolicyEntry, PolicyParam, ServerView } from "./policy.js";
import { leastLoaded, LruMap, targetKey } from "./content-aware-common.js";
import { includeHostParam, maxTargetsParam, paramError } from "./params.js";

export interface LardParams {
  tLow: number;
  tHigh: number;
  maxTargets: number;
  includeHost: boolean;
}

/** Whether a server at `load` should shed a target: overloaded while an idle-ish server exists, or beyond twice the threshold. */
export function lardImbalanced(load: number, servers: readonly ServerView[], tLow: number, tHigh: number): boolean {
  return (load > tHigh && servers.some((s) => s.weight > 0 && s.activeConnections < tLow)) || load >= 2 * tHigh;
}

/** tLow < tHigh, checked for LARD and LARD/R alike. */
export function lardThresholds(policy: string, params: Partial<LardParams>): { tLow: number; tHigh: number } {
  const tLow = params.tLow ?? 25;
  const tHigh = params.tHigh ?? 65;
  if (!(tLow < tHigh)) throw paramError(policy, "tLow", `${tLow} must be below tHigh (${tHigh})`);
  return { tLow, tHigh };
}

export interface LardPolicy extends Policy<number> {
  /** The server name a target key is assigned to, if any. */
  assignment(key: number): string | undefined;
}

export function lard(params: Partial<LardParams> = {}): LardPolicy {
  const { tLow, tHigh } = lardThresholds("lard", params);
  const includeHost = params.includeHost ?? false;
  const targets = new LruMap<number, string>(params.maxTargets ?? 100_000);
  return {
    name: "lard",
    parse: (req: HttpRequest) => targetKey(req, includeHost),
    select(key: number, candidates: readonly ServerView[], _ctx: PolicyContext): ServerView | null {
      const name = targets.get(key);
      const current = name === undefined ? undefined : candidates.find((s) => s.name === name);
      // A quiesced (weight 0) server is drained: its targets move like those of a server that is down.
      if (current && current.weight > 0 && !lardImbalanced(current.activeConnections, candidates, tLow, tHigh)) return current;
      const pick = leastLoaded(candidates);
      if (pick) targets.set(key, pick.name);
      return pick;
    },
    assignment: (key: number) => targets.peek(key),
  };
}

/** T_low and T_high, declared by LARD and LARD/R alike. */
export const lardThresholdParams: PolicyParam[] = [
  { name: "tLow", type: "number", default: 25, min: 0, doc: "T_low, active connections: a server below it is idle enough to take a target over" },
  { name: "tHigh", type: "number", default: 65, min: 1, doc: "T_high, active connections: above it (with a server below T_low), or at twice it, a target moves" },
];

export const lardEntry: PolicyEntry = {
  name: "lard", family: "content-aware",
  description: "locality-aware request distribution: one server per URL, moved when its load passes T_high (Pai et al.)",
  params: [...lardThresholdParams, maxTargetsParam, includeHostParam],
  create: (p) => lard(p as any),
};
