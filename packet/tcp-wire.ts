// Fast in-place codec for the Ethernet/IPv4/TCP frames the simulated hosts exchange: writes
// and parses the same bytes as packet/builder.ts and decode.ts (the tests check both
// against each other) without per-frame strings, option arrays or copies. Options follow
// Linux's layouts (RFC 7323 timestamps and window scale, RFC 2018 SACK, RFC 9293 MSS).
import { ETH_HLEN, ETHERTYPE_IPV4, IP_DF, IPPROTO_TCP, IPV4_MIN_HLEN, TCP_FLAG, TCP_MIN_HLEN } from "./builder.js";
import { foldComplement, onesSum } from "./checksum.js";
import { TCPOPT_EOL, TCPOPT_MSS, TCPOPT_NOP, TCPOPT_SACK, TCPOPT_SACK_PERMITTED, TCPOPT_TS, TCPOPT_WSCALE } from "./tcp-options.js";

export const FIN = TCP_FLAG.F;
export const SYN = TCP_FLAG.S;
export const RST = TCP_FLAG.R;
export const PSH = TCP_FLAG.P;
export const ACK = TCP_FLAG.A;

/** Ethernet frames shorter than this (without FCS) are padded with zeros by the sending NIC. */
export const MIN_FRAME = 60;
export const MAX_SACK_BLOCKS = 4;

const IP_AT = ETH_HLEN; // IPv4 header starts after Ethernet
const TCP_AT = ETH_HLEN + IPV4_MIN_HLEN; // hosts never send IP options
/** Offset of the TCP flags byte in frames from allocTcpFrame. */
export const TCP_FLAGS_AT = TCP_AT + 13;

/** Header fields of one outgoing segment. Hosts keep one and overwrite it per segment. */
export class TcpFrameFields {
  srcMac = new Uint8Array(6);
  dstMac = new Uint8Array(6);
  srcIp = 0;
  dstIp = 0;
  ipId = 0;
  ttl = 64;
  sport = 0;
  dport = 0;
  seq = 0;
  ack = 0;
  flags = 0;
  win = 0;
  /** Options: mss 0 = absent, wscale -1 = absent. */
  mss = 0;
  wscale = -1;
  sackPermitted = false;
  hasTs = false;
  tsVal = 0;
  tsEcr = 0;
  /** SACK blocks as [left0, right0, left1, right1, ...], `sackCount` of them. */
  sackBlocks: number[] = [];
  sackCount = 0;
}

/** Option bytes (a multiple of 4) `f` will carry. */
export function tcpOptionLength(f: TcpFrameFields): number {
  let n = 0;
  if (f.mss) n += 4;
  if (f.hasTs) n += 12; // (NOP NOP | SACK-permitted) TS
  else if (f.sackPermitted) n += 4; // NOP NOP SACK-permitted
  if (f.wscale >= 0) n += 4; // NOP WS
  if (f.sackCount) n += 4 + 8 * f.sackCount; // NOP NOP SACK
  return n;
}

/** Offset of the payload in a frame built from `f`. */
export function tcpPayloadOffset(f: TcpFrameFields): number {
  return TCP_AT + TCP_MIN_HLEN + tcpOptionLength(f);
}

/**
 * A new frame with the Ethernet, IPv4 and TCP headers of `f` written and room for `payloadLen`
 * bytes at tcpPayloadOffset(f). Fill the payload, then call sealTcpFrame.
 */
