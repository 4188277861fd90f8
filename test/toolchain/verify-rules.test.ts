// Tests of the image verifier's rules (toolchain/verify/) on decoded modules built by hand: each rule's edge cases, messages and the call-cycle search.
import { describe, expect, it } from "vitest";
import { MEMORY_PAGES } from "../../abi/layout.js";
import type { FunctionInfo, ImportInfo, ModuleInfo, ValType } from "../../toolchain/wasm/reader.js";
import { verifyImageBinary, verifyModule, type VerifyContext } from "../../toolchain/verify/index.js";
import { callCycles } from "../../toolchain/verify/recursion.js";
import { definedFunctions, formatSignature, hex, sameTypes } from "../../toolchain/verify/rule.js";

const SLOT = { base: 0x1_0000, size: 0x2000 };
const CTX: VerifyContext = { budget: 1000, memoryPages: MEMORY_PAGES, dataSlot: SLOT };

function fn(index: number, over: Partial<FunctionInfo> = {}): FunctionInfo {
  return {
    index, name: `f${index}`, imported: false, typeIndex: 0, params: [], results: [], locals: [], bodyOffset: 100 + index,
    instructions: 1, calls: [], callIndirect: false, floatOps: 0, firstFloatOp: null, floatTypes: false, memoryGrow: false, memorySize: false,
    ...over,
  };
}

const MEMORY: ImportInfo = { module: "np", name: "memory", kind: "memory", limits: { initial: MEMORY_PAGES, maximum: MEMORY_PAGES, shared: false } };

/**
 * A module that follows the image ABI: np.memory, np.hash (function 0), init (1) and process (2), types
 * 0 (i32, i32, i32) -> i32, 1 () -> (), 2 (i32) -> i32. `over` replaces parts of it.
 */
function module(over: Partial<ModuleInfo> = {}): ModuleInfo {
  const types: { params: ValType[]; results: ValType[] }[] = [
    { params: ["i32", "i32", "i32"], results: ["i32"] }, { params: [], results: [] }, { params: ["i32"], results: ["i32"] },
  ];
  return {
    types,
    imports: [MEMORY, { module: "np", name: "hash", kind: "func", typeIndex: 0 }],
    exports: [{ name: "init", kind: "func", index: 1 }, { name: "process", kind: "func", index: 2 }],
    functions: [
      fn(0, { name: "hash", imported: true, typeIndex: 0, ...types[0], bodyOffset: -1, instructions: 0 }),
      fn(1, { name: "init", typeIndex: 1 }),
      fn(2, { name: "process", typeIndex: 2, ...types[2], calls: [0] }),
    ],
    importedFunctions: 1, tables: [], memories: [{ initial: MEMORY_PAGES, maximum: MEMORY_PAGES, shared: false, imported: true }], memory: null,
    globals: [], elements: [], dataSegments: [{ mode: "active", memory: 0, offset: SLOT.base, size: 16 }], dataCount: null, start: null, hasStart: false,
    ...over,
  };
}

const check = (info: ModuleInfo, ctx = CTX) => verifyModule("img", info, ctx).map((v) => [v.rule, v.message]);

/** A module whose defined functions 0..n-1 call as `calls` says (no imports, nothing else wrong). */
function graph(calls: number[][], names?: string[]): ModuleInfo {
  return module({
    imports: [MEMORY], importedFunctions: 0, exports: [],
    functions: calls.map((c, i) => fn(i, { name: names?.[i] ?? `f${i}`, calls: c })),
  });
}

const cycles = (info: ModuleInfo) => callCycles(info).map((c) => c.map((f) => f.name).join(" -> "));

describe("the hand-built module", () => {
  it("passes every rule: it is a valid image", () => {
    expect(check(module())).toEqual([]);
  });
});

