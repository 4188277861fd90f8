// Self-contained decoder of a Wasm binary module (WebAssembly core spec 5.3-5.5, name section 7.4):
// every section and every instruction of every function body, reduced to what the image verifier checks.
import { Reader, SectionId, WasmFormatError, splitSections, type RawSection } from "./binary.js";
import { MISC_OPCODES, MISC_PREFIX, OPCODES, type OpcodeInfo } from "./opcodes.js";

export type ValType = "i32" | "i64" | "f32" | "f64" | "v128" | "funcref" | "externref";

const VAL_TYPES: ReadonlyMap<number, ValType> = new Map([
  [0x7f, "i32"], [0x7e, "i64"], [0x7d, "f32"], [0x7c, "f64"], [0x7b, "v128"], [0x70, "funcref"], [0x6f, "externref"],
]);

export const isFloatType = (t: ValType): boolean => t === "f32" || t === "f64";

export interface FuncType {
  params: ValType[];
  results: ValType[];
}

export interface Limits {
  initial: number;
  maximum: number | null;
  shared: boolean;
}

export interface TableType {
  elemType: ValType;
  limits: Limits;
}

export interface GlobalType {
  type: ValType;
  mutable: boolean;
}

export type ExternKind = "func" | "table" | "memory" | "global";
const EXTERN_KINDS: readonly ExternKind[] = ["func", "table", "memory", "global"];

export type ImportInfo = { module: string; name: string } & (
  | { kind: "func"; typeIndex: number }
  | { kind: "table"; table: TableType }
  | { kind: "memory"; limits: Limits }
  | { kind: "global"; global: GlobalType }
);

export interface ExportInfo {
  name: string;
  kind: ExternKind;
  index: number;
}

export interface MemoryInfo extends Limits {
  imported: boolean;
}

export interface TableInfo extends TableType {
  imported: boolean;
}

export interface GlobalInfo extends GlobalType {
  imported: boolean;
}

export interface ElementSegmentInfo {
  mode: "active" | "passive" | "declarative";
  /** Table the segment initialises (0 unless given; meaningful for active segments). */
  table: number;
  /** Functions the segment places in the table, in order (null entries, ref.null, are left out). */
  functions: number[];
}

export interface DataSegmentInfo {
  mode: "active" | "passive";
  memory: number;
  /** Start address when the offset is a constant `i32.const`; null for passive segments or a `global.get` offset. */
  offset: number | null;
  size: number;
}

/**
 * One function of the module's function index space (imports first). `instructions` counts every
 * opcode occurrence, block/loop/if/else/end included and a 0xFC-prefixed opcode as one, except the
 * `end` that closes the body. Imported functions have no body: their counts are zero.
 */
export interface FunctionInfo {
  index: number;
  /** From the name section, else the first export naming it, else `func[index]`. */
  name: string;
  imported: boolean;
  typeIndex: number;
  params: ValType[];
  results: ValType[];
  /** Declared locals, one entry per run (`count` locals of `type`), as the body states them. */
  locals: { count: number; type: ValType }[];
  /** Byte offset of the body (its size field) in the module; -1 for imports. */
  bodyOffset: number;
  instructions: number;
  /** Distinct direct callees (function indices), ascending. */
  calls: number[];
  callIndirect: boolean;
  /** Opcodes that operate on or produce f32/f64. */
  floatOps: number;
  /** The first such opcode and its byte offset in the module, for messages. */
  firstFloatOp: { name: string; offset: number } | null;
  /** f32/f64 among params, results, locals, block types or typed-select types. */
  floatTypes: boolean;
  memoryGrow: boolean;
  memorySize: boolean;
}

export interface ModuleInfo {
  types: FuncType[];
  imports: ImportInfo[];
  exports: ExportInfo[];
  /** The function index space: imported functions first, then the module's own. */
  functions: FunctionInfo[];
  importedFunctions: number;
  tables: TableInfo[];
  /** The memory index space (imported first); `memory` is memory 0, the one loads and stores address. */
  memories: MemoryInfo[];
  memory: MemoryInfo | null;
  globals: GlobalInfo[];
  elements: ElementSegmentInfo[];
  dataSegments: DataSegmentInfo[];
  /** Segment count announced by the data count section, if present. */
  dataCount: number | null;
  start: number | null;
  hasStart: boolean;
}

// ---------------------------------------------------------------------------------------------
// Small readers on top of binary.ts

