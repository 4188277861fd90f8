// Policy "round-robin": servers in turn, whatever the request says; a failed server is skipped for the
// retry and the turn moves on. Weights are ignored (a weighted policy is its own file).
import type { Policy, PolicyEntry, ServerView } from "./policy.js";

export function roundRobin(): Policy<unknown> {
  let next = 0;
  return {
    name: "round-robin",
    select(_info: unknown, candidates: readonly ServerView[]): ServerView | null {
      if (candidates.length === 0) return null;
      // The first candidate at or after the turn, in pool order, wrapping around.
      const sorted = [...candidates].sort((a, b) => a.index - b.index);
      const pick = sorted.find((s) => s.index >= next) ?? sorted[0];
      next = pick.index + 1;
      return pick;
    },
  };
}

export const roundRobinEntry: PolicyEntry = {
  name: "round-robin", family: "content-blind", description: "servers in turn, weights ignored", params: [], create: () => roundRobin(),
};
