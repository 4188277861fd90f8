// HTTP/1.x request recognition (RFC 9112 3 request line, 5 field lines; RFC 9110 7.2 Host) for the dispatcher's hashes.
import * as np from "./np";
import {
  DESCF_HEADERS_END, DESCF_HOST, DESCF_REQUEST_LINE, DESC_BUF, DESC_FLAGS, DESC_HOST_HASH, DESC_L3, DESC_PAYLOAD,
  DESC_URL_HASH,
} from "./layout";
import { load16be } from "./bytes";
import { IP_TOTAL_LEN } from "./ipv4";

@inline const SP: u32 = 0x20;
@inline const HT: u32 = 0x09;
@inline const CR: u32 = 0x0d;
@inline const LF: u32 = 0x0a;
@inline const MAX_METHOD: u32 = 16; // longest method token accepted
@inline const HTTP_1_DOT: u64 = 0x2e312f50545448; // "HTTP/1." as a little-endian load of 7 bytes (in a u64)
@inline const HOST_COLON: u64 = 0x3a74736f68; // "host:" (lower-cased) as a little-endian load of 5 bytes
@inline const LOWER_5: u64 = 0x0020202020; // OR mask lower-casing the letters of "host" (not the colon)
/** Longest Host value hashed; longer values are not reported (the CP parses them). */
@inline const HOST_MAX: u32 = 255;

/** The lower-cased Host value is copied here before hashing (the packet is not modified). */
const HOST_BUF: usize = memory.data(<i32>HOST_MAX + 1);

@inline function isSpace(c: u32): bool { return c == SP || c == HT; }

/** 7 bytes at p as the low bytes of a u64 (p + 7 <= end checked by the caller). */
@inline function load7(p: usize): u64 {
  return <u64>load<u32>(p) | (<u64>load<u16>(p + 4) << 32) | (<u64>load<u8>(p + 6) << 48);
}

/**
 * Recognises "METHOD SP URL SP HTTP/1.x CRLF" at the start of the payload; on success sets
 * URL_HASH = crc32(URL) and DESCF_REQUEST_LINE and returns where the header lines start, else
 * returns the payload start (the segment may continue a request begun in an earlier one).
 */
function parseRequestLine(desc: usize, p: usize, end: usize): usize {
  let i = p;
  while (i < end && i - p < MAX_METHOD && <u32>load<u8>(i) - 0x41 < 26) i++; // 'A'..'Z'
  if (i == p || i >= end || <u32>load<u8>(i) != SP) return p;
  const url = i + 1;
  let j = url;
  while (j < end && <u32>load<u8>(j) - 0x21 < 0x5e) j++; // visible ASCII '!'..'~'
  // j: SP "HTTP/1." digit CR LF
  if (j == url || j + 11 > end || <u32>load<u8>(j) != SP) return p;
  if (load7(j + 1) != HTTP_1_DOT || <u32>load<u8>(j + 8) - 0x30 >= 10) return p;
  if (<u32>load<u8>(j + 9) != CR || <u32>load<u8>(j + 10) != LF) return p;
  store<u32>(desc, np.crc32(url, <u32>(j - url), 0), DESC_URL_HASH);
  return j + 11;
}

/**
 * The Host field line at `line` ("Host:" matched): hash its value, trimmed of blanks and
 * lower-cased, when the whole line is in the segment. Returns whether it was hashed.
 */
function hashHost(desc: usize, line: usize, end: usize): bool {
  let v = line + 5;
  while (v < end && isSpace(<u32>load<u8>(v))) v++;
  let e = v;
  while (e < end && <u32>load<u8>(e) != CR && <u32>load<u8>(e) != LF) e++;
  if (e >= end) return false; // the value may continue in the next segment
  while (e > v && isSpace(<u32>load<u8>(e - 1))) e--;
  const len = <u32>(e - v);
  if (len > HOST_MAX) return false;
  for (let k: u32 = 0; k < len; k++) {
    const c = <u32>load<u8>(v + k);
    store<u8>(HOST_BUF + k, <u8>(c - 0x41 < 26 ? c | 0x20 : c));
  }
  store<u32>(desc, np.crc32(HOST_BUF, len, 0), DESC_HOST_HASH);
  return true;
}

/**
 * Scan the TCP payload of `desc` for a request line, a Host field and the end of the header block;
 * sets URL_HASH / HOST_HASH and DESCF_REQUEST_LINE / HOST / HEADERS_END. Every read stays inside the
 * payload; the work is linear in its length.
 */
export function parseHttpRequest(desc: usize): void {
  const frame = <usize>load<u32>(desc, DESC_BUF);
  const ip = frame + <usize>load<u16>(desc, DESC_L3);
  const p = frame + <usize>load<u16>(desc, DESC_PAYLOAD);
  const end = ip + <usize>load16be(ip, IP_TOTAL_LEN);
  let flags: u32 = 0;
  let line = parseRequestLine(desc, p, end);
  if (line != p) flags |= DESCF_REQUEST_LINE;
  while (line < end) {
    const c = <u32>load<u8>(line);
    if (c == CR && line + 1 < end && <u32>load<u8>(line + 1) == LF) {
      flags |= DESCF_HEADERS_END;
      break;
    }
    if (!(flags & DESCF_HOST) && line + 5 <= end) {
      const name = <u64>load<u32>(line) | (<u64>load<u8>(line + 4) << 32);
      if ((name | LOWER_5) == HOST_COLON && hashHost(desc, line, end)) flags |= DESCF_HOST;
    }
    while (line < end && <u32>load<u8>(line) != LF) line++;
    line++;
  }
  store<u32>(desc, load<u32>(desc, DESC_FLAGS) | flags, DESC_FLAGS);
}
