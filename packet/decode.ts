// Frame decoder: Ethernet, ARP (RFC 826), IPv4 (RFC 791), TCP (RFC 9293) with options, ICMP
// (RFC 792), UDP; verifies checksums. Never throws on malformed input: problems go to `errors`.
import { ip4String, macString } from "./addr.js";
import { icmpChecksum, ipv4Checksum, tcpChecksum } from "./checksum.js";
import { decodeTcpOptions, type TcpOption } from "./tcp-options.js";
import {
  ARP_LEN, ETH_HLEN, ETHERTYPE_ARP, ETHERTYPE_IPV4, ICMP_ECHO_HLEN, IPPROTO_ICMP, IPPROTO_TCP, IPPROTO_UDP,
  IPV4_MIN_HLEN, TCP_MIN_HLEN, UDP_HLEN, tcpFlagText,
} from "./builder.js";

export { internetChecksum, ipv4Checksum, tcpChecksum, icmpChecksum } from "./checksum.js";

export interface DecodedEth { dst: string; src: string; type: number }
export interface DecodedArp { htype: number; ptype: number; hlen: number; plen: number; op: number; sha: string; spa: string; tha: string; tpa: string }
export interface DecodedIpv4 {
  version: number; ihl: number; tos: number; totalLength: number; id: number;
  flags: number; fragOffset: number; ttl: number; proto: number; checksum: number;
  src: string; dst: string; options: Uint8Array; checksumOk: boolean;
}
export interface DecodedTcp {
  sport: number; dport: number; seq: number; ack: number; dataOffset: number;
  flags: number; flagText: string; win: number; checksum: number; urg: number;
  options: TcpOption[]; optionsError?: string; checksumOk: boolean;
}
export interface DecodedIcmp { type: number; code: number; checksum: number; id: number; seq: number; data: Uint8Array; checksumOk: boolean }
export interface DecodedUdp { sport: number; dport: number; length: number; checksum: number }

export interface DecodedFrame {
  eth?: DecodedEth;
  arp?: DecodedArp;
  ipv4?: DecodedIpv4;
  tcp?: DecodedTcp;
  icmp?: DecodedIcmp;
  udp?: DecodedUdp;
  /** Bytes after the innermost decoded header (TCP/UDP data, or what follows an undecoded layer). */
  payload: Uint8Array;
  /** Offsets of the headers in the frame, where present. */
  offsets: { l3?: number; l4?: number; payload?: number };
  /** Everything malformed found, in order; empty for a well-formed frame with good checksums. */
  errors: string[];
}

export function decode(frame: Uint8Array): DecodedFrame {
  const out: DecodedFrame = { payload: new Uint8Array(0), offsets: {}, errors: [] };
  const dv = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  if (frame.length < ETH_HLEN) {
    out.errors.push(`frame of ${frame.length} bytes is shorter than an Ethernet header`);
    out.payload = frame.slice();
    return out;
  }
  out.eth = { dst: macString(frame.subarray(0, 6)), src: macString(frame.subarray(6, 12)), type: dv.getUint16(12) };
  const l3 = ETH_HLEN;
  out.offsets.l3 = l3;
  if (out.eth.type === ETHERTYPE_ARP) return decodeArp(frame, dv, l3, out);
  if (out.eth.type !== ETHERTYPE_IPV4) {
    out.payload = frame.slice(l3);
    return out;
  }
  return decodeIpv4(frame, dv, l3, out);
}

function decodeArp(frame: Uint8Array, dv: DataView, at: number, out: DecodedFrame): DecodedFrame {
  if (frame.length < at + ARP_LEN) {
    out.errors.push(`ARP: ${frame.length - at} bytes, need ${ARP_LEN}`);
    out.payload = frame.slice(at);
    return out;
  }
  out.arp = {
    htype: dv.getUint16(at), ptype: dv.getUint16(at + 2), hlen: frame[at + 4], plen: frame[at + 5], op: dv.getUint16(at + 6),
    sha: macString(frame.subarray(at + 8)), spa: ip4String(frame.subarray(at + 14)),
    tha: macString(frame.subarray(at + 18)), tpa: ip4String(frame.subarray(at + 24)),
  };
  out.payload = frame.slice(at + ARP_LEN);
  return out;
}

