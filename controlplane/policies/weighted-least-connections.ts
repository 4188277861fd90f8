// Policy "weighted-least-connections": the lowest connections/weight (LVS ip_vs_wlc.c), compared by
// cross-multiplication as LVS does (c_a * w_b < c_b * w_a), so no division and no rounding. Counts are
// spliced plus dispatched-not-yet-spliced; weight 0 is skipped; ties go to the first.
import { best, countingPolicy, usable } from "./connection-count.js";
import type { Policy, PolicyEntry } from "./policy.js";

export function weightedLeastConnections(): Policy<unknown> {
  return countingPolicy("weighted-least-connections", (_info, candidates, conns) =>
    best(candidates.filter(usable), (a, b) => conns(a) * b.weight < conns(b) * a.weight));
}

export const weightedLeastConnectionsEntry: PolicyEntry = {
  name: "weighted-least-connections", family: "content-blind", description: "lowest connections / weight (LVS wlc)",
  params: [], create: () => weightedLeastConnections(),
};
