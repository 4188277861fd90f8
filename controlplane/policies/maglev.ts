// Policy "maglev": Maglev consistent hashing (Eisenbud et al., Maglev: A Fast and Reliable Software Network
// Load Balancer, NSDI 2016, 3.4): a lookup table of prime size M, each server filling it along its own
// permutation (offset = h1(name) mod M, skip = h2(name) mod (M-1) + 1), in turns proportional to its
// weight (Envoy's weighted population). Key: the client address or the URL's hash. The table covers the
// configured pool; a server that is down, quiesced or failed for this request hands each of its slots to
// the next slot's owner, so only its own keys move and they come back with it.
import { hashName, mix32, openSet, poolSignature, tableMembers, type TableMember } from "./hashing.js";
import type { HttpRequest } from "../http/request.js";
import type { Policy, PolicyContext, PolicyEntry, ServerView } from "./policy.js";
import { oneOfParam, paramError } from "./params.js";

export interface MaglevParams {
  /** Lookup table size M, a prime well above the number of servers (the paper: 65537). */
  tableSize: number;
  /** "source": the client's IP address (affinity); "url": the URL's CRC-32 (cache locality). */
  key: "source" | "url";
}

export function isPrime(n: number): boolean {
  if (!Number.isInteger(n) || n < 2) return false;
  for (let d = 2; d * d <= n; d++) if (n % d === 0) return false;
  return true;
}

/** The Maglev lookup table: slot -> server index (every slot filled when there is a member). O(M log M). */
export function maglevTable(members: readonly TableMember[], size: number): Int32Array {
  const table = new Int32Array(size).fill(-1);
  const fillers = members.filter((s) => s.configuredWeight > 0).map((s) => ({
    index: s.index,
    weight: s.configuredWeight,
    offset: hashName(s.name, 0) % size,
    skip: (hashName(s.name, 0x9e3779b9) % (size - 1)) + 1,
    next: 0,
    due: 0,
  }));
  if (fillers.length === 0) return table;
  const maxWeight = Math.max(...fillers.map((f) => f.weight));
  let filled = 0;
  // A server of the highest weight takes a slot every round; one of a third of it, every third round.
  for (let round = 1; filled < size; round++) {
    for (const f of fillers) {
      if (filled === size) break;
      if (round * f.weight < f.due) continue;
      f.due += maxWeight;
      let slot = (f.offset + f.next * f.skip) % size;
      while (table[slot] >= 0) slot = (f.offset + ++f.next * f.skip) % size;
      table[slot] = f.index;
      f.next++;
      filled++;
    }
  }
  return table;
}

export function maglev(params: MaglevParams): Policy<HttpRequest> {
  const size = params.tableSize;
  let table: Int32Array = new Int32Array(0);
  let signature: string | null = null;
  const seen = new Map<number, number>();

  const refresh = (ctx: PolicyContext) => {
    const members = tableMembers(ctx, seen);
    const sig = poolSignature(members);
    if (sig === signature) return;
    table = maglevTable(members, size);
    signature = sig;
  };

  return {
    name: "maglev",
    init: refresh,
    select(req, candidates, ctx): ServerView | null {
      refresh(ctx);
      const open = openSet(candidates);
      if (open.size === 0) return null;
      const key = params.key === "url" ? req.urlHash : req.clientIp ?? 0;
      const home = mix32(key) % size;
      for (let i = 0; i < size; i++) {
        const s = open.get(table[(home + i) % size]);
        if (s) return s;
      }
      return null; // open servers own no slot (more servers than slots)
    },
  };
}

export const maglevEntry: PolicyEntry = {
  name: "maglev", family: "content-blind", description: "Maglev consistent hashing of the client IP or the URL (Eisenbud et al., NSDI 2016)",
  params: [
    { name: "tableSize", type: "integer", default: 65537, min: 3, max: 16_777_259, doc: "lookup table size, a prime well above the number of servers" },
    { name: "key", type: "string", default: "source", doc: `what is hashed: "source" (client IP, affinity) or "url" (URL hash, cache locality)` },
  ],
  create: (p) => {
    const key = oneOfParam("maglev", p, "key", ["source", "url"] as const);
    if (!isPrime(p.tableSize as number)) throw paramError("maglev", "tableSize", `${p.tableSize} is not a prime (e.g. 65537, 655373)`);
    return maglev({ tableSize: p.tableSize as number, key });
  },
};
