// Connection setup end to end: a scripted client and servers exchange real frames with the real data-plane
// images (classify, splice) and the ControlPlane over the shared NP memory: SYN cookies, request gathering,
// connect with mirrored options, splice install and replay, translation by the data plane, teardown, refusals.
import { describe, expect, it } from "vitest";
import type { DecodedFrame } from "../../packet/decode.js";
import { CAPACITIES } from "../../abi/layout.js";
import { flowBucket, type FlowKey } from "../../abi/flow-table.js";
import type { TcpOption } from "../../packet/builder.js";
import {
  CLIENT, LOCAL_IP, MS, PORT_MACS, SERVERS, VIP, addr, bench, fromClient, fromServer, optionKinds, text, tsOf, u32, type Bench,
} from "./switch-wire.js";

const CLIENT_ISN = 1000;
const SERVER_ISN = 9_000_000;
const CLIENT_WSCALE = 6;
const SERVER_WSCALE = 9;
const REQUEST = "GET /index.html HTTP/1.1\r\nHost: www.Example.com\r\nCookie: session=42\r\nAccept: */*\r\n\r\n";
const RESPONSE = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello";
const SYN_OPTIONS: TcpOption[] = [
  { kind: "mss", value: 9000 }, { kind: "sackPermitted" }, { kind: "ts", val: 100, ecr: 0 }, { kind: "nop" }, { kind: "wscale", shift: CLIENT_WSCALE },
];
const ts = (val: number, ecr: number): TcpOption[] => [{ kind: "nop" }, { kind: "nop" }, { kind: "ts", val, ecr }];

function one(frames: DecodedFrame[], what: string): DecodedFrame {
  expect(frames.length, `${what}: frames sent`).toBe(1);
  expect(frames[0].errors, `${what}: well-formed with good checksums`).toEqual([]);
  return frames[0];
}

/** Client SYN and its ACK; returns the cookie and our TSval. */
function handshake(b: Bench, synOptions: TcpOption[] = SYN_OPTIONS, sport = CLIENT.port) {
  b.deliver(0, fromClient({ seq: CLIENT_ISN, flags: "S", win: 64240, options: synOptions }, sport));
  const synAck = one(b.take(0), "SYN-ACK");
  const cookie = synAck.tcp!.seq;
  const tsval = tsOf(synAck)?.val;
  b.deliver(0, fromClient({ seq: CLIENT_ISN + 1, ack: cookie + 1, flags: "A", options: tsval === undefined ? undefined : ts(101, tsval) }, sport));
  return { synAck, cookie, tsval };
}

/** Handshake and the request in one segment, up to the CP's SYN to the server. */
function request(b: Bench, req = REQUEST) {
  const h = handshake(b);
  b.deliver(0, fromClient({ seq: CLIENT_ISN + 1, ack: h.cookie + 1, flags: "PA", options: ts(102, h.tsval!), payload: req }));
  const ack = one(b.take(0), "ACK of the request");
  const syn = one(b.take(1), "SYN to the server");
  return { ...h, ack, syn, localPort: syn.tcp!.sport };
}

/** ... and the server's SYN-ACK: the splice is installed and the request replayed. */
function splice(b: Bench, req = REQUEST) {
  const r = request(b, req);
  b.deliver(1, fromServer(0, r.localPort, {
    seq: SERVER_ISN, ack: CLIENT_ISN + 1, flags: "SA", win: 65535,
    options: [{ kind: "mss", value: 1460 }, { kind: "sackPermitted" }, { kind: "ts", val: 77_777, ecr: 102 }, { kind: "nop" }, { kind: "wscale", shift: SERVER_WSCALE }],
  }));
  const replay = b.take(1);
  const fwdKey: FlowKey = { saddr: addr(CLIENT.ip), daddr: addr(VIP), sport: CLIENT.port, dport: 80 };
  const revKey: FlowKey = { saddr: addr(SERVERS[0].ip), daddr: addr(LOCAL_IP), sport: 8080, dport: r.localPort };
  return { ...r, replay, fwdKey, revKey, lastTsToClient: tsOf(r.ack)!.val };
}

