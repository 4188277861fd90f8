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

/** Servers a table is built over: the configured pool with a configured weight (down or quiesced ones keep their slots). */
export function tableMembers(ctx: PolicyContext): ServerView[] {
  return ctx.servers.filter((s) => s.configuredWeight > 0);
}

/** What the table was built from; a different string means rebuild. */
export function poolSignature(members: readonly ServerView[]): string {
  return members.map((s) => `${s.index}:${s.name}:${s.configuredWeight}`).join(",");
}

/** Servers that may take this connection, by index: offered (up, not tried) and not quiesced. */
export function openSet(candidates: readonly ServerView[]): Map<number, ServerView> {
  const open = new Map<number, ServerView>();
  for (const s of candidates) if (s.weight > 0) open.set(s.index, s);
  return open;
}
