// Cycle accounting for a data-plane image, added with binaryen when the simulator loads it (never
// in the build: what is simulated is the exact image that is flashed, plus this instrumentation).
//
// Cost model (approximate, documented in sim/README.md):
// - An ME executes operations, not Wasm stack traffic: each Binary/Unary/Select/compare-and-branch
//   costs aluCycles; local.get/set, constants, globals, blocks and drops are register work and free.
// - Multiplies cost multiplyCycles, divides and remainders divideCycles; i64 operations double.
// - Calls cost callCycles; each loop iteration and each if-arm entered costs branchTakenCycles.
// - memory.copy/fill cost size / bulkBytesPerCycle.
// - The first load or store of each 64-byte line in a packet calls $__np_record (later ones are
//   transfer-register hits and free, found by a 64-entry direct-mapped filter): accesses below the scratch region (the image's
//   own static data: local memory) cost the local-memory latency inline; every other access costs
//   memoryIssueCycles and appends a record (cycle count at issue, address, size, write) to the
//   SIM_TRACE region, from which the ME model derives the thread's waits (sim/timing/trace.ts).
// Costs are charged once at the start of each straight-line region (function body, loop body, if
// arm), so a branch out of the middle of a region over-counts the rest of that region.
import binaryen from "binaryen";
import { region } from "../../abi/layout.js";

export interface TimingCosts {
  aluCycles: number;
  branchTakenCycles: number;
  multiplyCycles: number;
  divideCycles: number;
  callCycles: number;
  bulkBytesPerCycle: number;
  memoryIssueCycles: number;
  localLatencyCycles: number;
}

/** A direct-mapped filter of the lines this packet touched (64 entries), then the records. */
const FILTER_BASE = region("SIM_TRACE").base;
const FILTER_ENTRIES = 64;
export const TRACE_BASE = FILTER_BASE + FILTER_ENTRIES * 4;
export const TRACE_RECORD_BYTES = 8;
export const TRACE_CAPACITY = (region("SIM_TRACE").size - FILTER_ENTRIES * 4) / TRACE_RECORD_BYTES;
/** Accesses below this address are the image's local static data. */
export const SHARED_MEMORY_START = region("CONFIG").base;

/** Record word layout: bits 0-22 address, 29-30 log2(size), 31 write. */
export const TRACE_ADDR_MASK = 0x7f_ffff;
export const TRACE_WRITE_BIT = 0x8000_0000;
export const TRACE_SIZE_SHIFT = 29;

export const TIMING_EXPORTS = { reset: "__np_timing_reset", cycles: "__np_timing_cycles", records: "__np_timing_records" } as const;

type Ref = number;
type Get = (e: Ref) => Ref;
type Set = (e: Ref, v: Ref) => void;
/** binaryen.js's expression wrappers, which its type declarations leave out. */
interface Wrappers {
  Function: { setBody(f: binaryen.FunctionRef, body: Ref): void };
  Block: { getChildren(e: Ref): Ref[] };
  Loop: { getBody: Get; setBody: Set };
  If: { getCondition: Get; getIfTrue: Get; setIfTrue: Set; getIfFalse: Get; setIfFalse: Set };
  Break: { getCondition: Get; getValue: Get };
  Switch: { getCondition: Get; getValue: Get };
  Call: { getOperands(e: Ref): Ref[] };
  Load: { getPtr: Get; setPtr: Set; getOffset(e: Ref): number; getBytes(e: Ref): number };
  Store: { getPtr: Get; setPtr: Set; getValue: Get; getOffset(e: Ref): number; getBytes(e: Ref): number };
  Binary: { getOp(e: Ref): number; getLeft: Get; getRight: Get };
  Unary: { getValue: Get };
  Select: { getIfTrue: Get; getIfFalse: Get; getCondition: Get };
  Drop: { getValue: Get };
  Return: { getValue: Get };
  MemoryCopy: { getDest: Get; getSource: Get; getSize: Get; setSize: Set };
  MemoryFill: { getDest: Get; getValue: Get; getSize: Get; setSize: Set };
}
const W = binaryen as unknown as Wrappers;

