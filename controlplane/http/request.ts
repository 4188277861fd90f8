// HTTP/1.x request head (RFC 9112 2.2 message parsing, 3 request line, 5 field lines; RFC 9110 7.2 Host):
// find the end of the header block in the bytes gathered so far, tell garbage from an incomplete request
// early, and parse method, target, version, Host, Cookie and the field lines for the dispatching policy.
import { crc32 } from "../../abi/hash.js";

export interface HttpHeader {
  /** Field name lower-cased. */
  name: string;
  /** Field value with surrounding blanks removed. */
  value: string;
}

export interface HttpRequest {
  method: string;
  /** The request target as sent (origin form "/path?q", or absolute form). */
  url: string;
  version: "HTTP/1.0" | "HTTP/1.1";
  /** Host value lower-cased, when present. */
  host?: string;
  /** Cookie values joined with "; " (RFC 6265 5.4), when present. */
  cookie?: string;
  headers: HttpHeader[];
  /** Bytes of the request head, CRLF CRLF included. */
  headerBytes: number;
  /** CRC-32 of the URL, as the data plane's URL_HASH. */
  urlHash: number;
  /** CRC-32 of the lower-cased Host value (0 without Host), as the data plane's HOST_HASH. */
  hostHash: number;
  /** Whether the client asked to keep the connection open (HTTP/1.1 default, HTTP/1.0 "Connection: keep-alive"). */
  keepAlive: boolean;
  /** The client's IPv4 address as a big-endian u32 (set by the CP, for source-address hashing). */
  clientIp?: number;
}

export type HeadScan =
  | { kind: "incomplete" }
  | { kind: "complete"; headEnd: number }
  | { kind: "too_large" }
  | { kind: "garbage"; why: string };

const CR = 0x0d;
const LF = 0x0a;
const SP = 0x20;
const HT = 0x09;
/** Longest method token accepted (the data plane's limit too). */
export const MAX_METHOD = 16;

const isUpper = (c: number) => c >= 0x41 && c <= 0x5a;
const isVisible = (c: number) => c >= 0x21 && c <= 0x7e;
// RFC 9110 5.6.2 tchar
const TCHAR = new Set(Array.from("!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ", (c) => c.charCodeAt(0)));

/** Offset just past the first CRLF CRLF at or after `from - 3`, or -1. */
function headerEnd(b: Uint8Array, limit: number): number {
  const n = Math.min(b.length, limit);
  for (let i = 3; i < n; i++) if (b[i] === LF && b[i - 1] === CR && b[i - 2] === LF && b[i - 3] === CR) return i + 1;
  return -1;
}

/**
 * Where the request head stands in the client's first bytes: garbage as soon as the request line
 * cannot be one (method not an upper-case token, a control byte in the target, a bad version), too large
 * when `maxHeaderBytes` bytes hold no CRLF CRLF, complete with the head's length.
 */
export function scanRequestHead(b: Uint8Array, maxHeaderBytes: number): HeadScan {
  let i = 0;
  while (i < b.length && i < MAX_METHOD && isUpper(b[i])) i++;
  if (i < b.length) {
    if (i === 0 || b[i] !== SP) return { kind: "garbage", why: "request does not start with a method token and a space" };
    let j = i + 1;
    while (j < b.length && isVisible(b[j])) j++;
    if (j < b.length) {
      if (j === i + 1 || b[j] !== SP) return { kind: "garbage", why: "request target missing or holds a control byte" };
      const version = "HTTP/1.";
      for (let k = 0; k < version.length + 3 && j + 1 + k < b.length; k++) {
        const c = b[j + 1 + k];
        const ok = k < version.length ? c === version.charCodeAt(k) : k === version.length ? c === 0x30 || c === 0x31 : k === version.length + 1 ? c === CR : c === LF;
        if (!ok) return { kind: "garbage", why: "request line does not end in HTTP/1.0 or HTTP/1.1 and CRLF" };
      }
    }
  }
  const end = headerEnd(b, maxHeaderBytes);
  if (end > 0) return { kind: "complete", headEnd: end };
  if (b.length >= maxHeaderBytes) return { kind: "too_large" };
  return { kind: "incomplete" };
}

