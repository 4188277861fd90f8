// Built-in content-aware policies (one file each beside this one).
import type { PolicyEntry } from "./policy.js";

export const AWARE_POLICIES: PolicyEntry[] = [];
