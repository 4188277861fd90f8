// Tests of the Wasm binary reader (toolchain/wasm/reader.ts) on modules assembled from WAT by binaryen.
import binaryen from "binaryen";
import { describe, expect, it } from "vitest";
import { SectionId, WasmFormatError, encodeU32, joinSections } from "../../toolchain/wasm/binary.js";
import { MISC_OPCODES, OPCODES } from "../../toolchain/wasm/opcodes.js";
import { countInstructions, largestFunctions, readModule, type FunctionInfo, type ModuleInfo } from "../../toolchain/wasm/reader.js";

const FEATURES = binaryen.Features.MVP | binaryen.Features.SignExt | binaryen.Features.BulkMemory
  | binaryen.Features.NontrappingFPToInt | binaryen.Features.ReferenceTypes;

/** Assemble WAT to bytes; with names, the binary carries a name section. */
function assemble(wat: string, { names = false } = {}): Uint8Array {
  const mod = binaryen.parseText(wat);
  const debugInfo = binaryen.getDebugInfo();
  try {
    mod.setFeatures(FEATURES);
    binaryen.setDebugInfo(names);
    return mod.emitBinary();
  } finally {
    binaryen.setDebugInfo(debugInfo);
    mod.dispose();
  }
}

const fn = (info: ModuleInfo, name: string): FunctionInfo => {
  const f = info.functions.find((f) => f.name === name);
  if (!f) throw new Error(`no function ${name} in ${info.functions.map((f) => f.name).join(", ")}`);
  return f;
};

const SWITCHLET = `(module
  (import "np" "memory" (memory 128 128))
  (import "np" "hash" (func $hash (param i32 i32 i32) (result i32)))
  (import "np" "ctx_swap" (func $ctx_swap))
  (global $hits (mut i32) (i32.const -5))
  (table 2 funcref)
  (elem (i32.const 0) $helper $process)
  (data (i32.const 65548) "abcd")
  (data (i32.const -1) "x")
  (func $helper (param $x i32) (result i32)
    (i32.mul (local.get $x) (i32.const 3)))
  (func $process (export "process") (param $desc i32) (result i32) (local $t i64)
    (block $out
      (br_if $out (i32.eqz (local.get $desc)))
      (call $ctx_swap))
    (i32.add
      (call $hash (call $helper (local.get $desc)) (i32.const 1) (call $helper (i32.const 2)))
      (memory.size)))
  (func $init (export "init"))
)`;

