// Connection counting for the content-blind policies (LVS ip_vs_lc/wlc/sed/nq semantics): a server's
// count is its spliced connections plus the ones this policy dispatched that are not spliced yet, because
// the pool's activeConnections moves only at install, a connect RTT or more after select (LVS counts a
// connection at bind time, before the SYN leaves). Without that, a burst of requests all went to one server.
import type { Policy, PolicyContext, ServerView } from "./policy.js";

/** A dispatch with no post() after this long is forgotten (the CP's default connect gives up after 1 + 2 + 4 s). */
export const IN_FLIGHT_EXPIRY_PS = 10e12;

/** Servers that may take new connections: LVS skips weight 0 (quiesced, draining) in every scheduler. */
export function usable(s: ServerView): boolean {
  return s.weight > 0;
}

/** The first of `servers` that no later one beats (`better(a, b)`: a strictly preferred); null for none. O(n). */
export function best<S>(servers: readonly S[], better: (a: S, b: S) => boolean): S | null {
  let pick: S | null = null;
  for (const s of servers) if (pick === null || better(s, pick)) pick = s;
  return pick;
}

/** Dispatches without an outcome yet, per server, oldest first. */
export class InFlight {
  private readonly picks = new Map<number, number[]>();

  add(s: ServerView, now: number): void {
    const q = this.picks.get(s.index);
    if (q) q.push(now);
    else this.picks.set(s.index, [now]);
  }

  /** post() for `s`: spliced (now in activeConnections) or failed; either way no longer in flight. */
  settle(s: ServerView): void {
    this.picks.get(s.index)?.shift();
  }

  count(s: ServerView, now: number): number {
    const q = this.picks.get(s.index);
    if (!q) return 0;
    while (q.length > 0 && now - q[0] >= IN_FLIGHT_EXPIRY_PS) q.shift();
    return q.length;
  }

  /** Connections to count for `s`: spliced plus in flight. */
  connections(s: ServerView, now: number): number {
    return s.activeConnections + this.count(s, now);
  }
}

/** How a counting policy chooses: `conns(s)` is spliced plus in flight. */
export type CountingChoice<Info> = (info: Info, candidates: readonly ServerView[], conns: (s: ServerView) => number, ctx: PolicyContext) => ServerView | null;

/** A policy whose choice depends on connection counts: it counts its own dispatches until post() settles them. */
export function countingPolicy<Info = unknown>(name: string, choose: CountingChoice<Info>): Policy<Info> {
  const inFlight = new InFlight();
  return {
    name,
    select(info, candidates, ctx) {
      const now = ctx.now();
      const pick = choose(info, candidates, (s) => inFlight.connections(s, now), ctx);
      if (pick) inFlight.add(pick, now);
      return pick;
    },
    post(server) {
      inFlight.settle(server);
    },
  };
}
