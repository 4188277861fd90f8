// YAML configuration files checked against a zod schema, with errors that name the file, the field
// and its line: scenarios (sim/scenario) and device configurations (device) read through this.
import { parseDocument } from "yaml";
import type { z } from "zod";
import { NpswitchError } from "./errors.js";

export function parseYamlConfig<S extends z.ZodType>(schema: S, text: string, origin: string): z.infer<S> {
  const doc = parseDocument(text, { prettyErrors: false });
  if (doc.errors.length) {
    const e = doc.errors[0];
    const line = e.linePos?.[0] ? ` (line ${e.linePos[0].line})` : "";
    throw new NpswitchError(`${origin}: not valid YAML${line}: ${e.message.split("\n")[0]}`);
  }
  const r = schema.safeParse(doc.toJS() ?? {});
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
