// Policy "fastest-response": the server with the lowest smoothed response time the CP measured (SYN to
// SYN-ACK; Cardellini et al., The State of the Art in Locally Distributed Web-server Systems). Servers not
// measured yet (NaN) are tried first, the one with fewer connections first, so every server gets measured.
import { best, countingPolicy, usable } from "./connection-count.js";
import type { Policy, PolicyEntry, ServerView } from "./policy.js";

export function fastestResponse(): Policy<unknown> {
  return countingPolicy("fastest-response", (_info, candidates, conns) => {
    const open = candidates.filter(usable);
    const fewer = (a: ServerView, b: ServerView) => conns(a) < conns(b);
    const unmeasured = open.filter((s) => Number.isNaN(s.responseTimePs));
    if (unmeasured.length > 0) return best(unmeasured, fewer);
    return best(open, (a, b) => a.responseTimePs < b.responseTimePs || (a.responseTimePs === b.responseTimePs && fewer(a, b)));
  });
}

export const fastestResponseEntry: PolicyEntry = {
  name: "fastest-response", family: "content-blind", description: "lowest measured response time; unmeasured servers first",
  params: [], create: () => fastestResponse(),
};
