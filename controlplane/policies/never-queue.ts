// Policy "never-queue": an idle server if there is one (the first), else shortest expected delay
// (LVS ip_vs_nq.c): a request never waits behind another while some server has nothing to do, even a slow one.
import { countingPolicy, usable } from "./connection-count.js";
import { shortestExpectedDelay } from "./shortest-expected-delay.js";
import type { Policy, PolicyEntry } from "./policy.js";

export function neverQueue(): Policy<unknown> {
  return countingPolicy("never-queue", (_info, candidates, conns) =>
    candidates.find((s) => usable(s) && conns(s) === 0) ?? shortestExpectedDelay(candidates, conns));
}

export const neverQueueEntry: PolicyEntry = {
  name: "never-queue", family: "content-blind", description: "an idle server if any, else shortest expected delay (LVS nq)",
  params: [], create: () => neverQueue(),
};
