// What an image-verifier rule is (the image ABI, docs/ARCHITECTURE.md, "The image ABI") and the helpers rules share.
import type { FunctionInfo, ModuleInfo, ValType } from "../wasm/reader.js";

export interface VerifyContext {
  /** Control-store size of the target profile, in Wasm instructions. */
  budget: number;
  /** Pages of the shared np.memory (MEMORY_PAGES in abi/layout.ts). */
  memoryPages: number;
  /** The image's static-data slot in the shared memory; when given, every data segment must lie inside it. */
  dataSlot?: { base: number; size: number };
}

export interface Violation {
  image: string;
  rule: string;
  /** One line. */
  message: string;
}

export interface RuleInfo {
  id: string;
  description: string;
}

/** A rule over a decoded module: one message per violation found, none when the module complies. */
export interface ModuleRule extends RuleInfo {
  check(info: ModuleInfo, ctx: VerifyContext): string[];
}

/** `(i32, i32) -> i32`, `() -> ()`: a single result stands bare, any other result list in parentheses. */
export function formatSignature(params: readonly string[], results: readonly string[]): string {
  const out = results.length === 1 ? results[0] : `(${results.join(", ")})`;
  return `(${params.join(", ")}) -> ${out}`;
}

export function sameTypes(a: readonly ValType[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((t, i) => t === b[i]);
}

export const signatureOf = (f: FunctionInfo) => formatSignature(f.params, f.results);

export const definedFunctions = (info: ModuleInfo) => info.functions.filter((f) => !f.imported);

export const hex = (n: number) => `0x${n.toString(16)}`;
