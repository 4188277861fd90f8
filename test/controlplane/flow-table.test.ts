// Host flow table (abi/flow-table.ts): placement the data plane agrees with, both directions, full buckets, removal.
import { describe, expect, it } from "vitest";
import { CAPACITIES, MEMORY_PAGES, PAGE_SIZE, REGIONS } from "../../abi/layout.js";
import { npHash } from "../../abi/hash.js";
import {
  FlowTableFullError, flowBucket, installSplice, lookupFlow, readFlow, removeFlow, setFlowState, type FlowDirection, type FlowKey,
} from "../../abi/flow-table.js";
import { loadDataplane } from "../../sim/np/index.js";
import { packet } from "../../packet/builder.js";
import { ip4ToU32 } from "../../packet/addr.js";

const FLOWS_BASE = REGIONS.find((r) => r.name === "FLOWS")!.base;
const MAX_FLOWS = CAPACITIES.MAX_FLOWS.value;
const WAYS = CAPACITIES.FLOW_WAYS.value;

const CLIENT = ip4ToU32("192.0.2.10");
const VIP = ip4ToU32("198.51.100.1");
const LOCAL = ip4ToU32("10.0.0.1");
const SERVER = ip4ToU32("10.0.0.20");
const mac = (last: number) => Uint8Array.of(0x02, 0, 0, 0, 0, last);

function splice(clientPort: number, localPort = 40000 + (clientPort % 20000)): { fwd: FlowDirection; rev: FlowDirection } {
  return {
    fwd: {
      key: { saddr: CLIENT, daddr: VIP, sport: clientPort, dport: 80 },
      rewrite: { saddr: LOCAL, daddr: SERVER, sport: localPort, dport: 8080 },
      outPort: 1, nextHopMac: mac(0x20), seqDelta: 1000, ackDelta: -5 >>> 0,
      timestamps: { tsvalDelta: 7, tsecrDelta: 0xffff_fff0 }, sack: true, winShift: -2,
    },
    rev: {
      key: { saddr: SERVER, daddr: LOCAL, sport: 8080, dport: localPort },
      rewrite: { saddr: VIP, daddr: CLIENT, sport: 80, dport: clientPort },
      outPort: 0, nextHopMac: mac(0x10), seqDelta: 5, ackDelta: -1000 >>> 0, winShift: 2,
    },
  };
}

const memory = () => new Uint8Array(MEMORY_PAGES * PAGE_SIZE);
const flowRegion = (mem: Uint8Array) => Buffer.from(mem.slice(FLOWS_BASE, FLOWS_BASE + MAX_FLOWS * 64));

/** Keys towards the VIP whose bucket is `bucket`, found by trying client ports. */
function keysInBucket(bucket: number, n: number): FlowKey[] {
  const out: FlowKey[] = [];
  for (let port = 1024; out.length < n && port < 65536; port++) {
    const key = { saddr: CLIENT, daddr: VIP, sport: port, dport: 80 };
    if (flowBucket(key) === bucket) out.push(key);
  }
  return out;
}

describe("flowBucket", () => {
  it("hashes the raw little-endian loads of the packet's address and port words, like the data plane", () => {
    const key = { saddr: CLIENT, daddr: VIP, sport: 0x1234, dport: 80 };
    const hdr = new Uint8Array(12);
    const dv = new DataView(hdr.buffer);
    dv.setUint32(0, key.saddr); // network order, as in the IPv4 header
    dv.setUint32(4, key.daddr);
    dv.setUint16(8, key.sport); // as in the TCP header
    dv.setUint16(10, key.dport);
    const expected = npHash(dv.getUint32(0, true), dv.getUint32(4, true), dv.getUint32(8, true)) & (MAX_FLOWS / WAYS - 1);
    expect(flowBucket(key)).toBe(expected);
  });
});

