// The data-plane pipeline (dataplane/pipeline.json): stage order and microengine assignment.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { NpswitchError } from "../../lib/errors.js";
import { DATAPLANE_DIR } from "./compile.js";

export interface Pipeline {
  stages: string[];
  mapping: "pipelined";
}

export function loadPipeline(dataplaneDir = DATAPLANE_DIR): Pipeline {
  const path = join(dataplaneDir, "pipeline.json");
  let json: Partial<Pipeline>;
  try {
    json = JSON.parse(readFileSync(path, "utf8"));
  } catch (e) {
    throw new NpswitchError(`${path}: ${(e as Error).message}`);
  }
  if (!Array.isArray(json.stages) || json.stages.length === 0 || !json.stages.every((s) => typeof s === "string")) {
    throw new NpswitchError(`${path}: field stages: expected a non-empty list of image names`);
  }
  if (json.mapping !== "pipelined") throw new NpswitchError(`${path}: field mapping: expected "pipelined"`);
  return { stages: json.stages, mapping: json.mapping };
}

/** Split `meCount` microengines among the stages in order; earlier stages get the remainder. */
export function assignMicroengines(stages: string[], meCount: number): Map<string, number[]> {
  if (stages.length > meCount) throw new NpswitchError(`${stages.length} pipeline stages need at least as many microengines; the target has ${meCount}`);
  const out = new Map<string, number[]>();
  let next = 0;
  stages.forEach((s, i) => {
    const n = Math.floor(meCount / stages.length) + (i < meCount % stages.length ? 1 : 0);
    out.set(s, Array.from({ length: n }, (_, k) => next + k));
    next += n;
  });
  return out;
}
