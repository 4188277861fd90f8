// Policy "sita-e": Size Interval Task Assignment with Equal load (Harchol-Balter, Crovella, Murta, "On Choosing
// a Task Assignment Policy for a Distributed Server System", JPDC 1999): each server takes the requests of
// one size interval, the cut-offs chosen so every interval carries the same expected load (sum of sizes).
//
// Sizes: a request's size is `sizes[path]` when configured, else what the done hook learned for its URL hash
// (the server's segments through the splice x `mss`, an upper bound: ACKs and the FIN count as segments;
// averaged over a URL's completions), else `unknownSize` (0: the smallest interval).
// Distribution: a histogram of the sizes of completed requests (each at its observed size), rebuilt into the load CDF every
// `recomputeEvery` completions; the previous histogram is kept with weight `decay` so popularity drifts in.
// Before the first rebuild the configured sizes, each counted once, stand in; with neither, requests go
// by weighted least connections (nothing to split on yet).
// Cut-offs: servers are taken in pool order (smallest sizes to the lowest index) with load shares in
// proportion to their weights (equal weights: equal load). A request sits at position
// p = (load of smaller sizes + u * load of its own size) / total load, u uniform: when a cut-off falls
// inside the mass of one size (common: learned sizes are whole segments), that size is split between the
// two servers in the exact proportion that keeps the loads equal. The server whose share holds p takes it.
// Shares are taken over the candidates at each select, so a down server's interval is spread over its
// neighbours without a rebuild. O(log sizes + servers) per select.
import type { HttpRequest } from "../http/request.js";
import type { ConnectionResult, Policy, PolicyContext, PolicyEntry, ServerView } from "./policy.js";
import { acceptingInPoolOrder, leastConnections, LruMap, requestPath } from "./content-aware-common.js";
import { paramError } from "./params.js";

const NAME = "sita-e";

export interface SitaEParams {
  sizes: Record<string, number>;
  mss: number;
  unknownSize: number;
  recomputeEvery: number;
  decay: number;
  maxUrls: number;
}

export interface SitaInfo {
  urlHash: number;
  path: string;
}

/** The load CDF of a size histogram: distinct sizes ascending with the load of all smaller sizes. */
interface LoadCdf {
  sizes: Float64Array;
  /** below[i] = load of sizes[0..i-1]; below[n] = total. */
  below: Float64Array;
}

export interface SitaEPolicy extends Policy<SitaInfo> {
  /** The size a request of `path` with URL hash `urlHash` is taken to have. */
  sizeOf(info: SitaInfo): number;
  /**
   * The cut-offs for `servers` (default: the pool's accepting servers) in pool order: interval k holds sizes
   * (cutoffs[k-1], cutoffs[k]], the last one unbounded; a size equal to a cut-off may be split.
   */
  cutoffs(servers?: readonly ServerView[]): number[];
  /** Completions counted into the CDF so far, and rebuilds done. */
  stats(): { completions: number; rebuilds: number; distinctSizes: number };
}

function buildCdf(hist: Map<number, number>): LoadCdf | null {
  const sizes = [...hist.keys()].filter((s) => hist.get(s)! > 0).sort((a, b) => a - b);
  const below = new Float64Array(sizes.length + 1);
  for (let i = 0; i < sizes.length; i++) below[i + 1] = below[i] + sizes[i] * hist.get(sizes[i])!;
  return below[sizes.length] > 0 ? { sizes: Float64Array.from(sizes), below } : null;
}

