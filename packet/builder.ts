// Packet builder (Katran/PTF style): Ethernet, ARP (RFC 826), IPv4 (RFC 791), TCP (RFC 9293),
// ICMP echo (RFC 792) and UDP (RFC 768) as real bytes with correct checksums. Overrides of
// lengths and checksums build malformed packets on purpose.
import { ip4Bytes, macBytes, type Ip4, type Mac } from "./addr.js";
import { icmpChecksum, ipv4Checksum, onesSum, foldComplement, tcpChecksum } from "./checksum.js";
import { encodeTcpOptions, type TcpOption } from "./tcp-options.js";

export type { TcpOption } from "./tcp-options.js";

export const ETHERTYPE_IPV4 = 0x0800;
export const ETHERTYPE_ARP = 0x0806;
export const ETHERTYPE_IPV6 = 0x86dd;
export const IPPROTO_ICMP = 1;
export const IPPROTO_TCP = 6;
export const IPPROTO_UDP = 17;
export const ETH_HLEN = 14;
export const IPV4_MIN_HLEN = 20;
export const TCP_MIN_HLEN = 20;
export const UDP_HLEN = 8;
export const ICMP_ECHO_HLEN = 8;
export const ARP_LEN = 28;

/** IPv4 flag bits as they sit above the 13-bit fragment offset. */
export const IP_DF = 0x2;
export const IP_MF = 0x1;

/** TCP flag bits (byte 13). */
export const TCP_FLAG = { F: 0x01, S: 0x02, R: 0x04, P: 0x08, A: 0x10, U: 0x20, E: 0x40, C: 0x80 } as const;

/** Flags as letters ('S', 'SA', 'PA', 'FA', 'R', '' for none; F S R P A U E C) or the raw byte. */
export type TcpFlags = string | number;

export function tcpFlagBits(flags: TcpFlags): number {
  if (typeof flags === "number") return flags & 0xff;
  let bits = 0;
  for (const ch of flags.toUpperCase()) {
    const b = TCP_FLAG[ch as keyof typeof TCP_FLAG];
    if (b === undefined) throw new SyntaxError(`unknown TCP flag '${ch}' in '${flags}' (use F S R P A U E C)`);
    bits |= b;
  }
  return bits;
}

export function tcpFlagText(bits: number): string {
  return (Object.keys(TCP_FLAG) as (keyof typeof TCP_FLAG)[]).filter((k) => bits & TCP_FLAG[k]).join("");
}

export interface EthSpec { src: Mac; dst: Mac; type?: number }
export interface ArpSpec {
  op: "request" | "reply" | number;
  sha: Mac; spa: Ip4; tha?: Mac; tpa: Ip4;
  htype?: number; ptype?: number; hlen?: number; plen?: number;
}
export interface Ipv4Spec {
  src: Ip4; dst: Ip4;
  ttl?: number; id?: number; tos?: number;
  /** IP_DF / IP_MF bits, or 'DF' / 'MF' / 'DF,MF'. */
  flags?: number | string;
  fragOffset?: number;
  /** Option bytes; padded with zeros (EOL) to a multiple of 4. */
  options?: Uint8Array;
  /** Protocol; defaults from the next layer (TCP 6, ICMP 1, UDP 17). */
  proto?: number;
  version?: number;
  /** Overrides (malformed packets): header length in words, total length, checksum. */
  ihl?: number; totalLength?: number; checksum?: number;
}
export interface TcpSpec {
  sport: number; dport: number; seq: number; ack?: number;
  flags: TcpFlags; win?: number; urg?: number;
  options?: TcpOption[];
  /** Overrides (malformed packets): data offset in words (default from the options), checksum. */
  dataOffset?: number; checksum?: number;
}
export interface IcmpSpec {
  type: number; code?: number; id?: number; seq?: number;
  data?: Uint8Array | string;
  checksum?: number;
}
export interface UdpSpec { sport: number; dport: number; length?: number; checksum?: number }

type Layer =
  | { t: "eth"; s: EthSpec }
  | { t: "arp"; s: ArpSpec }
  | { t: "ipv4"; s: Ipv4Spec }
  | { t: "tcp"; s: TcpSpec }
  | { t: "icmp"; s: IcmpSpec }
  | { t: "udp"; s: UdpSpec }
  | { t: "payload"; bytes: Uint8Array };

