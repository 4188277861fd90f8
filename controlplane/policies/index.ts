// Registry of dispatching policies by name (DESIGN contract 6). A later policy registers here, or a user
// passes their own hook set to the ControlPlane directly.
import type { Policy } from "./policy.js";
import { roundRobin } from "./round-robin.js";

export type { DispatchOutcome, Policy, PolicyContext, ServerView } from "./policy.js";

export type PolicyFactory = (options?: Record<string, unknown>) => Policy<any>;

const registry = new Map<string, PolicyFactory>([["round-robin", () => roundRobin()]]);

export function registerPolicy(name: string, factory: PolicyFactory): void {
  if (registry.has(name)) throw new Error(`policy ${name} is already registered`);
  registry.set(name, factory);
}

export function policyNames(): string[] {
  return [...registry.keys()].sort();
}

/** A fresh instance of policy `name`. */
export function createPolicy(name: string, options?: Record<string, unknown>): Policy<any> {
  const factory = registry.get(name);
  if (!factory) throw new Error(`unknown policy '${name}' (have: ${policyNames().join(", ")})`);
  return factory(options);
}
