// `npswitch policies`: the built-in dispatching policies and their parameters.
import type { Command } from "commander";
import { policyEntries } from "../controlplane/policies/index.js";
import { printJson } from "./output.js";

export function registerPolicies(program: Command): void {
  program
    .command("policies")
    .description("list the built-in dispatching policies and their parameters (use one with 'npswitch sim --policy NAME' or a scenario's policy block)")
    .option("--json", "print [{name, family, description, params: [{name, type, default, doc, min, max}]}]")
    .action((opts: { json?: boolean }) => {
      const entries = policyEntries().map(({ name, family, description, params }) => ({ name, family, description, params }));
      if (opts.json) return printJson(entries);
      for (const family of ["content-blind", "priority", "content-aware"]) {
        const of = entries.filter((e) => e.family === family);
        if (!of.length) continue;
        console.log(`${family}:`);
        for (const e of of) {
          console.log(`  ${e.name.padEnd(28)} ${e.description}`);
          for (const p of e.params) {
            const range = p.min !== undefined || p.max !== undefined ? ` [${p.min ?? ""}..${p.max ?? ""}]` : "";
            console.log(`  ${"".padEnd(30)}${p.name} = ${JSON.stringify(p.default)}${range}: ${p.doc}`);
          }
        }
      }
    });
}
