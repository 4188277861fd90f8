// TCP segments as the CP sees and sends them: a frame from an exception-ring message parsed into the fields
// the handshake and request collection need (RFC 9293 header, RFC 7323 / RFC 2018 options), and frames built
// (correct IPv4 and TCP checksums) for SYN-ACKs, ACKs, SYNs, replays and RSTs. Both go through the fast
// in-place codec the simulated hosts use (packet/tcp-wire.ts: no strings or option arrays per frame), which
// writes the same bytes as the packet builder for the option layouts below (Linux's).
import { TCP_FLAG, tcpFlagBits, type TcpOption } from "../../packet/builder.js";
import { allocTcpFrame, FrameVerdict, ParsedTcp, parseTcpFrame, sealTcpFrame, TcpFrameFields, tcpPayloadOffset } from "../../packet/tcp-wire.js";

export { TCP_FLAG, type TcpOption } from "../../packet/builder.js";

export interface ParsedSegment {
  srcMac: Uint8Array;
  dstMac: Uint8Array;
  /** Addresses as big-endian u32 values (10.0.0.1 = 0x0a000001). */
  saddr: number;
  daddr: number;
  sport: number;
  dport: number;
  seq: number;
  ack: number;
  /** TCP flag byte (TCP_FLAG bits). */
  flags: number;
  win: number;
  mss?: number;
  wscale?: number;
  sackPermitted: boolean;
  ts?: { val: number; ecr: number };
  payload: Uint8Array;
}

export const has = (s: { flags: number }, flag: keyof typeof TCP_FLAG): boolean => (s.flags & TCP_FLAG[flag]) !== 0;

const parsed = new ParsedTcp();

/**
 * The TCP/IPv4 segment in `frame`, or null when it is not one or is damaged (bad checksum or length,
 * malformed options, a fragment): the data plane only sends TCP, but the CP checks.
 */
export function parseSegment(frame: Uint8Array): ParsedSegment | null {
  if (parseTcpFrame(frame, parsed) !== FrameVerdict.TCP) return null;
  const p = parsed;
  const out: ParsedSegment = {
    srcMac: frame.subarray(6, 12), dstMac: frame.subarray(0, 6),
    saddr: p.srcIp, daddr: p.dstIp, sport: p.sport, dport: p.dport, seq: p.seq, ack: p.ack, flags: p.flags, win: p.win,
    sackPermitted: p.sackPermitted, payload: frame.subarray(p.payloadAt, p.payloadAt + p.payloadLen),
  };
  if (p.mss) out.mss = p.mss;
  if (p.wscale >= 0) out.wscale = p.wscale;
  if (p.hasTs) out.ts = { val: p.tsVal, ecr: p.tsEcr };
  return out;
}

/** A segment the CP sends. */
export interface OutSegment {
  srcMac: Uint8Array;
  dstMac: Uint8Array;
  saddr: number;
  daddr: number;
  sport: number;
  dport: number;
  seq: number;
  ack?: number;
  /** Letters: 'S', 'SA', 'A', 'PA', 'FPA', 'R', 'RA'. */
  flags: string;
  win: number;
  options?: TcpOption[];
  payload?: Uint8Array;
  ipId: number;
}

const fields = new TcpFrameFields();

/** The frame of `s`. Options must be in one of the layouts synOptions and dataOptions give (Linux's). */
export function buildSegment(s: OutSegment): Uint8Array {
  const f = fields;
  f.srcMac.set(s.srcMac);
  f.dstMac.set(s.dstMac);
  f.srcIp = s.saddr >>> 0;
  f.dstIp = s.daddr >>> 0;
  f.ipId = s.ipId & 0xffff;
  f.ttl = 64;
  f.sport = s.sport;
  f.dport = s.dport;
  f.seq = s.seq >>> 0;
  f.ack = (s.ack ?? 0) >>> 0;
  f.flags = tcpFlagBits(s.flags);
  f.win = Math.min(Math.max(0, s.win), 65535);
  f.mss = 0;
  f.wscale = -1;
  f.sackPermitted = false;
  f.hasTs = false;
  f.sackCount = 0;
  for (const o of s.options ?? []) {
    if (o.kind === "mss") f.mss = o.value;
    else if (o.kind === "wscale") f.wscale = o.shift;
    else if (o.kind === "sackPermitted") f.sackPermitted = true;
    else if (o.kind === "ts") { f.hasTs = true; f.tsVal = o.val >>> 0; f.tsEcr = o.ecr >>> 0; }
    else if (o.kind !== "nop") throw new Error(`buildSegment: option ${o.kind} is not one the CP sends`);
  }
  const payload = s.payload ?? EMPTY;
  const frame = allocTcpFrame(f, payload.length);
  frame.set(payload, tcpPayloadOffset(f));
  sealTcpFrame(frame);
  return frame;
}

const EMPTY = new Uint8Array(0);

/** Options of a SYN or SYN-ACK in the order Linux sends them (MSS, SACK-permitted, timestamps, window scale). */
export function synOptions(o: { mss: number; sack: boolean; ts?: { val: number; ecr: number }; wscale?: number }): TcpOption[] {
  const out: TcpOption[] = [{ kind: "mss", value: o.mss }];
  if (o.sack && o.ts) out.push({ kind: "sackPermitted" }, { kind: "ts", ...o.ts });
  else if (o.sack) out.push({ kind: "nop" }, { kind: "nop" }, { kind: "sackPermitted" });
  else if (o.ts) out.push({ kind: "nop" }, { kind: "nop" }, { kind: "ts", ...o.ts });
  if (o.wscale !== undefined) out.push({ kind: "nop" }, { kind: "wscale", shift: o.wscale });
  return out;
}

/** Options of a non-SYN segment: the timestamp option when negotiated (RFC 7323 appendix A layout). */
export function dataOptions(ts?: { val: number; ecr: number }): TcpOption[] | undefined {
  return ts ? [{ kind: "nop" }, { kind: "nop" }, { kind: "ts", val: ts.val >>> 0, ecr: ts.ecr >>> 0 }] : undefined;
}
