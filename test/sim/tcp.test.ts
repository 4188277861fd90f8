// TCP endpoints (sim/tcp): the frame codec against the packet builder/decoder, the handshake's
// options, bulk transfers byte for byte (lossless and lossy), SACK on reordering, FIN both
// ways, RST, and the RTO. Two hosts on one link; the server answers the client directly.
import { describe, expect, it } from "vitest";
import { Scheduler } from "../../sim/engine/scheduler.js";
import { PS_PER_MS, PS_PER_S } from "../../lib/time.js";
import type { NetPort } from "../../sim/net/link.js";
import { Random } from "../../lib/random.js";
import { ip4ToU32, macBytes } from "../../packet/addr.js";
import { packet, type TcpOption } from "../../packet/builder.js";
import { decode, type DecodedFrame } from "../../packet/decode.js";
import type { CloseReason, TcpConnection } from "../../sim/tcp/connection.js";
import { TcpState } from "../../sim/tcp/state.js";
import type { Host } from "../../sim/tcp/host.js";
import { PAIR_CLIENT_IP, PAIR_SERVER_IP, hostPair } from "../../sim/tcp/pair.js";
import { foldComplement, onesSum } from "../../packet/checksum.js";
import { ACK, FIN, FrameVerdict, ParsedTcp, RST, SYN, TcpFrameFields, allocTcpFrame, parseTcpFrame, rangeSum, sealTcpFrame, tcpPayloadOffset } from "../../packet/tcp-wire.js";

const MB = 1 << 20;

function pattern(n: number, salt = 0): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (i * 131 + (i >> 9) + salt) & 0xff;
  return out;
}

/** Frames each side sent, decoded, with their times. */
function recordFrames(link: { addTap: (t: (time: number, side: 0 | 1, dir: "tx" | "rx", f: Uint8Array) => void) => void }) {
  const sent: [DecodedFrame[], DecodedFrame[]] = [[], []];
  const raw: [Uint8Array[], Uint8Array[]] = [[], []];
  link.addTap((_t, side, dir, f) => {
    if (dir !== "tx") return;
    sent[side].push(decode(f));
    raw[side].push(f);
  });
  return { sent, raw };
}

interface Outcome {
  received: Uint8Array[];
  ended: boolean;
  closed?: CloseReason;
  reset: boolean;
}

function outcome(): Outcome {
  return { received: [], ended: false, reset: false };
}

/** Byte-exact comparison that stays fast for megabytes (toEqual walks element by element). */
function expectBytes(actual: Uint8Array, expected: Uint8Array): void {
  expect(actual.length).toBe(expected.length);
  const at = Buffer.from(actual).findIndex((b, i) => b !== expected[i]);
  expect(at, `first differing byte`).toBe(-1);
}

function joined(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.length; }
  return out;
}

/** Client sends `request` and half-closes; the server answers with `response` and closes. */
function bulk(server: Host, client: Host, request: Uint8Array, response: Uint8Array) {
  const srv = outcome(), cli = outcome();
  server.listen(80, (c) => {
    c.handlers = {
      onData: (_c, d) => srv.received.push(d.slice()),
      onEnd: (c) => { srv.ended = true; c.write(response); c.end(); },
      onReset: () => { srv.reset = true; },
      onClose: (_c, r) => { srv.closed = r; },
    };
  });
  const conn = client.connect(PAIR_SERVER_IP, 80, {
    onConnect: (c) => { c.write(request); c.end(); },
    onData: (_c, d) => cli.received.push(d.slice()),
    onEnd: () => { cli.ended = true; },
    onReset: () => { cli.reset = true; },
    onClose: (_c, r) => { cli.closed = r; },
  });
  return { srv, cli, conn };
}

