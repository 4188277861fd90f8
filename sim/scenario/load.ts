// Reads a scenario YAML file and validates it; errors name the file, the field and what was expected.
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { parseDocument } from "yaml";
import { NpswitchError } from "../../toolchain/errors.js";
import { ScenarioSchema, type Scenario } from "./schema.js";

export const DEFAULT_SCENARIO = fileURLToPath(new URL("../scenarios/default.yaml", import.meta.url));

export function loadScenario(path: string = DEFAULT_SCENARIO): Scenario {
  if (!existsSync(path)) throw new NpswitchError(`${path}: no such scenario file`);
  return parseScenario(readFileSync(path, "utf8"), path);
}

export function parseScenario(text: string, origin: string): Scenario {
  const doc = parseDocument(text, { prettyErrors: false });
  if (doc.errors.length) {
    const e = doc.errors[0];
    const line = e.linePos?.[0] ? ` (line ${e.linePos[0].line})` : "";
    throw new NpswitchError(`${origin}: not valid YAML${line}: ${e.message.split("\n")[0]}`);
  }
  const r = ScenarioSchema.safeParse(doc.toJS() ?? {});
  if (r.success) return r.data;
  const lines = r.error.issues.map((i) => {
    const path = i.path.map(String).join(".") || "(top level)";
    const node = i.path.length ? doc.getIn(i.path as (string | number)[], true) : undefined;
    const range = (node as { range?: [number, number] } | undefined)?.range;
    const line = range ? ` (line ${text.slice(0, range[0]).split("\n").length})` : "";
    return `${origin}: field ${path}${line}: ${i.message}`;
  });
  throw new NpswitchError(lines[0], lines.slice(1));
}
