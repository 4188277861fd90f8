// Rewrites the module/name of a Wasm module's memory import (asc always names it env.memory).
import { Reader, SectionId, encodeName, encodeU32, joinSections, splitSections, WasmFormatError } from "../wasm/binary.js";

const ImportKind = { func: 0, table: 1, memory: 2, global: 3 } as const;

export function renameMemoryImport(wasm: Uint8Array, module: string, name: string): Uint8Array {
  let renamed = 0;
  const parts = splitSections(wasm).map((s) => {
    const contents = wasm.subarray(s.start, s.end);
    if (s.id !== SectionId.import) return { id: s.id, contents };
    const r = new Reader(wasm, s.start, s.end);
    const count = r.u32();
    const out: number[] = [...encodeU32(count)];
    for (let i = 0; i < count; i++) {
      const entryStart = r.pos;
      r.name();
      r.name();
      const kind = r.byte();
      const descStart = r.pos;
      skipImportDesc(r, kind);
      if (kind === ImportKind.memory) {
        out.push(...encodeName(module), ...encodeName(name), kind, ...wasm.subarray(descStart, r.pos));
        renamed++;
      } else {
        out.push(...wasm.subarray(entryStart, r.pos));
      }
    }
    return { id: s.id, contents: out };
  });
  if (renamed !== 1) throw new WasmFormatError(`expected one memory import, found ${renamed}`);
  return joinSections(parts);
}

function skipLimits(r: Reader): void {
  const flags = r.byte();
  r.u32();
  if (flags & 1) r.u32();
}

function skipImportDesc(r: Reader, kind: number): void {
  switch (kind) {
    case ImportKind.func: r.u32(); return;
    case ImportKind.table: r.byte(); skipLimits(r); return;
    case ImportKind.memory: skipLimits(r); return;
    case ImportKind.global: r.byte(); r.byte(); return;
    default: throw new WasmFormatError(`unknown import kind ${kind}`);
  }
}