describe("data-slot", () => {
  it("names an active segment whose offset is not a constant", () => {
    expect(check(module({ dataSegments: [{ mode: "active", memory: 0, offset: null, size: 3 }] }))).toEqual([
      ["data-slot", "data segment 0 (3 bytes) has a non-constant offset (the image's data slot is 0x10000..0x12000)"],
    ]);
  });

  it("refuses a segment that starts below the slot even when it ends inside it", () => {
    expect(check(module({ dataSegments: [{ mode: "active", memory: 0, offset: SLOT.base - 4, size: 8 }] }))).toEqual([
      ["data-slot", "data segment 0 at 0xfffc..0x10004 (8 bytes) is outside the slot (the image's data slot is 0x10000..0x12000)"],
    ]);
    expect(check(module({ dataSegments: [{ mode: "active", memory: 0, offset: SLOT.base - 4, size: 4 }] })).map(([r]) => r)).toEqual(["data-slot"]);
    expect(check(module({ dataSegments: [{ mode: "active", memory: 0, offset: SLOT.base, size: SLOT.size }] }))).toEqual([]);
  });
});

describe("exports", () => {
  it("names an entry point exported as something other than a function", () => {
    expect(check(module({ exports: [{ name: "init", kind: "global", index: 0 }, { name: "process", kind: "func", index: 2 }] }))).toEqual([
      ["exports", "export init is a global, expected a function () -> ()"],
    ]);
  });
});

describe("float", () => {
  it("reports a float type once, with the function that has it, and a type no function has on its own", () => {
    const info = module({
      types: [...module().types, { params: ["f64"], results: [] }, { params: ["i32", "f32"], results: [] }, { params: ["i64"], results: ["i64"] }],
      functions: [...module().functions, fn(3, { name: "scale", typeIndex: 3, params: ["f64"], floatTypes: true })],
    });
    expect(check(info)).toEqual([
      ["float", "function scale uses floating point: f32/f64 in its signature, locals or block types"],
      ["float", "type 4 (i32, f32) -> () uses floating point"],
    ]);
  });

  it("counts float instructions in the singular and the plural", () => {
    const one = module({ functions: [...module().functions, fn(3, { name: "one", floatOps: 1, firstFloatOp: { name: "f32.add", offset: 77 } })] });
    expect(check(one)).toEqual([["float", "function one uses floating point: 1 f32/f64 instruction (first f32.add at byte 77)"]]);
    const two = module({ functions: [...module().functions, fn(3, { name: "two", floatOps: 2, firstFloatOp: { name: "f64.mul", offset: 9 } })] });
    expect(check(two)).toEqual([["float", "function two uses floating point: 2 f32/f64 instructions (first f64.mul at byte 9)"]]);
  });
});

describe("imports", () => {
  it("refuses a second memory import", () => {
    const second: ImportInfo = { ...MEMORY, name: "memory2" };
    expect(check(module({ imports: [MEMORY, second, ...module().imports.slice(1)] }))).toEqual([
      ["imports", "import np.memory2 (memory): the shared memory must be imported as np.memory"],
      ["imports", "2 memory imports: an image imports exactly one, np.memory"],
    ]);
  });

  it("wants initial = maximum = the shared memory's pages, not shared", () => {
    const mem = (initial: number, maximum: number | null, shared: boolean) =>
      check(module({ imports: [{ ...MEMORY, limits: { initial, maximum, shared } }, ...module().imports.slice(1)] }));
    const expected = `expected initial = maximum = ${MEMORY_PAGES} pages, not shared`;
    expect(mem(MEMORY_PAGES, MEMORY_PAGES * 2, false)).toEqual([["imports", `import np.memory (memory): initial ${MEMORY_PAGES}, maximum ${MEMORY_PAGES * 2}; ${expected}`]]);
    expect(mem(MEMORY_PAGES / 2, MEMORY_PAGES, false)).toEqual([["imports", `import np.memory (memory): initial ${MEMORY_PAGES / 2}, maximum ${MEMORY_PAGES}; ${expected}`]]);
    expect(mem(MEMORY_PAGES, MEMORY_PAGES, true)).toEqual([["imports", `import np.memory (memory): initial ${MEMORY_PAGES}, maximum ${MEMORY_PAGES}, shared; ${expected}`]]);
    expect(mem(MEMORY_PAGES, MEMORY_PAGES, false)).toEqual([]);
  });
});

