// Splice image behaviour the one-packet fixtures cannot show: teardown reporting across segments, flow
// statistics, descriptors that reach splice without a live entry, and a seeded property test of the
// whole rewrite (random deltas, options at random offsets, payloads) against frames built from scratch.
import { describe, expect, it } from "vitest";
import { Dataplane, loadDataplane, compiledImages, createNpMemory, npImports, Rings } from "../../sim/np/index.js";
import { Random, seedFromEnv } from "../../lib/random.js";
import { CAPACITIES, NO_FLOW, PACKET_DESC, REASON, REGIONS } from "../../abi/layout.js";
import { encodeStruct, decodeStruct } from "../../abi/codec.js";
import { installSplice, readFlow, removeFlow } from "../../abi/flow-table.js";
import type { TcpOption } from "../../packet/builder.js";
import { CLIENT_PORT, DEFAULT_CONFIG, SERVER_PORT, compareFrames } from "../../sim/testing/fixtures/fixture.js";
import { FWD_INDEX, REV_INDEX, SPLICE, fromClient, fromServer, splice, toClient, toServer, type Segment } from "../../sim/testing/fixtures/splice-model.js";

const base = (name: string) => REGIONS.find((r) => r.name === name)!.base;
const reasonId = (name: string) => REASON.members.findIndex((m) => m.name === name);

async function splicedDataplane(rings?: Record<string, number>): Promise<Dataplane> {
  const dp = await loadDataplane(rings ? { rings } : {});
  dp.configure(DEFAULT_CONFIG);
  installSplice(dp.memoryBytes(), SPLICE);
  return dp;
}

const ack: Segment = { flags: "A", seq: 2000, ack: 6000 };
const fin: Segment = { flags: "FA", seq: 2000, ack: 6000 };
const rst: Segment = { flags: "R", seq: 2001 };

describe("splice: teardown", () => {
  it("reports a FIN once per direction, marks the flow CLOSING and keeps forwarding", async () => {
    const dp = await splicedDataplane();
    const first = dp.process(CLIENT_PORT, fromClient(fin));
    expect(first.verdict).toBe("FORWARD");
    expect(first.messages.map((m) => [m.type, m.flow])).toEqual([["FIN", FWD_INDEX]]);
    expect(readFlow(dp.memoryBytes(), FWD_INDEX)).toMatchObject({ state: "CLOSING", finSeen: true, rstSeen: false });
    const again = dp.process(CLIENT_PORT, fromClient(fin));
    expect(again.verdict).toBe("FORWARD");
    expect(again.messages).toEqual([]);
    // The other direction's FIN is news, and so is an RST after a FIN.
    expect(dp.process(SERVER_PORT, fromServer({ flags: "FA", seq: 9_000_001, ack: 7_000_100 })).messages.map((m) => [m.type, m.flow])).toEqual([["FIN", REV_INDEX]]);
    expect(dp.process(CLIENT_PORT, fromClient(rst)).messages.map((m) => m.type)).toEqual(["RST"]);
    expect(dp.counters().events.TEARDOWNS).toBe(3);
  });

  it("with the exception ring full, forwards the FIN and reports it when it is retransmitted", async () => {
    const dp = await splicedDataplane({ TO_CP: 1 });
    dp.rings.put(Rings.id("TO_CP"), new Uint8Array(32));
    const first = dp.process(CLIENT_PORT, fromClient(fin));
    expect(first.verdict).toBe("FORWARD");
    expect(first.messages).toEqual([]);
    expect(readFlow(dp.memoryBytes(), FWD_INDEX)).toMatchObject({ state: "CLOSING", finSeen: false });
    expect(dp.counters().reasons.RING_FULL).toBe(0); // nothing was dropped
    dp.rings.drain(Rings.id("TO_CP"));
    const retransmitted = dp.process(CLIENT_PORT, fromClient(fin));
    expect(retransmitted.messages.map((m) => m.type)).toEqual(["FIN"]);
    expect(readFlow(dp.memoryBytes(), FWD_INDEX).finSeen).toBe(true);
  });
});

describe("splice: statistics", () => {
  it("counts the segments with payload per entry, stamps LAST_SEEN with np.timestamp() and counts SPLICED", async () => {
    const dp = await splicedDataplane();
    dp.time = 111;
    dp.process(CLIENT_PORT, fromClient(ack));
    expect(readFlow(dp.memoryBytes(), FWD_INDEX)).toMatchObject({ packets: 0, lastSeen: 111 });
    dp.time = 0xfffffff0;
    dp.process(CLIENT_PORT, fromClient({ ...ack, flags: "PA", payload: "GET / HTTP/1.1\r\n\r\n" }));
    dp.process(CLIENT_PORT, fromClient({ ...ack, flags: "PA", payload: "more" }));
    expect(readFlow(dp.memoryBytes(), FWD_INDEX)).toMatchObject({ packets: 2, lastSeen: 0xfffffff0 });
    expect(readFlow(dp.memoryBytes(), REV_INDEX).packets).toBe(0);
    expect(dp.counters().events.SPLICED).toBe(3);
  });

  it("leaves a SYN's window unscaled (RFC 7323 2.2)", async () => {
    const dp = await loadDataplane();
    dp.configure(DEFAULT_CONFIG);
    const rescale = splice({ fwd: { winShift: -2 }, rev: { winShift: 2 } });
    installSplice(dp.memoryBytes(), rescale);
    const syn: Segment = { flags: "S", seq: 1000, win: 64240 };
    const r = dp.process(CLIENT_PORT, fromClient(syn));
    expect(r.verdict).toBe("FORWARD");
    expect(compareFrames(toServer(syn, rescale), r.frame)).toBeUndefined();
  });
});

