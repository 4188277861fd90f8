// The one declaration of every layout the data plane shares with the host: the memory map,
// packet descriptors, flow-table entries, ring messages, verdicts, drop reasons and counters.
// dataplane/lib/layout.ts is generated from this file (npm run gen:layout) and a test checks it is
// current; the TypeScript codecs (abi/codec.ts) read these declarations directly.
import { createHash } from "node:crypto";

/**
 * Field kinds. Numbers (u8/u16/u32) are little-endian host values, as Wasm stores them.
 * be16/be32/mac hold raw bytes in network order, exactly as they appear in a packet, so the
 * data plane compares and copies them without byte swapping; codecs present be16/be32 as numbers.
 */
export type FieldKind = "u8" | "u16" | "u32" | "be16" | "be32" | "mac";

export const FIELD_SIZE: Record<FieldKind, number> = { u8: 1, u16: 2, u32: 4, be16: 2, be32: 4, mac: 6 };

export interface FieldDecl {
  name: string;
  kind: FieldKind;
  doc: string;
}

export interface StructDecl {
  /** Prefix of the generated AssemblyScript constants, e.g. FLOW_ -> FLOW_KEY_SADDR. */
  prefix: string;
  doc: string;
  /** Total size in bytes; fields are laid out in order, each at its natural alignment. */
  size: number;
  fields: FieldDecl[];
}

export interface RegionDecl {
  name: string;
  /** Which NP memory it models; the simulator charges that memory's latency. */
  memory: "local" | "scratch" | "sram" | "dram";
  base: number;
  size: number;
  doc: string;
}

export interface EnumDecl {
  prefix: string;
  doc: string;
  /** Values are the index in this list, unless `first` is set. */
  first?: number;
  members: { name: string; text: string }[];
}

// ---------------------------------------------------------------------------------------------
// Capacities

export const CAPACITIES = {
  MAX_FLOWS: { value: 32768, doc: "flow-table entries (one per direction of a spliced connection); power of two; 2 MiB of SRAM" },
  FLOW_WAYS: { value: 8, doc: "entries per hash bucket (set-associative lookup, no chains): 8 ways keep a bucket overflow below one in 10^8 installs at 10% occupancy" },
  MAX_BUFFERS: { value: 1024, doc: "packet buffers in DRAM" },
  BUFFER_SIZE: { value: 2048, doc: "bytes per packet buffer (one Ethernet frame up to 1518 B plus headroom)" },
  MAX_PORTS: { value: 8, doc: "switch ports" },
  MAX_SERVICES: { value: 8, doc: "virtual services (TCP ports on the VIP)" },
  MAX_IMAGES: { value: 8, doc: "data-plane images in one firmware (one static-data slot each)" },
  IMAGE_SLOT_SIZE: { value: 8192, doc: "bytes of static data and scratch per image slot" },
  MAX_REASONS: { value: 64, doc: "drop-reason counter slots" },
  MAX_COUNTERS: { value: 32, doc: "event counter slots" },
} as const;

const C = (k: keyof typeof CAPACITIES) => CAPACITIES[k].value;

// ---------------------------------------------------------------------------------------------
// Memory map: one shared linear memory, imported by every image as np.memory.

export const PAGE_SIZE = 65536;
export const MEMORY_PAGES = 128; // 8 MiB

export const REGIONS: RegionDecl[] = [
  { name: "IMAGE_DATA", memory: "local", base: 0x0001_0000, size: C("MAX_IMAGES") * C("IMAGE_SLOT_SIZE"), doc: "per-image static data (lookup tables); image i starts at base + i * IMAGE_SLOT_SIZE" },
  { name: "CONFIG", memory: "scratch", base: 0x0002_0000, size: 0x1000, doc: "switch configuration written by the CP (Config struct)" },
  { name: "COUNTERS", memory: "scratch", base: 0x0002_1000, size: 0x1000, doc: "drop-reason counters (u32 each, by Reason) then event counters (by Counter)" },
  { name: "SCRATCH_MSG", memory: "scratch", base: 0x0002_2000, size: 0x2000, doc: "per-image ring message staging: image i at base + i * 1024" },
  { name: "DESCRIPTORS", memory: "sram", base: 0x0010_0000, size: C("MAX_BUFFERS") * 32, doc: "packet descriptors (PacketDesc), one per buffer" },
  { name: "FLOWS", memory: "sram", base: 0x0020_0000, size: C("MAX_FLOWS") * 64, doc: "flow table (FlowEntry x MAX_FLOWS), bucket b holds entries [b*FLOW_WAYS, (b+1)*FLOW_WAYS)" },
  { name: "BUFFERS", memory: "dram", base: 0x0040_0000, size: C("MAX_BUFFERS") * C("BUFFER_SIZE"), doc: "packet buffers" },
  { name: "SIM_TRACE", memory: "local", base: 0x007f_0000, size: 0x1_0000, doc: "simulator only: the timing trace the simulator's instrumentation writes; images never use it" },
];

