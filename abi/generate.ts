// Generates dataplane/lib/layout.ts (AssemblyScript constants) from abi/layout.ts.
// Run `npm run gen:layout` after changing the declaration; test/abi checks the file is current.
import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { ABI_VERSION } from "./abi.js";
import {
  CAPACITIES, ENUMS, FIELD_SIZE, FLAGS, MEMORY_PAGES, NO_FLOW, PAGE_SIZE, REGIONS, STRUCTS, fieldOffsets,
} from "./layout.js";

export const GENERATED_LAYOUT_PATH = fileURLToPath(new URL("../dataplane/lib/layout.ts", import.meta.url));

const hex = (n: number) => "0x" + n.toString(16).padStart(8, "0");

/** The text of dataplane/lib/layout.ts. Pure: the same declaration gives the same text. */
export function generateLayout(): string {
  const out: string[] = [];
  const seen = new Set<string>();
  const c = (name: string, type: string, value: string, doc: string) => {
    if (seen.has(name)) throw new Error(`layout: two declarations generate the constant ${name}`);
    seen.add(name);
    out.push(`@inline export const ${name}: ${type} = ${value};${doc ? " // " + doc : ""}`);
  };

  out.push("// Shared layouts for the data plane. GENERATED from abi/layout.ts by");
  out.push("// `npm run gen:layout`; do not edit: change the declaration and regenerate.");
  out.push("");
  c("ABI_VERSION", "u32", String(ABI_VERSION), "abi/abi.ts");
  c("MEMORY_PAGES", "u32", String(MEMORY_PAGES), `${(MEMORY_PAGES * PAGE_SIZE) >> 20} MiB shared linear memory`);
  c("NO_FLOW", "u32", hex(NO_FLOW), "no flow-table entry");
  out.push("");
  out.push("// Capacities");
  for (const [name, { value, doc }] of Object.entries(CAPACITIES)) c(name, "u32", String(value), doc);
  out.push("");
  out.push("// Memory map (np.memory)");
  for (const r of REGIONS) {
    c(`${r.name}_BASE`, "usize", hex(r.base), `${r.memory}: ${r.doc}`);
    c(`${r.name}_BYTES`, "u32", hex(r.size), "");
  }
  for (const s of STRUCTS) {
    out.push("");
    out.push(`// ${s.doc}`);
    c(`${s.prefix}SIZE`, "u32", String(s.size), "bytes");
    for (const f of s.fields) {
      const { offset } = fieldOffsets(s).get(f.name)!;
      const end = offset + FIELD_SIZE[f.kind] - 1;
      c(`${s.prefix}${f.name}`, "usize", String(offset), `${offset}-${end} ${f.kind}${f.doc ? " " + f.doc : ""}`);
    }
  }
  for (const e of ENUMS) {
    out.push("");
    out.push(`// ${e.doc}`);
    e.members.forEach((m, i) => c(`${e.prefix}${m.name}`, "i32", String((e.first ?? 0) + i), m.text));
    c(`${e.prefix}COUNT`, "i32", String(e.members.length), "");
  }
  for (const f of FLAGS) {
    out.push("");
    out.push(`// ${f.doc}`);
    f.bits.forEach((b, i) => c(`${f.prefix}${b.name}`, "u32", hex(1 << i), b.text));
  }
  out.push("");
  return out.join("\n");
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  writeFileSync(GENERATED_LAYOUT_PATH, generateLayout());
  console.log(`wrote ${GENERATED_LAYOUT_PATH}`);
}
