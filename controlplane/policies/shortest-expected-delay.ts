// Policy "shortest-expected-delay": the lowest (connections + 1) / weight, the delay a new connection
// expects if every server serves its queue at a rate proportional to its weight (LVS ip_vs_sed.c;
// cross-multiplied). Unlike WLC it sends a lone request to a fast busy server over an idle slow one.
import { best, countingPolicy, usable } from "./connection-count.js";
import type { Policy, PolicyEntry, ServerView } from "./policy.js";

/** The SED choice among `candidates` (shared with never-queue). */
export function shortestExpectedDelay(candidates: readonly ServerView[], conns: (s: ServerView) => number): ServerView | null {
  return best(candidates.filter(usable), (a, b) => (conns(a) + 1) * b.weight < (conns(b) + 1) * a.weight);
}

export function shortestExpectedDelayPolicy(): Policy<unknown> {
  return countingPolicy("shortest-expected-delay", (_info, candidates, conns) => shortestExpectedDelay(candidates, conns));
}

export const shortestExpectedDelayEntry: PolicyEntry = {
  name: "shortest-expected-delay", family: "content-blind", description: "lowest (connections + 1) / weight (LVS sed)",
  params: [], create: () => shortestExpectedDelayPolicy(),
};
