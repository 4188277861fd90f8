// Low-level Wasm binary encoding: LEB128 and the section framing (WebAssembly core spec, 5.2 and 5.5.2).

export const WASM_MAGIC = [0x00, 0x61, 0x73, 0x6d];
export const WASM_VERSION = [0x01, 0x00, 0x00, 0x00];

export const SectionId = {
  custom: 0, type: 1, import: 2, function: 3, table: 4, memory: 5, global: 6,
  export: 7, start: 8, element: 9, code: 10, data: 11, dataCount: 12,
} as const;

export class WasmFormatError extends Error {}

/** A cursor over a Wasm binary; every read checks bounds and throws WasmFormatError. */
export class Reader {
  constructor(readonly bytes: Uint8Array, public pos = 0, readonly end = bytes.length) {}

  get done(): boolean { return this.pos >= this.end; }

  byte(): number {
    if (this.pos >= this.end) throw new WasmFormatError(`unexpected end of data at byte ${this.pos}`);
    return this.bytes[this.pos++];
  }

  bytesN(n: number): Uint8Array {
    if (n < 0 || this.pos + n > this.end) throw new WasmFormatError(`${n} bytes at ${this.pos} run past the end (${this.end})`);
    const out = this.bytes.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  /** Unsigned LEB128 up to 32 bits. */
  u32(): number {
    let result = 0, shift = 0;
    for (let i = 0; i < 5; i++) {
      const b = this.byte();
      result |= (b & 0x7f) << shift;
      if ((b & 0x80) === 0) return result >>> 0;
      shift += 7;
    }
    throw new WasmFormatError(`LEB128 u32 too long at byte ${this.pos}`);
  }

  /** Signed LEB128 of up to `bits` bits; the value is skipped (only its extent matters to callers). */
  skipSigned(bits: 32 | 64): void {
    const max = Math.ceil(bits / 7);
    for (let i = 0; i < max; i++) if ((this.byte() & 0x80) === 0) return;
    throw new WasmFormatError(`LEB128 s${bits} too long at byte ${this.pos}`);
  }

  name(): string {
    return new TextDecoder("utf-8", { fatal: true }).decode(this.bytesN(this.u32()));
  }
}

export function encodeU32(value: number): number[] {
  const out: number[] = [];
  let v = value >>> 0;
  do {
    let b = v & 0x7f;
    v >>>= 7;
    if (v !== 0) b |= 0x80;
    out.push(b);
  } while (v !== 0);
  return out;
}

export function encodeName(s: string): number[] {
  const b = new TextEncoder().encode(s);
  return [...encodeU32(b.length), ...b];
}

export interface RawSection {
  id: number;
  /** Offset of the section's contents (after id and size). */
  start: number;
  end: number;
}

/** Split a module into its sections, checking the header and every section's size. */
export function splitSections(bytes: Uint8Array): RawSection[] {
  const r = new Reader(bytes);
  const head = r.bytesN(8);
  if (!WASM_MAGIC.every((b, i) => head[i] === b)) throw new WasmFormatError("not a Wasm module (bad magic number)");
  if (!WASM_VERSION.every((b, i) => head[4 + i] === b)) throw new WasmFormatError("unsupported Wasm version");
  const sections: RawSection[] = [];
  while (!r.done) {
    const id = r.byte();
    const size = r.u32();
    const start = r.pos;
    if (start + size > bytes.length) throw new WasmFormatError(`section ${id} at byte ${start} runs past the end of the module`);
    sections.push({ id, start, end: start + size });
    r.pos = start + size;
  }
  return sections;
}

/** Reassemble a module from its header and (id, contents) pairs. */
export function joinSections(parts: { id: number; contents: Uint8Array | number[] }[]): Uint8Array {
  const out: number[] = [...WASM_MAGIC, ...WASM_VERSION];
  for (const p of parts) out.push(p.id, ...encodeU32(p.contents.length), ...p.contents);
  return Uint8Array.from(out);
}
