// Pieces the content-aware policies share: weighted least connections (LVS wlc) as their fallback, the
// request path, a 32-bit target key and a bounded LRU map for per-URL state (parameter helpers: params.ts).
import type { HttpRequest } from "../http/request.js";
import type { ServerView } from "./policy.js";

import { fmix32 } from "../../abi/hash.js";

export { fmix32 };

/** The accepting servers (weight > 0: a quiesced server takes no new work) in pool order; O(n) when already in order, as the CP passes them. */
export function acceptingInPoolOrder(servers: readonly ServerView[]): ServerView[] {
  const out = servers.filter((s) => s.weight > 0);
  for (let i = 1; i < out.length; i++) if (out[i - 1].index > out[i].index) return out.sort((a, b) => a.index - b.index);
  return out;
}

/**
 * LVS wlc: the accepting candidate with the fewest connections per unit of weight
 * (a.conns * b.weight < b.conns * a.weight, no division), ties to the lower index; null when none accepts.
 * `conns` defaults to the spliced connections; a policy that dispatches bursts passes spliced plus its own
 * dispatches in flight (connection-count.ts InFlight), or a burst read in one CP batch all goes to one server.
 */
export function leastConnections(candidates: readonly ServerView[], conns: (s: ServerView) => number = (s) => s.activeConnections): ServerView | null {
  let best: ServerView | null = null;
  let bestConns = 0;
  for (const s of candidates) {
    if (s.weight <= 0) continue;
    const n = conns(s);
    if (!best) { best = s; bestConns = n; continue; }
    const a = n * best.weight;
    const b = bestConns * s.weight;
    if (a < b || (a === b && s.index < best.index)) { best = s; bestConns = n; }
  }
  return best;
}

/** Unweighted least loaded (LARD's "least loaded node": load = active connections), ties to the lower index. */
export function leastLoaded(servers: readonly ServerView[]): ServerView | null {
  let best: ServerView | null = null;
  for (const s of servers) {
    if (s.weight <= 0) continue;
    if (!best || s.activeConnections < best.activeConnections || (s.activeConnections === best.activeConnections && s.index < best.index)) best = s;
  }
  return best;
}

/** The path of a request target without query or fragment; an absolute-form target loses scheme and authority. */
export function requestPath(url: string): string {
  let path = url;
  const scheme = /^[a-zA-Z][a-zA-Z0-9+.-]*:\/\/[^/?#]*/.exec(path);
  if (scheme) path = path.slice(scheme[0].length) || "/";
  const cut = path.search(/[?#]/);
  return cut < 0 ? path : path.slice(0, cut);
}

/** The key a per-URL policy files a request under: the DP's URL hash, mixed with its Host hash when asked. */
export function targetKey(req: HttpRequest, includeHost: boolean): number {
  return includeHost ? fmix32((req.urlHash ^ Math.imul(req.hostHash, 0x9e3779b1)) >>> 0) : req.urlHash >>> 0;
}

/** A Map that keeps at most `limit` keys, forgetting the least recently used (get and set both count as use). */
export class LruMap<K, V> {
  private readonly map = new Map<K, V>();
  constructor(readonly limit: number) {}

  get size(): number {
    return this.map.size;
  }

  get(key: K): V | undefined {
    const v = this.map.get(key);
    if (v !== undefined) {
      this.map.delete(key);
      this.map.set(key, v);
    }
    return v;
  }

  /** Read without counting as use. */
  peek(key: K): V | undefined {
    return this.map.get(key);
  }

  set(key: K, value: V): void {
    this.map.delete(key);
    this.map.set(key, value);
    if (this.map.size > this.limit) this.map.delete(this.map.keys().next().value as K);
  }

  delete(key: K): void {
    this.map.delete(key);
  }

  /** Oldest first. */
  entries(): IterableIterator<[K, V]> {
    return this.map.entries();
  }
}
