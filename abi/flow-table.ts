// Host side of the data plane's flow table (abi/layout.ts FLOW_ENTRY) over the shared memory bytes:
// the same set-associative placement as dataplane/lib/flow-table.ts, so the DP finds what the CP installs.
import { CAPACITIES, FLOW_ENTRY, FLOW_STATE, FLAGS, NO_FLOW, region, fieldOffsets } from "./layout.js";
import { decodeStruct, encodeStruct, enumValue, type StructValue } from "./codec.js";
import { npHash } from "./hash.js";

const MAX_FLOWS = CAPACITIES.MAX_FLOWS.value;
const FLOW_WAYS = CAPACITIES.FLOW_WAYS.value;
const BUCKETS = MAX_FLOWS / FLOW_WAYS;
const FLOWS_BASE = region("FLOWS").base;
const FIELD = fieldOffsets(FLOW_ENTRY);
const at = (name: string) => FIELD.get(name)!.offset;
const STATE_OFFSET = at("STATE");

export type FlowStateName = "FREE" | "ACTIVE" | "CLOSING" | "CLOSED";
const STATE_FREE = enumValue(FLOW_STATE, "FREE");
const flowFlag = (name: string) => 1 << FLAGS.find((f) => f.prefix === "FLOWF_")!.bits.findIndex((b) => b.name === name);
const FLOWF = { FIN_SEEN: flowFlag("FIN_SEEN"), RST_SEEN: flowFlag("RST_SEEN"), TS: flowFlag("TS"), SACK: flowFlag("SACK") };

/** A TCP 4-tuple as numbers: addresses as big-endian u32 values (10.0.0.1 = 0x0a000001), ports as numbers. */
export interface FlowKey {
  saddr: number;
  daddr: number;
  sport: number;
  dport: number;
}

/** What one direction of a splice does to a segment that matches `key`. */
export interface FlowDirection {
  key: FlowKey;
  /** The segment's addresses and ports after the rewrite. */
  rewrite: FlowKey;
  outPort: number;
  /** Ethernet destination on the out port (the next hop); the source becomes the out port's MAC. */
  nextHopMac: Uint8Array;
  /** Added (mod 2^32) to the sequence number. */
  seqDelta: number;
  /** Added (mod 2^32) to the acknowledgement number and to SACK block edges. */
  ackDelta: number;
  /** Timestamps negotiated on both sides: TSval += tsvalDelta, TSecr += tsecrDelta (mod 2^32). */
  timestamps?: { tsvalDelta: number; tsecrDelta: number };
  /** SACK permitted on both sides: translate SACK blocks with ackDelta. */
  sack?: boolean;
  /** Window rescale, -16..16: window << winShift (>> -winShift), clamped to 65535. Default 0. */
  winShift?: number;
}

export interface FlowEntryView extends FlowDirection {
  index: number;
  state: FlowStateName;
  finSeen: boolean;
  rstSeen: boolean;
  peer: number;
  packets: number;
  lastSeen: number;
}

export class FlowTableFullError extends Error {}

function checkMemory(mem: Uint8Array): void {
  if (mem.length < FLOWS_BASE + MAX_FLOWS * FLOW_ENTRY.size) {
    throw new RangeError(`flow table: memory of ${mem.length} bytes does not hold the FLOWS region (needs ${FLOWS_BASE + MAX_FLOWS * FLOW_ENTRY.size})`);
  }
}

function checkIndex(index: number): void {
  if (!Number.isInteger(index) || index < 0 || index >= MAX_FLOWS) throw new RangeError(`flow table: index ${index} outside 0..${MAX_FLOWS - 1}`);
}

const entryAddr = (index: number) => FLOWS_BASE + index * FLOW_ENTRY.size;
const stateOf = (mem: Uint8Array, index: number) => mem[entryAddr(index) + STATE_OFFSET];
const bswap32 = (v: number) => (((v & 0xff) << 24) | ((v & 0xff00) << 8) | ((v >>> 8) & 0xff00) | (v >>> 24)) >>> 0;

function keyText(k: FlowKey): string {
  const ip = (a: number) => [a >>> 24, (a >>> 16) & 0xff, (a >>> 8) & 0xff, a & 0xff].join(".");
  return `${ip(k.saddr)}:${k.sport} -> ${ip(k.daddr)}:${k.dport}`;
}

/**
 * The bucket the data plane probes for `key`: np.hash over the raw little-endian loads of the
 * packet's source address, destination address and port word, masked to the bucket count.
 */