const CYCLES = "__np_cycles";
const TRACE_N = "__np_trace_n";
const RECORD = "__np_record";
/** Lines of this many bytes: a repeated access to a line this packet already touched is not traced. */
const LINE_SHIFT = 6;
const BULK = "__np_bulk";

/** Return the image with cycle accounting and a memory trace added. Throws if binaryen rejects it. */
export function instrumentImage(wasm: Uint8Array, costs: TimingCosts): Uint8Array {
  const mod = binaryen.readBinary(wasm);
  try {
    mod.setFeatures(binaryen.Features.MVP | binaryen.Features.SignExt | binaryen.Features.BulkMemory | (binaryen.Features as unknown as { BulkMemoryOpt: number }).BulkMemoryOpt | binaryen.Features.MutableGlobals);
    const i32 = binaryen.i32;
    const defined: binaryen.FunctionRef[] = [];
    for (let i = 0; i < mod.getNumFunctions(); i++) {
      const f = mod.getFunctionByIndex(i);
      if (binaryen.getFunctionInfo(f).module === "") defined.push(f);
    }
    mod.addGlobal(CYCLES, i32, true, mod.i32.const(0));
    mod.addGlobal(TRACE_N, i32, true, mod.i32.const(0));
    const w = new Instrumenter(mod, costs);
    for (const f of defined) w.instrumentFunction(f);
    addRuntime(mod, costs);
    if (!mod.validate()) throw new Error("instrumented image does not validate");
    return mod.emitBinary();
  } finally {
    mod.dispose();
  }
}

function addRuntime(mod: binaryen.Module, costs: TimingCosts): void {
  const i32 = binaryen.i32;
  const g = (n: string) => mod.global.get(n, i32);
  const addCycles = (n: binaryen.ExpressionRef) => mod.global.set(CYCLES, mod.i32.add(g(CYCLES), n));
  // $__np_record(ptr, tag): charge and trace the first access of a line (per filter slot).
  const P = 0, TAG = 1, EA = 2, AT = 3;
  const lg = (i: number) => mod.local.get(i, i32);
  mod.addFunction(RECORD, binaryen.createType([i32, i32]), binaryen.none, [i32, i32], mod.block(null, [
    mod.local.set(EA, mod.i32.add(lg(P), mod.i32.and(lg(TAG), mod.i32.const(TRACE_ADDR_MASK)))),
    mod.i32.store(0, 4,
      mod.i32.add(mod.i32.const(FILTER_BASE), mod.i32.shl(mod.i32.and(mod.i32.shr_u(lg(EA), mod.i32.const(LINE_SHIFT)), mod.i32.const(FILTER_ENTRIES - 1)), mod.i32.const(2))),
      mod.i32.shr_u(lg(EA), mod.i32.const(LINE_SHIFT))),
    mod.if(
      mod.i32.or(mod.i32.lt_u(lg(EA), mod.i32.const(SHARED_MEMORY_START)), mod.i32.ge_u(lg(EA), mod.i32.const(TRACE_BASE))),
      mod.block(null, [addCycles(mod.i32.const(costs.localLatencyCycles)), mod.return()]),
    ),
    addCycles(mod.i32.const(costs.memoryIssueCycles)),
    mod.if(mod.i32.lt_u(g(TRACE_N), mod.i32.const(TRACE_CAPACITY)), mod.block(null, [
      mod.local.set(AT, mod.i32.add(mod.i32.const(TRACE_BASE), mod.i32.shl(g(TRACE_N), mod.i32.const(3)))),
      mod.i32.store(0, 4, lg(AT), g(CYCLES)),
      mod.i32.store(4, 4, lg(AT), mod.i32.or(mod.i32.and(lg(EA), mod.i32.const(TRACE_ADDR_MASK)), mod.i32.and(lg(TAG), mod.i32.const(~TRACE_ADDR_MASK)))),
    ])),
    mod.global.set(TRACE_N, mod.i32.add(g(TRACE_N), mod.i32.const(1))),
  ]));
  // $__np_bulk(size) -> size: memory.copy/fill cost
  mod.addFunction(BULK, i32, i32, [], mod.block(null, [
    addCycles(mod.i32.div_u(mod.local.get(0, i32), mod.i32.const(costs.bulkBytesPerCycle))),
    mod.local.get(0, i32),
  ], i32));
  mod.addFunction(TIMING_EXPORTS.reset, binaryen.none, binaryen.none, [], mod.block(null, [
    mod.global.set(CYCLES, mod.i32.const(0)),
    mod.global.set(TRACE_N, mod.i32.const(0)),
    mod.memory.fill(mod.i32.const(FILTER_BASE), mod.i32.const(0), mod.i32.const(FILTER_ENTRIES * 4)),
  ]));
  mod.addFunction(TIMING_EXPORTS.cycles, binaryen.none, i32, [], g(CYCLES));
  mod.addFunction(TIMING_EXPORTS.records, binaryen.none, i32, [], g(TRACE_N));
  for (const name of Object.values(TIMING_EXPORTS)) mod.addFunctionExport(name, name);
}

