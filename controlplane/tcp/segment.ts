// TCP segments as the CP sees and sends them: a frame from an exception-ring message parsed into the fields
// the handshake and request collection need (RFC 9293 header, RFC 7323 / RFC 2018 options), and frames built
// with the packet builder (correct IPv4 and TCP checksums) for SYN-ACKs, ACKs, SYNs, replays and RSTs.
import { decode } from "../../sim/packet/decode.js";
import { packet, TCP_FLAG, type TcpOption } from "../../sim/packet/builder.js";
import { ip4ToU32, macBytes } from "../../sim/packet/addr.js";

export { TCP_FLAG, type TcpOption } from "../../sim/packet/builder.js";

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
  /** Checksums and lengths are right (the data plane may be configured not to check the TCP checksum). */
  intact: boolean;
}

export const has = (s: { flags: number }, flag: keyof typeof TCP_FLAG): boolean => (s.flags & TCP_FLAG[flag]) !== 0;

/** The TCP/IPv4 segment in `frame`, or null when it is not one (the data plane only sends TCP, but the CP checks). */
export function parseSegment(frame: Uint8Array): ParsedSegment | null {
  const d = decode(frame);
  if (!d.eth || !d.ipv4 || !d.tcp) return null;
  const out: ParsedSegment = {
    srcMac: macBytes(d.eth.src), dstMac: macBytes(d.eth.dst),
    saddr: ip4ToU32(d.ipv4.src), daddr: ip4ToU32(d.ipv4.dst),
    sport: d.tcp.sport, dport: d.tcp.dport, seq: d.tcp.seq, ack: d.tcp.ack, flags: d.tcp.flags, win: d.tcp.win,
    sackPermitted: false, payload: d.payload, intact: d.errors.length === 0,
  };
  for (const o of d.tcp.options) {
    if (o.kind === "mss") out.mss = o.value;
    else if (o.kind === "wscale") out.wscale = o.shift;
    else if (o.kind === "sackPermitted") out.sackPermitted = true;
    else if (o.kind === "ts") out.ts = { val: o.val, ecr: o.ecr };
  }
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

const ip4 = (v: number) => Uint8Array.of(v >>> 24, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff);

export function buildSegment(s: OutSegment): Uint8Array {
  const b = packet()
    .eth({ src: s.srcMac, dst: s.dstMac })
    .ipv4({ src: ip4(s.saddr), dst: ip4(s.daddr), id: s.ipId & 0xffff, flags: "DF", ttl: 64 })
    .tcp({ sport: s.sport, dport: s.dport, seq: s.seq >>> 0, ack: (s.ack ?? 0) >>> 0, flags: s.flags, win: Math.min(Math.max(0, s.win), 65535), options: s.options });
  return (s.payload && s.payload.length > 0 ? b.payload(s.payload) : b).build();
}

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
