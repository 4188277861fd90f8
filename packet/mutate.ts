// Packet mutations for fuzzing: bit flips, truncation, length-field edits, TCP option garbage, and
// checksum fix-ups that let a mutated packet past the early checks so later code sees it.
import type { Random } from "../lib/random.js";
import { ipv4Checksum, tcpChecksum } from "./checksum.js";
import { ETH_HLEN, ETHERTYPE_IPV4, IPPROTO_TCP, IPV4_MIN_HLEN, TCP_MIN_HLEN } from "./builder.js";

export const MUTATIONS = [
  "bitFlip", "byteSet", "truncate", "extend", "ipTotalLength", "ipIhl", "tcpDataOffset", "tcpFlags",
  "tcpOptionGarbage", "tcpOptionLength", "sackGarbage", "httpGarbage",
] as const;
export type MutationName = (typeof MUTATIONS)[number];

/** Offsets of a frame's IPv4 and TCP headers if the frame looks like Ethernet/IPv4/TCP far enough. */
export function tcpOffsets(f: Uint8Array): { ip: number; tcp?: number; tcpLen?: number } | undefined {
  if (f.length < ETH_HLEN + IPV4_MIN_HLEN || ((f[12] << 8) | f[13]) !== ETHERTYPE_IPV4) return undefined;
  const ip = ETH_HLEN;
  const ihl = (f[ip] & 0xf) * 4;
  if (ihl < IPV4_MIN_HLEN || ip + ihl > f.length) return { ip };
  if (f[ip + 9] !== IPPROTO_TCP) return { ip };
  const total = (f[ip + 2] << 8) | f[ip + 3];
  const tcp = ip + ihl;
  const tcpLen = Math.min(total, f.length - ip) - ihl;
  if (tcpLen < TCP_MIN_HLEN) return { ip };
  return { ip, tcp, tcpLen };
}

const INTERESTING_KINDS = [0, 1, 2, 3, 4, 5, 8, 30, 253, 254, 255];
const INTERESTING_LENGTHS = [0, 1, 2, 3, 4, 8, 10, 18, 26, 34, 40, 255];

