// Messages on the scratch rings between the data plane and the control plane (RING_MSG in layout.ts):
// ring names, decoding, and the one rule for who gives a packet buffer back.
import { MSG_TYPE, NO_FLOW, REASON, RINGS, RING_MSG } from "./layout.js";
import { decodeStruct, type StructValue } from "./codec.js";

/** A decoded ring message; the enum fields carry their names from the declaration. */
export interface RingMessage {
  ring: string;
  type: string;
  inPort: number;
  reason: string;
  desc: number;
  len: number;
  payload: number;
  flow: number;
  urlHash: number;
  hostHash: number;
  flags: number;
  time: number;
  raw: StructValue;
}

/** The id of ring `name` (RINGS in layout.ts); throws for an unknown name. */
export function ringId(name: string): number {
  const i = RINGS.members.findIndex((m) => m.name === name);
  if (i < 0) throw new Error(`rings: no ring named ${name}`);
  return i;
}

/** The name of ring `id`, or RING_<id> for an id the declaration does not have. */
export function ringName(id: number): string {
  return RINGS.members[id]?.name ?? `RING_${id}`;
}

/** The name of drop/handling reason `n` (REASON in layout.ts), or REASON_<n>. */
export function reasonName(n: number): string {
  return REASON.members[n]?.name ?? `REASON_${n}`;
}

/** Decode one message of up to RING_MSG.size bytes taken off ring `ring` (shorter messages are zero-padded). */
export function decodeMessage(ring: number, bytes: Uint8Array): RingMessage {
  const padded = new Uint8Array(RING_MSG.size);
  padded.set(bytes.subarray(0, RING_MSG.size));
  const raw = decodeStruct(RING_MSG, padded);
  const type = raw.TYPE as number;
  return {
    ring: ringName(ring),
    type: MSG_TYPE.members[type]?.name ?? `MSG_TYPE_${type}`,
    inPort: raw.IN_PORT as number,
    reason: reasonName(raw.REASON as number),
    desc: raw.DESC as number,
    len: raw.LEN as number,
    payload: raw.PAYLOAD as number,
    flow: raw.FLOW as number,
    urlHash: raw.URL_HASH as number,
    hostHash: raw.HOST_HASH as number,
    flags: raw.FLAGS as number,
    time: raw.TIME as number,
    raw,
  };
}

/**
 * Who gives a packet buffer back (docs/ARCHITECTURE.md, "Packet buffers"). A stage that hands its packet
 * to the CP returns TO_CP and sends a message with FLOW = NO_FLOW (SYN, SEGMENT, UNKNOWN): the buffer then
 * belongs to the CP, which frees it exactly once, after copying what it needs. FIN/RST reports on spliced
 * flows carry the flow's index and refer to packets the data plane forwarded itself, so the CP never frees
 * those. Every other verdict returns the buffer to the free list when the packet leaves the pipeline.
 */
export function cpOwnsBuffer(msg: Pick<RingMessage, "flow">): boolean {
  return msg.flow === NO_FLOW;
}
