// Registry of dispatching policies by name (docs/ARCHITECTURE.md, "Policies are hook sets"): the built-in catalogues, policies a
// user registers, and a user's own module loaded by path. Parameters are validated against each
// policy's declared params, with errors that name the field.
import { PolicyConfigError, type Policy, type PolicyEntry, type PolicyParam } from "./policy.js";
import { BLIND_POLICIES } from "./catalog-blind.js";
import { AWARE_POLICIES } from "./catalog-aware.js";

export { PolicyConfigError } from "./policy.js";
export type { ConnectionResult, DispatchOutcome, Policy, PolicyContext, PolicyEntry, PolicyParam, ServerView } from "./policy.js";

export type PolicyFactory = (options?: Record<string, unknown>) => Policy<any>;

const registry = new Map<string, PolicyEntry>();
for (const e of [...BLIND_POLICIES, ...AWARE_POLICIES]) {
  if (registry.has(e.name)) throw new Error(`policy ${e.name} is in two catalogues`);
  registry.set(e.name, e);
}

/** Register a policy by name: a full entry, or a bare factory that takes no declared parameters. */
export function registerPolicy(name: string, factory: PolicyFactory | PolicyEntry): void {
  if (registry.has(name)) throw new Error(`policy ${name} is already registered`);
  registry.set(name, typeof factory === "function"
    ? { name, family: "content-blind", description: "registered at run time", params: [], create: (p) => factory(p) }
    : factory);
}

export function policyNames(): string[] {
  return [...registry.keys()].sort();
}

export function policyEntries(): PolicyEntry[] {
  return policyNames().map((n) => registry.get(n)!);
}

/** Check `given` against the declared params: unknown names, wrong types and ranges are errors naming the field. */
export function resolveParams(entry: PolicyEntry, given: Record<string, unknown> = {}, where = `policy ${entry.name}`): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const known = new Map(entry.params.map((p) => [p.name, p]));
  for (const k of Object.keys(given)) {
    if (!known.has(k)) {
      const names = entry.params.map((p) => p.name);
      throw new PolicyConfigError(`${where}: unknown parameter '${k}'${names.length ? ` (known: ${names.join(", ")})` : " (it takes none)"}`);
    }
  }
  for (const p of entry.params) out[p.name] = p.name in given ? checkParam(p, given[p.name], where) : p.default;
  return out;
}

function checkParam(p: PolicyParam, v: unknown, where: string): unknown {
  const bad = (what: string) => new PolicyConfigError(`${where}: parameter ${p.name}: ${what}`);
  const num = (x: unknown, integer: boolean) => {
    if (typeof x !== "number" || !Number.isFinite(x) || (integer && !Number.isInteger(x))) throw bad(`expected ${integer ? "an integer" : "a number"}, got ${JSON.stringify(x)}`);
    if (p.min !== undefined && x < p.min) throw bad(`${x} is below the minimum ${p.min}`);
    if (p.max !== undefined && x > p.max) throw bad(`${x} is above the maximum ${p.max}`);
    return x;
  };
  switch (p.type) {
    case "number": return num(v, false);
    case "integer": return num(v, true);
    case "boolean": if (typeof v !== "boolean") throw bad(`expected true or false, got ${JSON.stringify(v)}`); return v;
    case "string": if (typeof v !== "string") throw bad(`expected a string, got ${JSON.stringify(v)}`); return v;
    case "string[]": if (!Array.isArray(v) || !v.every((x) => typeof x === "string")) throw bad("expected a list of strings"); return v;
    case "number[]": if (!Array.isArray(v)) throw bad("expected a list of numbers"); return v.map((x) => num(x, false));
    case "object": if (v === null || typeof v !== "object") throw bad("expected a mapping"); return v;
  }
}

/** A fresh instance of policy `name` with validated parameters. */
export function createPolicy(name: string, params?: Record<string, unknown>): Policy<any> {
  const entry = registry.get(name);
  if (!entry) throw new PolicyConfigError(`unknown policy '${name}' (have: ${policyNames().join(", ")})`);
  return entry.create(resolveParams(entry, params));
}

/**
 * A user's own policy module: its default export (or export `policy`) is a factory
 * `(params) => Policy` or a PolicyEntry. Loaded by path; nothing else changes.
 */
export async function loadPolicyModule(path: string, params?: Record<string, unknown>): Promise<Policy<any>> {
  const { pathToFileURL } = await import("node:url");
  const { resolve } = await import("node:path");
  let mod: Record<string, unknown>;
  try {
    mod = await import(pathToFileURL(resolve(path)).href);
  } catch (e) {
    throw new PolicyConfigError(`${path}: cannot load policy module: ${(e as Error).message}`);
  }
  const exp = (mod.default ?? mod.policy) as PolicyFactory | PolicyEntry | undefined;
  if (typeof exp === "function") {
    const p = exp(params ?? {});
    if (!p || typeof p.select !== "function") throw new PolicyConfigError(`${path}: the factory did not return a policy with a select hook`);
    return p;
  }
  if (exp && typeof exp === "object" && typeof exp.create === "function") return exp.create(resolveParams(exp, params, path));
  throw new PolicyConfigError(`${path}: no default export (a factory (params) => policy, or a PolicyEntry)`);
}