describe("control plane: SYN cookies", () => {
  it("answers a SYN with a cookie SYN-ACK carrying the negotiated options, keeping no state", async () => {
    const b = await bench();
    const r = b.deliver(0, fromClient({ seq: CLIENT_ISN, flags: "S", win: 64240, options: SYN_OPTIONS }));
    expect(r.verdict).toBe("TO_CP");
    const f = one(b.take(0), "SYN-ACK");
    expect(f.eth).toMatchObject({ src: PORT_MACS[0], dst: CLIENT.mac });
    expect(f.ipv4).toMatchObject({ src: VIP, dst: CLIENT.ip });
    expect(f.tcp).toMatchObject({ sport: 80, dport: CLIENT.port, ack: CLIENT_ISN + 1, flagText: "SA" });
    expect(optionKinds(f)).toEqual(["mss", "sackPermitted", "ts", "wscale"]);
    expect(f.tcp!.options).toContainEqual({ kind: "mss", value: 1460 }); // min(client 9000, switch 1460)
    expect(f.tcp!.options).toContainEqual({ kind: "wscale", shift: 7 });
    const t = tsOf(f)!;
    expect(t.ecr).toBe(100);
    expect(t.val & 0x3f).toBe(CLIENT_WSCALE | 0x10); // Linux-style: client's wscale and SACK-permitted in TSval
    expect(b.cp.stats()).toMatchObject({ syns: 1, cookiesSent: 1, activeConnections: 0 });
    expect(b.dp.heldBuffers()).toBe(0);
    expect(b.charges.get("syn_cookie")).toBe(1);
  });

  it("offers only MSS to a client without timestamps (nothing could carry window scale or SACK)", async () => {
    const b = await bench();
    b.deliver(0, fromClient({ seq: CLIENT_ISN, flags: "S", options: [{ kind: "mss", value: 1200 }, { kind: "sackPermitted" }, { kind: "nop" }, { kind: "wscale", shift: 4 }] }));
    const f = one(b.take(0), "SYN-ACK");
    expect(f.tcp!.options).toEqual([{ kind: "mss", value: 1200 }]);
  });

  it("rejects a forged or misdirected cookie with an RST and keeps no state", async () => {
    const b = await bench();
    b.deliver(0, fromClient({ seq: CLIENT_ISN + 1, ack: 0x1234_5678, flags: "A" }));
    const rst = one(b.take(0), "RST");
    expect(rst.tcp).toMatchObject({ flagText: "R", seq: 0x1234_5678 });
    // A real cookie presented by another 4-tuple is no better.
    const { cookie } = handshake(b);
    b.deliver(0, fromClient({ seq: CLIENT_ISN + 1, ack: cookie + 1, flags: "A" }, CLIENT.port + 1));
    expect(one(b.take(0), "RST").tcp!.flagText).toBe("R");
    // ... nor one whose client ISN differs.
    b.deliver(0, fromClient({ seq: CLIENT_ISN + 7, ack: cookie + 1, flags: "A" }, CLIENT.port + 2));
    expect(one(b.take(0), "RST").tcp!.flagText).toBe("R");
    expect(b.cp.stats()).toMatchObject({ cookiesRejected: 3, connections: 1, activeConnections: 1 });
  });

  it("survives a SYN flood without keeping state or buffers", async () => {
    const b = await bench();
    for (let i = 0; i < 2000; i++) b.deliver(0, fromClient({ seq: i * 7919, flags: "S", options: SYN_OPTIONS }, 1024 + i));
    expect(b.take(0).length).toBe(2000);
    expect(b.cp.stats()).toMatchObject({ syns: 2000, cookiesSent: 2000, activeConnections: 0 });
    expect(b.dp.heldBuffers()).toBe(0);
  });

  it("does not accept a cookie two time slots (128 s) later", async () => {
    const b = await bench({ limits: { maxHeaderBytes: 4096, requestTimeoutPs: 500_000 * MS, idleTimeoutPs: 60_000 * MS, lingerPs: 2000 * MS } });
    b.deliver(0, fromClient({ seq: CLIENT_ISN, flags: "S", options: SYN_OPTIONS }));
    const cookie = b.take(0)[0].tcp!.seq;
    b.advance(130_000 * MS);
    b.deliver(0, fromClient({ seq: CLIENT_ISN + 1, ack: cookie + 1, flags: "A" }));
    expect(b.take(0)[0].tcp!.flagText).toBe("R");
    expect(b.cp.stats().cookiesRejected).toBe(1);
  });
});

