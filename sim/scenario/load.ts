// Reads a scenario YAML file and validates it; errors name the file, the field and what was expected.
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { NpswitchError } from "../../lib/errors.js";
import { parseYamlConfig } from "../../lib/yaml-config.js";
import { ScenarioSchema, type Scenario } from "./schema.js";

export const DEFAULT_SCENARIO = fileURLToPath(new URL("../scenarios/default.yaml", import.meta.url));

export function loadScenario(path: string = DEFAULT_SCENARIO): Scenario {
  if (!existsSync(path)) throw new NpswitchError(`${path}: no such scenario file`);
  return parseScenario(readFileSync(path, "utf8"), path);
}

export function parseScenario(text: string, origin: string): Scenario {
  return parseYamlConfig(ScenarioSchema, text, origin);
}
