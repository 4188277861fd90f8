// TablesAdapter without a data plane, for unit tests of the control plane: a map of entries with a fixed
// capacity (no buckets: "full" means capacity reached), plus hooks that play the data plane's part
// (count packets, stamp LAST_SEEN, mark FIN/RST) so teardown and idle logic can be tested on their own.
import { CAPACITIES } from "../../abi/layout.js";
import type { FlowDirection, FlowEntryView, FlowKey } from "../../abi/flow-table.js";
import type { InstallResult, SpliceEntries, TablesAdapter } from "./adapter.js";

/** The same argument checks as the shared-memory table, so a CP bug fails the same way in unit tests. */
function checkDirection(what: string, d: FlowDirection): void {
  for (const [part, k] of [["key", d.key], ["rewrite", d.rewrite]] as const) {
    for (const [f, max] of [["saddr", 2 ** 32], ["daddr", 2 ** 32], ["sport", 65536], ["dport", 65536]] as const) {
      const v = k[f];
      if (!Number.isInteger(v) || v < 0 || v >= max) throw new RangeError(`in-memory tables: ${what}.${part}.${f} = ${v} is out of range`);
    }
  }
  if (!Number.isInteger(d.outPort) || d.outPort < 0 || d.outPort >= CAPACITIES.MAX_PORTS.value) throw new RangeError(`in-memory tables: ${what}.outPort ${d.outPort} outside 0..${CAPACITIES.MAX_PORTS.value - 1}`);
  if (!(d.nextHopMac instanceof Uint8Array) || d.nextHopMac.length !== 6) throw new TypeError(`in-memory tables: ${what}.nextHopMac must be 6 bytes`);
  const shift = d.winShift ?? 0;
  if (!Number.isInteger(shift) || shift < -16 || shift > 16) throw new RangeError(`in-memory tables: ${what}.winShift ${shift} outside -16..16`);
}

const keyId = (k: FlowKey) => `${k.saddr >>> 0}:${k.sport}>${k.daddr >>> 0}:${k.dport}`;

export class InMemoryTables implements TablesAdapter {
  private readonly entries = new Map<number, FlowEntryView>();
  private readonly byKey = new Map<string, number>();
  private nextIndex = 0;

  constructor(private readonly size: number = CAPACITIES.MAX_FLOWS.value) {
    if (!Number.isInteger(size) || size < 2) throw new RangeError(`InMemoryTables: capacity ${size} must be an integer >= 2`);
  }

  install(entries: SpliceEntries): InstallResult {
    checkDirection("fwd", entries.fwd);
    checkDirection("rev", entries.rev);
    for (const key of [entries.fwd.key, entries.rev.key]) {
      const at = this.byKey.get(keyId(key));
      if (at !== undefined) return { ok: false, reason: "exists", message: `in-memory tables: key already installed at entry ${at}` };
    }
    if (keyId(entries.fwd.key) === keyId(entries.rev.key)) return { ok: false, reason: "exists", message: "in-memory tables: both directions have the same key" };
    if (this.entries.size + 2 > this.size) return { ok: false, reason: "full", message: `in-memory tables full: ${this.entries.size} of ${this.size} entries in use` };
    const fwd = this.freeIndex();
    const rev = this.freeIndex(fwd);
    this.put(fwd, entries.fwd, rev);
    this.put(rev, entries.rev, fwd);
    return { ok: true, fwd, rev };
  }

  remove(index: number): boolean {
    const e = this.entries.get(index);
    if (!e) return false;
    for (const i of [index, e.peer]) {
      const x = this.entries.get(i);
      if (!x) continue;
      this.byKey.delete(keyId(x.key));
      this.entries.delete(i);
    }
    return true;
  }

  read(index: number): FlowEntryView | null {
    const e = this.entries.get(index);
    return e ? { ...e, key: { ...e.key }, rewrite: { ...e.rewrite }, nextHopMac: e.nextHopMac.slice() } : null;
  }

  lookup(key: FlowKey): number | null {
    return this.byKey.get(keyId(key)) ?? null;
  }

  canInstall(keys: { fwd: FlowKey; rev: FlowKey }): boolean {
    return this.lookup(keys.fwd) === null && this.lookup(keys.rev) === null && this.entries.size + 2 <= this.size;
  }

  capacity(): number {
    return this.size;
  }

  occupancy(): number {
    return this.entries.size;
  }

  /** Play the data plane: `packets` more segments went through entry `index` at np time `lastSeen`. */
  touch(index: number, packets = 1, lastSeen?: number): void {
    const e = this.mustGet(index);
    e.packets = (e.packets + packets) >>> 0;
    if (lastSeen !== undefined) e.lastSeen = lastSeen >>> 0;
  }

  /** Play the data plane: a FIN or RST went through entry `index` (the flow becomes CLOSING). */
  markTeardown(index: number, what: "FIN" | "RST"): void {
    const e = this.mustGet(index);
    e.state = "CLOSING";
    if (what === "FIN") e.finSeen = true;
    else e.rstSeen = true;
  }

  private mustGet(index: number): FlowEntryView {
    const e = this.entries.get(index);
    if (!e) throw new Error(`in-memory tables: entry ${index} is free`);
    return e;
  }

  private freeIndex(not?: number): number {
    for (;;) {
      const i = this.nextIndex;
      this.nextIndex = (this.nextIndex + 1) % this.size;
      if (i !== not && !this.entries.has(i)) return i;
    }
  }

  private put(index: number, d: FlowDirection, peer: number): void {
    const view: FlowEntryView = {
      ...d, key: { ...d.key }, rewrite: { ...d.rewrite }, nextHopMac: d.nextHopMac.slice(),
      sack: d.sack ?? false, winShift: d.winShift ?? 0,
      index, state: "ACTIVE", finSeen: false, rstSeen: false, peer, packets: 0, lastSeen: 0,
    };
    if (!d.timestamps) delete view.timestamps;
    else view.timestamps = { tsvalDelta: d.timestamps.tsvalDelta >>> 0, tsecrDelta: d.timestamps.tsecrDelta >>> 0 };
    view.seqDelta = d.seqDelta >>> 0;
    view.ackDelta = d.ackDelta >>> 0;
    this.entries.set(index, view);
    this.byKey.set(keyId(d.key), index);
  }
}