// ---------------------------------------------------------------------------------------------
// Structures

export const PACKET_DESC: StructDecl = {
  prefix: "DESC_",
  doc: "Packet descriptor in SRAM: the host fills buf/len/inPort, the stages fill the rest.",
  size: 32,
  fields: [
    { name: "BUF", kind: "u32", doc: "address of the frame's first byte (Ethernet header)" },
    { name: "LEN", kind: "u16", doc: "frame length in bytes" },
    { name: "IN_PORT", kind: "u8", doc: "port the frame arrived on" },
    { name: "OUT_PORT", kind: "u8", doc: "port to send on (FORWARD)" },
    { name: "L3", kind: "u16", doc: "offset of the IP header from BUF" },
    { name: "L4", kind: "u16", doc: "offset of the TCP/ICMP header from BUF" },
    { name: "PAYLOAD", kind: "u16", doc: "offset of the TCP payload from BUF" },
    { name: "REASON", kind: "u16", doc: "Reason of a DROP verdict (0 otherwise)" },
    { name: "FLOW", kind: "u32", doc: "flow-table index found by classify, or NO_FLOW" },
    { name: "URL_HASH", kind: "u32", doc: "CRC-32 of the request URL when the segment holds a complete request line, else 0" },
    { name: "HOST_HASH", kind: "u32", doc: "CRC-32 of the lower-cased Host header value when present in the segment, else 0" },
    { name: "FLAGS", kind: "u32", doc: "DescFlag bits" },
  ],
};

export const FLOW_ENTRY: StructDecl = {
  prefix: "FLOW_",
  doc: "One direction of a spliced connection: match on the arriving 4-tuple, rewrite to the outgoing one.",
  size: 64,
  fields: [
    { name: "KEY_SADDR", kind: "be32", doc: "match: IPv4 source address" },
    { name: "KEY_DADDR", kind: "be32", doc: "match: IPv4 destination address" },
    { name: "KEY_SPORT", kind: "be16", doc: "match: TCP source port" },
    { name: "KEY_DPORT", kind: "be16", doc: "match: TCP destination port" },
    { name: "STATE", kind: "u8", doc: "FlowState" },
    { name: "FLAGS", kind: "u8", doc: "FlowFlag bits" },
    { name: "OUT_PORT", kind: "u8", doc: "port to forward on" },
    { name: "WIN_SHIFT", kind: "u8", doc: "window rescale as i8: window' = shift >= 0 ? window << shift : window >> -shift (clamped to 65535)" },
    { name: "NEW_SADDR", kind: "be32", doc: "rewrite: IPv4 source address" },
    { name: "NEW_DADDR", kind: "be32", doc: "rewrite: IPv4 destination address" },
    { name: "NEW_SPORT", kind: "be16", doc: "rewrite: TCP source port" },
    { name: "NEW_DPORT", kind: "be16", doc: "rewrite: TCP destination port" },
    { name: "SEQ_DELTA", kind: "u32", doc: "added (mod 2^32) to the sequence number" },
    { name: "ACK_DELTA", kind: "u32", doc: "added (mod 2^32) to the acknowledgement number and to SACK block edges" },
    { name: "TSVAL_DELTA", kind: "u32", doc: "added (mod 2^32) to the timestamp option's TSval" },
    { name: "TSECR_DELTA", kind: "u32", doc: "added (mod 2^32) to the timestamp option's TSecr" },
    { name: "NEW_DMAC", kind: "mac", doc: "rewrite: Ethernet destination (next hop); the source is the out port's MAC" },
    { name: "PEER", kind: "u32", doc: "index of the entry for the other direction" },
    { name: "PACKETS", kind: "u32", doc: "segments with payload forwarded by this entry (0 on the server side: no response byte yet)" },
    { name: "LAST_SEEN", kind: "u32", doc: "np timestamp() of the last packet" },
  ],
};