describe("control plane: connect, splice, translate, tear down", () => {
  it("connects to the server with the client's options mirrored and its ISN", async () => {
    const b = await bench();
    const { syn, ack } = request(b);
    expect(ack.tcp).toMatchObject({ flagText: "A", ack: CLIENT_ISN + 1 + REQUEST.length });
    expect(tsOf(ack)!.ecr).toBe(102);
    expect(syn.eth).toMatchObject({ src: PORT_MACS[1], dst: SERVERS[0].mac });
    expect(syn.ipv4).toMatchObject({ src: LOCAL_IP, dst: SERVERS[0].ip });
    expect(syn.tcp).toMatchObject({ dport: 8080, seq: CLIENT_ISN, flagText: "S" });
    expect(syn.tcp!.sport).toBeGreaterThanOrEqual(32768);
    expect(syn.tcp!.options.filter((o) => o.kind !== "nop")).toEqual([
      { kind: "mss", value: 1460 }, { kind: "sackPermitted" }, { kind: "ts", val: 102, ecr: 0 }, { kind: "wscale", shift: CLIENT_WSCALE },
    ]);
    expect(b.cp.stats()).toMatchObject({ connections: 1, requests: 1, spliced: 0 });
    expect(b.charges.get("parse_request_per_byte")).toBe(REQUEST.length);
  });

  it("installs both directions on the SYN-ACK, then replays the request byte for byte", async () => {
    const b = await bench();
    const s = splice(b);
    const fwd = b.tables.read(b.tables.lookup(s.fwdKey)!)!;
    const rev = b.tables.read(b.tables.lookup(s.revKey)!)!;
    expect(fwd.peer).toBe(rev.index);
    expect(fwd).toMatchObject({
      state: "ACTIVE", outPort: 1, seqDelta: 0, ackDelta: u32(SERVER_ISN - s.cookie), winShift: 0, sack: true,
      rewrite: { saddr: addr(LOCAL_IP), daddr: addr(SERVERS[0].ip), sport: s.localPort, dport: 8080 },
      timestamps: { tsvalDelta: 0, tsecrDelta: u32(77_777 - s.lastTsToClient) },
    });
    expect([...fwd.nextHopMac]).toEqual(SERVERS[0].mac.split(":").map((h) => parseInt(h, 16)));
    expect(rev).toMatchObject({
      state: "ACTIVE", outPort: 0, seqDelta: u32(s.cookie - SERVER_ISN), ackDelta: 0, winShift: SERVER_WSCALE - 7, sack: true,
      rewrite: { saddr: addr(VIP), daddr: addr(CLIENT.ip), sport: 80, dport: CLIENT.port },
      timestamps: { tsvalDelta: u32(s.lastTsToClient - 77_777), tsecrDelta: 0 },
    });
    const replay = one(s.replay, "replay");
    expect(replay.tcp).toMatchObject({ flagText: "PA", seq: CLIENT_ISN + 1, ack: SERVER_ISN + 1, sport: s.localPort, win: 502 });
    expect(tsOf(replay)).toMatchObject({ val: 102, ecr: 77_777 });
    expect(text(replay.payload)).toBe(REQUEST);
    expect(b.cp.stats()).toMatchObject({ spliced: 1, activeConnections: 1 });
    expect(b.dp.heldBuffers()).toBe(0);
  });

  it("leaves the data plane to translate both ways, then removes both entries after both FINs", async () => {
    const b = await bench();
    const s = splice(b);
    const reqEnd = CLIENT_ISN + 1 + REQUEST.length;
    // Server -> client: spliced by the data plane, no CP involved.
    const messagesBefore = b.cp.stats().messages;
    const r = b.deliver(1, fromServer(0, s.localPort, { seq: SERVER_ISN + 1, ack: reqEnd, flags: "PA", win: 1000, options: ts(77_800, 102), payload: RESPONSE }));
    expect(r.verdict).toBe("FORWARD");
    const toClient = one(b.take(0), "response to the client");
    expect(toClient.eth).toMatchObject({ src: PORT_MACS[0], dst: CLIENT.mac });
    expect(toClient.ipv4).toMatchObject({ src: VIP, dst: CLIENT.ip });
    expect(toClient.tcp).toMatchObject({ sport: 80, dport: CLIENT.port, seq: u32(s.cookie + 1), ack: reqEnd, win: 1000 << (SERVER_WSCALE - 7) });
    expect(tsOf(toClient)).toMatchObject({ val: u32(s.lastTsToClient + 23), ecr: 102 });
    expect(text(toClient.payload)).toBe(RESPONSE);
    // Client -> server: the ACK of the response, translated into the server's sequence space and clock.
    b.deliver(0, fromClient({ seq: reqEnd, ack: u32(s.cookie + 1 + RESPONSE.length), flags: "A", win: 700, options: [...ts(103, tsOf(toClient)!.val), { kind: "nop" }, { kind: "nop" }, { kind: "sack", blocks: [[u32(s.cookie + 1), u32(s.cookie + 3)]] }] }));
    const toServer = one(b.take(1), "ACK to the server");
    expect(toServer.ipv4).toMatchObject({ src: LOCAL_IP, dst: SERVERS[0].ip });
    expect(toServer.tcp).toMatchObject({ sport: s.localPort, dport: 8080, seq: reqEnd, ack: SERVER_ISN + 1 + RESPONSE.length, win: 700 });
    expect(tsOf(toServer)).toMatchObject({ val: 103, ecr: 77_800 });
    expect(toServer.tcp!.options).toContainEqual({ kind: "sack", blocks: [[SERVER_ISN + 1, SERVER_ISN + 3]] });
    expect(b.cp.stats().messages).toBe(messagesBefore); // spliced: the CP saw none of it

    // FIN both ways: reported, forwarded, entries removed after lingerPs.
    b.deliver(0, fromClient({ seq: reqEnd, ack: u32(s.cookie + 1 + RESPONSE.length), flags: "FA", options: ts(104, tsOf(toClient)!.val) }));
    expect(one(b.take(1), "client FIN").tcp!.flagText).toBe("FA");
    b.deliver(1, fromServer(0, s.localPort, { seq: SERVER_ISN + 1 + RESPONSE.length, ack: reqEnd + 1, flags: "FA", options: ts(77_900, 104) }));
    expect(one(b.take(0), "server FIN").tcp).toMatchObject({ flagText: "FA", ack: reqEnd + 1 });
    expect(b.tables.lookup(s.fwdKey)).not.toBeNull();
    b.advance(1000 * MS);
    expect(b.tables.lookup(s.fwdKey)).not.toBeNull(); // lingering for the last ACK
    b.deliver(0, fromClient({ seq: reqEnd + 1, ack: u32(s.cookie + 2 + RESPONSE.length), flags: "A", options: ts(105, 0) }));
    expect(one(b.take(1), "last ACK").tcp!.ack).toBe(SERVER_ISN + 2 + RESPONSE.length);
    b.advance(1000 * MS);
    expect(b.tables.lookup(s.fwdKey)).toBeNull();
    expect(b.tables.lookup(s.revKey)).toBeNull();
    expect(b.tables.occupancy()).toBe(0);
    expect(b.cp.stats()).toMatchObject({ teardowns: 1, activeConnections: 0, replayRetransmits: 0 });
    expect(b.charges.get("teardown")).toBe(1);
  });

  it("keeps later requests of a keep-alive connection on its server (the data plane forwards them)", async () => {
    const b = await bench();
    const s = splice(b);
    const reqEnd = CLIENT_ISN + 1 + REQUEST.length;
    const second = "GET /other.html HTTP/1.1\r\nHost: www.example.com\r\n\r\n";
    const r = b.deliver(0, fromClient({ seq: reqEnd, ack: s.cookie + 1, flags: "PA", options: ts(110, 0), payload: second }));
    expect(r).toMatchObject({ verdict: "FORWARD", outPort: SERVERS[0].port });
    expect(text(one(b.take(1), "second request").payload)).toBe(second);
    expect(b.cp.stats().requests).toBe(1);
  });

  it("opens a new connection when the client reuses its port while the old entries linger", async () => {
    const b = await bench();
    const s = splice(b);
    const reqEnd = CLIENT_ISN + 1 + REQUEST.length;
    b.deliver(1, fromServer(0, s.localPort, { seq: SERVER_ISN + 1, ack: reqEnd, flags: "FPA", options: ts(77_800, 102), payload: RESPONSE }));
    b.take(0);
    b.deliver(0, fromClient({ seq: reqEnd, ack: u32(s.cookie + 2 + RESPONSE.length), flags: "FA", options: ts(104, 0) }));
    b.take(1);
    expect(b.tables.lookup(s.fwdKey)).not.toBeNull(); // lingering
    // The same 4-tuple, a new SYN: a cookie SYN-ACK from the CP, not a segment spliced to the old server.
    const isn2 = CLIENT_ISN + 500_000;
    const r = b.deliver(0, fromClient({ seq: isn2, flags: "S", win: 64240, options: SYN_OPTIONS }));
    expect(r.verdict).toBe("TO_CP");
    expect(b.take(1)).toEqual([]);
    const synAck = one(b.take(0), "SYN-ACK of the new connection");
    expect(synAck.tcp).toMatchObject({ flagText: "SA", ack: isn2 + 1 });
    expect(b.tables.lookup(s.fwdKey)).toBeNull(); // the old splice went at once
    expect(b.cp.stats()).toMatchObject({ teardowns: 1, reusedTuples: 1 });
    // The handshake completes with the CP and the new request goes to a server afresh.
    b.deliver(0, fromClient({ seq: isn2 + 1, ack: synAck.tcp!.seq + 1, flags: "A", options: ts(200, tsOf(synAck)!.val) }));
    b.deliver(0, fromClient({ seq: isn2 + 1, ack: synAck.tcp!.seq + 1, flags: "PA", options: ts(201, tsOf(synAck)!.val), payload: REQUEST }));
    const syn = one([...b.take(1), ...b.take(2)], "SYN to a server for the new connection");
    expect(syn.tcp).toMatchObject({ flagText: "S", seq: isn2 });
    expect(b.cp.stats()).toMatchObject({ connections: 2, requests: 2 });
  });

  it("an RST on the splice removes both entries after lingerPs", async () => {
    const b = await bench();
    const s = splice(b);
    b.deliver(1, fromServer(0, s.localPort, { seq: SERVER_ISN + 1, flags: "R" }));
    expect(one(b.take(0), "RST to the client").tcp!.flagText).toBe("R");
    b.advance(2000 * MS);
    expect(b.tables.occupancy()).toBe(0);
    expect(b.cp.stats().teardowns).toBe(1);
  });

  it("retransmits the replay on a bounded schedule until the client answers through the splice", async () => {
    const b = await bench();
    const s = splice(b);
    const original = one(s.replay, "replay");
    b.advance(200 * MS);
    const again = one(b.take(1), "replay retransmission");
    expect(again.tcp).toMatchObject({ seq: original.tcp!.seq, ack: original.tcp!.ack });
    expect(text(again.payload)).toBe(REQUEST);
    // The response reaches the client and it acknowledges: the replay is done.
    b.deliver(1, fromServer(0, s.localPort, { seq: SERVER_ISN + 1, ack: CLIENT_ISN + 1 + REQUEST.length, flags: "PA", options: ts(77_800, 102), payload: RESPONSE }));
    b.take(0);
    b.deliver(0, fromClient({ seq: CLIENT_ISN + 1 + REQUEST.length, ack: u32(s.cookie + 1 + RESPONSE.length), flags: "A", options: ts(103, 0) }));
    b.take(1);
    b.advance(10_000 * MS);
    expect(b.take(1)).toEqual([]);
    expect(b.cp.stats().replayRetransmits).toBe(1);
  });

  it("retries the SYN, fails over to the next server when one never answers, and splices there", async () => {
    const b = await bench();
    const r = request(b);
    b.advance(1000 * MS);
    expect(one(b.take(1), "SYN retry 1").tcp!.flagText).toBe("S");
    b.advance(2000 * MS);
    expect(one(b.take(1), "SYN retry 2").tcp!.flagText).toBe("S");
    b.advance(4000 * MS);
    expect(b.take(1)).toEqual([]);
    const syn2 = one(b.take(2), "SYN to the second server");
    expect(syn2.ipv4!.dst).toBe(SERVERS[1].ip);
    b.deliver(2, fromServer(1, syn2.tcp!.sport, { seq: 5, ack: CLIENT_ISN + 1, flags: "SA", options: [{ kind: "mss", value: 1460 }, { kind: "ts", val: 9, ecr: 102 }] }));
    expect(text(one(b.take(2), "replay to the second server").payload)).toBe(REQUEST);
    expect(b.cp.stats()).toMatchObject({ serverSynRetries: 2, failovers: 1, spliced: 1, timestampMismatches: 0 });
    expect(r.localPort).toBeGreaterThan(0);
  });

  it("fails over at once when the server resets the SYN, and answers 503 when no server is left", async () => {
    const b = await bench();
    const r = request(b);
    b.deliver(1, fromServer(0, r.localPort, { seq: 0, ack: CLIENT_ISN + 1, flags: "RA" }));
    const syn2 = one(b.take(2), "SYN to the second server");
    b.deliver(2, fromServer(1, syn2.tcp!.sport, { seq: 0, ack: CLIENT_ISN + 1, flags: "RA" }));
    const refusal = one(b.take(0), "503");
    expect(refusal.tcp!.flagText).toBe("FPA");
    expect(text(refusal.payload)).toMatch(/^HTTP\/1\.1 503 /);
    expect(b.cp.stats()).toMatchObject({ failovers: 2, refusals: { no_server: 1 } });
  });

  it("splices a client without timestamps, SACK or window scaling with plain deltas", async () => {
    const b = await bench();
    const { cookie } = handshake(b, [{ kind: "mss", value: 1400 }]);
    b.deliver(0, fromClient({ seq: CLIENT_ISN + 1, ack: cookie + 1, flags: "PA", payload: REQUEST }));
    expect(one(b.take(0), "ACK").tcp!.options).toEqual([]);
    const syn = one(b.take(1), "SYN");
    expect(syn.tcp!.options).toEqual([{ kind: "mss", value: 1400 }]);
    b.deliver(1, fromServer(0, syn.tcp!.sport, { seq: SERVER_ISN, ack: CLIENT_ISN + 1, flags: "SA", options: [{ kind: "mss", value: 1460 }] }));
    const fwd = b.tables.read(b.tables.lookup({ saddr: addr(CLIENT.ip), daddr: addr(VIP), sport: CLIENT.port, dport: 80 })!)!;
    const rev = b.tables.read(fwd.peer)!;
    expect(fwd).toMatchObject({ winShift: 0, sack: false, seqDelta: 0, ackDelta: u32(SERVER_ISN - cookie) });
    expect(rev).toMatchObject({ winShift: 0, sack: false, seqDelta: u32(cookie - SERVER_ISN), ackDelta: 0 });
    expect(fwd.timestamps).toBeUndefined();
    expect(rev.timestamps).toBeUndefined();
    expect(text(one(b.take(1), "replay").payload)).toBe(REQUEST);
  });
});

