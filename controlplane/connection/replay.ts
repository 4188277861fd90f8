// Replaying the client's buffered request to the chosen server once its SYN-ACK arrived, retransmitting it
// on a bounded schedule while the CP cannot see the server's ACKs, and letting it go at the first response byte.
import { buildSegment, dataOptions, type ParsedSegment } from "../tcp/segment.js";
import { DEFAULT_MSS } from "../tcp/syn-cookie.js";
import { ReceiveBuffer } from "../tcp/receive-buffer.js";
import { seqAdd } from "../../packet/seq.js";
import type { CpContext } from "./context.js";
import type { Connection, ServerLeg } from "./record.js";

/** Bytes of the timestamp option on a data segment (NOP NOP TS): taken off the MSS (RFC 6691). */
const TS_OPTION_BYTES = 12;

export class RequestReplay {
  constructor(private readonly core: CpContext) {}

  /**
   * Send the client's bytes to the server: the first segment acknowledges the SYN-ACK. A client FIN
   * already received goes on the last segment. The segments are kept for retransmission (onTimer).
   */
  start(conn: Connection, leg: ServerLeg, synAck: ParsedSegment, serverTs: number | null, serverReads: number): void {
    const { cfg, out } = this.core;
    const bytes = conn.rx.bytes();
    const mss = Math.min(synAck.mss ?? DEFAULT_MSS, conn.mss, cfg.tcp.mss) - (serverTs !== null ? TS_OPTION_BYTES : 0);
    const win = Math.min(65535, Math.floor((conn.clientWin * 2 ** (conn.clientWscale ?? 0)) / 2 ** serverReads));
    const options = dataOptions(serverTs !== null ? { val: conn.tsRecent, ecr: serverTs } : undefined);
    const to = out.toServerAddressing(leg);
    const segments: Uint8Array[] = [];
    for (let off = 0; off < bytes.length || (off === 0 && bytes.length === 0); off += mss) {
      const last = off + mss >= bytes.length;
      segments.push(buildSegment({
        ...to, seq: seqAdd(leg.isn, 1 + off), ack: seqAdd(synAck.seq, 1), flags: last ? (conn.clientFin ? "FPA" : "PA") : "A", win, options,
        payload: bytes.subarray(off, Math.min(bytes.length, off + mss)), ipId: out.nextIpId(),
      }));
    }
    if (conn.clientFin) conn.finFwd = true; // the client's FIN reaches the server through us, not the splice
    conn.replay = { segments, port: leg.server.port, tries: 0 };
    out.transmit(conn.replay.port, conn.replay.segments);
    this.schedule(conn);
  }

  private schedule(conn: Connection): void {
    const replay = conn.replay!;
    const { cfg, env } = this.core;
    if (replay.tries >= cfg.tcp.maxReplayRetries) return;
    replay.timer = env.setTimer(cfg.tcp.replayRtoPs * 2 ** replay.tries, () => this.onTimer(conn));
  }

  /**
   * The server's ACKs of the replay are spliced to the client, so the CP cannot see them. It retransmits on
   * a bounded schedule until the client has sent anything through the splice (it only does once the
   * server's answer reached it, which implies the server has the request). Duplicates are harmless: the
   * server discards bytes it already acknowledged.
   */
  private onTimer(conn: Connection): void {
    const { env, counters, out } = this.core;
    env.charge("timer");
    const replay = conn.replay;
    if (!replay || conn.fwd === undefined || (conn.phase !== "spliced" && conn.phase !== "closing")) return;
    replay.timer = undefined;
    const fwd = env.tables.read(conn.fwd);
    noteAnswer(conn, env.tables.read(conn.rev!));
    if (!fwd || fwd.packets > 0 || fwd.lastSeen !== 0 || fwd.finSeen || fwd.rstSeen) return; // any client segment through the splice
    replay.tries++;
    counters.replayRetransmits += replay.segments.length;
    out.transmit(replay.port, replay.segments);
    this.schedule(conn);
  }
}

/** A response byte went to the client (`rev`: the server -> client entry): the request can no longer be replayed elsewhere, so let it go. */
export function noteAnswer(conn: Connection, rev: { packets: number } | null): void {
  if (!rev || rev.packets === 0 || conn.requestReleased) return;
  conn.requestReleased = true;
  conn.rx = new ReceiveBuffer(conn.rx.next, 0); // keeps `next`, drops the bytes
  if (conn.replay) conn.replay.segments = [];
}
