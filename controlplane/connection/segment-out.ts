// Segments the control plane sends: addressed to a client (from VIP:service), to a server (from
// LOCAL_IP:local port) or back to a segment's sender; our IP ID counter and timestamp clock.
import type { CpEnv } from "../env.js";
import type { ResolvedConfig } from "../config.js";
import { buildSegment, dataOptions, type OutSegment } from "../tcp/segment.js";
import { seqAdd, seqGe } from "../../packet/seq.js";
import { PS_PER_MS } from "../../lib/time.js";
import type { ClientEnd, Connection, ServerLeg } from "./record.js";

/** The addressing part of a segment: MACs, addresses and ports. */
export type Addressing = Pick<OutSegment, "srcMac" | "dstMac" | "saddr" | "daddr" | "sport" | "dport">;
/** A segment without its addressing and IP ID (SegmentOut fills those in). */
export type SegmentBody = Omit<OutSegment, keyof Addressing | "ipId">;

export class SegmentOut {
  private ipId = 0;

  /** `tsBase`: offset of our timestamp clock (1 ms ticks), from the secret: not guessable, but deterministic. */
  constructor(private readonly env: CpEnv, private readonly cfg: ResolvedConfig, private readonly tsBase: number) {}

  /** Our timestamp clock: 1 ms ticks (RFC 7323 5.4 allows 1 ms to 1 s) from a secret-derived origin. */
  tsClock(): number {
    return (Math.floor(this.env.now() / PS_PER_MS) + this.tsBase) >>> 0;
  }

  nextIpId(): number {
    this.ipId = (this.ipId + 1) & 0xffff;
    return this.ipId;
  }

  /** From VIP:service to the client, through our switch port towards it. */
  toClientAddressing(c: ClientEnd): Addressing {
    return { srcMac: this.cfg.portMacs[c.switchPort], dstMac: c.mac, saddr: this.cfg.vip, daddr: c.ip, sport: c.service, dport: c.port };
  }

  /** From LOCAL_IP:local port to the leg's server. */
  toServerAddressing(leg: ServerLeg): Addressing {
    const s = leg.server;
    return { srcMac: this.cfg.portMacs[s.port], dstMac: s.macBytes, saddr: this.cfg.localIp, daddr: s.ipU32, sport: leg.localPort, dport: s.tcpPort };
  }

  /** Back to the sender of `seg`, which arrived on switch port `inPort`, from the address and port it was sent to. */
  replyAddressing(inPort: number, seg: Addressing): Addressing {
    return { srcMac: this.cfg.portMacs[inPort], dstMac: seg.srcMac, saddr: seg.daddr, daddr: seg.saddr, sport: seg.dport, dport: seg.sport };
  }

  /** Build and transmit one segment on `port` (charged as tx_frame). */
  send(port: number, to: Addressing, body: SegmentBody): void {
    this.env.charge("tx_frame");
    this.env.send(port, buildSegment({ ...to, ...body, ipId: this.nextIpId() }));
  }

  /** Frames already built (a replay), in order, on `port`. */
  transmit(port: number, frames: Uint8Array[]): void {
    for (const f of frames) {
      this.env.charge("tx_frame");
      this.env.send(port, f);
    }
  }

  /** The leg's server: a segment from LOCAL_IP. */
  toServer(leg: ServerLeg, body: SegmentBody): void {
    this.send(leg.server.port, this.toServerAddressing(leg), body);
  }

  /** A segment to the client from VIP:service at our next sequence number, acknowledging what we hold. */
  toClient(conn: Connection, flags: string, payload?: Uint8Array, ack?: number, seq?: number): void {
    let ts: { val: number; ecr: number } | undefined;
    if (conn.ts) {
      const now = this.tsClock();
      conn.lastTsToClient = seqGe(now, conn.lastTsToClient) ? now : conn.lastTsToClient;
      ts = { val: conn.lastTsToClient, ecr: conn.tsRecent };
    }
    const c = conn.client;
    this.send(c.switchPort, this.toClientAddressing(c), {
      seq: seq ?? conn.sndNxt, ack: ack ?? seqAdd(conn.rx.next, conn.clientFin ? 1 : 0), flags,
      win: conn.rx.window >> (conn.clientWscale !== null ? this.cfg.tcp.wscale : 0), options: dataOptions(ts), payload,
    });
  }
}