describe("control plane: gathering the request", () => {
  it("collects a request split across 3 segments, out of order and retransmitted", async () => {
    const b = await bench();
    const { cookie, tsval } = handshake(b);
    const parts = [REQUEST.slice(0, 10), REQUEST.slice(10, 40), REQUEST.slice(40)];
    const at = (i: number) => CLIENT_ISN + 1 + parts.slice(0, i).reduce((n, p) => n + p.length, 0);
    const send = (i: number) => b.deliver(0, fromClient({ seq: at(i), ack: cookie + 1, flags: "PA", options: ts(102 + i, tsval!), payload: parts[i] }));
    send(2); // out of order: held, ACK says what is still missing
    expect(one(b.take(0), "dup ACK").tcp!.ack).toBe(CLIENT_ISN + 1);
    send(0);
    expect(one(b.take(0), "ACK").tcp!.ack).toBe(at(1));
    send(0); // retransmission
    expect(one(b.take(0), "dup ACK").tcp!.ack).toBe(at(1));
    expect(b.take(1)).toEqual([]);
    send(1); // fills the gap: the request is complete
    expect(one(b.take(0), "ACK").tcp!.ack).toBe(at(3));
    const syn = one(b.take(1), "SYN");
    b.deliver(1, fromServer(0, syn.tcp!.sport, { seq: SERVER_ISN, ack: CLIENT_ISN + 1, flags: "SA", options: [{ kind: "mss", value: 1460 }, { kind: "sackPermitted" }, { kind: "ts", val: 5, ecr: 104 }, { kind: "nop" }, { kind: "wscale", shift: 7 }] }));
    const replay = b.take(1);
    expect(text(Uint8Array.from(replay.flatMap((f) => [...f.payload])))).toBe(REQUEST);
    expect(b.cp.stats()).toMatchObject({ requests: 1, spliced: 1 });
  });

  it("replays pipelined requests and a FIN received before the splice, and counts the client's FIN as sent", async () => {
    const b = await bench();
    const two = REQUEST + "GET /second HTTP/1.1\r\nHost: a\r\n\r\n";
    const h = handshake(b);
    b.deliver(0, fromClient({ seq: CLIENT_ISN + 1, ack: h.cookie + 1, flags: "FPA", options: ts(102, h.tsval!), payload: two }));
    expect(one(b.take(0), "ACK").tcp!.ack).toBe(CLIENT_ISN + 2 + two.length); // the FIN is acknowledged
    const syn = one(b.take(1), "SYN");
    b.deliver(1, fromServer(0, syn.tcp!.sport, { seq: SERVER_ISN, ack: CLIENT_ISN + 1, flags: "SA", options: [{ kind: "mss", value: 1460 }, { kind: "ts", val: 5, ecr: 102 }] }));
    const replay = one(b.take(1), "replay");
    expect(replay.tcp!.flagText).toBe("FPA");
    expect(text(replay.payload)).toBe(two);
    // Only the server's FIN is left to see before the linger starts.
    b.deliver(1, fromServer(0, syn.tcp!.sport, { seq: SERVER_ISN + 1, ack: CLIENT_ISN + 2 + two.length, flags: "FA", options: ts(6, 102) }));
    b.advance(2000 * MS);
    expect(b.tables.occupancy()).toBe(0);
    expect(b.cp.stats().teardowns).toBe(1);
  });

  it("replays a request longer than the server's MSS in MSS-sized segments", async () => {
    const b = await bench();
    const big = `GET /x HTTP/1.1\r\nHost: a\r\nX-Pad: ${"p".repeat(2000)}\r\n\r\n`;
    const h = handshake(b);
    b.deliver(0, fromClient({ seq: CLIENT_ISN + 1, ack: h.cookie + 1, flags: "A", options: ts(102, h.tsval!), payload: big.slice(0, 1400) }));
    b.deliver(0, fromClient({ seq: CLIENT_ISN + 1401, ack: h.cookie + 1, flags: "PA", options: ts(103, h.tsval!), payload: big.slice(1400) }));
    const syn = b.take(1)[0];
    b.deliver(1, fromServer(0, syn.tcp!.sport, { seq: SERVER_ISN, ack: CLIENT_ISN + 1, flags: "SA", options: [{ kind: "mss", value: 1000 }, { kind: "ts", val: 5, ecr: 103 }] }));
    const replay = b.take(1);
    expect(replay.map((f) => f.payload.length)).toEqual([988, 988, big.length - 1976]);
    expect(replay.map((f) => f.tcp!.seq)).toEqual([CLIENT_ISN + 1, CLIENT_ISN + 989, CLIENT_ISN + 1977]);
    expect(text(Uint8Array.from(replay.flatMap((f) => [...f.payload])))).toBe(big);
    expect(b.cp.stats()).toMatchObject({ mssMismatches: 1 });
  });

  it("refuses an oversized request head with 431 and closes", async () => {
    const b = await bench({ limits: { maxHeaderBytes: 256 } as never });
    const h = handshake(b);
    const head = `GET / HTTP/1.1\r\nHost: a\r\nX-Big: ${"x".repeat(300)}`;
    b.deliver(0, fromClient({ seq: CLIENT_ISN + 1, ack: h.cookie + 1, flags: "PA", options: ts(102, h.tsval!), payload: head }));
    const [ack, refusal] = b.take(0);
    expect(ack.tcp!.flagText).toBe("A");
    expect(refusal.tcp).toMatchObject({ flagText: "FPA", seq: h.cookie + 1, ack: CLIENT_ISN + 1 + head.length });
    expect(text(refusal.payload)).toMatch(/^HTTP\/1\.1 431 Request Header Fields Too Large\r\n/);
    expect(b.take(1)).toEqual([]);
    // The client's FIN is acknowledged and the state goes.
    b.deliver(0, fromClient({ seq: CLIENT_ISN + 1 + head.length, ack: h.cookie + 2 + refusal.payload.length, flags: "FA", options: ts(103, 0) }));
    expect(one(b.take(0), "ACK of the FIN").tcp!.ack).toBe(CLIENT_ISN + 2 + head.length);
    expect(b.cp.stats()).toMatchObject({ refusals: { header_too_large: 1 }, activeConnections: 0 });
  });

  it("refuses garbage with 400 at once", async () => {
    const b = await bench();
    const h = handshake(b);
    b.deliver(0, fromClient({ seq: CLIENT_ISN + 1, ack: h.cookie + 1, flags: "PA", options: ts(102, h.tsval!), payload: Uint8Array.of(0x16, 0x03, 0x01, 0x02, 0x00, 0x01) }));
    const out = b.take(0);
    expect(text(out[out.length - 1].payload)).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
    expect(b.cp.stats().refusals.bad_request).toBe(1);
  });

  it("refuses an HTTP/1.1 request without Host with 400", async () => {
    const b = await bench();
    const h = handshake(b);
    b.deliver(0, fromClient({ seq: CLIENT_ISN + 1, ack: h.cookie + 1, flags: "PA", options: ts(102, h.tsval!), payload: "GET / HTTP/1.1\r\n\r\n" }));
    expect(b.cp.stats().refusals.bad_request).toBe(1);
    expect(b.take(1)).toEqual([]);
  });

  it("resets a connection whose request head does not arrive within requestTimeoutPs", async () => {
    const b = await bench();
    const h = handshake(b);
    b.deliver(0, fromClient({ seq: CLIENT_ISN + 1, ack: h.cookie + 1, flags: "PA", options: ts(102, h.tsval!), payload: "GET / HTTP/1.1\r\nHo" }));
    b.take(0);
    b.advance(4999 * MS);
    expect(b.take(0)).toEqual([]);
    b.advance(1 * MS);
    const rst = one(b.take(0), "RST");
    expect(rst.tcp).toMatchObject({ flagText: "RA", seq: h.cookie + 1 });
    expect(b.cp.stats()).toMatchObject({ timeouts: 1, refusals: { timeout: 1 }, activeConnections: 0 });
  });
});

