// PTF-style packet masks: name the fields a device may rewrite ('ipv4.ttl', 'tcp.checksum', ...)
// so a test compares exactly the bytes that matter, with a hex diff that names differing fields.
import { decode } from "./decode.js";
import { hexDiff } from "./hex.js";

/**
 * Fields the device may rewrite, PTF style: 'eth.src', 'ipv4.ttl', 'ipv4.checksum', 'tcp.seq',
 * 'tcp.options', 'icmp.checksum', 'arp.sha', 'payload', ... (see FIELD_RANGES), or raw byte
 * ranges 'bytes:START-END' (END exclusive). Offsets are taken from the expected frame.
 */
export type Mask = string[];

type Range = [start: number, end: number];

/** Byte range of each maskable field relative to its header; 'options' end at the header length. */
const FIELD_RANGES: Record<string, Record<string, Range>> = {
  eth: { dst: [0, 6], src: [6, 12], type: [12, 14] },
  arp: { htype: [0, 2], ptype: [2, 4], hlen: [4, 5], plen: [5, 6], op: [6, 8], sha: [8, 14], spa: [14, 18], tha: [18, 24], tpa: [24, 28] },
  ipv4: { version: [0, 1], ihl: [0, 1], tos: [1, 2], totalLength: [2, 4], id: [4, 6], flags: [6, 8], fragOffset: [6, 8], ttl: [8, 9], proto: [9, 10], checksum: [10, 12], src: [12, 16], dst: [16, 20], options: [20, -1] },
  tcp: { sport: [0, 2], dport: [2, 4], seq: [4, 8], ack: [8, 12], dataOffset: [12, 13], flags: [13, 14], win: [14, 16], checksum: [16, 18], urg: [18, 20], options: [20, -1] },
  icmp: { type: [0, 1], code: [1, 2], checksum: [2, 4], id: [4, 6], seq: [6, 8], data: [8, -2] },
  udp: { sport: [0, 2], dport: [2, 4], length: [4, 6], checksum: [6, 8] },
};

interface FrameLayout {
  starts: Record<string, number | undefined>;
  ends: Record<string, number | undefined>;
  length: number;
}

function layoutOf(frame: Uint8Array): FrameLayout {
  const d = decode(frame);
  const l3 = d.offsets.l3;
  const l4 = d.offsets.l4;
  const starts: FrameLayout["starts"] = { eth: d.eth ? 0 : undefined, arp: d.arp ? l3 : undefined, ipv4: d.ipv4 ? l3 : undefined };
  const ends: FrameLayout["ends"] = {};
  if (d.ipv4 && l3 !== undefined) ends.ipv4 = l3 + d.ipv4.ihl * 4;
  if (d.tcp) {
    starts.tcp = l4;
    ends.tcp = d.offsets.payload;
  }
  if (d.icmp) {
    starts.icmp = l4;
    ends.icmp = frame.length;
  }
  if (d.udp) starts.udp = l4;
  starts.payload = d.offsets.payload;
  return { starts, ends, length: frame.length };
}

function maskRange(name: string, layout: FrameLayout): Range {
  const raw = /^bytes:(\d+)-(\d+)$/.exec(name);
  if (raw) return [Number(raw[1]), Number(raw[2])];
  if (name === "payload") {
    const s = layout.starts.payload;
    if (s === undefined) throw new Error(`mask '${name}': the expected frame has no payload offset`);
    return [s, layout.length];
  }
  const [header, field] = name.split(".");
  const range = FIELD_RANGES[header]?.[field];
  if (!range) throw new Error(`mask '${name}': unknown field (known: ${Object.entries(FIELD_RANGES).flatMap(([h, fs]) => Object.keys(fs).map((f) => `${h}.${f}`)).join(", ")}, payload, bytes:A-B)`);
  const start = layout.starts[header];
  if (start === undefined) throw new Error(`mask '${name}': the expected frame has no ${header} header`);
  const end = range[1] === -1 || range[1] === -2 ? layout.ends[header] ?? layout.length : start + range[1];
  return [start + range[0], end];
}

/** Per-byte ignore flags for `mask` over `frame` (the expected frame). */
export function maskBytes(frame: Uint8Array, mask: Mask = []): boolean[] {
  const ignored = new Array<boolean>(frame.length).fill(false);
  const layout = layoutOf(frame);
  for (const name of mask) {
    const [a, b] = maskRange(name, layout);
    for (let i = a; i < Math.min(b, frame.length); i++) ignored[i] = true;
  }
  return ignored;
}

/** Name of the field at `offset` of `frame`, for diffs ('ipv4.ttl', 'tcp.checksum', 'payload[3]'). */
export function fieldAt(frame: Uint8Array, offset: number): string {
  const layout = layoutOf(frame);
  let best: string | undefined;
  for (const [header, fields] of Object.entries(FIELD_RANGES)) {
    const start = layout.starts[header];
    if (start === undefined) continue;
    for (const [field, [a, b]] of Object.entries(fields)) {
      const end = b < 0 ? layout.ends[header] ?? layout.length : start + b;
      if (offset >= start + a && offset < end) {
        best = `${header}.${field}`;
        break;
      }
    }
    if (best) return best;
  }
  const p = layout.starts.payload;
  if (p !== undefined && offset >= p) return `payload[${offset - p}]`;
  return `byte ${offset}`;
}

/** Compare `actual` with `expected` under `mask`; undefined when equal, else a readable diff. */
export function compareFrames(expected: Uint8Array, actual: Uint8Array, mask?: Mask): string | undefined {
  const ignored = maskBytes(expected, mask);
  let same = expected.length === actual.length;
  for (let i = 0; same && i < expected.length; i++) if (!ignored[i] && expected[i] !== actual[i]) same = false;
  if (same) return undefined;
  const lengths = expected.length === actual.length ? "" : `length: expected ${expected.length}, actual ${actual.length}\n`;
  return lengths + hexDiff(expected, actual, ignored, (i) => fieldAt(expected, i));
}

