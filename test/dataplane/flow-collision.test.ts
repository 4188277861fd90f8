// Flow-key collisions on the real images, installed the way the CP does it (the tables adapter over the
// NP memory, SharedMemoryTables): many buckets, each filled with flows whose keys differ only in their
// ports or in only one port; every segment must hit its own entry (its rewrite, its index, its packet
// counter), a port pair that matches none in the bucket must miss, and removing a way through the adapter
// must leave its neighbours found. The one-packet versions of these run as fixtures too
// (sim/testing/fixtures/collision.fixtures.ts). NPSWITCH_DATAPLANE_DIR runs this on another copy of the
// data-plane sources (how a planted bug is checked to be caught).
import { beforeAll, describe, expect, it } from "vitest";
import { loadDataplane } from "../../sim/np/load.js";
import type { Dataplane, ProcessResult } from "../../sim/np/dataplane.js";
import { SharedMemoryTables } from "../../controlplane/tables/shared-memory-tables.js";
import { flowBucket, lookupFlow, readFlow, type FlowKey } from "../../abi/flow-table.js";
import { CAPACITIES, NO_FLOW } from "../../abi/layout.js";
import { ip4ToU32 } from "../../packet/addr.js";
import { Random, seedFromEnv } from "../../lib/random.js";
import { CLIENT, CLIENT_PORT, DEFAULT_CONFIG, LOCAL_IP, SERVER, SERVER_PORT, VIP, compareFrames } from "../../sim/testing/fixtures/fixture.js";
import { fromClient, fromServer, macOf, splice, toClient, toServer, u32, type Segment, type Splice } from "../../sim/testing/fixtures/splice-model.js";

const DATAPLANE_DIR = process.env.NPSWITCH_DATAPLANE_DIR || undefined;
const WAYS = CAPACITIES.FLOW_WAYS.value;
const BUCKETS = CAPACITIES.MAX_FLOWS.value / WAYS;
const CLIENT_IP = ip4ToU32(CLIENT.ip);
const VIP_IP = ip4ToU32(VIP);
const SERVER_IP = ip4ToU32(SERVER.ip);
const LOCAL = ip4ToU32(LOCAL_IP);
const SEED = seedFromEnv(0xc011_1de5);

const toVip = (sport: number, dport = 80): FlowKey => ({ saddr: CLIENT_IP, daddr: VIP_IP, sport, dport });
const toLocal = (dport: number): FlowKey => ({ saddr: SERVER_IP, daddr: LOCAL, sport: SERVER.port, dport });

/** Every port 1..65535 grouped by the bucket of `key(port)`. */
function portsByBucket(key: (p: number) => FlowKey): Map<number, number[]> {
  const by = new Map<number, number[]>();
  for (let p = 1; p < 65536; p++) {
    const b = flowBucket(key(p));
    let list = by.get(b);
    if (!list) by.set(b, (list = []));
    list.push(p);
  }
  return by;
}

/** A splice whose entries differ from every other number's: rewritten ports, sequence and timestamp deltas. */
function spliceNo(n: number, fwdKey: FlowKey, revKey: FlowKey): Splice {
  return splice({
    fwd: {
      key: fwdKey, rewrite: { saddr: LOCAL, daddr: SERVER_IP, sport: revKey.dport, dport: SERVER.port }, nextHopMac: macOf(SERVER.mac),
      seqDelta: u32(0x0100_0000 + n * 0x0001_0203), ackDelta: u32(0x0200_0000 - n * 0x0003_0001),
      timestamps: { tsvalDelta: u32(n * 0x101), tsecrDelta: u32(-n * 0x77) },
    },
    rev: {
      key: revKey, rewrite: { saddr: VIP_IP, daddr: CLIENT_IP, sport: fwdKey.dport, dport: fwdKey.sport },
      seqDelta: u32(-(0x0200_0000 - n * 0x0003_0001)), ackDelta: u32(-(0x0100_0000 + n * 0x0001_0203)),
      timestamps: { tsvalDelta: u32(n * 0x77), tsecrDelta: u32(-n * 0x101) },
    },
  });
}