describe("readModule", () => {
  const info = readModule(assemble(SWITCHLET, { names: true }));

  it("puts imported functions first in the index space, named from the name section", () => {
    expect(info.importedFunctions).toBe(2);
    expect(info.functions.map((f) => [f.index, f.name, f.imported])).toEqual([
      [0, "hash", true], [1, "ctx_swap", true], [2, "helper", false], [3, "process", false], [4, "init", false],
    ]);
    expect(fn(info, "hash")).toMatchObject({ params: ["i32", "i32", "i32"], results: ["i32"], instructions: 0, bodyOffset: -1 });
  });

  it("counts every opcode of a body but its final end, and records the direct callees", () => {
    // block, local.get, i32.eqz, br_if, call, end; local.get, call, i32.const, i32.const, call, call, memory.size, i32.add
    expect(fn(info, "process")).toMatchObject({
      instructions: 14, calls: [0, 1, 2], callIndirect: false, memorySize: true, memoryGrow: false,
      floatOps: 0, floatTypes: false, params: ["i32"], results: ["i32"], locals: [{ count: 1, type: "i64" }],
    });
    expect(fn(info, "helper")).toMatchObject({ instructions: 3, calls: [] });
    expect(fn(info, "init").instructions).toBe(0);
    expect(countInstructions(info)).toBe(17);
    expect(largestFunctions(info, 2).map((f) => f.name)).toEqual(["process", "helper"]);
  });

  it("decodes imports, exports, memory, globals, tables, elements and data segments", () => {
    expect(info.imports).toEqual([
      { module: "np", name: "memory", kind: "memory", limits: { initial: 128, maximum: 128, shared: false } },
      { module: "np", name: "hash", kind: "func", typeIndex: fn(info, "hash").typeIndex },
      { module: "np", name: "ctx_swap", kind: "func", typeIndex: fn(info, "ctx_swap").typeIndex },
    ]);
    expect(info.exports).toEqual([{ name: "process", kind: "func", index: 3 }, { name: "init", kind: "func", index: 4 }]);
    expect(info.memory).toEqual({ imported: true, initial: 128, maximum: 128, shared: false });
    expect(info.globals).toEqual([{ imported: false, type: "i32", mutable: true }]);
    expect(info.tables).toEqual([{ imported: false, elemType: "funcref", limits: { initial: 2, maximum: null, shared: false } }]);
    expect(info.elements).toEqual([{ mode: "active", table: 0, functions: [2, 3] }]);
    expect(info.dataSegments).toEqual([
      { mode: "active", memory: 0, offset: 65548, size: 4 },
      { mode: "active", memory: 0, offset: 0xffff_ffff, size: 1 },
    ]);
    expect(info.hasStart).toBe(false);
  });

  it("counts a hand-assembled body byte for byte", () => {
    const body = [
      0x01, 0x01, 0x7e, // one i64 local
      0x02, 0x40, 0x01, 0x0b, // block nop end
      0x41, 0x80, 0x80, 0x04, 0x1a, // i32.const 65536 (3-byte LEB), drop
      0x42, 0x7f, 0x21, 0x00, // i64.const -1, local.set 0
      0xfc, 0x0b, 0x00, // memory.fill (operands missing: the reader decodes, it does not type-check)
      0x0b, // the final end, not counted
    ];
    const wasm = joinSections([
      { id: SectionId.type, contents: [1, 0x60, 0, 0] },
      { id: SectionId.function, contents: [1, 0] },
      { id: SectionId.code, contents: [1, ...encodeU32(body.length), ...body] },
    ]);
    expect(readModule(wasm).functions[0]).toMatchObject({ name: "func[0]", instructions: 8, locals: [{ count: 1, type: "i64" }], floatTypes: false });
    const trailing = joinSections([
      { id: SectionId.type, contents: [1, 0x60, 0, 0] },
      { id: SectionId.function, contents: [1, 0] },
      { id: SectionId.code, contents: [1, 3, 0x00, 0x0b, 0x01] },
    ]);
    expect(() => readModule(trailing)).toThrow(/^function 0 \(body at byte \d+\): code after the final end at byte \d+$/);
  });

  it("names functions by export, else func[i], when there is no name section", () => {
    const bare = readModule(assemble(SWITCHLET));
    expect(bare.functions.map((f) => f.name)).toEqual(["func[0]", "func[1]", "func[2]", "process", "init"]);
  });

  it("counts float opcodes and flags float types, memory.grow, call_indirect and the start function", () => {
    const m = readModule(assemble(`(module
      (memory 1)
      (type $unary (func (param i32) (result i32)))
      (table 1 funcref)
      (func $scale (param $x i32) (result i32) (local $f f32)
        (i32.trunc_f32_s (f32.mul (f32.convert_i32_s (local.get $x)) (f32.load (i32.const 0)))))
      (func $bits (param $x i32) (result i32)
        (i32.reinterpret_f32 (f32.const 1.5)))
      (func $grow (result i32) (memory.grow (i32.const 1)))
      (func $indirect (param $x i32) (result i32) (call_indirect (type $unary) (local.get $x) (i32.const 0)))
      (func $boot (drop (call $grow)))
      (start $boot)
    )`, { names: true }));
    expect(fn(m, "scale")).toMatchObject({ floatOps: 4, floatTypes: true, instructions: 6 });
    expect(fn(m, "scale").firstFloatOp?.name).toBe("f32.convert_i32_s");
    expect(fn(m, "bits")).toMatchObject({ floatOps: 2, floatTypes: false });
    expect(fn(m, "grow")).toMatchObject({ memoryGrow: true, floatOps: 0 });
    expect(fn(m, "indirect")).toMatchObject({ callIndirect: true, calls: [] });
    expect(m.memory).toEqual({ imported: false, initial: 1, maximum: null, shared: false });
    expect(m.start).toBe(fn(m, "boot").index);
    expect(m.hasStart).toBe(true);
  });

  it("decodes sign-extension, saturating truncation and bulk-memory opcodes", () => {
    const m = readModule(assemble(`(module
      (memory 1)
      (data $blob "xyz")
      (func $bulk (param $x i32) (result i32)
        (memory.copy (i32.const 0) (i32.const 8) (i32.const 4))
        (memory.fill (i32.const 0) (i32.const 0) (i32.const 4))
        (memory.init $blob (i32.const 16) (i32.const 0) (i32.const 3))
        (data.drop $blob)
        (i32.add (i32.extend8_s (local.get $x)) (i32.trunc_sat_f64_u (f64.const 2.5))))
    )`, { names: true }));
    // 3 x (3 consts + op), data.drop, local.get, extend8_s, f64.const, trunc_sat, add
    expect(fn(m, "bulk")).toMatchObject({ instructions: 18, floatOps: 2 });
    expect(m.dataSegments).toEqual([{ mode: "passive", memory: 0, offset: null, size: 3 }]);
    expect(m.dataCount).toBe(1);
  });

  it("throws WasmFormatError with the position for garbage, truncation and unknown opcodes", () => {
    expect(() => readModule(Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8]))).toThrow(/bad magic/);
    expect(() => readModule(new Uint8Array(3))).toThrow(WasmFormatError);

    const bytes = assemble(SWITCHLET);
    expect(() => readModule(bytes.subarray(0, bytes.length - 7))).toThrow(/at byte \d+/);
    const helper = fn(readModule(bytes), "func[2]");
    const patched = bytes.slice();
    patched[helper.bodyOffset + 2] = 0x06; // first opcode of helper's body (after size and an empty locals vector)
    expect(() => readModule(patched)).toThrow(new RegExp(`^function 2 \\(body at byte ${helper.bodyOffset}\\): unknown opcode 0x06 at byte ${helper.bodyOffset + 2}$`));
  });
});

describe("opcode table", () => {
  it("places the numeric opcodes at their spec numbers", () => {
    const names = (codes: number[]) => codes.map((c) => OPCODES.get(c)?.name);
    expect(names([0x45, 0x5b, 0x67, 0x8b, 0x99, 0xa7, 0xb6, 0xbf, 0xc4])).toEqual([
      "i32.eqz", "f32.eq", "i32.clz", "f32.abs", "f64.abs", "i32.wrap_i64", "f32.demote_f64", "f64.reinterpret_i64", "i64.extend32_s",
    ]);
    expect(MISC_OPCODES.get(10)?.name).toBe("memory.copy");
  });

  it("marks exactly the opcodes that touch f32/f64 as float", () => {
    const floats = [...OPCODES.values()].filter((o) => o.float).length;
    // 4 loads/stores, 2 consts, 12 comparisons, 28 arithmetic, 22 conversions and reinterpretations
    expect(floats).toBe(68);
    expect([...MISC_OPCODES.values()].filter((o) => o.float).length).toBe(8);
    expect(OPCODES.get(0xa7)?.float).toBe(false);
  });
});