function decodeIpv4(frame: Uint8Array, dv: DataView, at: number, out: DecodedFrame): DecodedFrame {
  if (frame.length < at + IPV4_MIN_HLEN) {
    out.errors.push(`IPv4: ${frame.length - at} bytes, shorter than a header`);
    out.payload = frame.slice(at);
    return out;
  }
  const ihl = frame[at] & 0xf;
  const hlen = ihl * 4;
  const totalLength = dv.getUint16(at + 2);
  const fo = dv.getUint16(at + 6);
  const headerEnd = Math.min(at + Math.max(hlen, IPV4_MIN_HLEN), frame.length);
  const ip: DecodedIpv4 = {
    version: frame[at] >> 4, ihl, tos: frame[at + 1], totalLength, id: dv.getUint16(at + 4),
    flags: fo >> 13, fragOffset: fo & 0x1fff, ttl: frame[at + 8], proto: frame[at + 9], checksum: dv.getUint16(at + 10),
    src: ip4String(frame.subarray(at + 12)), dst: ip4String(frame.subarray(at + 16)),
    options: frame.slice(at + IPV4_MIN_HLEN, headerEnd), checksumOk: false,
  };
  out.ipv4 = ip;
  if (ip.version !== 4) out.errors.push(`IPv4: version ${ip.version}`);
  if (hlen < IPV4_MIN_HLEN) out.errors.push(`IPv4: IHL ${ihl} below 5`);
  if (at + hlen > frame.length) out.errors.push(`IPv4: header of ${hlen} bytes runs past the frame`);
  if (totalLength < hlen) out.errors.push(`IPv4: total length ${totalLength} shorter than the header (${hlen})`);
  if (at + totalLength > frame.length) out.errors.push(`IPv4: total length ${totalLength} runs past the frame (${frame.length - at} bytes)`);
  if (hlen >= IPV4_MIN_HLEN && at + hlen <= frame.length) {
    ip.checksumOk = ipv4Checksum(frame.subarray(at, at + hlen)) === ip.checksum;
    if (!ip.checksumOk) out.errors.push(`IPv4: bad header checksum 0x${hex16(ip.checksum)}, expected 0x${hex16(ipv4Checksum(frame.subarray(at, at + hlen)))}`);
  }
  if (ip.flags & 1 || ip.fragOffset) out.errors.push(`IPv4: fragment (MF ${ip.flags & 1}, offset ${ip.fragOffset})`);
  if (hlen < IPV4_MIN_HLEN || at + hlen > frame.length) {
    out.payload = frame.slice(headerEnd);
    return out;
  }
  const l4 = at + hlen;
  const end = Math.max(l4, Math.min(at + totalLength, frame.length));
  out.offsets.l4 = l4;
  const segment = frame.subarray(l4, end);
  const src = frame.subarray(at + 12, at + 16);
  const dst = frame.subarray(at + 16, at + 20);
  if (ip.proto === IPPROTO_TCP) decodeTcp(segment, src, dst, l4, out);
  else if (ip.proto === IPPROTO_ICMP) decodeIcmp(segment, out);
  else if (ip.proto === IPPROTO_UDP && segment.length >= UDP_HLEN) {
    const sv = new DataView(segment.buffer, segment.byteOffset, segment.byteLength);
    out.udp = { sport: sv.getUint16(0), dport: sv.getUint16(2), length: sv.getUint16(4), checksum: sv.getUint16(6) };
    out.offsets.payload = l4 + UDP_HLEN;
    out.payload = segment.slice(UDP_HLEN);
  } else out.payload = segment.slice();
  return out;
}

function decodeTcp(seg: Uint8Array, src: Uint8Array, dst: Uint8Array, l4: number, out: DecodedFrame): void {
  if (seg.length < TCP_MIN_HLEN) {
    out.errors.push(`TCP: ${seg.length} bytes, shorter than a header`);
    out.payload = seg.slice();
    return;
  }
  const sv = new DataView(seg.buffer, seg.byteOffset, seg.byteLength);
  const dataOffset = seg[12] >> 4;
  const hlen = dataOffset * 4;
  const optEnd = Math.max(TCP_MIN_HLEN, Math.min(hlen, seg.length));
  const opts = decodeTcpOptions(seg.subarray(TCP_MIN_HLEN, optEnd));
  const tcp: DecodedTcp = {
    sport: sv.getUint16(0), dport: sv.getUint16(2), seq: sv.getUint32(4), ack: sv.getUint32(8), dataOffset,
    flags: seg[13], flagText: tcpFlagText(seg[13]), win: sv.getUint16(14), checksum: sv.getUint16(16), urg: sv.getUint16(18),
    options: opts.options, checksumOk: tcpChecksum(src, dst, seg) === sv.getUint16(16),
  };
  if (opts.error) {
    tcp.optionsError = opts.error;
    out.errors.push(`TCP: ${opts.error}`);
  }
  if (hlen < TCP_MIN_HLEN) out.errors.push(`TCP: data offset ${dataOffset} below 5`);
  if (hlen > seg.length) out.errors.push(`TCP: data offset ${dataOffset} (${hlen} bytes) runs past the segment (${seg.length})`);
  if (!tcp.checksumOk) out.errors.push(`TCP: bad checksum 0x${hex16(tcp.checksum)}, expected 0x${hex16(tcpChecksum(src, dst, seg))}`);
  out.tcp = tcp;
  out.offsets.payload = l4 + optEnd;
  out.payload = seg.slice(optEnd);
}

function decodeIcmp(msg: Uint8Array, out: DecodedFrame): void {
  if (msg.length < ICMP_ECHO_HLEN) {
    out.errors.push(`ICMP: ${msg.length} bytes, shorter than an echo header`);
    out.payload = msg.slice();
    return;
  }
  const mv = new DataView(msg.buffer, msg.byteOffset, msg.byteLength);
  const icmp: DecodedIcmp = {
    type: msg[0], code: msg[1], checksum: mv.getUint16(2), id: mv.getUint16(4), seq: mv.getUint16(6),
    data: msg.slice(ICMP_ECHO_HLEN), checksumOk: icmpChecksum(msg) === mv.getUint16(2),
  };
  if (!icmp.checksumOk) out.errors.push(`ICMP: bad checksum 0x${hex16(icmp.checksum)}, expected 0x${hex16(icmpChecksum(msg))}`);
  out.icmp = icmp;
}

function hex16(n: number): string {
  return n.toString(16).padStart(4, "0");
}
