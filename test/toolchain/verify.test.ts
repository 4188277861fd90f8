// Tests of the image verifier (toolchain/verify): each rule of the image ABI on WAT modules and on compiled AssemblyScript images.
import { fileURLToPath } from "node:url";
import binaryen from "binaryen";
import { describe, expect, it } from "vitest";
import { CAPACITIES, MEMORY_PAGES } from "../../abi/layout.js";
import { compileImage, imageDataBase } from "../../toolchain/build/compile.js";
import { SectionId, joinSections } from "../../toolchain/wasm/binary.js";
import { RULES, verifyImageBinary, type VerifyContext, type Violation } from "../../toolchain/verify/index.js";

const FIXTURES = fileURLToPath(new URL("../fixtures/verify", import.meta.url));

/** IXP2400-sized control store (4K instructions); a test value, not the profile. */
const CTX: VerifyContext = {
  budget: 4096,
  memoryPages: MEMORY_PAGES,
  dataSlot: { base: imageDataBase(0), size: CAPACITIES.IMAGE_SLOT_SIZE.value },
};
const SLOT = `0x${CTX.dataSlot!.base.toString(16)}..0x${(CTX.dataSlot!.base + CTX.dataSlot!.size).toString(16)}`;

/** Assemble WAT with a name section, so messages name functions as the WAT does. */
function assemble(wat: string): Uint8Array {
  const mod = binaryen.parseText(wat);
  const debugInfo = binaryen.getDebugInfo();
  try {
    mod.setFeatures(binaryen.Features.MVP | binaryen.Features.SignExt | binaryen.Features.BulkMemory);
    binaryen.setDebugInfo(true);
    return mod.emitBinary();
  } finally {
    binaryen.setDebugInfo(debugInfo);
    mod.dispose();
  }
}

// The pieces of a valid image; each rule's test swaps in or adds one bad piece.
const MEMORY = `(import "np" "memory" (memory 128 128))`;
const HASH = `(import "np" "hash" (func $hash (param i32 i32 i32) (result i32)))`;
const INIT = `(func $init (export "init"))`;
const PROCESS = `(func $process (export "process") (param $desc i32) (result i32)
  (call $classify (i32.load (local.get $desc))))`;
const CLASSIFY = `(func $classify (param $word i32) (result i32)
  (call $hash (local.get $word) (i32.load8_u (i32.add (i32.const ${imageDataBase(0)}) (i32.and (local.get $word) (i32.const 7)))) (i32.const 0)))`;
const DATA = `(data (i32.const ${imageDataBase(0)}) "\\03\\01\\04\\01\\05\\09\\02\\06")`;
const VALID = { MEMORY, HASH, INIT, PROCESS, CLASSIFY, DATA };

type Piece = keyof typeof VALID;

/** The valid image with some pieces replaced and extra fields added (imports first, as WAT requires). */
function image(replace: Partial<Record<Piece, string>> = {}, ...extra: string[]): Uint8Array {
  const fields = [...Object.values({ ...VALID, ...replace }), ...extra];
  const isImport = (f: string) => f.startsWith("(import");
  return assemble(`(module\n${[...fields.filter(isImport), ...fields.filter((f) => !isImport(f))].join("\n")}\n)`);
}

const verify = (wasm: Uint8Array, ctx = CTX) => verifyImageBinary("test", wasm, ctx);
const found = (violations: Violation[]) => violations.map((v) => [v.rule, v.message]);

