// A server went down (missed alive signals, a failed connect, or the operator): connections still connecting
// fail over, spliced ones that had no response byte are dispatched again (the request is replayed to another
// server), the others are reset with an ACK probe (RFC 9293 3.10.7.4, RFC 5961 3.2).
import { seqAdd } from "../../packet/seq.js";
import { PS_PER_MS } from "../../lib/time.js";
import { has, type ParsedSegment } from "../tcp/segment.js";
import type { CpContext } from "./context.js";
import { IDEMPOTENT, type Connection } from "./record.js";

/** What this path asks of the rest of the control plane (controlplane/cp.ts). */
export interface ServerDownOps {
  failOver(conn: Connection, reason: "no_answer" | "reset", serverFailed: boolean): void;
  unsplice(conn: Connection): void;
  releaseLeg(conn: Connection): void;
  forget(conn: Connection): void;
  dispatch(conn: Connection): void;
}

export class ServerDownPath {
  constructor(private readonly core: CpContext, private readonly ops: ServerDownOps) {}

  /**
   * Every connection with a leg to the server: one still connecting fails over at once (no waiting for
   * SYN retries); a spliced one is dispatched again when nothing was answered yet (dispatchAgain), else
   * reset. Connections already closing are left to finish.
   */
  onServerDown(index: number): void {
    for (const conn of [...this.core.conns.byClient.values()]) {
      if (conn.leg?.server.index !== index) continue;
      if (conn.phase === "connecting") this.ops.failOver(conn, "no_answer", false);
      else if (conn.phase === "spliced") this.dispatchAgain(conn);
    }
  }

  /**
   * A spliced connection whose server went down. It can go to another server exactly when the client
   * has seen nothing of this server and the CP holds everything the client sent:
   *   - the server -> client entry's PACKETS is 0 (the data plane counts only segments with payload) and it
   *     carried no FIN or RST: not one response byte reached the client, so the client's sequence space
   *     for the server's bytes is still at our cookie ISN + 1;
   *   - the client -> server entry's PACKETS is 0: every byte the client sent is in our receive buffer
   *     (a client FIN through the splice is at rx.next, and is replayed too);
   *   - the method is idempotent (RFC 9110 9.2.2), or pool.redispatchNonIdempotent says to retry anyway.
   * Then: remove both entries, pick another server with the policy, connect, and on its SYN-ACK install a
   * new splice (new server-side deltas; the client-side ones are unchanged) and replay the buffered bytes.
   * Otherwise the client is reset (resetClient). A client that reset already is simply forgotten.
   */
  private dispatchAgain(conn: Connection): void {
    const { env, pool, counters } = this.core;
    const leg = conn.leg!;
    const fwd = env.tables.read(conn.fwd!);
    const rev = env.tables.read(conn.rev!);
    if (!fwd || !rev) return this.ops.forget(conn); // someone else removed the entries
    const unsafeMethod = !IDEMPOTENT.has(conn.request!.method) && !pool.options.redispatchNonIdempotent;
    const replayable = rev.packets === 0 && !rev.finSeen && !rev.rstSeen && fwd.packets === 0 && !conn.requestReleased;
    if (fwd.rstSeen) {
      this.ops.unsplice(conn);
      return this.ops.forget(conn);
    }
    if (!replayable || unsafeMethod) {
      if (replayable) counters.crashResetsUnsafeMethod++;
      return this.resetClient(conn);
    }
    this.advanceTsClock(conn);
    this.ops.unsplice(conn);
    this.ops.releaseLeg(conn);
    if (fwd.finSeen) conn.clientFin = true;
    conn.finFwd = false;
    conn.finRev = false;
    conn.reset = false;
    conn.tried.add(leg.server.index);
    conn.phase = "connecting";
    counters.redispatched++;
    this.ops.dispatch(conn);
  }

  /**
   * The client may have seen the old server's TSvals (on its pure ACKs) run ahead of what we last sent:
   * at most one tick per ms since the splice (RFC 7323 5.4), so move our clock past that (PAWS).
   */
  private advanceTsClock(conn: Connection): void {
    const elapsedMs = Math.ceil((this.core.env.now() - conn.splicedAtPs) / PS_PER_MS);
    conn.lastTsToClient = seqAdd(conn.lastTsToClient, elapsedMs + 1);
  }

  /**
   * The client had response bytes (or sent bytes we do not hold): its connection cannot be saved. The CP
   * does not know the client's RCV.NXT, so it sends an ACK probe with an old sequence number, which the
   * client must answer with an ACK (RFC 9293 3.10.7.4); that ACK reaches the CP (the entries are gone) and
   * gets <SEQ=SEG.ACK><CTL=RST>, which the client accepts (an exact match, RFC 5961 3.2). Probes are
   * repeated on the replay schedule; after the last the state is dropped.
   */
  private resetClient(conn: Connection): void {
    this.core.counters.crashResets++;
    this.advanceTsClock(conn);
    this.ops.unsplice(conn);
    conn.phase = "resetting";
    conn.lingerTimer?.cancel();
    conn.lingerTimer = undefined;
    conn.probe = { tries: 0 };
    this.sendProbe(conn);
  }

  private sendProbe(conn: Connection): void {
    const { env, cfg, out } = this.core;
    const probe = conn.probe!;
    out.toClient(conn, "A", undefined, undefined, conn.isnToClient);
    probe.timer = env.setTimer(cfg.tcp.replayRtoPs * 2 ** probe.tries, () => {
      env.charge("timer");
      probe.timer = undefined;
      if (conn.phase !== "resetting") return;
      if (probe.tries >= cfg.tcp.maxReplayRetries) return this.ops.forget(conn);
      probe.tries++;
      this.sendProbe(conn);
    });
  }

  /** A client segment on a connection being reset: its ACK gets <SEQ=SEG.ACK><CTL=RST>; an RST ends it. */
  onResettingSegment(conn: Connection, seg: ParsedSegment): void {
    if (has(seg, "R")) return this.ops.forget(conn);
    if (!has(seg, "A")) return;
    this.core.out.send(conn.client.switchPort, this.core.out.toClientAddressing(conn.client), { seq: seg.ack, flags: "R", win: 0 });
    this.ops.forget(conn);
  }
}