export function flowBucket(key: FlowKey): number {
  const w0 = bswap32(key.saddr);
  const w1 = bswap32(key.daddr);
  const w2 = bswap32(((key.sport << 16) | key.dport) >>> 0);
  return npHash(w0, w1, w2) & (BUCKETS - 1);
}

function sameKey(mem: Uint8Array, index: number, key: FlowKey): boolean {
  const dv = new DataView(mem.buffer, mem.byteOffset + entryAddr(index), FLOW_ENTRY.size);
  return dv.getUint32(at("KEY_SADDR"), false) === key.saddr >>> 0 && dv.getUint32(at("KEY_DADDR"), false) === key.daddr >>> 0 &&
    dv.getUint16(at("KEY_SPORT"), false) === key.sport && dv.getUint16(at("KEY_DPORT"), false) === key.dport;
}

/** Index of the entry matching `key` (any state but FREE), or null. */
export function lookupFlow(mem: Uint8Array, key: FlowKey): number | null {
  checkMemory(mem);
  const first = flowBucket(key) * FLOW_WAYS;
  for (let i = first; i < first + FLOW_WAYS; i++) if (stateOf(mem, i) !== STATE_FREE && sameKey(mem, i, key)) return i;
  return null;
}

function checkKey(what: string, k: FlowKey): void {
  for (const [f, max] of [["saddr", 2 ** 32], ["daddr", 2 ** 32], ["sport", 65536], ["dport", 65536]] as const) {
    const v = k[f];
    if (!Number.isInteger(v) || v < 0 || v >= max) throw new RangeError(`flow table: ${what}.${f} = ${v} is not a valid ${f.endsWith("port") ? "port" : "IPv4 address (u32)"}`);
  }
}

function checkDirection(what: string, d: FlowDirection): void {
  checkKey(`${what}.key`, d.key);
  checkKey(`${what}.rewrite`, d.rewrite);
  if (!Number.isInteger(d.outPort) || d.outPort < 0 || d.outPort >= CAPACITIES.MAX_PORTS.value) throw new RangeError(`flow table: ${what}.outPort ${d.outPort} outside 0..${CAPACITIES.MAX_PORTS.value - 1}`);
  if (!(d.nextHopMac instanceof Uint8Array) || d.nextHopMac.length !== 6) throw new TypeError(`flow table: ${what}.nextHopMac must be 6 bytes`);
  const shift = d.winShift ?? 0;
  if (!Number.isInteger(shift) || shift < -16 || shift > 16) throw new RangeError(`flow table: ${what}.winShift ${shift} outside -16..16`);
}

function entryValue(d: FlowDirection, peer: number): StructValue {
  const u32 = (v: number) => v >>> 0;
  return {
    KEY_SADDR: u32(d.key.saddr), KEY_DADDR: u32(d.key.daddr), KEY_SPORT: d.key.sport, KEY_DPORT: d.key.dport,
    STATE: STATE_FREE, // made ACTIVE last, once every other field is in place
    FLAGS: (d.timestamps ? FLOWF.TS : 0) | (d.sack ? FLOWF.SACK : 0),
    OUT_PORT: d.outPort,
    WIN_SHIFT: (d.winShift ?? 0) & 0xff,
    NEW_SADDR: u32(d.rewrite.saddr), NEW_DADDR: u32(d.rewrite.daddr), NEW_SPORT: d.rewrite.sport, NEW_DPORT: d.rewrite.dport,
    SEQ_DELTA: u32(d.seqDelta), ACK_DELTA: u32(d.ackDelta),
    TSVAL_DELTA: u32(d.timestamps?.tsvalDelta ?? 0), TSECR_DELTA: u32(d.timestamps?.tsecrDelta ?? 0),
    NEW_DMAC: d.nextHopMac,
    PEER: peer, PACKETS: 0, LAST_SEEN: 0,
  };
}

function freeWays(mem: Uint8Array, key: FlowKey): number[] {
  const first = flowBucket(key) * FLOW_WAYS;
  const out: number[] = [];
  for (let i = first; i < first + FLOW_WAYS; i++) if (stateOf(mem, i) === STATE_FREE) out.push(i);
  return out;
}

/**
 * Install both directions of a splice (client->server `fwd`, server->client `rev`), cross-linked by
 * PEER. Throws FlowTableFullError ("flow table full ...") when a bucket has no free way, and an
 * Error when a key is already installed; in both cases nothing is written.
 */
