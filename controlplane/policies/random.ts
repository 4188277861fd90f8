// Policy "random": each connection to a server drawn uniformly (or in proportion to weight) from the
// ctx's seeded source (the "Random" static policy of Cardellini et al., The State of the Art in Locally
// Distributed Web-server Systems). Quiesced servers (weight 0) are never drawn.
import { usable } from "./connection-count.js";
import type { Policy, PolicyEntry, ServerView } from "./policy.js";

export interface RandomParams {
  /** Draw in proportion to weight instead of uniformly. */
  weighted: boolean;
}

export function random(params: RandomParams): Policy<unknown> {
  return {
    name: "random",
    select(_info, candidates, ctx): ServerView | null {
      const open = candidates.filter(usable);
      if (open.length === 0) return null;
      if (!params.weighted) return open[Math.floor(ctx.random() * open.length)];
      let total = 0;
      for (const s of open) total += s.weight;
      let r = ctx.random() * total;
      for (const s of open) if ((r -= s.weight) < 0) return s;
      return open[open.length - 1]; // r landed on total after rounding
    },
  };
}

export const randomEntry: PolicyEntry = {
  name: "random", family: "content-blind", description: "a server drawn at random (seeded), uniformly or by weight",
  params: [{ name: "weighted", type: "boolean", default: false, doc: "draw in proportion to weight instead of uniformly" }],
  create: (p) => random({ weighted: p.weighted as boolean }),
};