const MUL_OPS = new Set<number>([binaryen.MulInt32, binaryen.MulInt64]);
const DIV_OPS = new Set<number>([
  binaryen.DivSInt32, binaryen.DivUInt32, binaryen.RemSInt32, binaryen.RemUInt32,
  binaryen.DivSInt64, binaryen.DivUInt64, binaryen.RemSInt64, binaryen.RemUInt64,
]);

/** Walks a function, charging each straight-line region at its start and tracing memory ops. */
class Instrumenter {
  constructor(private mod: binaryen.Module, private costs: TimingCosts) {}

  /** Scratch locals for a load/store address and its line in the function being instrumented. */
  private temp = 0;
  private line = 0;

  instrumentFunction(f: binaryen.FunctionRef): void {
    const info = binaryen.getFunctionInfo(f);
    const addVar = (binaryen as unknown as { _BinaryenFunctionAddVar(f: binaryen.FunctionRef, t: number): number })._BinaryenFunctionAddVar;
    this.temp = addVar(f, binaryen.i32);
    this.line = addVar(f, binaryen.i32);
    W.Function.setBody(f, this.region(info.body, info.results, 0));
  }

  /** ptr -> { t = ptr; l = (t + offset) >> LINE_SHIFT; if (filter[l & 63] != l) record(t, tag); t } */
  private traced(ptr: Ref, offset: number, bytes: number, write: boolean): Ref {
    const m = this.mod, i32 = binaryen.i32, t = this.temp, l = this.line;
    const tag = this.tag(offset, bytes, write);
    const slot = m.i32.add(m.i32.const(FILTER_BASE), m.i32.shl(m.i32.and(m.local.get(l, i32), m.i32.const(FILTER_ENTRIES - 1)), m.i32.const(2)));
    return m.block(null, [
      m.local.set(t, ptr),
      m.local.set(l, m.i32.shr_u(m.i32.add(m.local.get(t, i32), m.i32.const(offset)), m.i32.const(LINE_SHIFT))),
      m.if(m.i32.ne(m.i32.load(0, 4, slot), m.local.get(l, i32)), m.call(RECORD, [m.local.get(t, i32), m.i32.const(tag)], binaryen.none)),
      m.local.get(t, i32),
    ], i32);
  }

  /** Charge `extra` plus the cost of `expr`'s straight-line part at its start. */
  private region(expr: binaryen.ExpressionRef, type: number, extra: number): binaryen.ExpressionRef {
    const cost = extra + this.walk(expr);
    if (cost === 0) return expr;
    const i32 = binaryen.i32;
    const charge = this.mod.global.set(CYCLES, this.mod.i32.add(this.mod.global.get(CYCLES, i32), this.mod.i32.const(cost)));
    return this.mod.block(null, [charge, expr], type === binaryen.unreachable ? binaryen.auto : type);
  }

