// The server's file cache model: LRU over whole files with a capacity in bytes. A hit costs
// `hitPs`, a miss `missPs` (the disk), each plus `perKbPs` per KiB served.
import type { Picos } from "../../lib/time.js";

export interface CacheOptions {
  capacityBytes: number;
  hitPs: Picos;
  missPs: Picos;
  perKbPs: Picos;
}

export class LruCache {
  /** Insertion order of a Map is the recency order: the first key is the least recently used. */
  private readonly entries = new Map<string, number>();
  private used = 0;
  hits = 0;
  misses = 0;

  constructor(readonly capacityBytes: number) {}

  get bytesUsed(): number {
    return this.used;
  }

  get files(): number {
    return this.entries.size;
  }

  /** Look `path` (of `size` bytes) up; on a miss, admit it (evicting the least recently used) if it fits. */
  access(path: string, size: number): boolean {
    const held = this.entries.get(path);
    if (held !== undefined) {
      this.entries.delete(path);
      this.entries.set(path, held);
      this.hits++;
      return true;
    }
    this.misses++;
    if (size > this.capacityBytes) return false;
    for (const [old, oldSize] of this.entries) {
      if (this.used + size <= this.capacityBytes) break;
      this.entries.delete(old);
      this.used -= oldSize;
    }
    this.entries.set(path, size);
    this.used += size;
    return false;
  }

  get hitRate(): number {
    const n = this.hits + this.misses;
    return n ? this.hits / n : 0;
  }
}

/** Service time of one response. */
export function serviceTimePs(o: CacheOptions, hit: boolean, bytes: number): Picos {
  return (hit ? o.hitPs : o.missPs) + Math.round((o.perKbPs * bytes) / 1024);
}
