// Policy "weighted-round-robin": static weighted round robin, interleaved (nginx's smooth weighted round
// robin, ngx_http_upstream_get_peer): each turn every server gains its weight, the one with the most
// credit is picked and pays the total. Weights 5,1,1 give a a b a c a a, not LVS wrr's a a a a a b c.
import type { Policy, PolicyEntry, ServerView } from "./policy.js";

/** Smooth weighted round robin over whichever servers are offered; credit is kept per server index. */
export class SmoothWeighted {
  private readonly credit = new Map<number, number>();

  /** The pick among `servers` with weightOf(s) > 0 (ties: the first), or null when none has weight. O(n). */
  pick(servers: readonly ServerView[], weightOf: (s: ServerView) => number): ServerView | null {
    let total = 0;
    let pick: ServerView | null = null;
    let pickCredit = -Infinity;
    for (const s of servers) {
      const w = weightOf(s);
      if (!(w > 0)) continue;
      const c = (this.credit.get(s.index) ?? 0) + w;
      this.credit.set(s.index, c);
      total += w;
      if (c > pickCredit) {
        pick = s;
        pickCredit = c;
      }
    }
    if (pick) this.credit.set(pick.index, pickCredit - total);
    return pick;
  }
}

export function weightedRoundRobin(): Policy<unknown> {
  const wrr = new SmoothWeighted();
  return {
    name: "weighted-round-robin",
    select: (_info, candidates) => wrr.pick(candidates, (s) => s.weight),
  };
}

export const weightedRoundRobinEntry: PolicyEntry = {
  name: "weighted-round-robin", family: "content-blind", description: "static weighted round robin, interleaved (nginx smooth WRR; weights 5,1,1 -> a a b a c a a)",
  params: [], create: () => weightedRoundRobin(),
};