/** Sections in the order the spec requires (custom sections may appear anywhere). */
const SECTION_ORDER: readonly number[] = [
  SectionId.type, SectionId.import, SectionId.function, SectionId.table, SectionId.memory, SectionId.global,
  SectionId.export, SectionId.start, SectionId.element, SectionId.dataCount, SectionId.code, SectionId.data,
];

function readS32(r: Reader): number {
  let result = 0, shift = 0;
  for (let i = 0; i < 5; i++) {
    const b = r.byte();
    result |= (b & 0x7f) << shift;
    shift += 7;
    if ((b & 0x80) === 0) return shift < 32 && (b & 0x40) ? result | (-1 << shift) : result;
  }
  throw new WasmFormatError(`LEB128 s32 too long at byte ${r.pos}`);
}

function readName(r: Reader): string {
  const at = r.pos;
  try {
    return r.name();
  } catch (e) {
    if (e instanceof WasmFormatError) throw e;
    throw new WasmFormatError(`name at byte ${at} is not valid UTF-8`);
  }
}

function readValType(r: Reader): ValType {
  const at = r.pos;
  const b = r.byte();
  const t = VAL_TYPES.get(b);
  if (!t) throw new WasmFormatError(`unknown value type 0x${hex(b)} at byte ${at}`);
  return t;
}

function readVec<T>(r: Reader, item: (r: Reader, i: number) => T): T[] {
  const n = r.u32();
  const out: T[] = [];
  for (let i = 0; i < n; i++) out.push(item(r, i));
  return out;
}

function readLimits(r: Reader): Limits {
  const at = r.pos;
  const flags = r.byte();
  if (flags > 3) throw new WasmFormatError(`unsupported limits flags 0x${hex(flags)} at byte ${at}`);
  const initial = r.u32();
  const maximum = flags & 1 ? r.u32() : null;
  return { initial, maximum, shared: (flags & 2) !== 0 };
}

function readTableType(r: Reader): TableType {
  return { elemType: readValType(r), limits: readLimits(r) };
}

function readGlobalType(r: Reader): GlobalType {
  const type = readValType(r);
  const at = r.pos;
  const mut = r.byte();
  if (mut > 1) throw new WasmFormatError(`bad global mutability 0x${hex(mut)} at byte ${at}`);
  return { type, mutable: mut === 1 };
}

const hex = (n: number) => n.toString(16).padStart(2, "0");

// ---------------------------------------------------------------------------------------------
// Instructions

interface Instruction {
  info: OpcodeInfo;
  /** Byte offset of the opcode in the module. */
  offset: number;
  /** The u32 immediate of single-index instructions (call's callee, ref.func's function). */
  index?: number;
  /** The value of an i32.const. */
  value?: number;
  /** Value types named by the immediate (block type, typed select). */
  types?: ValType[];
}

/**
 * Decode instructions from r until the `end` that closes the sequence (a function body or a constant
 * expression), calling visit for each one but that final `end`. `types` resolves a block type index.
 */
function decodeSequence(r: Reader, types: FuncType[], visit: (ins: Instruction) => void): void {
  let depth = 1;
  for (;;) {
    const offset = r.pos;
    const ins = decodeInstruction(r, types, offset);
    const name = ins.info.name;
    if (name === "block" || name === "loop" || name === "if") depth++;
    else if (name === "end" && --depth === 0) return;
    visit(ins);
  }
}

function decodeInstruction(r: Reader, types: FuncType[], offset: number): Instruction {
  const code = r.byte();
  const info = code === MISC_PREFIX ? MISC_OPCODES.get(r.u32()) : OPCODES.get(code);
  if (!info) {
    const what = code === MISC_PREFIX ? `0xfc prefixed opcode` : `opcode 0x${hex(code)}`;
    throw new WasmFormatError(`unknown ${what} at byte ${offset}`);
  }
  const ins: Instruction = { info, offset };
  switch (info.immediate) {
    case "none": break;
    case "blocktype": ins.types = readBlockType(r, types); break;
    case "u32": ins.index = r.u32(); break;
    case "u32x2": r.u32(); r.u32(); break;
    case "brTable": readVec(r, (r) => r.u32()); r.u32(); break;
    case "memarg": r.u32(); r.u32(); break;
    case "memory": r.u32(); break;
    case "memoryInit": r.u32(); r.u32(); break;
    case "memoryCopy": r.u32(); r.u32(); break;
    case "s32": ins.value = readS32(r); break;
    case "s64": r.skipSigned(64); break;
    case "f32": r.bytesN(4); break;
    case "f64": r.bytesN(8); break;
    case "selectTypes": ins.types = readVec(r, readValType); break;
    case "reftype": ins.types = [readValType(r)]; break;
  }
  return ins;
}

