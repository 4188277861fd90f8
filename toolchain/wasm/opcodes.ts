// Wasm instruction opcodes and the shape of their immediates (WebAssembly core spec 5.4), for
// MVP + sign extension + non-trapping float-to-int + bulk memory + reference types.

/** How the bytes after an opcode are laid out; the reader decodes each kind. */
export type Immediate =
  | "none"
  | "blocktype" // block, loop, if
  | "u32" // one index: label, function, local, global, table, data or element segment
  | "u32x2" // two indices: call_indirect (type, table), table.init, table.copy
  | "brTable" // vec(label) then the default label
  | "memarg" // alignment then offset
  | "memory" // one memory index (a 0x00 byte in the MVP)
  | "memoryInit" // data segment index, memory index
  | "memoryCopy" // destination and source memory indices
  | "s32"
  | "s64"
  | "f32"
  | "f64"
  | "selectTypes" // vec(valtype)
  | "reftype"; // one reference type byte

export interface OpcodeInfo {
  name: string;
  immediate: Immediate;
  /** Operates on or produces f32/f64 (arithmetic, comparison, load/store, const, conversion, reinterpretation). */
  float: boolean;
}

/** Prefix byte of the opcodes numbered by a following u32 (saturating truncation, bulk memory, table ops). */
export const MISC_PREFIX = 0xfc;

function op(name: string, immediate: Immediate = "none"): OpcodeInfo {
  // Every opcode that touches a float names f32 or f64 in its text form, and no other opcode does.
  return { name, immediate, float: /f32|f64/.test(name) };
}

function table(entries: [number, OpcodeInfo][]): ReadonlyMap<number, OpcodeInfo> {
  return new Map(entries);
}

/** `first` and the following opcodes, one per name. */
function run(first: number, names: string[], immediate: Immediate = "none"): [number, OpcodeInfo][] {
  return names.map((name, i) => [first + i, op(name, immediate)]);
}

/** The same operator names under a type prefix, e.g. i32.add and i64.add. */
const ops = (type: string, names: string[]) => names.map((n) => `${type}.${n}`);

const INT_COMPARE = ["eqz", "eq", "ne", "lt_s", "lt_u", "gt_s", "gt_u", "le_s", "le_u", "ge_s", "ge_u"];
const FLOAT_COMPARE = ["eq", "ne", "lt", "gt", "le", "ge"];
const INT_ARITH = ["clz", "ctz", "popcnt", "add", "sub", "mul", "div_s", "div_u", "rem_s", "rem_u", "and", "or", "xor", "shl", "shr_s", "shr_u", "rotl", "rotr"];
const FLOAT_ARITH = ["abs", "neg", "ceil", "floor", "trunc", "nearest", "sqrt", "add", "sub", "mul", "div", "min", "max", "copysign"];

/** Single-byte opcodes. */
export const OPCODES: ReadonlyMap<number, OpcodeInfo> = table([
  [0x00, op("unreachable")],
  [0x01, op("nop")],
  [0x02, op("block", "blocktype")],
  [0x03, op("loop", "blocktype")],
  [0x04, op("if", "blocktype")],
  [0x05, op("else")],
  [0x0b, op("end")],
  [0x0c, op("br", "u32")],
  [0x0d, op("br_if", "u32")],
  [0x0e, op("br_table", "brTable")],
  [0x0f, op("return")],
  [0x10, op("call", "u32")],
  [0x11, op("call_indirect", "u32x2")],
  [0x1a, op("drop")],
  [0x1b, op("select")],
  [0x1c, op("select", "selectTypes")],
  ...run(0x20, ["local.get", "local.set", "local.tee", "global.get", "global.set", "table.get", "table.set"], "u32"),
  ...run(0x28, [
    "i32.load", "i64.load", "f32.load", "f64.load",
    "i32.load8_s", "i32.load8_u", "i32.load16_s", "i32.load16_u",
    "i64.load8_s", "i64.load8_u", "i64.load16_s", "i64.load16_u", "i64.load32_s", "i64.load32_u",
    "i32.store", "i64.store", "f32.store", "f64.store",
    "i32.store8", "i32.store16", "i64.store8", "i64.store16", "i64.store32",
  ], "memarg"),
  [0x3f, op("memory.size", "memory")],
  [0x40, op("memory.grow", "memory")],
  [0x41, op("i32.const", "s32")],
  [0x42, op("i64.const", "s64")],
  [0x43, op("f32.const", "f32")],
  [0x44, op("f64.const", "f64")],
  ...run(0x45, [
    ...ops("i32", INT_COMPARE), ...ops("i64", INT_COMPARE), ...ops("f32", FLOAT_COMPARE), ...ops("f64", FLOAT_COMPARE),
    ...ops("i32", INT_ARITH), ...ops("i64", INT_ARITH), ...ops("f32", FLOAT_ARITH), ...ops("f64", FLOAT_ARITH),
    "i32.wrap_i64", "i32.trunc_f32_s", "i32.trunc_f32_u", "i32.trunc_f64_s", "i32.trunc_f64_u",
    "i64.extend_i32_s", "i64.extend_i32_u", "i64.trunc_f32_s", "i64.trunc_f32_u", "i64.trunc_f64_s", "i64.trunc_f64_u",
    "f32.convert_i32_s", "f32.convert_i32_u", "f32.convert_i64_s", "f32.convert_i64_u", "f32.demote_f64",
    "f64.convert_i32_s", "f64.convert_i32_u", "f64.convert_i64_s", "f64.convert_i64_u", "f64.promote_f32",
    "i32.reinterpret_f32", "i64.reinterpret_f64", "f32.reinterpret_i32", "f64.reinterpret_i64",
    "i32.extend8_s", "i32.extend16_s", "i64.extend8_s", "i64.extend16_s", "i64.extend32_s",
  ]),
  [0xd0, op("ref.null", "reftype")],
  [0xd1, op("ref.is_null")],
  [0xd2, op("ref.func", "u32")],
]);

/** Opcodes after the 0xFC prefix, keyed by their u32 sub-opcode. */
export const MISC_OPCODES: ReadonlyMap<number, OpcodeInfo> = table([
  ...run(0, [
    "i32.trunc_sat_f32_s", "i32.trunc_sat_f32_u", "i32.trunc_sat_f64_s", "i32.trunc_sat_f64_u",
    "i64.trunc_sat_f32_s", "i64.trunc_sat_f32_u", "i64.trunc_sat_f64_s", "i64.trunc_sat_f64_u",
  ]),
  [8, op("memory.init", "memoryInit")],
  [9, op("data.drop", "u32")],
  [10, op("memory.copy", "memoryCopy")],
  [11, op("memory.fill", "memory")],
  [12, op("table.init", "u32x2")],
  [13, op("elem.drop", "u32")],
  [14, op("table.copy", "u32x2")],
  ...run(15, ["table.grow", "table.size", "table.fill"], "u32"),
]);