export const RING_MSG: StructDecl = {
  prefix: "MSG_",
  doc: "Message on a scratch ring between data plane and control plane.",
  size: 32,
  fields: [
    { name: "TYPE", kind: "u8", doc: "MsgType" },
    { name: "IN_PORT", kind: "u8", doc: "port the packet arrived on" },
    { name: "REASON", kind: "u16", doc: "why the DP sent it (Reason or 0)" },
    { name: "DESC", kind: "u32", doc: "descriptor address of the packet (the CP owns the buffer until it frees it)" },
    { name: "LEN", kind: "u16", doc: "frame length" },
    { name: "PAYLOAD", kind: "u16", doc: "offset of the TCP payload in the frame" },
    { name: "FLOW", kind: "u32", doc: "flow index, or NO_FLOW" },
    { name: "URL_HASH", kind: "u32", doc: "CRC-32 of the request URL (complete request line in the segment), else 0" },
    { name: "HOST_HASH", kind: "u32", doc: "CRC-32 of the lower-cased Host value, else 0" },
    { name: "FLAGS", kind: "u32", doc: "DescFlag bits of the packet" },
    { name: "TIME", kind: "u32", doc: "np timestamp() when sent" },
  ],
};

export const CONFIG: StructDecl = {
  prefix: "CFG_",
  doc: "Switch configuration in scratch, written by the CP before traffic and on changes.",
  size: 128,
  fields: [
    { name: "VIP", kind: "be32", doc: "the virtual IP address clients connect to" },
    { name: "LOCAL_IP", kind: "be32", doc: "the switch's address on the server side (source of spliced server-bound packets)" },
    { name: "NUM_PORTS", kind: "u8", doc: "ports in use (<= MAX_PORTS)" },
    { name: "NUM_SERVICES", kind: "u8", doc: "entries used in SERVICE_PORTS" },
    { name: "CHECK_TCP_CSUM", kind: "u8", doc: "1: verify the TCP checksum of arriving segments" },
    { name: "PAD0", kind: "u8", doc: "reserved" },
    { name: "SERVICE_PORT0", kind: "be16", doc: "virtual service ports 0..7 (TCP port on the VIP)" },
    { name: "SERVICE_PORT1", kind: "be16", doc: "" },
    { name: "SERVICE_PORT2", kind: "be16", doc: "" },
    { name: "SERVICE_PORT3", kind: "be16", doc: "" },
    { name: "SERVICE_PORT4", kind: "be16", doc: "" },
    { name: "SERVICE_PORT5", kind: "be16", doc: "" },
    { name: "SERVICE_PORT6", kind: "be16", doc: "" },
    { name: "SERVICE_PORT7", kind: "be16", doc: "" },
    { name: "PORT_MAC0", kind: "mac", doc: "MAC address of ports 0..7" },
    { name: "PORT_MAC1", kind: "mac", doc: "" },
    { name: "PORT_MAC2", kind: "mac", doc: "" },
    { name: "PORT_MAC3", kind: "mac", doc: "" },
    { name: "PORT_MAC4", kind: "mac", doc: "" },
    { name: "PORT_MAC5", kind: "mac", doc: "" },
    { name: "PORT_MAC6", kind: "mac", doc: "" },
    { name: "PORT_MAC7", kind: "mac", doc: "" },
  ],
};

export const STRUCTS: StructDecl[] = [PACKET_DESC, FLOW_ENTRY, RING_MSG, CONFIG];

// ---------------------------------------------------------------------------------------------
// Enumerations

export const VERDICT: EnumDecl = {
  prefix: "VERDICT_",
  doc: "What process() returns. Inside an image a stage returns CONTINUE (-1) or one of these.",
  members: [
    { name: "DROP", text: "dropped; DESC_REASON says why" },
    { name: "FORWARD", text: "send the (rewritten) frame on DESC_OUT_PORT" },
    { name: "TO_CP", text: "a message was put on the exception ring; the CP owns the buffer" },
    { name: "NEXT", text: "hand the descriptor to the next pipeline stage (classify -> splice)" },
  ],
};