describe("messages", () => {
  it("show control characters from names in the binary escaped, so each message is one line", () => {
    const info = module({ functions: [...module().functions, fn(3, { name: "a\nb\u0001\u007f", memoryGrow: true })] });
    expect(verifyModule("img", info, CTX)).toEqual([
      { image: "img", rule: "memory-grow", message: `function a\\x0ab\\x01\\x7f uses memory.grow; np.memory is fixed at ${MEMORY_PAGES} pages` },
    ]);
  });

  it("lets an error that is not about the bytes propagate", () => {
    expect(() => verifyImageBinary("img", undefined as unknown as Uint8Array, CTX)).toThrow(TypeError);
  });
});

describe("rule helpers", () => {
  it("formatSignature: a single result bare, any other list in parentheses", () => {
    expect(formatSignature(["i32", "i64"], ["i32"])).toBe("(i32, i64) -> i32");
    expect(formatSignature([], [])).toBe("() -> ()");
    expect(formatSignature(["i32"], ["i32", "i64"])).toBe("(i32) -> (i32, i64)");
  });

  it("sameTypes compares lengths and each type in order", () => {
    expect(sameTypes(["i32", "i64"], ["i32", "i64"])).toBe(true);
    expect(sameTypes(["i32", "i64"], ["i64", "i32"])).toBe(false);
    expect(sameTypes(["i32"], ["i32", "i32"])).toBe(false);
    expect(sameTypes([], [])).toBe(true);
  });

  it("definedFunctions leaves the imported functions out", () => {
    expect(definedFunctions(module()).map((f) => f.name)).toEqual(["init", "process"]);
  });

  it("hex writes 0x and lower-case digits", () => {
    expect(hex(0xabc0)).toBe("0xabc0");
  });
});

describe("recursion: call cycles", () => {
  it("finds no cycle in a call graph without one, even with calls across branches", () => {
    // 0 -> 1, 0 -> 2, 2 -> 1: function 1 is reached twice but never calls back.
    expect(cycles(graph([[1, 2], [], [1]]))).toEqual([]);
    expect(cycles(graph([[1, 2], [3], [3], []]))).toEqual([]);
  });

  it("finds a cycle through the first function searched", () => {
    expect(cycles(graph([[1], [0]], ["a", "b"]))).toEqual(["a -> b -> a"]);
    expect(cycles(graph([[1], [2], [0]], ["a", "b", "c"]))).toEqual(["a -> b -> c -> a"]);
  });

  it("reports a self-call once, also when it was reached from another function first", () => {
    expect(cycles(graph([[1], [1]], ["main", "loop"]))).toEqual(["loop -> loop"]);
  });

  it("orders the cycles by their lowest function index, whatever order the search found them in", () => {
    // {1, 2} is closed before {0, 3}, and {4, 5} last.
    expect(cycles(graph([[1, 3], [2], [1], [0], [5], [4]]))).toEqual(["f0 -> f3 -> f0", "f1 -> f2 -> f1", "f4 -> f5 -> f4"]);
    expect(cycles(graph([[], [2], [1], [3]]))).toEqual(["f1 -> f2 -> f1", "f3 -> f3"]);
  });

  it("reports the shortest way back, in call order", () => {
    // One component 0 -> 1 -> 2 -> 3 -> 0 with a shortcut 0 -> 2.
    expect(cycles(graph([[1, 2], [2], [3], [0]]))).toEqual(["f0 -> f2 -> f3 -> f0"]);
    // Reached through a longer branch first: 0 -> 1 -> 2 -> 3 -> 0 and 1 -> 3.
    expect(cycles(graph([[1], [2, 3], [3], [0]]))).toEqual(["f0 -> f1 -> f3 -> f0"]);
  });

  it("reports each cycle as a recursion violation by name", () => {
    expect(check(graph([[1], [2], [0]], ["a", "b", "c"])).filter(([rule]) => rule === "recursion")).toEqual([["recursion", "recursive calls: a -> b -> c -> a"]]);
  });
});
