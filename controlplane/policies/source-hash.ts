// Policy "source-hash": client affinity by source address (LVS ip_vs_sh.c): a table of 2^tableBits
// buckets dealt to the configured servers in turn, `weight` consecutive buckets each, indexed by a
// multiplicative hash of the client IP. A client keeps its server while the pool is stable; when its
// server is down, quiesced or failed for this request, the key is rehashed with an offset (LVS's
// sh-fallback, with a full mix per offset) so only that server's clients move, spread over the rest.
import { mix32, openSet, poolSignature, tableMembers, type TableMember } from "./hashing.js";
import type { HttpRequest } from "../http/request.js";
import type { Policy, PolicyContext, PolicyEntry, ServerView } from "./policy.js";

export interface SourceHashParams {
  /** log2 of the bucket count (LVS IP_VS_SH_TAB_BITS = 8). */
  tableBits: number;
}

/** LVS's bucket fill: servers in turn, each holding `weight` consecutive buckets. */
export function sourceHashTable(members: readonly TableMember[], size: number): Int32Array {
  const table = new Int32Array(size).fill(-1);
  if (members.length === 0) return table;
  let m = 0;
  let held = 0;
  for (let b = 0; b < size; b++) {
    table[b] = members[m].index;
    if (++held >= members[m].configuredWeight) {
      m = (m + 1) % members.length;
      held = 0;
    }
  }
  return table;
}

export function sourceHash(params: SourceHashParams): Policy<HttpRequest> {
  const size = 1 << params.tableBits;
  const shift = 32 - params.tableBits;
  let table: Int32Array = new Int32Array(0);
  let signature: string | null = null;
  const seen = new Map<number, number>();
  // Offset 0: LVS's multiplicative hash. A fallback offset rehashes the address with a full mix: (ip + offset)
  // through the same multiplication only shifts the bucket by a near-constant stride (2654435761 >> shift), which
  // with the table's periodic layout sends all of one server's clients to the same one or two others.
  const bucket = (ip: number, offset: number) =>
    (offset === 0 ? Math.imul(ip >>> 0, 2654435761) : mix32((ip ^ Math.imul(offset, 0x9e3779b9)) >>> 0)) >>> shift;

  const refresh = (ctx: PolicyContext) => {
    const members = tableMembers(ctx, seen);
    const sig = poolSignature(members);
    if (sig === signature) return;
    table = sourceHashTable(members, size);
    signature = sig;
  };

  return {
    name: "source-hash",
    init: refresh,
    select(req, candidates, ctx): ServerView | null {
      refresh(ctx);
      const open = openSet(candidates);
      if (open.size === 0) return null;
      const ip = req.clientIp ?? 0;
      for (let offset = 0; offset < size; offset++) {
        const s = open.get(table[bucket(ip, offset)]);
        if (s) return s;
      }
      // Rehashing missed every bucket of the open servers (a tiny share of the table): first one in table order.
      for (let b = 0; b < size; b++) {
        const s = open.get(table[b]);
        if (s) return s;
      }
      return null; // open servers hold no bucket (more servers than buckets)
    },
  };
}

export const sourceHashEntry: PolicyEntry = {
  name: "source-hash", family: "content-blind", description: "client affinity: hash of the client IP over a weighted bucket table (LVS sh, with fallback)",
  params: [{ name: "tableBits", type: "integer", default: 8, min: 1, max: 20, doc: "log2 of the number of buckets (LVS: 8)" }],
  create: (p) => sourceHash({ tableBits: p.tableBits as number }),
};