/** A block type: empty (0x40), one value type, or a type index as a signed 33-bit LEB. */
function readBlockType(r: Reader, types: FuncType[]): ValType[] {
  const at = r.pos;
  const b = r.bytes[at];
  if (b === 0x40) { r.byte(); return []; }
  if (VAL_TYPES.has(b)) return [readValType(r)];
  const index = readS32(r);
  const type = types[index];
  if (index < 0 || !type) throw new WasmFormatError(`block type index ${index} at byte ${at} is not in the type section`);
  return [...type.params, ...type.results];
}

/** A constant expression: its first instruction (the constant or global.get) and the closing `end`. */
function readConstExpr(r: Reader, types: FuncType[]): Instruction[] {
  const out: Instruction[] = [];
  decodeSequence(r, types, (ins) => out.push(ins));
  return out;
}

// ---------------------------------------------------------------------------------------------
// Function bodies

interface BodyFacts {
  locals: { count: number; type: ValType }[];
  instructions: number;
  calls: number[];
  callIndirect: boolean;
  floatOps: number;
  firstFloatOp: { name: string; offset: number } | null;
  floatBlockTypes: boolean;
  memoryGrow: boolean;
  memorySize: boolean;
}

function readBody(r: Reader, types: FuncType[]): BodyFacts {
  const locals = readVec(r, (r) => ({ count: r.u32(), type: readValType(r) }));
  const facts: BodyFacts = {
    locals, instructions: 0, calls: [], callIndirect: false, floatOps: 0, firstFloatOp: null,
    floatBlockTypes: false, memoryGrow: false, memorySize: false,
  };
  const calls = new Set<number>();
  decodeSequence(r, types, (ins) => {
    const name = ins.info.name;
    facts.instructions++;
    if (name === "call") calls.add(ins.index!);
    else if (name === "call_indirect") facts.callIndirect = true;
    else if (name === "memory.grow") facts.memoryGrow = true;
    else if (name === "memory.size") facts.memorySize = true;
    if (ins.info.float) {
      facts.floatOps++;
      facts.firstFloatOp ??= { name, offset: ins.offset };
    }
    if (ins.types?.some(isFloatType)) facts.floatBlockTypes = true;
  });
  facts.calls = [...calls].sort((a, b) => a - b);
  return facts;
}

// ---------------------------------------------------------------------------------------------
// The module

/** Decode a Wasm module; throws WasmFormatError naming the byte (and function) where it is malformed. */
export function readModule(bytes: Uint8Array): ModuleInfo {
  const info: ModuleInfo = {
    types: [], imports: [], exports: [], functions: [], importedFunctions: 0, tables: [], memories: [], memory: null,
    globals: [], elements: [], dataSegments: [], dataCount: null, start: null, hasStart: false,
  };
  const definedTypes: number[] = [];
  const bodies: { offset: number; facts: BodyFacts }[] = [];
  const functionNames = new Map<number, string>();
  let lastRank = -1;

  for (const section of splitSections(bytes)) {
    if (section.id !== SectionId.custom) {
      const rank = SECTION_ORDER.indexOf(section.id);
      if (rank < 0) throw new WasmFormatError(`unknown section id ${section.id} at byte ${section.start}`);
      if (rank <= lastRank) throw new WasmFormatError(`section ${section.id} at byte ${section.start} is out of order or repeated`);
      lastRank = rank;
    }
    const r = new Reader(bytes, section.start, section.end);
    readSection(r, section, info, definedTypes, bodies, functionNames);
    if (r.pos !== section.end) throw new WasmFormatError(`section ${section.id} at byte ${section.start}: ${section.end - r.pos} bytes left over`);
  }

  if (bodies.length !== definedTypes.length) {
    throw new WasmFormatError(`function section declares ${definedTypes.length} functions but the code section has ${bodies.length} bodies`);
  }
  if (info.dataCount !== null && info.dataCount !== info.dataSegments.length) {
    throw new WasmFormatError(`data count section says ${info.dataCount} segments, data section has ${info.dataSegments.length}`);
  }
  buildFunctions(info, definedTypes, bodies, functionNames);
  info.memory = info.memories[0] ?? null;
  return info;
}

