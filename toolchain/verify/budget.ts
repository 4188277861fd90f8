// Rule `budget`: the image's instructions fit the target's control store (docs/ARCHITECTURE.md, "Target profiles").
import { countInstructions, largestFunctions } from "../wasm/reader.js";
import type { ModuleRule } from "./rule.js";

const SHOW_LARGEST = 5;

export const budgetRule: ModuleRule = {
  id: "budget",
  description: "the instructions of all defined functions fit the control-store budget",
  check(info, ctx) {
    const total = countInstructions(info);
    if (total <= ctx.budget) return [];
    const largest = largestFunctions(info, SHOW_LARGEST).map((f) => `${f.name} ${f.instructions}`).join(", ");
    return [`${total} instructions exceed the control-store budget of ${ctx.budget}; largest functions: ${largest}`];
  },
};
