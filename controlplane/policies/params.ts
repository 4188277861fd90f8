// Parameter helpers the policies' registry entries share: errors that name the field, enum checks, and the declarations several policies take.
import { PolicyConfigError, type PolicyParam } from "./policy.js";

/** A configuration error naming the policy and the field, as the registry words its own. */
export function paramError(policy: string, field: string, what: string): PolicyConfigError {
  return new PolicyConfigError(`policy ${policy}: parameter ${field}: ${what}`);
}

/** `value` when it is one of `choices`; else an error listing them, each as `show` writes it. */
function choice<T extends string>(policy: string, field: string, value: unknown, choices: readonly T[], show: (c: T) => string): T {
  if (typeof value !== "string" || !choices.includes(value as T)) throw paramError(policy, field, `expected one of ${choices.map(show).join(", ")}, got ${JSON.stringify(value)}`);
  return value as T;
}

/** A string parameter that must be one of `choices` (listed bare in the error). */
export function oneOf<T extends string>(policy: string, field: string, value: unknown, choices: readonly T[]): T {
  return choice(policy, field, value, choices, (c) => c);
}

/** Resolved string parameter `name` that must be one of `values` (listed quoted in the error; the registry checks only that it is a string). */
export function oneOfParam<T extends string>(policy: string, params: Record<string, unknown>, name: string, values: readonly T[]): T {
  return choice(policy, name, params[name], values, (c) => `"${c}"`);
}

/** Declared by the per-URL policies (url-hash, lard, lard-r): key targets by Host too. */
export const includeHostParam: PolicyParam = {
  name: "includeHost", type: "boolean", default: false,
  doc: "key targets by Host and URL (virtual hosts sharing paths) instead of the URL hash alone",
};

/** Declared by the policies with a target table (lard, lard-r): its bound. */
export const maxTargetsParam: PolicyParam = {
  name: "maxTargets", type: "integer", default: 100_000, min: 1,
  doc: "targets remembered; the least recently used is forgotten beyond this",
};