describe("verifyImageBinary on WAT images", () => {
  it("passes a valid image", () => {
    expect(verify(image())).toEqual([]);
  });

  it("format: reports bytes that do not decode, with the position", () => {
    const valid = image();
    expect(verify(valid.subarray(0, valid.length - 5))).toEqual([
      { image: "test", rule: "format", message: expect.stringMatching(/at byte \d+/) },
    ]);
    expect(found(verify(Uint8Array.from([0x7f, 0x45, 0x4c, 0x46, 1, 0, 0, 0])))).toEqual([["format", "not a Wasm module (bad magic number)"]]);
  });

  it("imports: only np.memory with the shared size and the NP intrinsics with their exact signatures", () => {
    expect(found(verify(image({ HASH: `(import "np" "evil" (func $hash (param i32 i32 i32) (result i32)))` })))).toEqual([
      ["imports", "import np.evil (func): not an NP intrinsic (the intrinsics are ring_put, ring_get, hash, crc32, timestamp, ctx_swap)"],
    ]);
    expect(found(verify(image({ HASH: `(import "np" "hash" (func $hash (param i32 i32 i32) (result i64)))`,
      CLASSIFY: `(func $classify (param i32) (result i32) (i32.wrap_i64 (call $hash (local.get 0) (i32.const 0) (i32.const 0))))` })))).toEqual([
      ["imports", "import np.hash (func): type (i32, i32, i32) -> i64, expected (i32, i32, i32) -> i32"],
    ]);
    expect(found(verify(image({}, `(import "env" "abort" (func $abort (param i32 i32 i32 i32)))`)))).toEqual([
      ["imports", `import env.abort (func): an image imports only from module "np"`],
    ]);
    expect(found(verify(image({ MEMORY: `(import "np" "memory" (memory 1))` })))).toEqual([
      ["imports", "import np.memory (memory): initial 1, maximum none; expected initial = maximum = 128 pages, not shared"],
    ]);
    expect(found(verify(image({}, `(import "np" "seed" (global $seed i32))`)))).toEqual([
      ["imports", "import np.seed (global): an image imports no globals, only np.memory and NP intrinsics"],
    ]);
  });

  it("exports: exactly init and process with their signatures", () => {
    expect(found(verify(image({ INIT: `(func $init)` }, `(func $helper (export "helper"))`)))).toEqual([
      ["exports", "missing export init () -> ()"],
      ["exports", "unexpected export helper (func): an image exports only init, process"],
    ]);
    expect(found(verify(image({ PROCESS: `(func $process (export "process") (param $desc i32) (drop (call $classify (local.get $desc))))` })))).toEqual([
      ["exports", "export process has type (i32) -> (), expected (i32) -> i32"],
    ]);
  });

  it("float: names every function, global and type that uses f32/f64", () => {
    const violations = verify(image({ CLASSIFY: `(func $classify (param $word i32) (result i32) (local $scale f64)
      (i32.trunc_f64_u (f64.mul (f64.convert_i32_u (local.get $word)) (f64.const 0.5))))` },
    `(global $ratio f32 (f32.const 1))`));
    expect(violations.map((v) => v.rule)).toEqual(["float", "float"]);
    expect(violations[0].message).toMatch(/^function classify uses floating point: 4 f32\/f64 instructions \(first f64\.convert_i32_u at byte \d+\); f32\/f64 in its signature, locals or block types$/);
    expect(violations[1].message).toBe("global 0 has type f32");
    // binaryen drops unused types, so a type no function has is assembled by hand: [(i32) -> i32, (f64) -> f64].
    const types = joinSections([{ id: SectionId.type, contents: [2, 0x60, 1, 0x7f, 1, 0x7f, 0x60, 1, 0x7c, 1, 0x7c] }]);
    expect(found(verify(types)).filter(([rule]) => rule === "float")).toEqual([["float", "type 1 (f64) -> f64 uses floating point"]]);
  });

  it("memory-grow: names the function that grows memory", () => {
    expect(found(verify(image({ INIT: `(func $init (export "init") (drop (memory.grow (i32.const 1))))` })))).toEqual([
      ["memory-grow", "function init uses memory.grow; np.memory is fixed at 128 pages"],
    ]);
  });

  it("recursion: reports each call cycle by function names", () => {
    const violations = verify(image({ CLASSIFY: `(func $classify (param $word i32) (result i32)
        (if (result i32) (local.get $word) (then (call $rest (local.get $word))) (else (i32.const 0))))` },
    `(func $rest (param $word i32) (result i32) (call $classify (i32.shr_u (local.get $word) (i32.const 1))))`,
    `(func $self (param i32) (result i32) (call $self (local.get 0)))`));
    expect(found(violations)).toEqual([
      ["recursion", "recursive calls: classify -> rest -> classify"],
      ["recursion", "recursive calls: self -> self"],
    ]);
  });

  it("indirect-call: rejects call_indirect outright", () => {
    expect(found(verify(image({ CLASSIFY: `(func $classify (param $word i32) (result i32)
        (call_indirect (param i32) (result i32) (local.get $word) (i32.const 0)))` },
    `(table 1 funcref)`, `(elem (i32.const 0) $process)`)))).toEqual([
      ["indirect-call", "function classify uses call_indirect; the call graph must be static so recursion can be ruled out"],
    ]);
  });

  it("own-memory: a module-defined memory (which also leaves np.memory unimported)", () => {
    expect(found(verify(image({ MEMORY: `(memory 128 128)` })))).toEqual([
      ["imports", "no memory import: an image must import np.memory (128 pages)"],
      ["own-memory", "the module defines its own memory (initial 128 pages); an image uses only the imported np.memory"],
    ]);
  });

  it("start: no start function", () => {
    expect(found(verify(image({}, `(start $init)`)))).toEqual([
      ["start", "the module has a start function (init); an image runs only through its exports, init first"],
    ]);
  });

  it("data-slot: every segment constant, active and inside the slot", () => {
    const outside = imageDataBase(1);
    expect(found(verify(image({ DATA: `(data (i32.const ${outside}) "abcd")` }, `(data $lazy "xyz")`)))).toEqual([
      ["data-slot", `data segment 0 at 0x${outside.toString(16)}..0x${(outside + 4).toString(16)} (4 bytes) is outside the slot (the image's data slot is ${SLOT})`],
      ["data-slot", `data segment 1 (3 bytes) is passive, so memory.init could write it anywhere (the image's data slot is ${SLOT})`],
    ]);
    // The last byte of the slot is inside; one past it is not.
    const end = CTX.dataSlot!.base + CTX.dataSlot!.size;
    expect(verify(image({ DATA: `(data (i32.const ${end - 4}) "abcd")` }))).toEqual([]);
    expect(verify(image({ DATA: `(data (i32.const ${end - 3}) "abcd")` })).map((v) => v.rule)).toEqual(["data-slot"]);
    // Without a slot in the context the rule does not apply.
    expect(verify(image({ DATA: `(data (i32.const ${outside}) "abcd")` }), { ...CTX, dataSlot: undefined })).toEqual([]);
  });

  it("budget: total instructions within the control store, naming the largest functions", () => {
    // classify 9 (local.get, i32.const, local.get, i32.const, i32.and, i32.add, i32.load8_u, i32.const, call),
    // process 3 (local.get, i32.load, call), init 0: 12 in all.
    const wasm = image();
    expect(verify(wasm, { ...CTX, budget: 12 })).toEqual([]);
    expect(found(verify(wasm, { ...CTX, budget: 11 }))).toEqual([
      ["budget", "12 instructions exceed the control-store budget of 11; largest functions: classify 9, process 3, init 0"],
    ]);
  });

  it("lists every rule once, with a description", () => {
    expect(RULES.map((r) => r.id)).toEqual([
      "format", "imports", "exports", "float", "memory-grow", "indirect-call", "recursion", "own-memory", "start", "data-slot", "budget",
    ]);
    for (const r of RULES) expect(r.description).toMatch(/^[^\n]{10,}$/);
  });
});

describe("verifyImageBinary on compiled AssemblyScript images", () => {
  const compile = (name: string) => compileImage(name, { slot: 0, dataplaneDir: FIXTURES });

  it("passes a valid image", async () => {
    expect(verify(await compile("valid"))).toEqual([]);
  });

  it.each([
    ["float", "float", /^function test\/fixtures\/verify\/float\/index\/process uses floating point: \d+ f32\/f64 instructions \(first f64\.convert_i32_u at byte \d+\)$/],
    ["recursion", "recursion", /^recursive calls: (test\/fixtures\/verify\/recursion\/index\/chainLength) -> \1$/],
    ["unknown-import", "imports", /^import np\.evil \(func\): not an NP intrinsic/],
    ["memory-grow", "memory-grow", /^function test\/fixtures\/verify\/memory-grow\/index\/process uses memory\.grow; np\.memory is fixed at 128 pages$/],
  ])("%s: reports exactly rule %s", async (fixture, rule, message) => {
    const violations = verify(await compile(fixture));
    expect(violations.map((v) => v.rule)).toEqual([rule]);
    expect(violations[0].message).toMatch(message);
  });
});