const ascii = (b: Uint8Array, from: number, to: number) => String.fromCharCode(...b.subarray(from, to));

/**
 * Parse a complete request head (as located by scanRequestHead). `hints` are the data plane's URL_HASH /
 * HOST_HASH when it saw the request line / Host in one segment (0 = not given): they save the CRC.
 * Returns an error text for a head RFC 9112 says to answer with 400.
 */
/** The Host value's bytes as sent (latin1 round trip of the parsed value). */
function hostValueBytes(h: HttpHeader): Uint8Array {
  return Uint8Array.from(h.value, (c) => c.charCodeAt(0));
}

/**
 * ASCII letters lower-cased, every other byte as it is: the data plane's HOST_HASH is the CRC-32 of the
 * value lower-cased this way (dataplane/lib/http-request.ts hashHost), so the CP's own hash of a value the
 * data plane did not report (longer than 255 bytes, or split over segments) is the same function.
 */
function asciiLower(bytes: Uint8Array): Uint8Array {
  return bytes.map((c) => (c >= 0x41 && c <= 0x5a ? c | 0x20 : c));
}

export function parseRequestHead(head: Uint8Array, hints: { urlHash?: number; hostHash?: number } = {}): HttpRequest | { error: string } {
  const lineEnd = head.indexOf(LF);
  if (lineEnd < 1 || head[lineEnd - 1] !== CR) return { error: "request line does not end in CRLF" };
  const line = ascii(head, 0, lineEnd - 1);
  const m = /^([A-Z]{1,16}) ([!-~]+) (HTTP\/1\.[01])$/.exec(line);
  if (!m) return { error: `bad request line '${line.slice(0, 80)}'` };
  const [, method, url, version] = m;
  const headers: HttpHeader[] = [];
  let at = lineEnd + 1;
  for (;;) {
    const lf = head.indexOf(LF, at);
    if (lf < 0 || head[lf - 1] !== CR) return { error: "field line does not end in CRLF" };
    if (lf === at + 1) break; // the empty line
    if (head[at] === SP || head[at] === HT) return { error: "obsolete line folding (RFC 9112 5.2)" };
    let colon = at;
    while (colon < lf - 1 && TCHAR.has(head[colon])) colon++;
    if (colon === at || head[colon] !== 0x3a) return { error: `bad field line '${ascii(head, at, Math.min(lf - 1, at + 80))}'` };
    let v0 = colon + 1;
    let v1 = lf - 1;
    while (v0 < v1 && (head[v0] === SP || head[v0] === HT)) v0++;
    while (v1 > v0 && (head[v1 - 1] === SP || head[v1 - 1] === HT)) v1--;
    for (let k = v0; k < v1; k++) if (head[k] < 0x20 && head[k] !== HT) return { error: "control byte in a field value" };
    headers.push({ name: ascii(head, at, colon).toLowerCase(), value: new TextDecoder("latin1").decode(head.subarray(v0, v1)) });
    at = lf + 1;
  }
  const hosts = headers.filter((h) => h.name === "host");
  if (hosts.length > 1) return { error: "more than one Host field (RFC 9110 7.2)" };
  if (version === "HTTP/1.1" && hosts.length === 0) return { error: "HTTP/1.1 request without Host (RFC 9112 3.2)" };
  const host = hosts[0]?.value.toLowerCase();
  const cookies = headers.filter((h) => h.name === "cookie").map((h) => h.value);
  const connection = headers.filter((h) => h.name === "connection").flatMap((h) => h.value.toLowerCase().split(/\s*,\s*/));
  const enc = new TextEncoder();
  const req: HttpRequest = {
    method, url, version: version as HttpRequest["version"], headers, headerBytes: at + 2,
    urlHash: hints.urlHash || crc32(enc.encode(url)),
    hostHash: host === undefined ? 0 : hints.hostHash || crc32(asciiLower(hostValueBytes(hosts[0]))),
    keepAlive: version === "HTTP/1.1" ? !connection.includes("close") : connection.includes("keep-alive"),
  };
  if (host !== undefined) req.host = host;
  if (cookies.length > 0) req.cookie = cookies.join("; ");
  return req;
}
