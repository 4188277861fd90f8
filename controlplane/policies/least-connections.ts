// Policy "least-connections": the server with the fewest connections (LVS ip_vs_lc.c, which weighs
// active*256 + inactive; the CP has no inactive count, so active ones, plus this policy's dispatches not
// yet spliced). Weights ignored except that quiesced servers (0) are skipped; ties go to the first.
import { best, countingPolicy, usable } from "./connection-count.js";
import type { Policy, PolicyEntry } from "./policy.js";

export function leastConnections(): Policy<unknown> {
  return countingPolicy("least-connections", (_info, candidates, conns) => best(candidates.filter(usable), (a, b) => conns(a) < conns(b)));
}

export const leastConnectionsEntry: PolicyEntry = {
  name: "least-connections", family: "content-blind", description: "fewest connections, dispatched-not-yet-spliced included (LVS lc)",
  params: [], create: () => leastConnections(),
};
