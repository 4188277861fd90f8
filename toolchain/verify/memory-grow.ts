// Rule `memory-grow`: an image never grows the shared memory, whose size the memory map fixes (layout.ts).
import { definedFunctions, type ModuleRule } from "./rule.js";

export const memoryGrowRule: ModuleRule = {
  id: "memory-grow",
  description: "no memory.grow: the shared memory has a fixed size",
  check(info, ctx) {
    return definedFunctions(info)
      .filter((f) => f.memoryGrow)
      .map((f) => `function ${f.name} uses memory.grow; np.memory is fixed at ${ctx.memoryPages} pages`);
  },
};