export function bytesOf(data: Uint8Array | string): Uint8Array {
  return typeof data === "string" ? new TextEncoder().encode(data) : data;
}

function ipFlagBits(f: number | string | undefined): number {
  if (f === undefined) return 0;
  if (typeof f === "number") return f & 0x7;
  let bits = 0;
  for (const part of f.split(/[,+| ]+/).filter(Boolean)) {
    if (part.toUpperCase() === "DF") bits |= IP_DF;
    else if (part.toUpperCase() === "MF") bits |= IP_MF;
    else throw new SyntaxError(`unknown IPv4 flag '${part}' (use DF, MF)`);
  }
  return bits;
}

function pad4(b: Uint8Array): Uint8Array {
  const out = new Uint8Array((b.length + 3) & ~3);
  out.set(b);
  return out;
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

export class PacketBuilder {
  private readonly layers: Layer[] = [];

  eth(s: EthSpec): this { this.layers.push({ t: "eth", s }); return this; }
  arp(s: ArpSpec): this { this.layers.push({ t: "arp", s }); return this; }
  ipv4(s: Ipv4Spec): this { this.layers.push({ t: "ipv4", s }); return this; }
  tcp(s: TcpSpec): this { this.layers.push({ t: "tcp", s }); return this; }
  icmp(s: IcmpSpec): this { this.layers.push({ t: "icmp", s }); return this; }
  udp(s: UdpSpec): this { this.layers.push({ t: "udp", s }); return this; }
  payload(data: Uint8Array | string): this { this.layers.push({ t: "payload", bytes: bytesOf(data) }); return this; }

  /** The frame's bytes. Layers are serialised back to front so each header knows what it carries. */
  build(): Uint8Array {
    let tail: Uint8Array = new Uint8Array(0);
    for (let i = this.layers.length - 1; i >= 0; i--) {
      const layer = this.layers[i];
      const next = this.layers[i + 1];
      const ip = this.enclosingIpv4(i);
      switch (layer.t) {
        case "payload": tail = concat([layer.bytes, tail]); break;
        case "eth": tail = concat([ethHeader(layer.s, next), tail]); break;
        case "arp": tail = concat([arpBody(layer.s), tail]); break;
        case "ipv4": tail = concat([ipv4Header(layer.s, next, tail.length), tail]); break;
        case "tcp": tail = tcpSegment(layer.s, ip, tail); break;
        case "udp": tail = udpDatagram(layer.s, ip, tail); break;
        case "icmp": tail = icmpMessage(layer.s, tail); break;
      }
    }
    return tail;
  }

  private enclosingIpv4(i: number): Ipv4Spec | undefined {
    for (let j = i - 1; j >= 0; j--) {
      const l = this.layers[j];
      if (l.t === "ipv4") return l.s;
    }
    return undefined;
  }
}

/** Start a packet: `packet().eth({...}).ipv4({...}).tcp({...}).payload('GET / ...').build()`. */
export function packet(): PacketBuilder {
  return new PacketBuilder();
}

function ethHeader(s: EthSpec, next: Layer | undefined): Uint8Array {
  const h = new Uint8Array(ETH_HLEN);
  h.set(macBytes(s.dst), 0); // 0-5 destination
  h.set(macBytes(s.src), 6); // 6-11 source
  const type = s.type ?? (next?.t === "arp" ? ETHERTYPE_ARP : ETHERTYPE_IPV4);
  new DataView(h.buffer).setUint16(12, type); // 12-13 EtherType
  return h;
}

function arpBody(s: ArpSpec): Uint8Array {
  const b = new Uint8Array(ARP_LEN);
  const dv = new DataView(b.buffer);
  dv.setUint16(0, s.htype ?? 1); // 0-1 hardware type (Ethernet)
  dv.setUint16(2, s.ptype ?? ETHERTYPE_IPV4); // 2-3 protocol type
  b[4] = s.hlen ?? 6; // 4 hardware address length
  b[5] = s.plen ?? 4; // 5 protocol address length
  dv.setUint16(6, s.op === "request" ? 1 : s.op === "reply" ? 2 : s.op); // 6-7 operation
  b.set(macBytes(s.sha), 8); // 8-13 sender hardware address
  b.set(ip4Bytes(s.spa), 14); // 14-17 sender protocol address
  b.set(macBytes(s.tha ?? "00:00:00:00:00:00"), 18); // 18-23 target hardware address
  b.set(ip4Bytes(s.tpa), 24); // 24-27 target protocol address
  return b;
}

function ipv4Header(s: Ipv4Spec, next: Layer | undefined, carried: number): Uint8Array {
  const options = pad4(s.options ?? new Uint8Array(0));
  const h = new Uint8Array(IPV4_MIN_HLEN + options.length);
  const dv = new DataView(h.buffer);
  const ihl = s.ihl ?? h.length / 4;
  h[0] = ((s.version ?? 4) << 4) | (ihl & 0xf); // 0 version, IHL
  h[1] = s.tos ?? 0; // 1 type of service
  dv.setUint16(2, s.totalLength ?? h.length + carried); // 2-3 total length
  dv.setUint16(4, s.id ?? 0); // 4-5 identification
  dv.setUint16(6, (ipFlagBits(s.flags) << 13) | ((s.fragOffset ?? 0) & 0x1fff)); // 6-7 flags, fragment offset
  h[8] = s.ttl ?? 64; // 8 time to live
  const proto = s.proto ?? (next?.t === "tcp" ? IPPROTO_TCP : next?.t === "icmp" ? IPPROTO_ICMP : next?.t === "udp" ? IPPROTO_UDP : 0);
  h[9] = proto; // 9 protocol
  h.set(ip4Bytes(s.src), 12); // 12-15 source
  h.set(ip4Bytes(s.dst), 16); // 16-19 destination
  h.set(options, IPV4_MIN_HLEN);
  dv.setUint16(10, s.checksum ?? ipv4Checksum(h)); // 10-11 header checksum
  return h;
}

function tcpSegment(s: TcpSpec, ip: Ipv4Spec | undefined, payload: Uint8Array): Uint8Array {
  const options = pad4(encodeTcpOptions(s.options ?? []));
  const h = new Uint8Array(TCP_MIN_HLEN + options.length);
  const dv = new DataView(h.buffer);
  dv.setUint16(0, s.sport); // 0-1 source port
  dv.setUint16(2, s.dport); // 2-3 destination port
  dv.setUint32(4, s.seq >>> 0); // 4-7 sequence number
  dv.setUint32(8, (s.ack ?? 0) >>> 0); // 8-11 acknowledgement number
  h[12] = ((s.dataOffset ?? h.length / 4) & 0xf) << 4; // 12 data offset
  h[13] = tcpFlagBits(s.flags); // 13 flags
  dv.setUint16(14, s.win ?? 65535); // 14-15 window
  dv.setUint16(18, s.urg ?? 0); // 18-19 urgent pointer
  h.set(options, TCP_MIN_HLEN);
  const seg = concat([h, payload]);
  const sum = s.checksum ?? (ip ? tcpChecksum(ip4Bytes(ip.src), ip4Bytes(ip.dst), seg) : 0);
  new DataView(seg.buffer).setUint16(16, sum); // 16-17 checksum
  return seg;
}

function udpDatagram(s: UdpSpec, ip: Ipv4Spec | undefined, payload: Uint8Array): Uint8Array {
  const d = concat([new Uint8Array(UDP_HLEN), payload]);
  const dv = new DataView(d.buffer);
  dv.setUint16(0, s.sport); // 0-1 source port
  dv.setUint16(2, s.dport); // 2-3 destination port
  dv.setUint16(4, s.length ?? d.length); // 4-5 length
  let sum = s.checksum;
  if (sum === undefined && ip) {
    const pseudo = onesSum(ip4Bytes(ip.src)) + onesSum(ip4Bytes(ip.dst)) + IPPROTO_UDP + d.length;
    sum = foldComplement(onesSum(d, pseudo)) || 0xffff;
  }
  dv.setUint16(6, sum ?? 0); // 6-7 checksum
  return d;
}

function icmpMessage(s: IcmpSpec, payload: Uint8Array): Uint8Array {
  const m = concat([new Uint8Array(ICMP_ECHO_HLEN), bytesOf(s.data ?? new Uint8Array(0)), payload]);
  const dv = new DataView(m.buffer);
  m[0] = s.type; // 0 type
  m[1] = s.code ?? 0; // 1 code
  dv.setUint16(4, s.id ?? 0); // 4-5 identifier
  dv.setUint16(6, s.seq ?? 0); // 6-7 sequence number
  dv.setUint16(2, s.checksum ?? icmpChecksum(m)); // 2-3 checksum
  return m;
}