export function allocTcpFrame(f: TcpFrameFields, payloadLen: number): Uint8Array {
  const optLen = tcpOptionLength(f);
  const tcpLen = TCP_MIN_HLEN + optLen + payloadLen;
  const ipLen = IPV4_MIN_HLEN + tcpLen;
  const frame = frameBytes(Math.max(ETH_HLEN + ipLen, MIN_FRAME));
  frame.set(f.dstMac, 0); // 0-5 destination
  frame.set(f.srcMac, 6); // 6-11 source
  put16(frame, 12, ETHERTYPE_IPV4); // 12-13 EtherType
  const ip = IP_AT;
  frame[ip] = 0x45; // 0 version 4, IHL 5
  put16(frame, ip + 2, ipLen); // 2-3 total length
  put16(frame, ip + 4, f.ipId); // 4-5 identification
  frame[ip + 6] = IP_DF << 5; // 6-7 flags (DF), fragment offset 0
  frame[ip + 8] = f.ttl; // 8 time to live
  frame[ip + 9] = IPPROTO_TCP; // 9 protocol
  put32(frame, ip + 12, f.srcIp); // 12-15 source
  put32(frame, ip + 16, f.dstIp); // 16-19 destination
  const t = TCP_AT;
  put16(frame, t, f.sport); // 0-1 source port
  put16(frame, t + 2, f.dport); // 2-3 destination port
  put32(frame, t + 4, f.seq); // 4-7 sequence number
  put32(frame, t + 8, f.ack); // 8-11 acknowledgement number
  frame[t + 12] = ((TCP_MIN_HLEN + optLen) >> 2) << 4; // 12 data offset
  frame[t + 13] = f.flags; // 13 flags
  put16(frame, t + 14, f.win); // 14-15 window
  let o = t + TCP_MIN_HLEN;
  if (f.mss) {
    frame[o] = TCPOPT_MSS; frame[o + 1] = 4; put16(frame, o + 2, f.mss); o += 4;
  }
  if (f.hasTs) {
    if (f.sackPermitted) { frame[o] = TCPOPT_SACK_PERMITTED; frame[o + 1] = 2; } else { frame[o] = TCPOPT_NOP; frame[o + 1] = TCPOPT_NOP; }
    frame[o + 2] = TCPOPT_TS; frame[o + 3] = 10; put32(frame, o + 4, f.tsVal); put32(frame, o + 8, f.tsEcr); o += 12;
  } else if (f.sackPermitted) {
    frame[o] = TCPOPT_NOP; frame[o + 1] = TCPOPT_NOP; frame[o + 2] = TCPOPT_SACK_PERMITTED; frame[o + 3] = 2; o += 4;
  }
  if (f.wscale >= 0) {
    frame[o] = TCPOPT_NOP; frame[o + 1] = TCPOPT_WSCALE; frame[o + 2] = 3; frame[o + 3] = f.wscale; o += 4;
  }
  if (f.sackCount) {
    frame[o] = TCPOPT_NOP; frame[o + 1] = TCPOPT_NOP; frame[o + 2] = TCPOPT_SACK; frame[o + 3] = 2 + 8 * f.sackCount; o += 4;
    for (let i = 0; i < 2 * f.sackCount; i++, o += 4) put32(frame, o, f.sackBlocks[i]);
  }
  return frame;
}

/** (Re)compute the IPv4 header checksum and the TCP checksum of a frame laid out like allocTcpFrame's. */
export function sealTcpFrame(frame: Uint8Array): void {
  const ipLen = get16(frame, IP_AT + 2);
  put16(frame, IP_AT + 10, 0);
  put16(frame, TCP_AT + 16, 0);
  put16(frame, IP_AT + 10, foldComplement(rangeSum(frame, IP_AT, TCP_AT))); // 10-11 header checksum
  const tcpLen = ipLen - IPV4_MIN_HLEN;
  // Pseudo-header: source and destination (already in the frame), protocol, TCP length (RFC 9293 3.1).
  const pseudo = rangeSum(frame, IP_AT + 12, IP_AT + 20) + IPPROTO_TCP + tcpLen;
  put16(frame, TCP_AT + 16, foldComplement(rangeSum(frame, TCP_AT, TCP_AT + tcpLen, pseudo))); // 16-17 checksum
}

/** Why a received frame was not handed to TCP. */
export enum FrameVerdict {
  TCP = 0,
  ARP = 1,
  SHORT_FRAME = 2,
  OTHER_ETHERTYPE = 3,
  BAD_IP_HEADER = 4,
  BAD_IP_CHECKSUM = 5,
  IP_FRAGMENT = 6,
  NOT_TCP = 7,
  BAD_TCP_HEADER = 8,
  BAD_TCP_CHECKSUM = 9,
  BAD_TCP_OPTIONS = 10,
}
export const FRAME_VERDICT_TEXT = [
  "tcp", "arp", "short frame", "other EtherType", "bad IPv4 header", "bad IPv4 checksum", "IPv4 fragment",
  "not TCP", "bad TCP header", "bad TCP checksum", "bad TCP options",
] as const;

