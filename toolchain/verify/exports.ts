// Rule `exports`: an image exports exactly the ABI's entry points with their exact signatures (REQUIRED_EXPORTS, abi.ts).
import { REQUIRED_EXPORTS } from "../../abi/abi.js";
import { formatSignature, sameTypes, signatureOf, type ModuleRule } from "./rule.js";

const REQUIRED_NAMES = REQUIRED_EXPORTS.map((e) => e.name).join(", ");

export const exportsRule: ModuleRule = {
  id: "exports",
  description: `exports exactly ${REQUIRED_EXPORTS.map((e) => `${e.name} ${formatSignature(e.params, e.results)}`).join(" and ")}, nothing else`,
  check(info) {
    const messages: string[] = [];
    for (const required of REQUIRED_EXPORTS) {
      const expected = formatSignature(required.params, required.results);
      const exp = info.exports.find((e) => e.name === required.name);
      if (!exp) {
        messages.push(`missing export ${required.name} ${expected}`);
      } else if (exp.kind !== "func") {
        messages.push(`export ${required.name} is a ${exp.kind}, expected a function ${expected}`);
      } else {
        const f = info.functions[exp.index];
        if (!sameTypes(f.params, required.params) || !sameTypes(f.results, required.results)) {
          messages.push(`export ${required.name} has type ${signatureOf(f)}, expected ${expected}`);
        }
      }
    }
    for (const exp of info.exports) {
      if (!REQUIRED_EXPORTS.some((r) => r.name === exp.name)) messages.push(`unexpected export ${exp.name} (${exp.kind}): an image exports only ${REQUIRED_NAMES}`);
    }
    return messages;
  },
};
