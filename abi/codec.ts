// Reads and writes the shared structures (abi/layout.ts) in a byte buffer, for the
// control plane, the simulator and tests. Driven by the declaration itself, so it cannot drift.
import { FIELD_SIZE, fieldOffsets, type FieldKind, type StructDecl } from "./layout.js";

export type FieldValue = number | Uint8Array;
export type StructValue = Record<string, FieldValue>;

function view(buf: Uint8Array): DataView {
  return new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
}

function readField(dv: DataView, buf: Uint8Array, at: number, kind: FieldKind): FieldValue {
  switch (kind) {
    case "u8": return dv.getUint8(at);
    case "u16": return dv.getUint16(at, true);
    case "u32": return dv.getUint32(at, true);
    case "be16": return dv.getUint16(at, false);
    case "be32": return dv.getUint32(at, false);
    case "mac": return buf.slice(at, at + 6);
  }
}

function writeField(dv: DataView, buf: Uint8Array, at: number, kind: FieldKind, v: FieldValue, name: string): void {
  if (kind === "mac") {
    if (!(v instanceof Uint8Array) || v.length !== 6) throw new TypeError(`field ${name}: expected 6 bytes of MAC`);
    buf.set(v, at);
    return;
  }
  if (typeof v !== "number" || !Number.isInteger(v)) throw new TypeError(`field ${name}: expected an integer`);
  const max = 2 ** (8 * FIELD_SIZE[kind]);
  if (v < 0 || v >= max) throw new RangeError(`field ${name}: ${v} does not fit ${kind}`);
  switch (kind) {
    case "u8": dv.setUint8(at, v); return;
    case "u16": dv.setUint16(at, v, true); return;
    case "u32": dv.setUint32(at, v, true); return;
    case "be16": dv.setUint16(at, v, false); return;
    case "be32": dv.setUint32(at, v, false); return;
  }
}

/** Decode struct `s` at byte `offset` of `buf`; field names are the declaration's (e.g. KEY_SADDR). */
export function decodeStruct(s: StructDecl, buf: Uint8Array, offset = 0): StructValue {
  if (offset < 0 || offset + s.size > buf.length) throw new RangeError(`${s.prefix}: ${s.size} bytes at ${offset} past the buffer (${buf.length})`);
  const dv = view(buf);
  const out: StructValue = {};
  for (const [name, { offset: at, kind }] of fieldOffsets(s)) out[name] = readField(dv, buf, offset + at, kind);
  return out;
}

/** Write the given fields of struct `s` at byte `offset`; fields not named are left as they are. */
export function encodeStruct(s: StructDecl, buf: Uint8Array, offset: number, value: Partial<StructValue>): void {
  if (offset < 0 || offset + s.size > buf.length) throw new RangeError(`${s.prefix}: ${s.size} bytes at ${offset} past the buffer (${buf.length})`);
  const dv = view(buf);
  const fields = fieldOffsets(s);
  for (const [name, v] of Object.entries(value)) {
    const f = fields.get(name);
    if (!f) throw new Error(`${s.prefix}: no field ${name}`);
    if (v !== undefined) writeField(dv, buf, offset + f.offset, f.kind, v, s.prefix + name);
  }
}

/** Numeric value of an enum member or flag by name, from the declaration. */
export function enumValue(e: { first?: number; members: { name: string }[] }, name: string): number {
  const i = e.members.findIndex((m) => m.name === name);
  if (i < 0) throw new Error(`no enum member ${name}`);
  return (e.first ?? 0) + i;
}
