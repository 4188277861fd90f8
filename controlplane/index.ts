// The control-plane program's public surface: the ControlPlane, what it needs from its host (CpEnv, tables
// adapter), its configuration, costs, statistics and the dispatching policies.
export { ControlPlane } from "./cp.js";
export type { CpEnv, CpTimer } from "./env.js";
export { CP_COSTS, cpCycles, type CpOp, type CpCost } from "./costs.js";
export { DEFAULT_TCP, resolveCpConfig, switchConfigOf, type CpConfig, type CpLimits, type CpTcpOptions, type ServerConfig } from "./config.js";
export { REFUSAL, emptyStats, type CpStats, type RefusalReason } from "./stats.js";
export { type TablesAdapter, type InstallResult, type SpliceEntries } from "./tables/adapter.js";
export { InMemoryTables } from "./tables/in-memory-tables.js";
export { SharedMemoryTables } from "./tables/shared-memory-tables.js";
export { createPolicy, policyNames, registerPolicy, type Policy, type PolicyContext, type ServerView, type DispatchOutcome } from "./policies/index.js";
export { planSplice, type SplicePlanInput } from "./splice-plan.js";
export type { HttpRequest, HttpHeader } from "./http/request.js";