function readSection(
  r: Reader, section: RawSection, info: ModuleInfo, definedTypes: number[],
  bodies: { offset: number; facts: BodyFacts }[], functionNames: Map<number, string>,
): void {
  switch (section.id) {
    case SectionId.custom: {
      if (readName(r) === "name") readNameSection(r, functionNames);
      else r.pos = section.end;
      return;
    }
    case SectionId.type:
      info.types = readVec(r, (r) => {
        const at = r.pos;
        const form = r.byte();
        if (form !== 0x60) throw new WasmFormatError(`type at byte ${at} is not a function type (0x${hex(form)})`);
        return { params: readVec(r, readValType), results: readVec(r, readValType) };
      });
      return;
    case SectionId.import:
      info.imports = readVec(r, (r) => readImport(r, info));
      return;
    case SectionId.function:
      definedTypes.push(...readVec(r, (r) => checkedTypeIndex(r, info)));
      return;
    case SectionId.table:
      info.tables.push(...readVec(r, (r) => ({ imported: false, ...readTableType(r) })));
      return;
    case SectionId.memory:
      info.memories.push(...readVec(r, (r) => ({ imported: false, ...readLimits(r) })));
      return;
    case SectionId.global:
      info.globals.push(...readVec(r, (r) => {
        const global = readGlobalType(r);
        readConstExpr(r, info.types);
        return { imported: false, ...global };
      }));
      return;
    case SectionId.export:
      info.exports = readVec(r, (r) => {
        const name = readName(r);
        const at = r.pos;
        const kind = EXTERN_KINDS[r.byte()];
        if (!kind) throw new WasmFormatError(`export ${name} at byte ${at} has an unknown kind`);
        return { name, kind, index: r.u32() };
      });
      return;
    case SectionId.start:
      info.start = r.u32();
      info.hasStart = true;
      return;
    case SectionId.element:
      info.elements = readVec(r, (r) => readElementSegment(r, info.types));
      return;
    case SectionId.dataCount:
      info.dataCount = r.u32();
      return;
    case SectionId.code:
      bodies.push(...readVec(r, (r, i) => {
        const offset = r.pos;
        const size = r.u32();
        const body = new Reader(r.bytes, r.pos, r.pos + size);
        if (body.end > r.end) throw new WasmFormatError(`body of function ${info.importedFunctions + i} at byte ${offset} runs past the code section`);
        let facts: BodyFacts;
        try {
          facts = readBody(body, info.types);
        } catch (e) {
          if (!(e instanceof WasmFormatError)) throw e;
          throw new WasmFormatError(`function ${info.importedFunctions + i} (body at byte ${offset}): ${e.message}`);
        }
        if (!body.done) throw new WasmFormatError(`function ${info.importedFunctions + i} (body at byte ${offset}): code after the final end at byte ${body.pos}`);
        r.pos = body.end;
        return { offset, facts };
      }));
      return;
    case SectionId.data:
      info.dataSegments = readVec(r, (r) => readDataSegment(r, info.types));
      return;
  }
}

function checkedTypeIndex(r: Reader, info: ModuleInfo): number {
  const at = r.pos;
  const index = r.u32();
  if (index >= info.types.length) throw new WasmFormatError(`type index ${index} at byte ${at} is not in the type section`);
  return index;
}

function readImport(r: Reader, info: ModuleInfo): ImportInfo {
  const module = readName(r);
  const name = readName(r);
  const at = r.pos;
  const kind = r.byte();
  switch (EXTERN_KINDS[kind]) {
    case "func":
      info.importedFunctions++;
      return { module, name, kind: "func", typeIndex: checkedTypeIndex(r, info) };
    case "table": {
      const table = readTableType(r);
      info.tables.push({ imported: true, ...table });
      return { module, name, kind: "table", table };
    }
    case "memory": {
      const limits = readLimits(r);
      info.memories.push({ imported: true, ...limits });
      return { module, name, kind: "memory", limits };
    }
    case "global": {
      const global = readGlobalType(r);
      info.globals.push({ imported: true, ...global });
      return { module, name, kind: "global", global };
    }
    default:
      throw new WasmFormatError(`import ${module}.${name} at byte ${at} has an unknown kind 0x${hex(kind)}`);
  }
}

/** Element segments in all eight encodings (flags 0-7: active/passive/declarative, indices or expressions). */
function readElementSegment(r: Reader, types: FuncType[]): ElementSegmentInfo {
  const at = r.pos;
  const flags = r.u32();
  if (flags > 7) throw new WasmFormatError(`element segment at byte ${at} has unknown flags ${flags}`);
  const mode = flags & 1 ? (flags & 2 ? "declarative" : "passive") : "active";
  const table = flags & 2 && mode === "active" ? r.u32() : 0;
  if (mode === "active") readConstExpr(r, types);
  const usesExpressions = (flags & 4) !== 0;
  if (flags & 3) {
    // An element kind (0x00, funcref) for index lists, a reference type for expression lists.
    if (usesExpressions) readValType(r);
    else if (r.byte() !== 0x00) throw new WasmFormatError(`element segment at byte ${at} has an unknown element kind`);
  }
  const functions = usesExpressions
    ? readVec(r, (r) => readConstExpr(r, types)).flatMap((expr) => expr.filter((i) => i.info.name === "ref.func").map((i) => i.index!))
    : readVec(r, (r) => r.u32());
  return { mode, table, functions };
}

