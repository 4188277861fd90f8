// Built-in content-blind and priority-pool policies (one file each beside this one).
import type { PolicyEntry } from "./policy.js";
import { roundRobin } from "./round-robin.js";

export const BLIND_POLICIES: PolicyEntry[] = [
  { name: "round-robin", family: "content-blind", description: "servers in turn, weights ignored", params: [], create: () => roundRobin() },
];