/** The fields of a received TCP segment. One instance is reused for every frame a host parses. */
export class ParsedTcp {
  dstMac0 = 0; // first byte of the destination MAC (bit 0: group address)
  srcIp = 0;
  dstIp = 0;
  ttl = 0;
  sport = 0;
  dport = 0;
  seq = 0;
  ack = 0;
  flags = 0;
  win = 0;
  mss = 0;
  wscale = -1;
  sackPermitted = false;
  hasTs = false;
  tsVal = 0;
  tsEcr = 0;
  sackBlocks: number[] = new Array<number>(2 * MAX_SACK_BLOCKS).fill(0);
  sackCount = 0;
  payloadAt = 0;
  payloadLen = 0;
}

/** Parse `frame` into `p` (checksums verified, options decoded). Returns FrameVerdict.TCP when it is a usable segment. */
export function parseTcpFrame(frame: Uint8Array, p: ParsedTcp): FrameVerdict {
  if (frame.length < ETH_HLEN) return FrameVerdict.SHORT_FRAME;
  const type = get16(frame, 12);
  if (type !== ETHERTYPE_IPV4) return type === 0x0806 ? FrameVerdict.ARP : FrameVerdict.OTHER_ETHERTYPE;
  p.dstMac0 = frame[0];
  const ip = IP_AT;
  if (frame.length < ip + IPV4_MIN_HLEN) return FrameVerdict.BAD_IP_HEADER;
  const ihl = (frame[ip] & 0xf) * 4;
  const totalLen = get16(frame, ip + 2);
  if (frame[ip] >> 4 !== 4 || ihl < IPV4_MIN_HLEN || totalLen < ihl || ip + totalLen > frame.length) return FrameVerdict.BAD_IP_HEADER;
  if (foldComplement(rangeSum(frame, ip, ip + ihl)) !== 0) return FrameVerdict.BAD_IP_CHECKSUM;
  if ((frame[ip + 6] & 0x3f) !== 0 || frame[ip + 7] !== 0) return FrameVerdict.IP_FRAGMENT; // MF or an offset
  if (frame[ip + 9] !== IPPROTO_TCP) return FrameVerdict.NOT_TCP;
  p.ttl = frame[ip + 8];
  p.srcIp = get32(frame, ip + 12);
  p.dstIp = get32(frame, ip + 16);
  const t = ip + ihl;
  const tcpLen = totalLen - ihl;
  if (tcpLen < TCP_MIN_HLEN) return FrameVerdict.BAD_TCP_HEADER;
  const hlen = (frame[t + 12] >> 4) * 4;
  if (hlen < TCP_MIN_HLEN || hlen > tcpLen) return FrameVerdict.BAD_TCP_HEADER;
  const pseudo = rangeSum(frame, ip + 12, ip + 20) + IPPROTO_TCP + tcpLen;
  if (foldComplement(rangeSum(frame, t, t + tcpLen, pseudo)) !== 0) return FrameVerdict.BAD_TCP_CHECKSUM;
  p.sport = get16(frame, t);
  p.dport = get16(frame, t + 2);
  p.seq = get32(frame, t + 4);
  p.ack = get32(frame, t + 8);
  p.flags = frame[t + 13];
  p.win = get16(frame, t + 14);
  p.payloadAt = t + hlen;
  p.payloadLen = tcpLen - hlen;
  return parseOptions(frame, t + TCP_MIN_HLEN, t + hlen, p) ? FrameVerdict.TCP : FrameVerdict.BAD_TCP_OPTIONS;
}

function parseOptions(frame: Uint8Array, at: number, end: number, p: ParsedTcp): boolean {
  p.mss = 0;
  p.wscale = -1;
  p.sackPermitted = false;
  p.hasTs = false;
  p.sackCount = 0;
  while (at < end) {
    const kind = frame[at];
    if (kind === TCPOPT_EOL) return true;
    if (kind === TCPOPT_NOP) { at++; continue; }
    if (at + 1 >= end) return false;
    const len = frame[at + 1];
    if (len < 2 || at + len > end) return false;
    if (kind === TCPOPT_MSS && len === 4) p.mss = get16(frame, at + 2);
    else if (kind === TCPOPT_WSCALE && len === 3) p.wscale = frame[at + 2];
    else if (kind === TCPOPT_SACK_PERMITTED && len === 2) p.sackPermitted = true;
    else if (kind === TCPOPT_TS && len === 10) { p.hasTs = true; p.tsVal = get32(frame, at + 2); p.tsEcr = get32(frame, at + 6); }
    else if (kind === TCPOPT_SACK && len > 2 && (len - 2) % 8 === 0) {
      const n = Math.min((len - 2) >> 3, MAX_SACK_BLOCKS);
      for (let i = 0; i < n; i++) {
        p.sackBlocks[2 * i] = get32(frame, at + 2 + 8 * i);
        p.sackBlocks[2 * i + 1] = get32(frame, at + 6 + 8 * i);
      }
      p.sackCount = n;
    }
    at += len;
  }
  return true;
}