export function installSplice(mem: Uint8Array, dirs: { fwd: FlowDirection; rev: FlowDirection }): { fwd: number; rev: number } {
  checkMemory(mem);
  checkDirection("fwd", dirs.fwd);
  checkDirection("rev", dirs.rev);
  for (const [what, d] of [["fwd", dirs.fwd], ["rev", dirs.rev]] as const) {
    const existing = lookupFlow(mem, d.key);
    if (existing !== null) throw new Error(`flow table: ${what} key ${keyText(d.key)} already installed at entry ${existing}; remove it first`);
  }
  const fwdFree = freeWays(mem, dirs.fwd.key);
  const fwd = fwdFree[0];
  const rev = freeWays(mem, dirs.rev.key).find((i) => i !== fwd);
  if (fwd === undefined || rev === undefined) {
    const [what, key] = fwd === undefined ? ["fwd", dirs.fwd.key] : ["rev", dirs.rev.key];
    throw new FlowTableFullError(`flow table full: bucket ${flowBucket(key)} of ${what} key ${keyText(key)} has no free way (${FLOW_WAYS} ways); remove closed flows or raise MAX_FLOWS`);
  }
  encodeStruct(FLOW_ENTRY, mem, entryAddr(fwd), entryValue(dirs.fwd, rev));
  encodeStruct(FLOW_ENTRY, mem, entryAddr(rev), entryValue(dirs.rev, fwd));
  const active = enumValue(FLOW_STATE, "ACTIVE");
  mem[entryAddr(fwd) + STATE_OFFSET] = active;
  mem[entryAddr(rev) + STATE_OFFSET] = active;
  return { fwd, rev };
}

/** Free entry `index` and its peer (both directions of the splice). */
export function removeFlow(mem: Uint8Array, index: number): void {
  checkMemory(mem);
  checkIndex(index);
  if (stateOf(mem, index) === STATE_FREE) throw new Error(`flow table: entry ${index} is already free`);
  const peer = new DataView(mem.buffer, mem.byteOffset + entryAddr(index), FLOW_ENTRY.size).getUint32(at("PEER"), true);
  // STATE first: the data plane stops matching before the rest of the entry is cleared.
  for (const i of [index, peer]) {
    if (i === NO_FLOW || i >= MAX_FLOWS) continue;
    mem[entryAddr(i) + STATE_OFFSET] = STATE_FREE;
  }
  for (const i of [index, peer]) {
    if (i === NO_FLOW || i >= MAX_FLOWS) continue;
    mem.fill(0, entryAddr(i), entryAddr(i) + FLOW_ENTRY.size);
  }
}

/** Set the state of entry `index` and its peer (e.g. CLOSED after a teardown, so late segments are dropped). */
export function setFlowState(mem: Uint8Array, index: number, state: Exclude<FlowStateName, "FREE">): void {
  checkMemory(mem);
  checkIndex(index);
  if (stateOf(mem, index) === STATE_FREE) throw new Error(`flow table: entry ${index} is free`);
  const peer = readFlow(mem, index).peer;
  for (const i of [index, peer]) if (i < MAX_FLOWS && stateOf(mem, i) !== STATE_FREE) mem[entryAddr(i) + STATE_OFFSET] = enumValue(FLOW_STATE, state);
}

/** Entry `index`, decoded. */
export function readFlow(mem: Uint8Array, index: number): FlowEntryView {
  checkMemory(mem);
  checkIndex(index);
  const v = decodeStruct(FLOW_ENTRY, mem, entryAddr(index));
  const n = (name: string) => v[name] as number;
  const flags = n("FLAGS");
  const shift = n("WIN_SHIFT");
  const view: FlowEntryView = {
    index,
    state: FLOW_STATE.members[n("STATE")]?.name as FlowStateName,
    key: { saddr: n("KEY_SADDR"), daddr: n("KEY_DADDR"), sport: n("KEY_SPORT"), dport: n("KEY_DPORT") },
    rewrite: { saddr: n("NEW_SADDR"), daddr: n("NEW_DADDR"), sport: n("NEW_SPORT"), dport: n("NEW_DPORT") },
    outPort: n("OUT_PORT"),
    nextHopMac: v.NEW_DMAC as Uint8Array,
    seqDelta: n("SEQ_DELTA"),
    ackDelta: n("ACK_DELTA"),
    sack: (flags & FLOWF.SACK) !== 0,
    winShift: shift >= 128 ? shift - 256 : shift,
    finSeen: (flags & FLOWF.FIN_SEEN) !== 0,
    rstSeen: (flags & FLOWF.RST_SEEN) !== 0,
    peer: n("PEER"),
    packets: n("PACKETS"),
    lastSeen: n("LAST_SEEN"),
  };
  if (flags & FLOWF.TS) view.timestamps = { tsvalDelta: n("TSVAL_DELTA"), tsecrDelta: n("TSECR_DELTA") };
  return view;
}
