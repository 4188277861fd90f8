// TablesAdapter over the NP's shared memory bytes (the FLOWS region the images probe), using the host flow
// table (flow-table.ts) for placement, so what the CP installs is exactly what classify/splice find.
import { CAPACITIES, FLOW_ENTRY, region, fieldOffsets } from "../../abi/layout.js";
import {
  FlowTableFullError, flowBucket, installSplice, lookupFlow, readFlow, removeFlow, type FlowEntryView, type FlowKey,
} from "../../abi/flow-table.js";
import type { InstallResult, SpliceEntries, TablesAdapter } from "./adapter.js";

const MAX_FLOWS = CAPACITIES.MAX_FLOWS.value;
const FLOW_WAYS = CAPACITIES.FLOW_WAYS.value;
const FLOWS_BASE = region("FLOWS").base;
const STATE_OFFSET = fieldOffsets(FLOW_ENTRY).get("STATE")!.offset;
const STATE_FREE = 0;

export class SharedMemoryTables implements TablesAdapter {
  /** `memory`: the NP memory (a view is taken on every call, so a Memory or its bytes both work). */
  constructor(private readonly memory: WebAssembly.Memory | Uint8Array) {}

  private bytes(): Uint8Array {
    return this.memory instanceof Uint8Array ? this.memory : new Uint8Array(this.memory.buffer);
  }

  private stateOf(mem: Uint8Array, index: number): number {
    return mem[FLOWS_BASE + index * FLOW_ENTRY.size + STATE_OFFSET];
  }

  install(entries: SpliceEntries): InstallResult {
    const mem = this.bytes();
    for (const key of [entries.fwd.key, entries.rev.key]) {
      const at = lookupFlow(mem, key);
      if (at !== null) return { ok: false, reason: "exists", message: `flow table: key already installed at entry ${at}` };
    }
    try {
      return { ok: true, ...installSplice(mem, entries) };
    } catch (e) {
      if (e instanceof FlowTableFullError) return { ok: false, reason: "full", message: e.message };
      throw e;
    }
  }

  remove(index: number): boolean {
    const mem = this.bytes();
    if (!Number.isInteger(index) || index < 0 || index >= MAX_FLOWS || this.stateOf(mem, index) === STATE_FREE) return false;
    removeFlow(mem, index);
    return true;
  }

  read(index: number): FlowEntryView | null {
    const mem = this.bytes();
    if (!Number.isInteger(index) || index < 0 || index >= MAX_FLOWS || this.stateOf(mem, index) === STATE_FREE) return null;
    return readFlow(mem, index);
  }

  lookup(key: FlowKey): number | null {
    return lookupFlow(this.bytes(), key);
  }

  canInstall(keys: { fwd: FlowKey; rev: FlowKey }): boolean {
    const mem = this.bytes();
    if (lookupFlow(mem, keys.fwd) !== null || lookupFlow(mem, keys.rev) !== null) return false;
    const free = (bucket: number) => {
      let n = 0;
      for (let i = bucket * FLOW_WAYS; i < (bucket + 1) * FLOW_WAYS; i++) if (this.stateOf(mem, i) === STATE_FREE) n++;
      return n;
    };
    const fb = flowBucket(keys.fwd);
    const rb = flowBucket(keys.rev);
    return fb === rb ? free(fb) >= 2 : free(fb) >= 1 && free(rb) >= 1;
  }

  capacity(): number {
    return MAX_FLOWS;
  }

  occupancy(): number {
    const mem = this.bytes();
    let n = 0;
    for (let i = 0; i < MAX_FLOWS; i++) if (this.stateOf(mem, i) !== STATE_FREE) n++;
    return n;
  }
}