describe("splice image alone: descriptors without a live entry", () => {
  async function spliceOnly() {
    const wasm = (await compiledImages()).find((i) => i.name === "splice")!.wasm;
    const memory = createNpMemory();
    const { instance } = await WebAssembly.instantiate(wasm as BufferSource, npImports(memory, { rings: new Rings(), clock: () => 0 }));
    const process = instance.exports.process as (desc: number) => number;
    const mem = new Uint8Array(memory.buffer);
    const desc = base("DESCRIPTORS");
    const run = (flow: number) => {
      encodeStruct(PACKET_DESC, mem, desc, { BUF: base("BUFFERS"), LEN: 60, IN_PORT: 0, FLOW: flow, REASON: 0 });
      const verdict = process(desc);
      return { verdict, reason: REASON.members[decodeStruct(PACKET_DESC, mem, desc).REASON as number].name };
    };
    const counter = (reason: string) => new DataView(memory.buffer).getUint32(base("COUNTERS") + 4 * reasonId(reason), true);
    return { mem, run, counter };
  }

  it("drops an index past the table (NO_FLOW, MAX_FLOWS) as TCP_CLOSED_FLOW and counts it", async () => {
    const { run, counter } = await spliceOnly();
    expect(run(NO_FLOW)).toEqual({ verdict: 0, reason: "TCP_CLOSED_FLOW" });
    expect(run(CAPACITIES.MAX_FLOWS.value)).toEqual({ verdict: 0, reason: "TCP_CLOSED_FLOW" });
    expect(counter("TCP_CLOSED_FLOW")).toBe(2);
  });

  it("drops an entry that was freed or closed after classify matched it", async () => {
    const { mem, run } = await spliceOnly();
    const { fwd } = installSplice(mem, SPLICE);
    removeFlow(mem, fwd);
    expect(run(fwd)).toEqual({ verdict: 0, reason: "TCP_CLOSED_FLOW" });
    expect(run(7)).toEqual({ verdict: 0, reason: "TCP_CLOSED_FLOW" });
  });
});

describe("splice: property, random segments against frames built from scratch", () => {
  const seed = seedFromEnv(0x5eed_0003);
  it(`every field and both checksums match (seed ${seed}; replay with NPSWITCH_SEED)`, async () => {
    const rnd = new Random(seed);
    const dp = await loadDataplane();
    dp.configure(DEFAULT_CONFIG);
    const mem = dp.memoryBytes();
    for (let round = 0; round < 300; round++) {
      const sp = splice({
        fwd: { seqDelta: rnd.u32(), ackDelta: rnd.u32(), winShift: rnd.int(-3, 3), sack: rnd.chance(0.7), timestamps: rnd.chance(0.7) ? { tsvalDelta: rnd.u32(), tsecrDelta: rnd.u32() } : undefined },
        rev: { seqDelta: rnd.u32(), ackDelta: rnd.u32(), winShift: rnd.int(-3, 3), sack: rnd.chance(0.7), timestamps: rnd.chance(0.7) ? { tsvalDelta: rnd.u32(), tsecrDelta: rnd.u32() } : undefined },
      });
      const idx = installSplice(mem, sp);
      const options: TcpOption[] = [];
      let room = 40;
      const add = (o: TcpOption, len: number) => { if (len <= room) { options.push(o); room -= len; } };
      for (let k = rnd.int(0, 3); k > 0; k--) add({ kind: "nop" }, 1);
      if (rnd.chance(0.6)) add({ kind: "ts", val: rnd.u32(), ecr: rnd.u32() }, 10);
      for (let k = rnd.int(0, 2); k > 0; k--) add({ kind: "nop" }, 1);
      if (rnd.chance(0.5)) {
        const n = Math.min(rnd.int(1, 4), Math.floor((room - 2) / 8));
        if (n >= 1) add({ kind: "sack", blocks: Array.from({ length: n }, () => [rnd.u32(), rnd.u32()] as [number, number]) }, 2 + 8 * n);
      }
      const seg: Segment = {
        flags: rnd.pick(["A", "PA", "FA", "FPA", "RA", "R"]), seq: rnd.u32(), ack: rnd.u32(), win: rnd.int(0, 65535),
        options, payload: rnd.chance(0.6) ? "x".repeat(rnd.int(1, 300)) : undefined, ttl: rnd.int(2, 255), id: rnd.int(0, 65535),
      };
      const toServerSide = rnd.chance(0.5);
      const r = toServerSide ? dp.process(CLIENT_PORT, fromClient(seg)) : dp.process(SERVER_PORT, fromServer(seg));
      const expected = toServerSide ? toServer(seg, sp) : toClient(seg, sp);
      const diff = r.verdict === "FORWARD" ? compareFrames(expected, r.frame) : `${r.verdict} ${r.reason}`;
      expect(diff, `round ${round} (seed ${seed}) ${toServerSide ? "client->server" : "server->client"} ${JSON.stringify(seg)}`).toBeUndefined();
      removeFlow(mem, idx.fwd);
    }
    expect(dp.counters().events.SPLICED).toBe(300);
  });
});
