// The image verifier: checks a data-plane image's exact Wasm bytes against the image ABI (docs/ARCHITECTURE.md, "The image ABI").
import { WasmFormatError } from "../wasm/binary.js";
import { readModule, type ModuleInfo } from "../wasm/reader.js";
import { budgetRule } from "./budget.js";
import { dataSlotRule } from "./data-slot.js";
import { exportsRule } from "./exports.js";
import { floatRule } from "./float.js";
import { importsRule } from "./imports.js";
import { indirectCallRule } from "./indirect-call.js";
import { memoryGrowRule } from "./memory-grow.js";
import { ownMemoryRule } from "./own-memory.js";
import { recursionRule } from "./recursion.js";
import type { ModuleRule, RuleInfo, VerifyContext, Violation } from "./rule.js";
import { startRule } from "./start.js";

export type { RuleInfo, VerifyContext, Violation } from "./rule.js";

/** Checked before any other rule: when the bytes do not decode, nothing else can be checked. */
const FORMAT_RULE: RuleInfo = { id: "format", description: "the image is a well-formed Wasm binary the verifier can decode" };

/** The rules over a decoded module, in the order their violations are reported. */
export const MODULE_RULES: readonly ModuleRule[] = [
  importsRule, exportsRule, floatRule, memoryGrowRule, indirectCallRule, recursionRule, ownMemoryRule, startRule, dataSlotRule, budgetRule,
];

/** Every rule, id and one-line description, for `npswitch verify --rules` and the docs. */
export const RULES: readonly RuleInfo[] = [FORMAT_RULE, ...MODULE_RULES].map(({ id, description }) => ({ id, description }));

/** Verify one image's Wasm bytes; an empty list means the image follows the ABI. */
export function verifyImageBinary(image: string, wasm: Uint8Array, rules: VerifyContext): Violation[] {
  let info: ModuleInfo;
  try {
    info = readModule(wasm);
  } catch (e) {
    if (!(e instanceof WasmFormatError)) throw e;
    return [violation(image, FORMAT_RULE.id, e.message)];
  }
  return verifyModule(image, info, rules);
}

/** Verify an already decoded image. */
export function verifyModule(image: string, info: ModuleInfo, ctx: VerifyContext): Violation[] {
  return MODULE_RULES.flatMap((rule) => rule.check(info, ctx).map((message) => violation(image, rule.id, message)));
}

/** Messages are one line: control characters (from names in the binary) are shown escaped. */
function violation(image: string, rule: string, message: string): Violation {
  const oneLine = message.replace(/[\u0000-\u001f\u007f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`);
  return { image, rule, message: oneLine };
}
