// What the parts of the control-plane program share: its configuration, host, counters, server pool,
// connection table and segment output (controlplane/cp.ts builds it once).
import type { CpEnv } from "../env.js";
import type { ResolvedConfig } from "../config.js";
import type { CpStats } from "../stats.js";
import type { ServerPool, ServerState } from "../pool/pool.js";
import type { ConnectionTable } from "./record.js";
import type { SegmentOut } from "./segment-out.js";

export interface CpContext {
  readonly cfg: ResolvedConfig;
  readonly env: CpEnv;
  readonly counters: CpStats;
  readonly pool: ServerPool;
  /** The pool's views, by server index (what policies see). */
  readonly servers: ServerState[];
  readonly conns: ConnectionTable;
  readonly out: SegmentOut;
}
