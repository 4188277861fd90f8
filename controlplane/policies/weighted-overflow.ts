// Policy "weighted-overflow": fill servers in descending weight order, each up to its upperThreshold
// connections, and overflow to the next (LVS ip_vs_ovf.c, with the threshold as the fill level where LVS
// uses the weight; a server without a threshold has no limit). A fill level, not a hysteresis: a server
// takes connections again as soon as it is below its threshold. All full: refused (LVS: NULL).
import { best, countingPolicy, usable } from "./connection-count.js";
import type { Policy, PolicyEntry } from "./policy.js";

export function weightedOverflow(): Policy<unknown> {
  return countingPolicy("weighted-overflow", (_info, candidates, conns) =>
    best(candidates.filter((s) => usable(s) && (s.upperThreshold <= 0 || conns(s) < s.upperThreshold)), (a, b) => a.weight > b.weight));
}

export const weightedOverflowEntry: PolicyEntry = {
  name: "weighted-overflow", family: "priority", description: "fill servers by descending weight up to their upper threshold, overflow to the next (LVS ovf)",
  params: [], create: () => weightedOverflow(),
};