  /** Cost of `expr` outside nested regions; rewrites memory ops and nested regions in place. */
  private walk(e: binaryen.ExpressionRef): number {
    if (!e) return 0;
    const c = this.costs;
    const id = binaryen.getExpressionId(e);
    const wide = binaryen.getExpressionType(e) === binaryen.i64 ? 2 : 1;
    switch (id) {
      case binaryen.BlockId: {
        let sum = 0;
        for (const child of W.Block.getChildren(e)) sum += this.walk(child);
        return sum;
      }
      case binaryen.LoopId: {
        W.Loop.setBody(e, this.region(W.Loop.getBody(e), binaryen.getExpressionType(W.Loop.getBody(e)), c.branchTakenCycles));
        return 0;
      }
      case binaryen.IfId: {
        const cond = this.walk(W.If.getCondition(e));
        const t = W.If.getIfTrue(e);
        W.If.setIfTrue(e, this.region(t, binaryen.getExpressionType(t), c.branchTakenCycles));
        const f = W.If.getIfFalse(e);
        if (f) W.If.setIfFalse(e, this.region(f, binaryen.getExpressionType(f), c.branchTakenCycles));
        return cond + c.aluCycles;
      }
      case binaryen.BreakId:
        return this.walk(W.Break.getCondition(e)) + this.walk(W.Break.getValue(e)) + c.aluCycles;
      case binaryen.SwitchId:
        return this.walk(W.Switch.getCondition(e)) + this.walk(W.Switch.getValue(e)) + c.branchTakenCycles;
      case binaryen.CallId: {
        let sum = c.callCycles;
        for (const op of W.Call.getOperands(e)) sum += this.walk(op);
        return sum;
      }
      case binaryen.LoadId: {
        const sum = this.walk(W.Load.getPtr(e));
        W.Load.setPtr(e, this.traced(W.Load.getPtr(e), W.Load.getOffset(e), W.Load.getBytes(e), false));
        return sum;
      }
      case binaryen.StoreId: {
        const sum = this.walk(W.Store.getPtr(e)) + this.walk(W.Store.getValue(e));
        W.Store.setPtr(e, this.traced(W.Store.getPtr(e), W.Store.getOffset(e), W.Store.getBytes(e), true));
        return sum;
      }
      case binaryen.BinaryId: {
        const op = W.Binary.getOp(e);
        const own = MUL_OPS.has(op) ? c.multiplyCycles : DIV_OPS.has(op) ? c.divideCycles : c.aluCycles;
        return this.walk(W.Binary.getLeft(e)) + this.walk(W.Binary.getRight(e)) + own * wide;
      }
      case binaryen.UnaryId:
        return this.walk(W.Unary.getValue(e)) + c.aluCycles * wide;
      case binaryen.SelectId:
        return this.walk(W.Select.getIfTrue(e)) + this.walk(W.Select.getIfFalse(e)) + this.walk(W.Select.getCondition(e)) + c.aluCycles;
      case binaryen.LocalSetId:
      case binaryen.GlobalSetId:
        return this.walk((binaryen.getExpressionInfo(e) as unknown as { value: Ref }).value);
      case binaryen.DropId:
        return this.walk(W.Drop.getValue(e));
      case binaryen.ReturnId:
        return this.walk(W.Return.getValue(e));
      case binaryen.MemoryCopyId: {
        const sum = this.walk(W.MemoryCopy.getDest(e)) + this.walk(W.MemoryCopy.getSource(e)) + this.walk(W.MemoryCopy.getSize(e));
        W.MemoryCopy.setSize(e, this.mod.call(BULK, [W.MemoryCopy.getSize(e)], binaryen.i32));
        return sum;
      }
      case binaryen.MemoryFillId: {
        const sum = this.walk(W.MemoryFill.getDest(e)) + this.walk(W.MemoryFill.getValue(e)) + this.walk(W.MemoryFill.getSize(e));
        W.MemoryFill.setSize(e, this.mod.call(BULK, [W.MemoryFill.getSize(e)], binaryen.i32));
        return sum;
      }
      case binaryen.LocalGetId:
      case binaryen.GlobalGetId:
      case binaryen.ConstId:
      case binaryen.NopId:
      case binaryen.UnreachableId:
      case binaryen.MemorySizeId:
        return 0;
      default:
        throw new Error(`timing: no cost rule for expression id ${id}`);
    }
  }

  private tag(offset: number, bytes: number, write: boolean): number {
    if (offset > TRACE_ADDR_MASK) throw new Error(`timing: memory offset ${offset} too large to trace`);
    const log2 = bytes === 8 ? 3 : bytes === 4 ? 2 : bytes === 2 ? 1 : 0;
    return (offset | (log2 << TRACE_SIZE_SHIFT) | (write ? TRACE_WRITE_BIT : 0)) | 0;
  }
}