export const REASON: EnumDecl = {
  prefix: "REASON_",
  doc: "Why a packet was dropped (or sent to the CP). One counter per reason in COUNTERS.",
  members: [
    { name: "NONE", text: "no reason" },
    { name: "ETH_TRUNCATED", text: "frame shorter than an Ethernet header" },
    { name: "ETH_UNSUPPORTED", text: "EtherType neither IPv4 nor ARP" },
    { name: "ARP_TRUNCATED", text: "ARP packet too short" },
    { name: "ARP_UNSUPPORTED", text: "ARP not Ethernet/IPv4 or not a request" },
    { name: "ARP_NOT_FOR_US", text: "ARP request for another address" },
    { name: "IP_TRUNCATED", text: "frame shorter than the IPv4 header" },
    { name: "IP_BAD_VERSION", text: "IP version is not 4" },
    { name: "IP_BAD_HLEN", text: "IPv4 header length (IHL) below 5" },
    { name: "IP_BAD_TOTAL_LEN", text: "IPv4 total length shorter than the header or past the frame" },
    { name: "IP_OPTIONS", text: "IPv4 options present (not handled on the fast path)" },
    { name: "IP_FRAGMENT", text: "IPv4 fragment" },
    { name: "IP_BAD_CHECKSUM", text: "IPv4 header checksum wrong" },
    { name: "IP_TTL_EXPIRED", text: "TTL would reach zero" },
    { name: "IP_NOT_FOR_US", text: "destination is neither the VIP nor a spliced flow" },
    { name: "IP_UNSUPPORTED_PROTO", text: "IP protocol neither TCP nor ICMP" },
    { name: "ICMP_TRUNCATED", text: "ICMP message too short" },
    { name: "ICMP_BAD_CHECKSUM", text: "ICMP checksum wrong" },
    { name: "ICMP_UNSUPPORTED", text: "ICMP type other than echo request" },
    { name: "TCP_TRUNCATED", text: "segment shorter than the TCP header" },
    { name: "TCP_BAD_DOFF", text: "TCP data offset below 5 or past the segment" },
    { name: "TCP_BAD_OPTION", text: "TCP option with length 0/1 or running past the header" },
    { name: "TCP_BAD_CHECKSUM", text: "TCP checksum wrong" },
    { name: "TCP_BAD_FLAGS", text: "impossible TCP flag set (SYN+FIN, SYN+RST, no flags, ...)" },
    { name: "TCP_NO_SERVICE", text: "TCP to the VIP on a port that is not a virtual service" },
    { name: "TCP_CLOSED_FLOW", text: "segment for a flow that is closed" },
    { name: "RING_FULL", text: "exception ring to the CP full" },
    { name: "TRAP", text: "the image trapped on this packet (counted by the host)" },
  ],
};

export const COUNTER: EnumDecl = {
  prefix: "COUNTER_",
  doc: "Event counters in COUNTERS, after the reason counters.",
  members: [
    { name: "RX", text: "frames processed by classify" },
    { name: "TO_CP", text: "messages sent to the CP" },
    { name: "SPLICED", text: "segments forwarded by splice" },
    { name: "ARP_REPLIES", text: "ARP replies sent" },
    { name: "ICMP_REPLIES", text: "ICMP echo replies sent" },
    { name: "TEARDOWNS", text: "FIN/RST reports sent to the CP" },
  ],
};

export const MSG_TYPE: EnumDecl = {
  prefix: "MSG_TYPE_",
  doc: "Type of a ring message.",
  members: [
    { name: "NONE", text: "empty" },
    { name: "SYN", text: "SYN to a virtual service (the CP answers with a SYN cookie)" },
    { name: "SEGMENT", text: "segment of a connection not yet spliced (handshake ACK, request bytes)" },
    { name: "FIN", text: "FIN on a spliced flow (forwarded too)" },
    { name: "RST", text: "RST on a spliced flow (forwarded too)" },
    { name: "UNKNOWN", text: "anything else the CP should see" },
  ],
};