describe("control plane: flow-table exhaustion and idleness", () => {
  /** Fill every way of every bucket through the adapter (keys chosen per bucket). */
  function fillTable(b: Bench): void {
    const ways = CAPACITIES.FLOW_WAYS.value;
    const buckets = CAPACITIES.MAX_FLOWS.value / ways;
    const perBucket = new Map<number, FlowKey[]>();
    const keys: FlowKey[] = [];
    for (let n = 0; keys.length < buckets * ways; n++) {
      const key = { saddr: u32(0xac10_0000 + n), daddr: addr("10.9.9.9"), sport: 1000, dport: 2000 };
      const bucket = flowBucket(key);
      const have = perBucket.get(bucket) ?? [];
      if (have.length === ways) continue;
      have.push(key);
      perBucket.set(bucket, have);
      keys.push(key);
    }
    const mac = new Uint8Array(6);
    for (let i = 0; i < keys.length; i += 2) {
      const dir = (key: FlowKey) => ({ key, rewrite: key, outPort: 0, nextHopMac: mac, seqDelta: 0, ackDelta: 0 });
      const r = b.tables.install({ fwd: dir(keys[i]), rev: dir(keys[i + 1]) });
      expect(r.ok).toBe(true);
    }
    expect(b.tables.occupancy()).toBe(b.tables.capacity());
  }

  it("refuses with an RST, before bothering a server, when the table has no room", async () => {
    const b = await bench();
    fillTable(b);
    const h = handshake(b);
    b.deliver(0, fromClient({ seq: CLIENT_ISN + 1, ack: h.cookie + 1, flags: "PA", options: ts(102, h.tsval!), payload: REQUEST }));
    const [ack, rst] = b.take(0);
    expect(ack.tcp!.flagText).toBe("A");
    expect(rst.tcp).toMatchObject({ flagText: "RA", seq: h.cookie + 1 });
    expect(b.take(1)).toEqual([]);
    expect(b.cp.stats()).toMatchObject({ tableFull: 1, refusals: { table_full: 1 }, activeConnections: 0 });
    expect(b.tables.occupancy()).toBe(b.tables.capacity());
  });

  it("refuses with RSTs both ways, leaving no partial entry, when the table fills while connecting", async () => {
    const b = await bench();
    const r = request(b);
    fillTable(b);
    b.deliver(1, fromServer(0, r.localPort, { seq: SERVER_ISN, ack: CLIENT_ISN + 1, flags: "SA", options: [{ kind: "mss", value: 1460 }] }));
    expect(one(b.take(1), "RST to the server").tcp).toMatchObject({ flagText: "R", seq: CLIENT_ISN + 1 });
    expect(one(b.take(0), "RST to the client").tcp!.flagText).toBe("RA");
    expect(b.tables.lookup({ saddr: addr(CLIENT.ip), daddr: addr(VIP), sport: CLIENT.port, dport: 80 })).toBeNull();
    expect(b.tables.occupancy()).toBe(b.tables.capacity());
    expect(b.cp.stats()).toMatchObject({ tableFull: 1, refusals: { table_full: 1 }, spliced: 0, activeConnections: 0 });
  });

  it("removes a spliced connection idle for idleTimeoutPs, not one with traffic", async () => {
    const b = await bench({ limits: { maxHeaderBytes: 4096, requestTimeoutPs: 5000 * MS, idleTimeoutPs: 10_000 * MS, lingerPs: 2000 * MS } });
    const s = splice(b);
    // Traffic every 4 s keeps it: the entries' counters move between scans.
    for (let i = 0; i < 5; i++) {
      b.advance(4000 * MS);
      b.deliver(0, fromClient({ seq: CLIENT_ISN + 1 + REQUEST.length, ack: s.cookie + 1, flags: "A", options: ts(200 + i, 0) }));
    }
    expect(b.tables.lookup(s.fwdKey)).not.toBeNull();
    b.advance(15_000 * MS);
    expect(b.tables.lookup(s.fwdKey)).toBeNull();
    expect(b.tables.occupancy()).toBe(0);
    expect(b.cp.stats()).toMatchObject({ teardowns: 1, idleTeardowns: 1, activeConnections: 0 });
  });
});
