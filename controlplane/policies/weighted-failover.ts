// Policy "weighted-failover": every connection to the one usable server with the highest weight; when it
// is down, quiesced or overloaded, the next highest (LVS ip_vs_fo.c; ties: the first in pool order).
// Overload is the LVS threshold flag with hysteresis, as in hprio.
import { best, countingPolicy, usable } from "./connection-count.js";
import { OverloadTracker } from "./overload.js";
import type { Policy, PolicyEntry } from "./policy.js";

export function weightedFailover(): Policy<unknown> {
  const overload = new OverloadTracker();
  return countingPolicy("weighted-failover", (_info, candidates, conns) =>
    best(candidates.filter((s) => usable(s) && !overload.overloaded(s, conns(s))), (a, b) => a.weight > b.weight));
}

export const weightedFailoverEntry: PolicyEntry = {
  name: "weighted-failover", family: "priority", description: "all to the usable server with the highest weight, then the next (LVS fo)",
  params: [], create: () => weightedFailover(),
};