const TS = [{ kind: "nop" as const }, { kind: "nop" as const }, { kind: "ts" as const, val: 0x1000, ecr: 0x2000 }];
const clientSeg = (k: FlowKey, n: number): Segment => ({ flags: "PA", seq: 1000 + n, ack: 5000 + n, payload: `segment ${n}`, options: TS, sport: k.sport, dport: k.dport });
const serverSeg = (k: FlowKey, n: number): Segment => ({ flags: "PA", seq: 9000 + n, ack: 7000 + n, payload: `reply ${n}!`, options: TS, sport: k.sport, dport: k.dport });

let dp: Dataplane;
let tables: SharedMemoryTables;
beforeAll(async () => {
  dp = await loadDataplane({ dataplaneDir: DATAPLANE_DIR });
});

function fresh(): void {
  dp.configure(DEFAULT_CONFIG);
  dp.memoryBytes().fill(0, 0x20_0000, 0x20_0000 + CAPACITIES.MAX_FLOWS.value * 64);
  tables = new SharedMemoryTables(dp.memory);
}

/** One frame through the images; a TO_CP packet's buffer is handed back at once (the CP's part). */
function send(port: number, frame: Uint8Array): ProcessResult {
  const r = dp.process(port, frame);
  if (r.verdict === "TO_CP") dp.freeBuffer(r.descAddr);
  return r;
}

function install(sp: Splice): { fwd: number; rev: number } {
  const r = tables.install(sp);
  if (!r.ok) throw new Error(`install: ${r.reason}: ${r.message}`);
  return { fwd: r.fwd, rev: r.rev };
}

/** A client segment of `sp` through the images: hit entry `index` and come out as `sp` rewrites it. */
function expectClientHit(sp: Splice, index: number, n: number, what: string): ProcessResult {
  const seg = clientSeg(sp.fwd.key, n);
  const r = send(CLIENT_PORT, fromClient(seg));
  expect(r.desc.FLOW, `${what}: entry`).toBe(index);
  expect(r.verdict, `${what}: verdict`).toBe("FORWARD");
  expect(compareFrames(toServer(seg, sp), r.frame), `${what}: rewrite`).toBeUndefined();
  return r;
}

function expectServerHit(sp: Splice, index: number, n: number, what: string): void {
  const seg = serverSeg(sp.rev.key, n);
  const r = send(SERVER_PORT, fromServer(seg));
  expect(r.desc.FLOW, `${what}: entry`).toBe(index);
  expect(r.verdict, `${what}: verdict`).toBe("FORWARD");
  expect(compareFrames(toClient(seg, sp), r.frame), `${what}: rewrite`).toBeUndefined();
}

const byClientPort = portsByBucket((p) => toVip(p));
const byDestPort = portsByBucket((p) => toVip(CLIENT.port, p));
const byLocalPort = portsByBucket((p) => toLocal(p));
/** Local ports whose reverse keys stay out of every bucket in `avoid`. */
function localPorts(n: number, avoid: Set<number>, from: number): number[] {
  const out: number[] = [];
  for (let p = from; out.length < n; p++) if (!avoid.has(flowBucket(toLocal(p)))) out.push(p);
  return out;
}

