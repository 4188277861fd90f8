// Policy "least-loaded": the server with the lowest load index from its alive signals (Cardellini et al.,
// The State of the Art in Locally Distributed Web-server Systems: "least loaded", the common commercial
// choice). Loads are comparable only when every candidate has reported one; while any has not (NaN), the
// choice falls back to least connections. Equal loads go to the fewer connections, then the first.
import { best, countingPolicy, usable } from "./connection-count.js";
import type { Policy, PolicyEntry } from "./policy.js";

export function leastLoaded(): Policy<unknown> {
  return countingPolicy("least-loaded", (_info, candidates, conns) => {
    const open = candidates.filter(usable);
    const fewer = (a: (typeof open)[number], b: (typeof open)[number]) => conns(a) < conns(b);
    if (open.some((s) => Number.isNaN(s.load))) return best(open, fewer);
    return best(open, (a, b) => a.load < b.load || (a.load === b.load && fewer(a, b)));
  });
}

export const leastLoadedEntry: PolicyEntry = {
  name: "least-loaded", family: "content-blind", description: "lowest load index from alive signals; least connections until every server reported",
  params: [], create: () => leastLoaded(),
};
