// Policy "url-hash": cache affinity, the file space partitioned over the servers by the DP's 32-bit URL hash
// (Cardellini et al., "The State of the Art in Locally Distributed Web-server Systems", content-aware
// cache affinity), made consistent with weighted rendezvous hashing (Thaler & Ravishankar, "Using
// name-based mappings to increase hit rates", IEEE/ACM ToN 1998; weights as in Schindelhauer & Schomaker).
//
// Each server scores a URL with w / -ln(h), h a uniform hash of (URL, server name) in (0, 1); the highest
// score wins. A server that leaves the candidates (down, failed for this request, quiesced) moves only its
// own URLs, spread over the others in proportion to their weights; the others keep theirs. Scores use the
// effective weight, so a slow-starting server takes its URLs over gradually.
import type { HttpRequest } from "../http/request.js";
import type { Policy, PolicyEntry, ServerView } from "./policy.js";
import { crc32 } from "../../abi/hash.js";
import { fmix32, targetKey } from "./content-aware-common.js";
import { includeHostParam } from "./params.js";

export interface UrlHashParams {
  /** Key by Host and URL (virtual hosts with the same paths spread apart) instead of the URL alone. */
  includeHost: boolean;
}

/** The rendezvous score of `server` (named hash `seed`) for URL key `key` at weight `weight`. */
export function rendezvousScore(key: number, seed: number, weight: number): number {
  let h = fmix32((key ^ seed) >>> 0);
  h = fmix32((h + Math.imul(seed, 0x9e3779b1)) >>> 0);
  const u = (h + 0.5) / 0x1_0000_0000; // in (0, 1)
  return weight / -Math.log(u);
}

export function urlHash(params: Partial<UrlHashParams> = {}): Policy<number> {
  const includeHost = params.includeHost ?? false;
  const seeds = new Map<string, number>();
  const seedOf = (s: ServerView) => {
    let v = seeds.get(s.name);
    if (v === undefined) seeds.set(s.name, (v = crc32(new TextEncoder().encode(s.name))));
    return v;
  };
  return {
    name: "url-hash",
    parse: (req: HttpRequest) => targetKey(req, includeHost),
    select(key: number, candidates: readonly ServerView[]): ServerView | null {
      let best: ServerView | null = null;
      let bestScore = -1;
      for (const s of candidates) {
        if (s.weight <= 0) continue;
        const score = rendezvousScore(key, seedOf(s), s.weight);
        if (score > bestScore || (score === bestScore && best !== null && s.index < best.index)) {
          best = s;
          bestScore = score;
        }
      }
      return best;
    },
  };
}

export const urlHashEntry: PolicyEntry = {
  name: "url-hash", family: "content-aware",
  description: "cache affinity: the URL space split over the servers by weighted rendezvous hashing of the DP's URL hash",
  params: [includeHostParam],
  create: (p) => urlHash(p as any),
};
