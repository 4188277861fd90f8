// Rule `start`: an image has no start function; it runs only when the NP calls its exports.
import type { ModuleRule } from "./rule.js";

export const startRule: ModuleRule = {
  id: "start",
  description: "no start function: an image runs only through its exports",
  check(info) {
    if (info.start === null) return [];
    return [`the module has a start function (${info.functions[info.start].name}); an image runs only through its exports, init first`];
  },
};