/** Apply one named mutation in place where possible; returns the (possibly new) frame. */
export function mutate(rng: Random, frame: Uint8Array, name: MutationName, maxLength: number): Uint8Array {
  let f = frame;
  const o = tcpOffsets(f);
  switch (name) {
    case "bitFlip": {
      const n = rng.int(1, 8);
      for (let i = 0; i < n && f.length; i++) f[rng.below(f.length)] ^= 1 << rng.below(8);
      return f;
    }
    case "byteSet": {
      const n = rng.int(1, 4);
      for (let i = 0; i < n && f.length; i++) f[rng.below(f.length)] = rng.pick([0, 0xff, 0x7f, 0x80, rng.u32() & 0xff]);
      return f;
    }
    case "truncate": {
      // Cut near a header boundary half of the time.
      const near = [13, 14, 33, 34, 41, 42, 53, 54, 60, 74].filter((n) => n < f.length);
      const cut = near.length && rng.chance(0.5) ? rng.pick(near) + rng.int(-1, 1) : rng.below(f.length + 1);
      return f.slice(0, Math.max(0, Math.min(cut, f.length)));
    }
    case "extend": {
      const room = maxLength - f.length;
      if (room <= 0) return f;
      const out = new Uint8Array(f.length + rng.int(1, Math.min(room, 64)));
      out.set(f);
      out.set(rng.bytes(out.length - f.length), f.length);
      return out;
    }
    case "ipTotalLength": {
      if (!o) return f;
      const old = (f[o.ip + 2] << 8) | f[o.ip + 3];
      const v = rng.pick([0, 1, 19, 20, 39, 40, 0xffff, old - 1, old + 1, old + rng.int(-64, 64), rng.u32() & 0xffff]) & 0xffff;
      f[o.ip + 2] = v >> 8;
      f[o.ip + 3] = v & 0xff;
      return f;
    }
    case "ipIhl": {
      if (!o) return f;
      f[o.ip] = (f[o.ip] & 0xf0) | rng.below(16);
      return f;
    }
    case "tcpDataOffset": {
      if (o?.tcp === undefined) return f;
      f[o.tcp + 12] = (rng.below(16) << 4) | (f[o.tcp + 12] & 0xf);
      return f;
    }
    case "tcpFlags": {
      if (o?.tcp === undefined) return f;
      f[o.tcp + 13] = rng.u32() & 0xff;
      return f;
    }
    case "tcpOptionGarbage": {
      if (o?.tcp === undefined) return f;
      const hlen = Math.min((f[o.tcp + 12] >> 4) * 4, o.tcpLen!);
      for (let i = o.tcp + TCP_MIN_HLEN; i < o.tcp + hlen; i++) {
        if (rng.chance(0.5)) f[i] = rng.chance(0.5) ? rng.pick(INTERESTING_KINDS) : rng.pick(INTERESTING_LENGTHS);
      }
      return f;
    }
    case "tcpOptionLength": {
      // Rewrite the length byte of one option (kind at i, length at i+1) inside the header.
      if (o?.tcp === undefined) return f;
      const hlen = Math.min((f[o.tcp + 12] >> 4) * 4, o.tcpLen!);
      if (hlen <= TCP_MIN_HLEN + 1) return f;
      const i = o.tcp + TCP_MIN_HLEN + rng.below(hlen - TCP_MIN_HLEN - 1);
      f[i + 1] = rng.pick(INTERESTING_LENGTHS);
      return f;
    }
    case "sackGarbage": {
      // A SACK option of any length (including ones that are not 2 + 8n) filling the option space.
      if (o?.tcp === undefined) return f;
      const hlen = Math.min((f[o.tcp + 12] >> 4) * 4, o.tcpLen!);
      if (hlen <= TCP_MIN_HLEN + 2) return f;
      const at = o.tcp + TCP_MIN_HLEN + rng.below(Math.min(4, hlen - TCP_MIN_HLEN - 1));
      f[at] = rng.chance(0.7) ? 5 : 8;
      if (at + 1 < o.tcp + hlen) f[at + 1] = rng.chance(0.5) ? o.tcp + hlen - at : rng.below(48);
      for (let i = at + 2; i < o.tcp + hlen; i++) f[i] = rng.u32() & 0xff;
      return f;
    }
    case "httpGarbage": {
      // Replace the payload with HTTP-looking text: long tokens, Host lines, missing CRLFs.
      if (o?.tcp === undefined) return f;
      const hlen = (f[o.tcp + 12] >> 4) * 4;
      const start = o.tcp + hlen;
      if (start >= f.length) return f;
      const pieces = ["GET ", "POST ", "/", "/a?b=c", " HTTP/1.1", " HTTP/1.", "\r\n", "\n", "\r", "Host:", "HOST: ", "host:\t", " ", "\t", "x".repeat(rng.below(300)), "\r\n\r\n", "%00", "\u00ff"];
      let text = "";
      while (text.length < f.length - start) text += rng.pick(pieces);
      const bytes = new TextEncoder().encode(text);
      f.set(bytes.subarray(0, f.length - start), start);
      return f;
    }
  }
}

/** Recompute the IPv4 header checksum (and the TCP checksum over what the frame holds) where the headers allow. */
export function fixChecksums(f: Uint8Array, tcpToo: boolean): void {
  const o = tcpOffsets(f);
  if (!o) return;
  const ihl = (f[o.ip] & 0xf) * 4;
  if (ihl >= IPV4_MIN_HLEN && o.ip + ihl <= f.length) {
    const c = ipv4Checksum(f.subarray(o.ip, o.ip + ihl));
    f[o.ip + 10] = c >> 8;
    f[o.ip + 11] = c & 0xff;
  }
  if (tcpToo && o.tcp !== undefined && o.tcpLen !== undefined) {
    const seg = f.subarray(o.tcp, o.tcp + o.tcpLen);
    const c = tcpChecksum(f.subarray(o.ip + 12, o.ip + 16), f.subarray(o.ip + 16, o.ip + 20), seg);
    f[o.tcp + 16] = c >> 8;
    f[o.tcp + 17] = c & 0xff;
  }
}