describe("installSplice / lookupFlow / readFlow", () => {
  it("installs both directions cross-linked and ACTIVE in their own buckets", () => {
    const mem = memory();
    const dirs = splice(50000);
    const { fwd, rev } = installSplice(mem, dirs);
    expect(Math.floor(fwd / WAYS)).toBe(flowBucket(dirs.fwd.key));
    expect(Math.floor(rev / WAYS)).toBe(flowBucket(dirs.rev.key));
    expect(lookupFlow(mem, dirs.fwd.key)).toBe(fwd);
    expect(lookupFlow(mem, dirs.rev.key)).toBe(rev);
    const f = readFlow(mem, fwd);
    expect(f).toMatchObject({
      state: "ACTIVE", peer: rev, outPort: 1, seqDelta: 1000, ackDelta: 0xffff_fffb, sack: true, winShift: -2,
      timestamps: { tsvalDelta: 7, tsecrDelta: 0xffff_fff0 }, key: dirs.fwd.key, rewrite: dirs.fwd.rewrite, packets: 0,
      finSeen: false, rstSeen: false,
    });
    expect([...f.nextHopMac]).toEqual([...mac(0x20)]);
    const r = readFlow(mem, rev);
    expect(r).toMatchObject({ state: "ACTIVE", peer: fwd, winShift: 2, sack: false });
    expect(r.timestamps).toBeUndefined();
  });

  it("stores keys and rewrites as raw network bytes", () => {
    const mem = memory();
    const { fwd } = installSplice(mem, splice(0xabcd));
    const e = FLOWS_BASE + fwd * 64;
    expect([...mem.subarray(e, e + 12)]).toEqual([192, 0, 2, 10, 198, 51, 100, 1, 0xab, 0xcd, 0, 80]);
    expect([...mem.subarray(e + 16, e + 28)]).toEqual([10, 0, 0, 1, 10, 0, 0, 20, ...[(40000 + (0xabcd % 20000)) >> 8, (40000 + (0xabcd % 20000)) & 0xff], 0x1f, 0x90]);
  });

  it("returns null for a key that is not installed", () => {
    const mem = memory();
    installSplice(mem, splice(50000));
    expect(lookupFlow(mem, { saddr: CLIENT, daddr: VIP, sport: 50001, dport: 80 })).toBeNull();
  });

  it("refuses a key that is already installed, writing nothing", () => {
    const mem = memory();
    installSplice(mem, splice(50000));
    const before = flowRegion(mem);
    expect(() => installSplice(mem, splice(50000, 45000))).toThrow(/already installed/);
    expect(flowRegion(mem).equals(before)).toBe(true);
  });

  it("refuses a full bucket with 'flow table full' and leaves the table untouched", () => {
    const mem = memory();
    const bucket = flowBucket(splice(50000).fwd.key);
    const keys = keysInBucket(bucket, WAYS + 1);
    expect(keys).toHaveLength(WAYS + 1);
    // Fill the bucket with WAYS forward entries (their reverse entries land elsewhere).
    for (let i = 0; i < WAYS; i++) installSplice(mem, splice(keys[i].sport, 30000 + i));
    const before = flowRegion(mem);
    let error: unknown;
    try {
      installSplice(mem, splice(keys[WAYS].sport, 30000 + WAYS));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(FlowTableFullError);
    expect(String((error as Error).message)).toMatch(/^flow table full: bucket \d+ of fwd key 192\.0\.2\.10:\d+ -> 198\.51\.100\.1:80/);
    expect(flowRegion(mem).equals(before)).toBe(true);
  });

  it("rejects fields that do not fit the entry", () => {
    const mem = memory();
    const bad = splice(50000);
    bad.fwd.outPort = 8;
    expect(() => installSplice(mem, bad)).toThrow(/fwd\.outPort 8/);
    const bad2 = splice(50000);
    bad2.rev.key.sport = 70000;
    expect(() => installSplice(mem, bad2)).toThrow(/rev\.key\.sport/);
  });
});

describe("removeFlow / setFlowState", () => {
  it("frees both directions from either index and zeroes them", () => {
    const mem = memory();
    const dirs = splice(50000);
    const { fwd, rev } = installSplice(mem, dirs);
    removeFlow(mem, rev);
    expect(lookupFlow(mem, dirs.fwd.key)).toBeNull();
    expect(lookupFlow(mem, dirs.rev.key)).toBeNull();
    expect(readFlow(mem, fwd).state).toBe("FREE");
    expect(mem.subarray(FLOWS_BASE + fwd * 64, FLOWS_BASE + fwd * 64 + 64).every((b) => b === 0)).toBe(true);
    expect(() => removeFlow(mem, fwd)).toThrow(/already free/);
    // The slots are reusable.
    expect(installSplice(mem, dirs)).toEqual({ fwd, rev });
  });

  it("marks both directions CLOSED; lookups still find them", () => {
    const mem = memory();
    const dirs = splice(50000);
    const { fwd, rev } = installSplice(mem, dirs);
    setFlowState(mem, fwd, "CLOSED");
    expect(readFlow(mem, fwd).state).toBe("CLOSED");
    expect(readFlow(mem, rev).state).toBe("CLOSED");
    expect(lookupFlow(mem, dirs.rev.key)).toBe(rev);
  });

  it("checks the index range", () => {
    expect(() => readFlow(memory(), MAX_FLOWS)).toThrow(new RegExp(`index ${MAX_FLOWS} outside 0\\.\\.${MAX_FLOWS - 1}`));
    expect(() => removeFlow(memory(), -1)).toThrow(/outside/);
  });
});

describe("with the data-plane images", () => {
  it("classify finds the entries the host installed, in both directions", async () => {
    const dp = await loadDataplane();
    dp.configure({ vip: "198.51.100.1", localIp: "10.0.0.1", servicePorts: [80], portMacs: ["02:00:00:00:00:01", "02:00:00:00:00:02"] });
    const mem = dp.memoryBytes();
    const dirs = splice(50000);
    const { fwd, rev } = installSplice(mem, dirs);
    const toVip = packet().eth({ src: "02:00:00:00:00:10", dst: "02:00:00:00:00:01" })
      .ipv4({ src: "192.0.2.10", dst: "198.51.100.1" }).tcp({ sport: 50000, dport: 80, seq: 1, ack: 1, flags: "A" }).build();
    const fromServer = packet().eth({ src: "02:00:00:00:00:20", dst: "02:00:00:00:00:02" })
      .ipv4({ src: "10.0.0.20", dst: "10.0.0.1" }).tcp({ sport: 8080, dport: dirs.rev.key.dport, seq: 1, ack: 1, flags: "PA" }).payload("HTTP/1.1 200 OK\r\n").build();
    const a = dp.process(0, toVip);
    expect(a.verdict).toBe("FORWARD");
    expect(a.desc.FLOW).toBe(fwd);
    const b = dp.process(1, fromServer);
    expect(b.verdict).toBe("FORWARD");
    expect(b.desc.FLOW).toBe(rev);
    expect(readFlow(mem, fwd).packets).toBe(0); // a pure ACK: no payload counted
    expect(readFlow(mem, rev).packets).toBe(1);
  });
});
