// Policy "lard-r": LARD with replication (Pai et al., "Locality-Aware Request Distribution in Cluster-based
// Network Servers", ASPLOS 1998, fig. 3): a popular target may be served by a set of servers.
//
// Per target (URL hash) a server set; a request goes to the set's least loaded member n. When
//   load(n) > T_high and some server has load < T_low, or load(n) >= 2 T_high,
// the least loaded server of the cluster joins the set and takes the request. When the set has more than one
// member and has not changed for K seconds, its most loaded member (other than the one chosen) leaves, so a
// set shrinks back once the hot spot cools. A change (growth or removal) restarts the K clock.
// Members that are not candidates or are quiesced are skipped (and leave first); a set with no usable member
// gains the least loaded server.
// Load is active connections; ties: least loaded to the lower index, most loaded to the higher index.
import type { HttpRequest } from "../http/request.js";
import type { Policy, PolicyContext, PolicyEntry, ServerView } from "./policy.js";
import { leastLoaded, LruMap, targetKey } from "./content-aware-common.js";
import { lardImbalanced, lardThresholdParams, lardThresholds, type LardParams } from "./lard.js";
import { includeHostParam, maxTargetsParam } from "./params.js";
import { PS_PER_S } from "../../lib/time.js";

export interface LardReplicationParams extends LardParams {
  /** Seconds a set must stay unchanged before its most loaded member is removed. */
  shrinkAfterSeconds: number;
}

interface ServerSet {
  members: string[];
  lastChangePs: number;
}

export interface LardReplicationPolicy extends Policy<number> {
  /** The server names in a target's set, in the order they joined. */
  serverSet(key: number): string[];
}

export function lardReplication(params: Partial<LardReplicationParams> = {}): LardReplicationPolicy {
  const { tLow, tHigh } = lardThresholds("lard-r", params);
  const includeHost = params.includeHost ?? false;
  const kPs = (params.shrinkAfterSeconds ?? 20) * PS_PER_S;
  const sets = new LruMap<number, ServerSet>(params.maxTargets ?? 100_000);
  return {
    name: "lard-r",
    parse: (req: HttpRequest) => targetKey(req, includeHost),
    select(key: number, candidates: readonly ServerView[], ctx: PolicyContext): ServerView | null {
      const now = ctx.now();
      let set = sets.get(key);
      const members = new Set(set?.members);
      const live = candidates.filter((s) => s.weight > 0 && members.has(s.name));
      let n = leastLoaded(live);
      let changed = false;
      if (!n || lardImbalanced(n.activeConnections, candidates, tLow, tHigh)) {
        const p = leastLoaded(candidates);
        if (!p) return null;
        if (!set) sets.set(key, (set = { members: [], lastChangePs: now }));
        if (!set.members.includes(p.name)) {
          set.members.push(p.name);
          changed = true;
        }
        n = p;
      }
      if (!changed && set!.members.length > 1 && now - set!.lastChangePs > kPs) {
        const chosen = n.name;
        const liveNames = new Set(live.map((s) => s.name));
        const gone = set!.members.find((m) => m !== chosen && !liveNames.has(m));
        let victim = gone;
        if (victim === undefined) {
          let most: ServerView | null = null;
          for (const s of live) {
            if (s.name === chosen) continue;
            if (!most || s.activeConnections > most.activeConnections || (s.activeConnections === most.activeConnections && s.index > most.index)) most = s;
          }
          victim = most?.name;
        }
        if (victim !== undefined) {
          set!.members.splice(set!.members.indexOf(victim), 1);
          changed = true;
        }
      }
      if (changed) set!.lastChangePs = now;
      return n;
    },
    serverSet: (key: number) => [...(sets.peek(key)?.members ?? [])],
  };
}

export const lardReplicationEntry: PolicyEntry = {
  name: "lard-r", family: "content-aware",
  description: "LARD with replication: a server set per URL that grows under load and shrinks after K quiet seconds",
  params: [
    ...lardThresholdParams,
    { name: "shrinkAfterSeconds", type: "number", default: 20, min: 0, doc: "K: a set unchanged this long loses its most loaded member" },
    maxTargetsParam, includeHostParam,
  ],
  create: (p) => lardReplication(p as any),
};
