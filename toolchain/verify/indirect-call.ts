// Rule `indirect-call`: no call_indirect, which would make the call graph (and so the recursion check) unknowable.
import { definedFunctions, type ModuleRule } from "./rule.js";

export const indirectCallRule: ModuleRule = {
  id: "indirect-call",
  description: "no call_indirect: the call graph must be known to rule out recursion",
  check(info) {
    return definedFunctions(info)
      .filter((f) => f.callIndirect)
      .map((f) => `function ${f.name} uses call_indirect; the call graph must be static so recursion can be ruled out`);
  },
};
