// The TablesAdapter contract (docs/ARCHITECTURE.md, "The tables adapter"), run against both implementations: SharedMemoryTables over
// NP memory bytes and InMemoryTables. Same calls, same answers, except where capacity differs by design.
import { describe, expect, it } from "vitest";
import { CAPACITIES, MEMORY_PAGES, PAGE_SIZE } from "../../abi/layout.js";
import { type TablesAdapter, type SpliceEntries } from "../../controlplane/tables/adapter.js";
import { InMemoryTables } from "../../controlplane/tables/in-memory-tables.js";
import { SharedMemoryTables } from "../../controlplane/tables/shared-memory-tables.js";
import { flowBucket } from "../../abi/flow-table.js";

const mac = (last: number) => Uint8Array.of(2, 0, 0, 0, 0, last);

function entries(clientPort: number, localPort = 1024 + (clientPort % 60000)): SpliceEntries {
  const client = 0xc0a8_010a;
  const vip = 0x0a00_0064;
  const local = 0x0a01_0064;
  const server = 0x0a01_000b;
  return {
    fwd: {
      key: { saddr: client, daddr: vip, sport: clientPort, dport: 80 },
      rewrite: { saddr: local, daddr: server, sport: localPort, dport: 8080 },
      outPort: 1, nextHopMac: mac(0x11), seqDelta: 0, ackDelta: 0xffff_0000, sack: true, winShift: 0,
      timestamps: { tsvalDelta: 0, tsecrDelta: 0x8000_0001 },
    },
    rev: {
      key: { saddr: server, daddr: local, sport: 8080, dport: localPort },
      rewrite: { saddr: vip, daddr: client, sport: 80, dport: clientPort },
      outPort: 0, nextHopMac: mac(0x01), seqDelta: 0x0001_0000, ackDelta: 0, sack: true, winShift: 2,
      timestamps: { tsvalDelta: 0x7fff_ffff, tsecrDelta: 0 },
    },
  };
}

const implementations: [string, () => TablesAdapter][] = [
  ["SharedMemoryTables", () => new SharedMemoryTables(new Uint8Array(MEMORY_PAGES * PAGE_SIZE))],
  ["InMemoryTables", () => new InMemoryTables()],
];

describe.each(implementations)("tables adapter contract: %s", (_name, make) => {
  it("installs both directions cross-linked and reads them back", () => {
    const t = make();
    const e = entries(40000);
    const r = t.install(e);
    if (!r.ok) throw new Error(r.message);
    expect(t.lookup(e.fwd.key)).toBe(r.fwd);
    expect(t.lookup(e.rev.key)).toBe(r.rev);
    const fwd = t.read(r.fwd)!;
    const rev = t.read(r.rev)!;
    expect(fwd).toMatchObject({ ...e.fwd, state: "ACTIVE", peer: r.rev, packets: 0, lastSeen: 0, finSeen: false, rstSeen: false });
    expect(rev).toMatchObject({ ...e.rev, state: "ACTIVE", peer: r.fwd });
    expect(t.occupancy()).toBe(2);
    expect(t.capacity()).toBe(CAPACITIES.MAX_FLOWS.value);
  });

  it("refuses a key that is already installed, writing nothing", () => {
    const t = make();
    expect(t.install(entries(40000)).ok).toBe(true);
    const again = t.install(entries(40000, 60000)); // same client key, new server-side key
    expect(again).toMatchObject({ ok: false, reason: "exists" });
    expect(t.occupancy()).toBe(2);
    expect(t.lookup(entries(40000, 60000).rev.key)).toBeNull();
    expect(t.canInstall({ fwd: entries(40000).fwd.key, rev: entries(40001).rev.key })).toBe(false);
  });

  it("removes both directions by either index; removing a free entry is a no-op", () => {
    const t = make();
    const a = t.install(entries(40000));
    const b = t.install(entries(40001));
    if (!a.ok || !b.ok) throw new Error("install failed");
    expect(t.remove(a.rev)).toBe(true);
    expect(t.read(a.fwd)).toBeNull();
    expect(t.read(a.rev)).toBeNull();
    expect(t.lookup(entries(40000).fwd.key)).toBeNull();
    expect(t.remove(a.fwd)).toBe(false);
    expect(t.occupancy()).toBe(2);
    expect(t.read(b.fwd)).not.toBeNull();
    expect(t.canInstall({ fwd: entries(40000).fwd.key, rev: entries(40000).rev.key })).toBe(true);
  });

  it("rejects a direction with an impossible port, out port or window shift, writing nothing", () => {
    const t = make();
    const e = entries(40000);
    expect(() => t.install({ ...e, fwd: { ...e.fwd, rewrite: { ...e.fwd.rewrite, sport: 70000 } } })).toThrow(RangeError);
    expect(() => t.install({ ...e, rev: { ...e.rev, outPort: 99 } })).toThrow(RangeError);
    expect(() => t.install({ ...e, rev: { ...e.rev, winShift: 17 } })).toThrow(RangeError);
    expect(t.occupancy()).toBe(0);
  });

  it("reports no entry for out-of-range or free indices", () => {
    const t = make();
    expect(t.read(-1)).toBeNull();
    expect(t.read(CAPACITIES.MAX_FLOWS.value)).toBeNull();
    expect(t.read(3)).toBeNull();
    expect(t.remove(3)).toBe(false);
  });
});

describe("tables adapter: full", () => {
  it("InMemoryTables refuses at capacity, all or nothing", () => {
    const t = new InMemoryTables(5);
    expect(t.install(entries(1)).ok).toBe(true);
    expect(t.install(entries(2)).ok).toBe(true);
    expect(t.canInstall({ fwd: entries(3).fwd.key, rev: entries(3).rev.key })).toBe(false);
    expect(t.install(entries(3))).toMatchObject({ ok: false, reason: "full" });
    expect(t.occupancy()).toBe(4);
  });

  it("SharedMemoryTables refuses when a key's bucket has no free way, and says which", () => {
    const t = new SharedMemoryTables(new Uint8Array(MEMORY_PAGES * PAGE_SIZE));
    const target = entries(40000);
    // Fill the target's fwd bucket with other splices whose fwd key lands there.
    let filled = 0;
    for (let port = 1; filled < CAPACITIES.FLOW_WAYS.value; port++) {
      if (port === 40000) continue;
      const e = entries(port, 1000 + (port % 60000));
      if (flowBucket(e.fwd.key) !== flowBucket(target.fwd.key)) continue;
      if (t.install(e).ok) filled++;
    }
    expect(t.canInstall({ fwd: target.fwd.key, rev: target.rev.key })).toBe(false);
    const r = t.install(target);
    expect(r).toMatchObject({ ok: false, reason: "full" });
    if (!r.ok) expect(r.message).toMatch(/flow table full: bucket \d+ of fwd key/);
    expect(t.lookup(target.rev.key)).toBeNull();
  });
});