describe(`flow-key collisions installed through the tables adapter (seed 0x${SEED.toString(16)}; replay with NPSWITCH_SEED)`, () => {
  it(`fills ${WAYS} ways of 24 buckets with keys differing only in the client's port: every segment hits its own entry, the ${WAYS + 1}th port misses`, () => {
    fresh();
    const rnd = new Random(SEED);
    const candidates = [...byClientPort.entries()].filter(([, ports]) => ports.length > WAYS).map(([b]) => b).sort((a, b) => a - b);
    const buckets = new Set<number>([BUCKETS - 1, 0].filter((b) => candidates.includes(b)));
    while (buckets.size < 24) buckets.add(rnd.pick(candidates));
    let n = 0;
    const locals = localPorts(24 * WAYS, buckets, 20000);
    const flows: { sp: Splice; idx: { fwd: number; rev: number }; n: number }[] = [];
    for (const b of buckets) {
      const ports = byClientPort.get(b)!;
      for (let w = 0; w < WAYS; w++, n++) {
        const sp = spliceNo(n, toVip(ports[w]), toLocal(locals[n]));
        const idx = install(sp);
        expect(Math.floor(idx.fwd / WAYS), "the adapter places the key in its bucket").toBe(b);
        flows.push({ sp, idx, n });
      }
      expect(tables.canInstall({ fwd: toVip(ports[WAYS]), rev: toLocal(1) }), `bucket ${b} is full`).toBe(false);
    }
    for (const { sp, idx, n } of flows) {
      expectClientHit(sp, idx.fwd, n, `client port ${sp.fwd.key.sport} (way ${idx.fwd % WAYS})`);
      expect(readFlow(dp.memoryBytes(), idx.fwd).packets).toBe(1);
    }
    for (const b of buckets) {
      const stranger = byClientPort.get(b)![WAYS];
      const r = send(CLIENT_PORT, fromClient(clientSeg(toVip(stranger), 0)));
      expect(r.desc.FLOW, `port ${stranger} in full bucket ${b}`).toBe(NO_FLOW);
      expect(r.verdict).toBe("TO_CP");
      expect(lookupFlow(dp.memoryBytes(), toVip(stranger))).toBeNull();
    }
    // No segment was counted by a neighbour's entry.
    for (const { idx } of flows) expect(readFlow(dp.memoryBytes(), idx.fwd).packets).toBe(1);
  });

  it("keys differing only in the destination port (one client port, any ports: the lookup comes before the service check)", () => {
    fresh();
    const [b, dports] = [...byDestPort.entries()].find(([, ps]) => ps.length > WAYS && !ps.includes(80))!;
    const locals = localPorts(WAYS, new Set([b]), 30000);
    const flows = dports.slice(0, WAYS).map((d, i) => {
      const sp = spliceNo(100 + i, toVip(CLIENT.port, d), toLocal(locals[i]));
      return { sp, idx: install(sp), i };
    });
    for (const { sp, idx, i } of flows) expectClientHit(sp, idx.fwd, 100 + i, `destination port ${sp.fwd.key.dport}`);
    const r = send(CLIENT_PORT, fromClient(clientSeg(toVip(CLIENT.port, dports[WAYS]), 0)));
    expect(r.desc.FLOW).toBe(NO_FLOW);
    expect([r.verdict, r.reason]).toEqual(["DROP", "TCP_NO_SERVICE"]);
  });

  it("keys from one server port differing only in the local port: server segments hit their own entries", () => {
    fresh();
    const buckets = [...byLocalPort.entries()].filter(([, ps]) => ps.length > WAYS).slice(0, 6);
    const used = new Set(buckets.map(([b]) => b));
    let n = 200;
    for (const [b, qs] of buckets) {
      const flows = qs.slice(0, WAYS).map((q) => {
        let c = 1024 + (n * 37) % 60000;
        while (used.has(flowBucket(toVip(c)))) c++;
        const sp = spliceNo(n, toVip(c), toLocal(q));
        return { sp, idx: install(sp), n: n++ };
      });
      for (const { sp, idx, n: k } of flows) {
        expect(Math.floor(idx.rev / WAYS)).toBe(b);
        expectServerHit(sp, idx.rev, k, `local port ${sp.rev.key.dport}`);
      }
      const r = send(SERVER_PORT, fromServer(serverSeg(toLocal(qs[WAYS]), 0)));
      expect(r.desc.FLOW).toBe(NO_FLOW);
      expect(r.verdict).toBe("TO_CP");
    }
  });

  it("swapped port pairs ({a, b} and {b, a}) sharing a bucket each hit their own entry", () => {
    fresh();
    let found = 0;
    let n = 300;
    for (let a = 1024; a < 65536 && found < 6; a += 1) {
      for (const b of [80, 443, 8080]) {
        if (flowBucket(toVip(a, b)) !== flowBucket(toVip(b, a))) continue;
        const locals = localPorts(2, new Set([flowBucket(toVip(a, b))]), 40000 + found * 10);
        const one = spliceNo(n++, toVip(a, b), toLocal(locals[0]));
        const two = spliceNo(n++, toVip(b, a), toLocal(locals[1]));
        const i1 = install(one);
        const i2 = install(two);
        expectClientHit(one, i1.fwd, n - 2, `${a} -> ${b}`);
        expectClientHit(two, i2.fwd, n - 1, `${b} -> ${a}`);
        found++;
      }
    }
    expect(found).toBe(6);
  });

  it("removing one way of a full bucket through the adapter: its segments miss, the others still hit, a new flow takes the freed way", () => {
    fresh();
    const [b, ports] = [...byClientPort.entries()].find(([, ps]) => ps.length > WAYS + 1)!;
    const locals = localPorts(WAYS + 1, new Set([b]), 45000);
    const flows = ports.slice(0, WAYS).map((p, i) => {
      const sp = spliceNo(400 + i, toVip(p), toLocal(locals[i]));
      return { sp, idx: install(sp), n: 400 + i };
    });
    const gone = flows[3];
    expect(tables.remove(gone.idx.fwd)).toBe(true);
    const r = send(CLIENT_PORT, fromClient(clientSeg(gone.sp.fwd.key, gone.n)));
    expect(r.desc.FLOW).toBe(NO_FLOW);
    expect(r.verdict).toBe("TO_CP");
    for (const f of flows) if (f !== gone) expectClientHit(f.sp, f.idx.fwd, f.n, `way ${f.idx.fwd % WAYS} after removing way 3`);
    const newcomer = spliceNo(499, toVip(ports[WAYS]), toLocal(locals[WAYS]));
    const idx = install(newcomer);
    expect(idx.fwd).toBe(gone.idx.fwd);
    expectClientHit(newcomer, idx.fwd, 499, "the newcomer in the freed way");
    const again = send(CLIENT_PORT, fromClient(clientSeg(gone.sp.fwd.key, gone.n)));
    expect(again.desc.FLOW, "the removed key stays removed").toBe(NO_FLOW);
  });

  it("the host's lookup (what the CP believes) and the data plane's agree for 2000 random keys in 64 shared buckets", () => {
    fresh();
    const rnd = new Random(SEED ^ 0x5a5a);
    const shared = [...byClientPort.entries()].filter(([, ps]) => ps.length >= 6);
    const locals = localPorts(2000, new Set(), 1024);
    const installed: { key: FlowKey; sp: Splice }[] = [];
    let li = 0;
    for (let k = 0; k < 64; k++) {
      const [, ps] = shared[rnd.below(shared.length)];
      for (const p of ps.slice(0, 5)) {
        if (tables.lookup(toVip(p)) !== null) continue;
        let local = locals[li++];
        while (tables.lookup(toLocal(local)) !== null || !tables.canInstall({ fwd: toVip(p), rev: toLocal(local) })) local = locals[li++];
        const sp = spliceNo(1000 + installed.length, toVip(p), toLocal(local));
        install(sp);
        installed.push({ key: toVip(p), sp });
      }
    }
    for (let t = 0; t < 2000; t++) {
      const key = rnd.chance(0.5) ? rnd.pick(installed).key : toVip(rnd.int(1, 65535));
      const r = send(CLIENT_PORT, fromClient(clientSeg(key, t)));
      const host = tables.lookup(key);
      expect(r.desc.FLOW, `${key.sport} -> ${key.dport}`).toBe(host ?? NO_FLOW);
    }
  });
});
