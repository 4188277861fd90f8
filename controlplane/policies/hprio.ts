// Policy "hprio": highest-priority pool with atomic spillover (LVS hprio scheduler, R. Nibali, lvs-users
// 2005-10-27, ip_vs_hprio.c): only the servers of the highest rank that are up, not quiesced (weight 0) and
// not overloaded take connections, in turn. Overload follows the LVS thresholds with hysteresis (trips at
// upperThreshold, clears below lowerThreshold), so when every server of the top pool is full or quiesced
// all new connections go to the next pool at once, and come back as soon as one top server has drained
// below its lower threshold. Spliced connections stay where they are. Nothing open: refused (LVS: NULL).
import { countingPolicy, usable } from "./connection-count.js";
import { OverloadTracker } from "./overload.js";
import { SmoothWeighted } from "./weighted-round-robin.js";
import type { Policy, PolicyEntry, ServerView } from "./policy.js";
import { oneOfParam } from "./params.js";

export interface HprioParams {
  /**
   * What ranks the pools: the servers' priority (npswitch), or their configured weight (the LVS patch, where
   * the spillover pool has the lower weight). Configured, not effective: a member in slow start stays in its
   * pool, where its ramping weight is its share of the turns.
   */
  rank: "priority" | "weight";
}

export function hprio(params: HprioParams): Policy<unknown> {
  const overload = new OverloadTracker();
  // Within the pool: in turn, by weight (equal weights: plain round robin, as the LVS patch).
  const turn = new SmoothWeighted();
  const rankOf = params.rank === "weight" ? (s: ServerView) => s.configuredWeight : (s: ServerView) => s.priority;
  return countingPolicy("hprio", (_info, candidates, conns) => {
    const open = candidates.filter((s) => usable(s) && !overload.overloaded(s, conns(s)));
    if (open.length === 0) return null;
    let top = -Infinity;
    for (const s of open) top = Math.max(top, rankOf(s));
    return turn.pick(open.filter((s) => rankOf(s) === top), (s) => s.weight);
  });
}

export const hprioEntry: PolicyEntry = {
  name: "hprio", family: "priority", description: "highest-priority pool not overloaded, in turn; atomic spillover to the next pool (LVS hprio)",
  params: [{ name: "rank", type: "string", default: "priority", doc: `what ranks the pools: "priority" or "weight" (as the LVS patch)` }],
  create: (p) => hprio({ rank: oneOfParam("hprio", p, "rank", ["priority", "weight"] as const) }),
};
