// The one way the control plane reaches the data plane's tables (docs/ARCHITECTURE.md, "The tables adapter"): install a splice (both
// directions), remove it, read an entry's counters and flags, capacity and occupancy. Implementations:
// SharedMemoryTables (the NP memory the images use; simulator and device) and InMemoryTables (unit tests).
import type { FlowDirection, FlowEntryView, FlowKey } from "../../abi/flow-table.js";

export type { FlowDirection, FlowEntryView, FlowKey } from "../../abi/flow-table.js";

export interface SpliceEntries {
  /** Client -> VIP direction, rewritten towards the server. */
  fwd: FlowDirection;
  /** Server -> LOCAL_IP direction, rewritten towards the client. */
  rev: FlowDirection;
}

export type InstallResult =
  | { ok: true; fwd: number; rev: number }
  /** `full`: no room for one of the keys; `exists`: a key is already installed. Nothing was written. */
  | { ok: false; reason: "full" | "exists"; message: string };

export interface TablesAdapter {
  /** Install both directions, cross-linked; all or nothing. */
  install(entries: SpliceEntries): InstallResult;
  /** Remove entry `index` and its peer. Removing a free entry is a no-op that returns false. */
  remove(index: number): boolean;
  /** Entry `index` as the data plane last left it (counters, FIN/RST flags, LAST_SEEN), or null when free. */
  read(index: number): FlowEntryView | null;
  /** Index of the entry matching `key`, or null. */
  lookup(key: FlowKey): number | null;
  /** Whether install() would find room for these keys now (and none is installed yet). */
  canInstall(keys: { fwd: FlowKey; rev: FlowKey }): boolean;
  /** Entries the table can hold (one per direction). */
  capacity(): number;
  /** Entries in use (any state but FREE). */
  occupancy(): number;
}
