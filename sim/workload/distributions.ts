// Random variates for web workloads, all drawn from the seeded `Random`: Zipf popularity,
// heavy-tailed file sizes (lognormal, bounded Pareto, and the SURGE lognormal body with a
// Pareto tail), and exponential gaps for Poisson arrivals and think times.
import type { Random } from "../../lib/random.js";

/** Zipf over ranks 1..n: P(k) proportional to 1 / k^alpha. Sampled by inverting the CDF (binary search). */
export class Zipf {
  private readonly cdf: Float64Array;

  constructor(readonly n: number, readonly alpha: number) {
    if (!(n >= 1)) throw new RangeError(`Zipf needs at least one item, got ${n}`);
    if (!(alpha >= 0)) throw new RangeError(`Zipf exponent ${alpha} must be >= 0`);
    this.cdf = new Float64Array(n);
    let sum = 0;
    for (let k = 1; k <= n; k++) this.cdf[k - 1] = sum += 1 / Math.pow(k, alpha);
    for (let i = 0; i < n; i++) this.cdf[i] /= sum;
  }

  /** Probability of rank k (1-based). */
  probability(k: number): number {
    return this.cdf[k - 1] - (k > 1 ? this.cdf[k - 2] : 0);
  }

  /** A rank in 0..n-1 (0 is the most popular). */
  sample(rng: Random): number {
    const u = rng.float();
    let lo = 0, hi = this.n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.cdf[mid] > u) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }
}

/** A standard normal variate (Box-Muller). */
export function normal(rng: Random): number {
  const u1 = 1 - rng.float(); // (0, 1]
  const u2 = rng.float();
  return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
}

/** Exponential with the given mean. */
export function exponential(rng: Random, mean: number): number {
  return -Math.log(1 - rng.float()) * mean;
}

/** Bounded Pareto on [low, high] with shape alpha, by inverting its CDF. */
export function boundedPareto(rng: Random, alpha: number, low: number, high: number): number {
  const u = rng.float();
  const ratio = Math.pow(low / high, alpha);
  return low / Math.pow(1 - u * (1 - ratio), 1 / alpha);
}

/**
 * File-size models. Sizes are rounded to whole bytes and clipped to [minBytes, maxBytes].
 * - lognormal: exp(N(mu, sigma)) bytes.
 * - boundedPareto: shape alpha on [low, high] bytes.
 * - surge: with probability 1 - tailFraction a lognormal body (mu, sigma), else a bounded Pareto
 *   tail (alpha, from `tailStart` to maxBytes). Defaults are SURGE's fits to web files (Barford
 *   and Crovella, "Generating representative web workloads", SIGMETRICS 1998): body mu 9.357,
 *   sigma 1.318 (median about 11.6 KB), tail alpha 1.1 from 133 KB, about 7% of files in the tail.
 */
export type SizeModel =
  | { kind: "lognormal"; mu: number; sigma: number }
  | { kind: "boundedPareto"; alpha: number; low: number; high: number }
  | { kind: "surge"; mu?: number; sigma?: number; tailAlpha?: number; tailStart?: number; tailFraction?: number };

export const SURGE_DEFAULTS = { mu: 9.357, sigma: 1.318, tailAlpha: 1.1, tailStart: 133_000, tailFraction: 0.07 } as const;

export interface SizeBounds {
  minBytes: number;
  maxBytes: number;
}

export function sampleSize(rng: Random, model: SizeModel, bounds: SizeBounds): number {
  let x: number;
  switch (model.kind) {
    case "lognormal":
      x = Math.exp(model.mu + model.sigma * normal(rng));
      break;
    case "boundedPareto":
      x = boundedPareto(rng, model.alpha, model.low, model.high);
      break;
    case "surge": {
      const m = { ...SURGE_DEFAULTS, ...model };
      x = rng.chance(m.tailFraction)
        ? boundedPareto(rng, m.tailAlpha, m.tailStart, Math.max(bounds.maxBytes, m.tailStart + 1))
        : Math.exp(m.mu + m.sigma * normal(rng));
      break;
    }
  }
  return Math.min(Math.max(Math.round(x), bounds.minBytes), bounds.maxBytes);
}
