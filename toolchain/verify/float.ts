// Rule `float`: no f32/f64 anywhere in an image, since the microengines have no floating point (docs/ARCHITECTURE.md, "The image ABI").
import { isFloatType, type FunctionInfo } from "../wasm/reader.js";
import { formatSignature, type ModuleRule } from "./rule.js";

export const floatRule: ModuleRule = {
  id: "float",
  description: "no floating point: no f32/f64 in types, locals, globals or instructions",
  check(info) {
    const usedTypes = new Set(info.functions.map((f) => f.typeIndex));
    return [
      ...info.functions.flatMap((f) => describeFloatUse(f) ?? []),
      ...info.globals.flatMap((g, i) => (isFloatType(g.type) ? [`global ${i} has type ${g.type}`] : [])),
      // Types of functions are reported with the function; this catches the rest (e.g. call_indirect types).
      ...info.types.flatMap((t, i) =>
        !usedTypes.has(i) && [...t.params, ...t.results].some(isFloatType) ? [`type ${i} ${formatSignature(t.params, t.results)} uses floating point`] : []),
    ];
  },
};

function describeFloatUse(f: FunctionInfo): string | null {
  const uses: string[] = [];
  if (f.floatOps > 0) uses.push(`${f.floatOps} f32/f64 instruction${f.floatOps === 1 ? "" : "s"} (first ${f.firstFloatOp!.name} at byte ${f.firstFloatOp!.offset})`);
  if (f.floatTypes) uses.push("f32/f64 in its signature, locals or block types");
  return uses.length ? `function ${f.name} uses floating point: ${uses.join("; ")}` : null;
}
