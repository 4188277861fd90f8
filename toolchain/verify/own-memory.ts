// Rule `own-memory`: an image defines no memory of its own; all its state lives in the imported shared memory.
import type { ModuleRule } from "./rule.js";

export const ownMemoryRule: ModuleRule = {
  id: "own-memory",
  description: "defines no memory of its own (everything lives in the imported np.memory)",
  check(info) {
    return info.memories
      .filter((m) => !m.imported)
      .map((m) => `the module defines its own memory (initial ${m.initial} pages); an image uses only the imported np.memory`);
  },
};