export const FLOW_STATE: EnumDecl = {
  prefix: "FLOW_STATE_",
  doc: "State of a flow-table entry.",
  members: [
    { name: "FREE", text: "unused" },
    { name: "ACTIVE", text: "spliced, forwarding" },
    { name: "CLOSING", text: "FIN or RST seen; forwarding until the CP removes it" },
    { name: "CLOSED", text: "closed: segments are dropped" },
  ],
};

export const RINGS: EnumDecl = {
  prefix: "RING_",
  doc: "Scratch rings.",
  members: [
    { name: "TO_CP", text: "exception ring, data plane -> control plane" },
    { name: "FROM_CP", text: "control plane -> data plane (frames to send)" },
    { name: "CLASSIFY_TO_SPLICE", text: "pipeline ring between the classify and splice stages" },
  ],
};

export const ENUMS: EnumDecl[] = [VERDICT, REASON, COUNTER, MSG_TYPE, FLOW_STATE, RINGS];

/** Bit flags. */
export const FLAGS: { prefix: string; doc: string; bits: { name: string; text: string }[] }[] = [
  {
    prefix: "FLOWF_",
    doc: "FlowEntry FLAGS bits",
    bits: [
      { name: "FIN_SEEN", text: "a FIN went through this direction" },
      { name: "RST_SEEN", text: "an RST went through this direction" },
      { name: "TS", text: "timestamps negotiated: translate TSval/TSecr" },
      { name: "SACK", text: "SACK permitted: translate SACK blocks" },
    ],
  },
  {
    prefix: "DESCF_",
    doc: "PacketDesc / ring message FLAGS bits",
    bits: [
      { name: "SYN", text: "TCP SYN" },
      { name: "ACK", text: "TCP ACK" },
      { name: "FIN", text: "TCP FIN" },
      { name: "RST", text: "TCP RST" },
      { name: "PSH", text: "TCP PSH" },
      { name: "HAS_PAYLOAD", text: "the segment carries data" },
      { name: "REQUEST_LINE", text: "a complete HTTP request line is in the segment (URL_HASH valid)" },
      { name: "HOST", text: "a Host header is in the segment (HOST_HASH valid)" },
      { name: "HEADERS_END", text: "the segment holds the end of the HTTP header block (CRLF CRLF)" },
    ],
  },
];

export const NO_FLOW = 0xffff_ffff;

/** The memory-map region named `name`; throws when the declaration has none. */
export function region(name: string): RegionDecl {
  const r = REGIONS.find((x) => x.name === name);
  if (!r) throw new Error(`layout has no region ${name}`);
  return r;
}

/** Byte offset of every field of a struct, at natural alignment; throws on overlap or overflow. */
export function fieldOffsets(s: StructDecl): Map<string, { offset: number; kind: FieldKind }> {
  const out = new Map<string, { offset: number; kind: FieldKind }>();
  let at = 0;
  for (const f of s.fields) {
    const size = FIELD_SIZE[f.kind];
    const align = f.kind === "mac" ? 2 : size;
    at = Math.ceil(at / align) * align;
    out.set(f.name, { offset: at, kind: f.kind });
    at += size;
  }
  if (at > s.size) throw new Error(`layout: struct ${s.prefix} needs ${at} bytes but declares ${s.size}`);
  return out;
}

/**
 * Fingerprint of everything a running image shares with the control plane and the next image: the
 * memory map, the structs, the enums and flags and the capacities. Two images with the same
 * fingerprint read the same tables the same way, so a device can swap one for the other and keep its
 * spliced connections. Doc text is left out: rewording a comment changes nothing in memory.
 */
export function layoutFingerprint(): string {
  const strip = (v: unknown): unknown =>
    Array.isArray(v) ? v.map(strip)
      : v && typeof v === "object" ? Object.fromEntries(Object.entries(v).filter(([k]) => k !== "doc" && k !== "text").map(([k, x]) => [k, strip(x)]))
        : v;
  const decl = { MEMORY_PAGES, CAPACITIES, REGIONS, STRUCTS, ENUMS, FLAGS, NO_FLOW };
  return createHash("sha256").update(JSON.stringify(strip(decl))).digest("hex");
}