/**
 * onesSum of bytes [start, end) of `b` (RFC 1071). The one's complement sum does not depend
 * on byte order (RFC 1071 2(B)), so when the range is 4-byte aligned it adds little-endian
 * 32-bit loads (exact in a double), folds, and swaps the result: a quarter of the loads of
 * the byte loop in packet/checksum.ts, which is the fallback for unaligned ranges.
 */
// A 32-bit view of the last buffer summed: frames come from a few slabs, so it is mostly reused.
let wordsOf: ArrayBufferLike | undefined;
let words: Uint32Array<ArrayBufferLike> = new Uint32Array(0);

export function rangeSum(b: Uint8Array, start: number, end: number, initial = 0): number {
  const byteStart = b.byteOffset + start;
  const len = end - start;
  if (byteStart & 3 || len < 64) {
    if (len > 256) return onesSum(b.subarray(start, end), initial);
    // Short ranges (headers, the pseudo-header): the byte loop without a subarray.
    let sum = initial;
    const even = start + (len & ~1);
    for (let i = start; i < even; i += 2) sum += (b[i] << 8) | b[i + 1];
    if (len & 1) sum += b[end - 1] << 8;
    return sum;
  }
  const n = len >> 2;
  if (b.buffer !== wordsOf) {
    wordsOf = b.buffer;
    words = new Uint32Array(wordsOf, 0, wordsOf.byteLength >> 2);
  }
  const w = words;
  const first = byteStart >> 2;
  let sum = 0;
  for (let i = first; i < first + n; i++) sum += w[i];
  // Trailing 1-3 bytes, as little-endian halves of big-endian words.
  for (let i = start + 4 * n; i < end; i += 2) sum += i + 1 < end ? b[i] | (b[i + 1] << 8) : b[i];
  // Fold to 16 bits: 32-bit pieces first (the sum may exceed 2^32), then 16-bit.
  sum = (sum % 0x100000000) + Math.floor(sum / 0x100000000);
  sum = (sum & 0xffff) + Math.floor(sum / 0x10000);
  sum = (sum & 0xffff) + (sum >>> 16);
  sum = (sum & 0xffff) + (sum >>> 16);
  return initial + (((sum & 0xff) << 8) | (sum >>> 8));
}

/**
 * Frames are carved from shared slabs: a typed array of a frame's size costs a separate
 * backing store (an allocation, zeroing and a finalizer each), a view into a slab does not.
 * Offsets are 2 mod 4 so the IPv4 and TCP headers (14 and 34 bytes in) are 4-byte aligned
 * for rangeSum. A slab is freed when no frame in it is referenced any more.
 */
const SLAB_BYTES = 1 << 20;
let slab = new Uint8Array(SLAB_BYTES);
let slabAt = 2;

function frameBytes(len: number): Uint8Array {
  if (len > SLAB_BYTES / 4) return new Uint8Array(len);
  if (slabAt + len > SLAB_BYTES) {
    slab = new Uint8Array(SLAB_BYTES);
    slabAt = 2;
  }
  const frame = slab.subarray(slabAt, slabAt + len);
  slabAt = ((slabAt + len + 3) & ~3) + 2;
  return frame;
}

function put16(b: Uint8Array, at: number, v: number): void {
  b[at] = v >>> 8;
  b[at + 1] = v;
}
function put32(b: Uint8Array, at: number, v: number): void {
  b[at] = v >>> 24;
  b[at + 1] = v >>> 16;
  b[at + 2] = v >>> 8;
  b[at + 3] = v;
}
export function get16(b: Uint8Array, at: number): number {
  return (b[at] << 8) | b[at + 1];
}
export function get32(b: Uint8Array, at: number): number {
  return ((b[at] << 24) | (b[at + 1] << 16) | (b[at + 2] << 8) | b[at + 3]) >>> 0;
}