describe("frame codec (packet/tcp-wire.ts) against the packet builder and decoder", () => {
  it("writes the same bytes as the builder for segments with every option layout", () => {
    const rng = new Random(11);
    const layouts: Partial<TcpFrameFields>[] = [
      { flags: SYN, mss: 1460, sackPermitted: true, hasTs: true, wscale: 7 },
      { flags: SYN | ACK, mss: 1400, sackPermitted: false, hasTs: true, wscale: 0 },
      { flags: SYN, mss: 536, sackPermitted: true, hasTs: false, wscale: -1 },
      { flags: ACK, hasTs: true },
      { flags: ACK, hasTs: true, sackCount: 3, sackBlocks: [1, 2, 3, 4, 5, 6] },
      { flags: ACK | FIN, hasTs: false, sackCount: 4, sackBlocks: [9, 10, 11, 12, 13, 14, 0xfffffff0, 0x10] },
      { flags: RST | ACK },
    ];
    for (const layout of layouts) {
      for (const len of [0, 1, 7, 1448]) {
        const f = Object.assign(new TcpFrameFields(), {
          srcMac: macBytes("02:00:00:00:00:01"), dstMac: macBytes("02:00:00:00:00:02"),
          srcIp: ip4ToU32("10.0.0.1"), dstIp: ip4ToU32("192.168.7.9"), ipId: rng.below(0x10000),
          sport: rng.int(1, 65535), dport: 80, seq: rng.u32(), ack: rng.u32(), win: rng.below(0x10000),
          tsVal: rng.u32(), tsEcr: rng.u32(),
        }, layout);
        const payload = rng.bytes(len);
        const frame = allocTcpFrame(f, len);
        frame.set(payload, tcpPayloadOffset(f));
        sealTcpFrame(frame);

        const options: TcpOption[] = [];
        if (f.mss) options.push({ kind: "mss", value: f.mss });
        if (f.hasTs) options.push(f.sackPermitted ? { kind: "sackPermitted" } : { kind: "nop" }, ...(f.sackPermitted ? [] : [{ kind: "nop" } as TcpOption]), { kind: "ts", val: f.tsVal, ecr: f.tsEcr });
        else if (f.sackPermitted) options.push({ kind: "nop" }, { kind: "nop" }, { kind: "sackPermitted" });
        if (f.wscale >= 0) options.push({ kind: "nop" }, { kind: "wscale", shift: f.wscale });
        if (f.sackCount) {
          const blocks: [number, number][] = [];
          for (let i = 0; i < f.sackCount; i++) blocks.push([f.sackBlocks[2 * i], f.sackBlocks[2 * i + 1]]);
          options.push({ kind: "nop" }, { kind: "nop" }, { kind: "sack", blocks });
        }
        let expected = packet()
          .eth({ src: f.srcMac, dst: f.dstMac })
          .ipv4({ src: "10.0.0.1", dst: "192.168.7.9", id: f.ipId, ttl: 64, flags: "DF" })
          .tcp({ sport: f.sport, dport: f.dport, seq: f.seq, ack: f.ack, flags: f.flags, win: f.win, options })
          .payload(payload)
          .build();
        if (expected.length < 60) expected = Uint8Array.from([...expected, ...new Uint8Array(60 - expected.length)]);
        expect(frame).toEqual(expected);

        const p = new ParsedTcp();
        expect(parseTcpFrame(frame, p)).toBe(FrameVerdict.TCP);
        const d = decode(frame);
        expect(d.errors).toEqual([]);
        expect(p).toMatchObject({ sport: d.tcp!.sport, dport: d.tcp!.dport, seq: d.tcp!.seq, ack: d.tcp!.ack, flags: d.tcp!.flags, win: d.tcp!.win, payloadLen: len });
        expect(frame.subarray(p.payloadAt, p.payloadAt + p.payloadLen)).toEqual(payload);
        expect(p.mss).toBe(f.mss);
        expect(p.wscale).toBe(f.wscale);
        expect(p.hasTs).toBe(f.hasTs);
        expect(p.sackCount).toBe(f.sackCount);
      }
    }
  });

  it("sums ranges like the reference onesSum at every alignment and length", () => {
    const rng = new Random(12);
    const buf = rng.bytes(4096);
    buf.fill(0xff, 1000, 2000); // long runs of 0xffff words stress the carries
    for (let i = 0; i < 2000; i++) {
      const start = rng.below(2048);
      const end = start + rng.below(2048);
      const initial = rng.below(1 << 20);
      // rangeSum folds part of the way, onesSum not at all: equal once folded.
      expect(foldComplement(rangeSum(buf, start, end, initial)), `[${start}, ${end})`).toBe(foldComplement(onesSum(buf.subarray(start, end), initial)));
      const view = buf.subarray(start & 3);
      expect(foldComplement(rangeSum(view, 0, end - start))).toBe(foldComplement(onesSum(view.subarray(0, end - start))));
    }
  });

  it("refuses frames with a bad IP or TCP checksum", () => {
    const f = Object.assign(new TcpFrameFields(), { srcIp: 1, dstIp: 2, flags: ACK, hasTs: true });
    const frame = allocTcpFrame(f, 10);
    sealTcpFrame(frame);
    const p = new ParsedTcp();
    expect(parseTcpFrame(frame, p)).toBe(FrameVerdict.TCP);
    frame[frame.length - 1] ^= 1;
    expect(parseTcpFrame(frame, p)).toBe(FrameVerdict.BAD_TCP_CHECKSUM);
    frame[frame.length - 1] ^= 1;
    frame[14 + 8] = 63; // TTL without fixing the header checksum
    expect(parseTcpFrame(frame, p)).toBe(FrameVerdict.BAD_IP_CHECKSUM);
  });
});