/** Data segments: flags 0 (active, memory 0), 1 (passive), 2 (active, explicit memory). */
function readDataSegment(r: Reader, types: FuncType[]): DataSegmentInfo {
  const at = r.pos;
  const flags = r.u32();
  if (flags > 2) throw new WasmFormatError(`data segment at byte ${at} has unknown flags ${flags}`);
  const memory = flags === 2 ? r.u32() : 0;
  let offset: number | null = null;
  if (flags !== 1) {
    const expr = readConstExpr(r, types);
    if (expr.length === 1 && expr[0].info.name === "i32.const") offset = expr[0].value! >>> 0;
  }
  const size = r.u32();
  r.bytesN(size);
  return { mode: flags === 1 ? "passive" : "active", memory, offset, size };
}

/** The name section's function-name map (subsection 1); other subsections are skipped. */
function readNameSection(r: Reader, names: Map<number, string>): void {
  while (!r.done) {
    const id = r.byte();
    const size = r.u32();
    const sub = new Reader(r.bytes, r.pos, r.pos + size);
    if (sub.end > r.end) throw new WasmFormatError(`name subsection ${id} at byte ${r.pos} runs past the name section`);
    if (id === 1) readVec(sub, (s) => names.set(s.u32(), readName(s)));
    r.pos = sub.end;
  }
}

function buildFunctions(
  info: ModuleInfo, definedTypes: number[], bodies: { offset: number; facts: BodyFacts }[], functionNames: Map<number, string>,
): void {
  const exportNames = new Map<number, string>();
  for (const e of info.exports) if (e.kind === "func" && !exportNames.has(e.index)) exportNames.set(e.index, e.name);
  const nameOf = (index: number) => functionNames.get(index) ?? exportNames.get(index) ?? `func[${index}]`;

  const importedTypes = info.imports.flatMap((imp) => (imp.kind === "func" ? [imp.typeIndex] : []));
  importedTypes.forEach((typeIndex, index) => {
    const type = info.types[typeIndex];
    info.functions.push({
      index, name: nameOf(index), imported: true, typeIndex, params: type.params, results: type.results, locals: [], bodyOffset: -1,
      instructions: 0, calls: [], callIndirect: false, floatOps: 0, firstFloatOp: null,
      floatTypes: [...type.params, ...type.results].some(isFloatType), memoryGrow: false, memorySize: false,
    });
  });
  definedTypes.forEach((typeIndex, i) => {
    const index = importedTypes.length + i;
    const type = info.types[typeIndex];
    const { offset, facts } = bodies[i];
    const { floatBlockTypes, ...rest } = facts;
    const floatTypes = floatBlockTypes || [...type.params, ...type.results, ...facts.locals.map((l) => l.type)].some(isFloatType);
    info.functions.push({ index, name: nameOf(index), imported: false, typeIndex, params: type.params, results: type.results, bodyOffset: offset, ...rest, floatTypes });
  });

  const total = info.functions.length;
  for (const e of info.exports) {
    if (e.kind === "func" && e.index >= total) throw new WasmFormatError(`export ${e.name} names function ${e.index}, which does not exist`);
  }
  for (const f of info.functions) {
    const bad = f.calls.find((c) => c >= total);
    if (bad !== undefined) throw new WasmFormatError(`function ${f.index} calls function ${bad}, which does not exist`);
  }
  if (info.start !== null && info.start >= total) throw new WasmFormatError(`start function ${info.start} does not exist`);
}

/** Total instructions of the module's own functions (see FunctionInfo for what counts as one). */
export function countInstructions(info: ModuleInfo): number {
  return info.functions.reduce((sum, f) => sum + f.instructions, 0);
}

/** The n defined functions with the most instructions, largest first (ties by index). */
export function largestFunctions(info: ModuleInfo, n: number): FunctionInfo[] {
  return info.functions
    .filter((f) => !f.imported)
    .sort((a, b) => b.instructions - a.instructions || a.index - b.index)
    .slice(0, n);
}
