// Hashes for the affinity policies (source-hash, maglev): a table owner by key, rebuilt only when the
// configured pool changes, and a lookup that steps past owners that cannot take the connection now.
import type { PolicyContext, ServerView } from "./policy.js";

/** MurmurHash3's 32-bit finalizer over keys that are CRCs or addresses (abi/hash.ts). */
import { fmix32 as mix32 } from "../../abi/hash.js";

export { mix32 };

/** FNV-1a over the UTF-16 code units of `s` from basis `seed`, then mixed. */
export function hashName(s: string, seed: number): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return mix32(h);
}

/** A server as a table holds it: `configuredWeight` is the weight it holds slots by. */
export type TableMember = Pick<ServerView, "index" | "name" | "configuredWeight">;

/**
 * Servers a table is built over: the configured pool, down and quiesced ones included, so that their keys
 * fall through to the next owner (openSet) without a rebuild and come back with them. The pool quiesces a
 * server (drain, or the start of a removal) by setting its configured weight to 0 while it stays up: such a
 * server keeps its slots at the last configured weight `seen` recorded for it. A server down with
 * configured weight 0 (removed: a tombstone) or never seen with a weight holds none.
 */
export function tableMembers(ctx: PolicyContext, seen: Map<number, number>): TableMember[] {
  const members: TableMember[] = [];
  for (const s of ctx.servers) {
    if (s.configuredWeight > 0) {
      seen.set(s.index, s.configuredWeight);
      members.push(s);
      continue;
    }
    const kept = s.up ? seen.get(s.index) : undefined;
    if (kept !== undefined) members.push({ index: s.index, name: s.name, configuredWeight: kept });
  }
  return members;
}

/** What the table was built from; a different string means rebuild. */
export function poolSignature(members: readonly TableMember[]): string {
  return members.map((s) => `${s.index}:${s.name}:${s.configuredWeight}`).join(",");
}

/** Servers that may take this connection, by index: offered (up, not tried) and not quiesced. */
export function openSet(candidates: readonly ServerView[]): Map<number, ServerView> {
  const open = new Map<number, ServerView>();
  for (const s of candidates) if (s.weight > 0) open.set(s.index, s);
  return open;
}