describe("TCP between two hosts on one link", () => {
  it("handshakes with MSS, SACK-permitted, timestamps and window scale in SYN and SYN-ACK", () => {
    const sched = new Scheduler();
    const { link, client, server } = hostPair(sched);
    const { sent } = recordFrames(link);
    server.listen(80, () => {});
    let connected = false;
    const conn = client.connect(PAIR_SERVER_IP, 80, { onConnect: () => { connected = true; } });
    sched.run(10 * PS_PER_MS);
    expect(connected).toBe(true);
    expect(conn.state).toBe(TcpState.ESTABLISHED);

    const [syn] = sent[0];
    const [synAck] = sent[1];
    for (const f of [syn, synAck]) {
      expect(f.errors).toEqual([]);
      expect(f.ipv4).toMatchObject({ ttl: 64, flags: 2, checksumOk: true });
      expect(f.tcp!.checksumOk).toBe(true);
      expect(f.tcp!.options.filter((o) => o.kind !== "nop").map((o) => o.kind)).toEqual(["mss", "sackPermitted", "ts", "wscale"]);
      expect(f.tcp!.options).toContainEqual({ kind: "mss", value: 1460 });
      expect(f.tcp!.options).toContainEqual({ kind: "wscale", shift: 7 });
    }
    expect(syn.tcp!.flagText).toBe("S");
    expect(synAck.tcp!.flagText).toBe("SA");
    expect(synAck.tcp!.ack).toBe((syn.tcp!.seq + 1) >>> 0);
    const synTs = syn.tcp!.options.find((o) => o.kind === "ts") as { val: number; ecr: number };
    const synAckTs = synAck.tcp!.options.find((o) => o.kind === "ts") as { val: number; ecr: number };
    expect(synTs.ecr).toBe(0);
    expect(synAckTs.ecr).toBe(synTs.val);
    const third = sent[0][1];
    expect(third.tcp!.flagText).toBe("A");
    expect(third.tcp!.ack).toBe((synAck.tcp!.seq + 1) >>> 0);
    expect(third.ipv4!.id).toBe((syn.ipv4!.id + 1) & 0xffff);
    expect(third.eth).toMatchObject({ src: "02:00:00:00:00:01", dst: "02:00:00:00:00:02" });
    // Window scale is in force after the handshake: 1 MiB >> 7.
    expect(third.tcp!.win).toBe(8192);
  });

  it("without SACK/TS/WS offered by the client, the server does not use them", () => {
    const sched = new Scheduler();
    const { link, client, server } = hostPair(sched);
    (client.config as { sack: boolean }).sack = false;
    (client.config as { timestamps: boolean }).timestamps = false;
    (client.config as { wscale: number }).wscale = -1;
    const { sent } = recordFrames(link);
    const { cli } = bulk(server, client, pattern(10), pattern(100_000));
    sched.run();
    expectBytes(joined(cli.received), pattern(100_000));
    expect(sent[1][0].tcp!.options.filter((o) => o.kind !== "nop")).toEqual([{ kind: "mss", value: 1460 }]);
    // Without timestamps, a full segment carries 1460 bytes.
    expect(Math.max(...sent[1].map((f) => f.payload.length))).toBe(1460);
  });

  it("delivers a 1 MB response byte for byte, segmented to the MSS, with correct checksums and no retransmission", () => {
    const sched = new Scheduler();
    const { link, client, server } = hostPair(sched);
    const { sent } = recordFrames(link);
    const response = pattern(MB, 3);
    const { srv, cli } = bulk(server, client, pattern(300), response);
    sched.run();
    expectBytes(joined(srv.received), pattern(300));
    expectBytes(joined(cli.received), response);
    expect(cli.ended && srv.ended).toBe(true);
    expect(cli.closed).toBe("normal");
    expect(srv.closed).toBe("normal");
    expect(server.counters.retransmits + client.counters.retransmits).toBe(0);
    const data = sent[1].filter((f) => f.payload.length > 0);
    expect(Math.max(...data.map((f) => f.payload.length))).toBe(1448); // 1460 less 12 bytes of timestamps
    expect(data.length).toBe(Math.ceil(MB / 1448));
    for (const f of [...sent[0], ...sent[1]]) expect(f.errors).toEqual([]);
    // Delayed ACKs: roughly one ACK per two full segments.
    const acks = sent[0].filter((f) => f.payload.length === 0 && f.tcp!.flagText === "A").length;
    expect(acks).toBeGreaterThan(data.length / 2 - 5);
    expect(acks).toBeLessThan(data.length / 2 + 20);
    // IP ids count up per host.
    const ids = sent[1].map((f) => f.ipv4!.id);
    expect(ids.every((id, i) => i === 0 || id === ((ids[i - 1] + 1) & 0xffff))).toBe(true);
    expect(client.connectionCount).toBe(0); // TIME_WAIT over
  });

  it("recovers from 2% loss: retransmits, still byte for byte", () => {
    const sched = new Scheduler();
    const { link, client, server } = hostPair(sched, { link: { lossRate: 0.02 }, seed: 4 });
    const response = pattern(MB, 9);
    const { cli, srv } = bulk(server, client, pattern(2000), response);
    sched.run();
    expect(link.stats(1).lossDrops).toBeGreaterThan(5);
    expectBytes(joined(cli.received), response);
    expectBytes(joined(srv.received), pattern(2000));
    expect(server.counters.retransmits).toBeGreaterThan(0);
    expect(server.counters.fastRetransmits).toBeGreaterThan(0);
    expect(server.counters.duplicateAcksReceived).toBeGreaterThan(0);
    expect(client.counters.outOfOrderSegments).toBeGreaterThan(0);
    expect(client.counters.sackSegmentsSent).toBeGreaterThan(0);
    expect(cli.closed).toBe("normal");
    expect(srv.closed).toBe("normal");
  });

  it("answers out-of-order data with duplicate ACKs carrying SACK blocks, then the cumulative ACK", () => {
    const sched = new Scheduler();
    const { link, client, server } = hostPair(sched);
    // Hold back the 3rd data segment the server sends until two more have passed it.
    const realClient: NetPort = client;
    let dataSeen = 0;
    let held: Uint8Array | undefined;
    let passed = 0;
    link.attach(0, {
      receive(frame) {
        const d = decode(frame);
        if (d.payload.length > 0 && d.tcp && ++dataSeen === 3) { held = frame; return; }
        realClient.receive(frame);
        if (held && ++passed === 2) { realClient.receive(held); held = undefined; }
      },
    });
    const { sent } = recordFrames(link);
    const response = pattern(200_000, 5);
    const { cli } = bulk(server, client, pattern(10), response);
    sched.run();
    expectBytes(joined(cli.received), response);
    expect(client.counters.outOfOrderSegments).toBe(2);
    const data = sent[1].filter((f) => f.payload.length > 0);
    const missing = data[2].tcp!;
    const sacks = sent[0]
      .map((f) => f.tcp!.options.find((o) => o.kind === "sack") as { blocks: [number, number][] } | undefined)
      .filter((s) => s !== undefined);
    expect(sacks.length).toBe(2);
    const missingEnd = (missing.seq + data[2].payload.length) >>> 0;
    // Each SACK starts at the end of the hole and grows by one segment.
    expect(sacks[0]!.blocks).toEqual([[missingEnd, (missingEnd + data[3].payload.length) >>> 0]]);
    expect(sacks[1]!.blocks).toEqual([[missingEnd, (missingEnd + data[3].payload.length + data[4].payload.length) >>> 0]]);
    const dupAcks = sent[0].filter((f) => f.tcp!.options.some((o) => o.kind === "sack"));
    for (const f of dupAcks) expect(f.tcp!.ack).toBe(missing.seq);
    // Once the hole fills, one ACK covers everything received.
    const after = sent[0][sent[0].indexOf(dupAcks[1]) + 1];
    expect(after.tcp!.ack).toBe((missingEnd + data[3].payload.length + data[4].payload.length) >>> 0);
  });

  it("closes from the client first: client TIME_WAIT, server LAST_ACK then CLOSED", () => {
    const sched = new Scheduler();
    const { client, server } = hostPair(sched, { tcp: { timeWaitPs: 2 * PS_PER_S } });
    let srvConn: TcpConnection | undefined;
    const log: string[] = [];
    server.listen(80, (c) => {
      srvConn = c;
      c.handlers = { onEnd: (c) => { log.push("server end"); c.write(pattern(5000)); c.end(); }, onClose: (_c, r) => log.push(`server close ${r}`) };
    });
    const got: Uint8Array[] = [];
    const conn = client.connect(PAIR_SERVER_IP, 80, {
      onConnect: (c) => c.end(),
      onData: (_c, d) => got.push(d.slice()),
      onEnd: () => log.push("client end"),
      onClose: (_c, r) => log.push(`client close ${r}`),
    });
    sched.run(PS_PER_S);
    expectBytes(joined(got), pattern(5000)); // half-closed client still receives
    expect(log).toEqual(["server end", "client end", "client close normal", "server close normal"]);
    expect(conn.state).toBe(TcpState.TIME_WAIT);
    expect(srvConn!.state).toBe(TcpState.CLOSED);
    expect(client.connectionCount).toBe(1);
    sched.run(4 * PS_PER_S);
    expect(conn.state).toBe(TcpState.CLOSED);
    expect(client.connectionCount).toBe(0);
  });

  it("closes from the server first: server TIME_WAIT, client CLOSE_WAIT until it ends", () => {
    const sched = new Scheduler();
    const { client, server } = hostPair(sched);
    let srvConn: TcpConnection | undefined;
    server.listen(80, (c) => { srvConn = c; c.write(pattern(3000)); c.end(); });
    let clientConn: TcpConnection | undefined;
    const got: Uint8Array[] = [];
    client.connect(PAIR_SERVER_IP, 80, { onData: (_c, d) => got.push(d.slice()), onEnd: (c) => { clientConn = c; } });
    sched.run(100 * PS_PER_MS);
    expectBytes(joined(got), pattern(3000));
    expect(clientConn!.state).toBe(TcpState.CLOSE_WAIT);
    expect(srvConn!.state).toBe(TcpState.FIN_WAIT_2);
    clientConn!.write(pattern(10)); // a half-closed server still receives
    clientConn!.end();
    sched.run(200 * PS_PER_MS);
    expect(clientConn!.state).toBe(TcpState.CLOSED);
    expect(srvConn!.state).toBe(TcpState.TIME_WAIT);
  });

  it("resets a connection to a closed port, and aborts on RST", () => {
    const sched = new Scheduler();
    const { link, client, server } = hostPair(sched);
    const { sent } = recordFrames(link);
    const o = outcome();
    const conn = client.connect(PAIR_SERVER_IP, 81, { onReset: () => { o.reset = true; }, onClose: (_c, r) => { o.closed = r; } });
    sched.run(10 * PS_PER_MS);
    expect(o).toMatchObject({ reset: true, closed: "reset" });
    expect(conn.state).toBe(TcpState.CLOSED);
    const rst = sent[1][0].tcp!;
    expect(rst.flagText).toBe("RA");
    expect(rst.seq).toBe(0);
    expect(rst.ack).toBe((sent[0][0].tcp!.seq + 1) >>> 0);
    expect(server.counters.resetsSent).toBe(1);
    expect(client.counters.resetsReceived).toBe(1);
  });

  it("abort() in the middle of a transfer resets the peer", () => {
    const sched = new Scheduler();
    const { client, server } = hostPair(sched);
    const srv = outcome();
    server.listen(80, (c) => {
      c.handlers = { onReset: () => { srv.reset = true; }, onClose: (_c, r) => { srv.closed = r; } };
      c.write(pattern(MB));
    });
    let received = 0;
    client.connect(PAIR_SERVER_IP, 80, { onData: (c, d) => { received += d.length; if (received > 100_000) c.abort(); } });
    sched.run();
    expect(srv).toMatchObject({ reset: true, closed: "reset" });
    expect(received).toBeLessThan(MB);
    expect(server.connectionCount + client.connectionCount).toBe(0);
  });

  it("retransmits a lost SYN after the 1 s initial RTO, then backs off exponentially", () => {
    const sched = new Scheduler();
    const { link, client } = hostPair(sched, { tcp: { synRetries: 3 } });
    link.attach(1, { receive() {} }); // nobody answers
    const synTimes: number[] = [];
    link.addTap((t, side, dir) => { if (side === 0 && dir === "tx") synTimes.push(t); });
    let closed: CloseReason | undefined;
    client.connect(PAIR_SERVER_IP, 80, { onClose: (_c, r) => { closed = r; } });
    sched.run();
    expect(synTimes).toEqual([0, 1, 3, 7].map((s) => s * PS_PER_S));
    expect(closed).toBe("timeout");
    expect(client.counters.connectionTimeouts).toBe(1);
  });

  it("answers ARP requests for its own address only", () => {
    const sched = new Scheduler();
    const { link, client } = hostPair(sched);
    const { raw } = recordFrames(link);
    const ask = (tpa: string) => client.receive(packet().eth({ src: "02:00:00:00:00:02", dst: "ff:ff:ff:ff:ff:ff" })
      .arp({ op: "request", sha: "02:00:00:00:00:02", spa: PAIR_SERVER_IP, tpa }).build());
    ask("10.0.0.99");
    ask(PAIR_CLIENT_IP);
    sched.run();
    expect(raw[0].length).toBe(1);
    const reply = decode(raw[0][0]);
    expect(reply.arp).toMatchObject({ op: 2, sha: "02:00:00:00:00:01", spa: PAIR_CLIENT_IP, tha: "02:00:00:00:00:02", tpa: PAIR_SERVER_IP });
    expect(raw[0][0].length).toBe(60);
  });
});
