// Policy "dynamic-weighted-round-robin": weighted round robin whose weights follow the load the servers
// report (the dynamic WRR of Cardellini et al., The State of the Art in Locally Distributed Web-server
// Systems): w = weight * max(floor, 1 - load), recomputed every periodPs (0: every select).
import { SmoothWeighted } from "./weighted-round-robin.js";
import type { Policy, PolicyEntry, ServerView } from "./policy.js";
import { PS_PER_S } from "../../lib/time.js";

export interface DynamicWrrParams {
  /** Smallest fraction of its weight a saturated server keeps, so it is still probed. */
  floor: number;
  /** Recompute the load factors at most this often, ps; 0 = on every select. */
  periodPs: number;
}

/** The factor a load report earns: 1 - load clamped to [floor, 1]; no report yet (NaN) = 1, nothing known against it. */
export function loadFactor(load: number, floor: number): number {
  if (Number.isNaN(load)) return 1;
  return Math.min(1, Math.max(floor, 1 - load));
}

export function dynamicWeightedRoundRobin(params: DynamicWrrParams): Policy<unknown> {
  const wrr = new SmoothWeighted();
  const factors = new Map<number, number>();
  let nextAt = -Infinity;
  return {
    name: "dynamic-weighted-round-robin",
    select(_info, candidates, ctx): ServerView | null {
      const now = ctx.now();
      if (params.periodPs === 0 || now >= nextAt) {
        for (const s of ctx.servers) factors.set(s.index, loadFactor(s.load, params.floor));
        nextAt = now + params.periodPs;
      }
      // The effective weight, not the configured one: quiesce (0) and slow start still apply between periods.
      return wrr.pick(candidates, (s) => s.weight * (factors.get(s.index) ?? loadFactor(s.load, params.floor)));
    },
  };
}

export const dynamicWeightedRoundRobinEntry: PolicyEntry = {
  name: "dynamic-weighted-round-robin", family: "content-blind", description: "weighted round robin with weight * max(floor, 1 - reported load)",
  params: [
    { name: "floor", type: "number", default: 0.05, min: 0.01, max: 1, doc: "smallest fraction of its weight a saturated server keeps" },
    { name: "periodPs", type: "integer", default: 0, min: 0, max: 3600 * PS_PER_S, doc: "recompute load factors at most this often, ps (0: every select)" },
  ],
  create: (p) => dynamicWeightedRoundRobin({ floor: p.floor as number, periodPs: p.periodPs as number }),
};
