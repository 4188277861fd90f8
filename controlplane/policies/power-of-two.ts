// Policy "power-of-two": two distinct candidates drawn at random, the one with fewer connections per
// weight wins (Mitzenmacher, The Power of Two Choices in Randomized Load Balancing, IEEE TPDS 2001):
// nearly least-connections balance without a herd on the least loaded server. Ties go to the first drawn.
import { countingPolicy, usable } from "./connection-count.js";
import type { Policy, PolicyEntry } from "./policy.js";

export function powerOfTwo(): Policy<unknown> {
  return countingPolicy("power-of-two", (_info, candidates, conns, ctx) => {
    const open = candidates.filter(usable);
    if (open.length <= 1) return open[0] ?? null;
    const i = Math.floor(ctx.random() * open.length);
    let j = Math.floor(ctx.random() * (open.length - 1));
    if (j >= i) j++;
    const a = open[i];
    const b = open[j];
    return conns(b) * a.weight < conns(a) * b.weight ? b : a;
  });
}

export const powerOfTwoEntry: PolicyEntry = {
  name: "power-of-two", family: "content-blind", description: "two random servers, fewer connections per weight wins (Mitzenmacher)",
  params: [], create: () => powerOfTwo(),
};
