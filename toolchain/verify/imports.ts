// Rule `imports`: an image imports np.memory and NP intrinsics with their exact signatures, nothing else (image ABI, abi.ts).
import { INTRINSICS, MEMORY_IMPORT, NP_MODULE } from "../../abi/abi.js";
import type { ImportInfo, ModuleInfo } from "../wasm/reader.js";
import { formatSignature, sameTypes, type ModuleRule, type VerifyContext } from "./rule.js";

const INTRINSIC_NAMES = INTRINSICS.map((i) => i.name).join(", ");

export const importsRule: ModuleRule = {
  id: "imports",
  description: `imports come only from module "${NP_MODULE}": ${NP_MODULE}.${MEMORY_IMPORT.name} (initial = maximum = the shared memory's pages) and the NP intrinsics, with their exact signatures`,
  check(info, ctx) {
    const messages = info.imports.flatMap((imp) => checkImport(imp, info, ctx) ?? []);
    const memories = info.imports.filter((imp) => imp.kind === "memory").length;
    if (memories === 0) messages.push(`no memory import: an image must import ${NP_MODULE}.${MEMORY_IMPORT.name} (${ctx.memoryPages} pages)`);
    if (memories > 1) messages.push(`${memories} memory imports: an image imports exactly one, ${NP_MODULE}.${MEMORY_IMPORT.name}`);
    return messages;
  },
};

function checkImport(imp: ImportInfo, info: ModuleInfo, ctx: VerifyContext): string | null {
  const what = `import ${imp.module}.${imp.name} (${imp.kind})`;
  if (imp.module !== NP_MODULE) return `${what}: an image imports only from module "${NP_MODULE}"`;
  switch (imp.kind) {
    case "memory": {
      const { initial, maximum, shared } = imp.limits;
      const pages = ctx.memoryPages;
      if (imp.name !== MEMORY_IMPORT.name) return `${what}: the shared memory must be imported as ${NP_MODULE}.${MEMORY_IMPORT.name}`;
      if (initial !== pages || maximum !== pages || shared) {
        return `${what}: initial ${initial}, maximum ${maximum ?? "none"}${shared ? ", shared" : ""}; expected initial = maximum = ${pages} pages, not shared`;
      }
      return null;
    }
    case "func": {
      const intrinsic = INTRINSICS.find((i) => i.name === imp.name);
      if (!intrinsic) return `${what}: not an NP intrinsic (the intrinsics are ${INTRINSIC_NAMES})`;
      const type = info.types[imp.typeIndex];
      if (sameTypes(type.params, intrinsic.params) && sameTypes(type.results, intrinsic.results)) return null;
      return `${what}: type ${formatSignature(type.params, type.results)}, expected ${formatSignature(intrinsic.params, intrinsic.results)}`;
    }
    default:
      return `${what}: an image imports no ${imp.kind}s, only ${NP_MODULE}.${MEMORY_IMPORT.name} and NP intrinsics`;
  }
}