/** First index i with sizes[i] >= size. */
function lowerBound(sizes: Float64Array, size: number): number {
  let lo = 0;
  let hi = sizes.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sizes[mid] < size) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export function sitaE(params: Partial<SitaEParams> = {}): SitaEPolicy {
  const configured = new Map<string, number>();
  for (const [path, bytes] of Object.entries(params.sizes ?? {})) {
    if (!path.startsWith("/")) throw paramError(NAME, `sizes['${path}']`, "expected a path starting with '/'");
    if (typeof bytes !== "number" || !Number.isFinite(bytes) || bytes < 0) throw paramError(NAME, `sizes['${path}']`, `expected a size in bytes >= 0, got ${JSON.stringify(bytes)}`);
    configured.set(path, bytes);
  }
  const mss = params.mss ?? 1460;
  const unknownSize = params.unknownSize ?? 0;
  const recomputeEvery = params.recomputeEvery ?? 1000;
  const decay = params.decay ?? 0.5;
  const learned = new LruMap<number, { mean: number; n: number }>(params.maxUrls ?? 100_000);

  let histogram = new Map<number, number>(); // completions since the last rebuild (plus the decayed past)
  const prior = new Map<number, number>();
  for (const size of configured.values()) prior.set(size, (prior.get(size) ?? 0) + 1);
  let cdf: LoadCdf | null = buildCdf(prior);
  let sinceRebuild = 0;
  let completions = 0;
  let rebuilds = 0;
  let ctx: PolicyContext | undefined;

  const sizeOf = (info: SitaInfo) => configured.get(info.path) ?? learned.peek(info.urlHash)?.mean ?? unknownSize;
  const accepting = (servers: readonly ServerView[]) => acceptingInPoolOrder(servers.filter((s) => s.up));

  /** Position of `size` in the load CDF: the load fraction below it and the fraction it holds itself. */
  const position = (size: number): [number, number] => {
    if (!cdf) return [0, 0];
    const total = cdf.below[cdf.sizes.length];
    const i = lowerBound(cdf.sizes, size);
    const own = i < cdf.sizes.length && cdf.sizes[i] === size ? cdf.below[i + 1] - cdf.below[i] : 0;
    return [cdf.below[i] / total, own / total];
  };

  /** The load-fraction boundaries of `servers` (ascending, last = 1), from their weights. */
  const boundaries = (servers: readonly ServerView[]): number[] => {
    const total = servers.reduce((a, s) => a + s.weight, 0);
    let acc = 0;
    return servers.map((s, k) => (k === servers.length - 1 ? 1 : (acc += s.weight) / total));
  };

  const rebuild = () => {
    const next = buildCdf(histogram);
    if (next) cdf = next;
    rebuilds++;
    const kept = new Map<number, number>();
    if (decay > 0) for (const [s, n] of histogram) if (n * decay >= 1e-6) kept.set(s, n * decay);
    histogram = kept;
    sinceRebuild = 0;
  };

  return {
    name: NAME,
    init(c: PolicyContext) {
      ctx = c;
    },
    parse: (req: HttpRequest) => ({ urlHash: req.urlHash >>> 0, path: requestPath(req.url) }),
    select(info: SitaInfo, candidates: readonly ServerView[], c: PolicyContext): ServerView | null {
      ctx ??= c;
      if (!cdf) return leastConnections(candidates);
      const servers = acceptingInPoolOrder(candidates);
      if (servers.length === 0) return null;
      const [lo, own] = position(sizeOf(info));
      const bounds = boundaries(servers);
      // Only a size whose mass straddles a boundary needs the random draw.
      const k0 = bounds.findIndex((b) => lo < b);
      const p = own > 0 && lo + own > bounds[k0] ? lo + c.random() * own : lo;
      const k = bounds.findIndex((b) => p < b);
      return servers[k < 0 ? servers.length - 1 : k];
    },
    done(server: ServerView, req: HttpRequest, result: ConnectionResult) {
      const info = { urlHash: req.urlHash >>> 0, path: requestPath(req.url) };
      const known = configured.get(info.path);
      const estimate = result.responsePackets * mss;
      if (known === undefined) {
        const e = learned.get(info.urlHash);
        if (e) {
          e.n++;
          e.mean += (estimate - e.mean) / e.n;
        } else learned.set(info.urlHash, { mean: estimate, n: 1 });
      }
      // The histogram samples job sizes: each completion at its observed size (the configured one when given).
      const size = known ?? estimate;
      histogram.set(size, (histogram.get(size) ?? 0) + 1);
      completions++;
      if (++sinceRebuild >= recomputeEvery) rebuild();
    },
    sizeOf,
    cutoffs(servers?: readonly ServerView[]) {
      const list = accepting(servers ?? ctx?.servers ?? []);
      if (!cdf || list.length === 0) return [];
      const total = cdf.below[cdf.sizes.length];
      // The size whose load mass holds each boundary.
      return boundaries(list).slice(0, -1).map((b) => {
        let i = 0;
        while (i < cdf!.sizes.length - 1 && cdf!.below[i + 1] / total < b) i++;
        return cdf!.sizes[i];
      });
    },
    stats: () => ({ completions, rebuilds, distinctSizes: cdf?.sizes.length ?? 0 }),
  };
}

export const sitaEEntry: PolicyEntry = {
  name: NAME, family: "content-aware",
  description: "size intervals with equal load: cut-offs from the (configured or learned) size distribution, small files to the first servers",
  params: [
    { name: "sizes", type: "object", default: {}, doc: "known response sizes: {path: bytes}; other URLs are learned from the done hook" },
    { name: "mss", type: "integer", default: 1460, min: 1, doc: "bytes per server segment when estimating a response size from the splice's packet count" },
    { name: "unknownSize", type: "number", default: 0, min: 0, doc: "size assumed for a URL never seen (0: the smallest interval)" },
    { name: "recomputeEvery", type: "integer", default: 1000, min: 1, doc: "completions between rebuilds of the size distribution and its cut-offs" },
    { name: "decay", type: "number", default: 0.5, min: 0, max: 1, doc: "weight of the previous histogram at a rebuild (0: the last window only)" },
    { name: "maxUrls", type: "integer", default: 100_000, min: 1, doc: "learned URL sizes kept; the least recently completed is forgotten beyond this" },
  ],
  create: (p) => sitaE(p as any),
};
