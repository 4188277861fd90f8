// The pool inside the control plane, on the test bench with the real data-plane images: the response-time
// EWMA from the CP's own SYN -> SYN-ACK timing, quiesce (no new connections, spliced ones continue), a
// server crash (missed alive signals) re-dispatching an unanswered request to another server with a new
// splice, resetting an answered one, the done hook at teardown, and the runtime API (controlplane/api.ts).
import { describe, expect, it } from "vitest";
import type { TcpOption } from "../../packet/builder.js";
import type { DecodedFrame } from "../../packet/decode.js";
import type { FlowKey } from "../../abi/flow-table.js";
import type { ConnectionResult, Policy, ServerView } from "../../controlplane/policies/policy.js";
import type { HttpRequest } from "../../controlplane/http/request.js";
import * as api from "../../controlplane/api.js";
import { CLIENT, LOCAL_IP, MS, SERVERS, VIP, addr, bench, fromClient, fromServer, text, tsOf, u32, type Bench } from "./switch-wire.js";

const ISN = 1000;
const REQUEST = "GET /index.html HTTP/1.1\r\nHost: www.example.com\r\n\r\n";
const RESPONSE = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello";
const SYN_OPTIONS: TcpOption[] = [{ kind: "mss", value: 1460 }, { kind: "sackPermitted" }, { kind: "ts", val: 100, ecr: 0 }, { kind: "nop" }, { kind: "wscale", shift: 6 }];
const ts = (val: number, ecr: number): TcpOption[] => [{ kind: "nop" }, { kind: "nop" }, { kind: "ts", val, ecr }];
const ADDR = SERVERS.map((s) => ({ ip: s.ip, tcpPort: s.tcpPort }));

/** A policy that takes the first (or last) candidate and logs its hooks. */
function scripted(name: string, pick: "first" | "last" = "first") {
  const log: string[] = [];
  const done: [string, ConnectionResult][] = [];
  const policy: Policy<HttpRequest> = {
    name,
    select: (_req, c) => (pick === "first" ? c[0] : c[c.length - 1]),
    post: (s: ServerView, _r, o) => void log.push(`post ${s.name} ${o.outcome}${"reason" in o ? ` ${o.reason}` : ""}`),
    done: (s: ServerView, _r, result) => void done.push([s.name, result]),
    shutdown: () => void log.push("shutdown"),
  };
  return { policy, log, done };
}

function single(frames: DecodedFrame[], what: string): DecodedFrame {
  expect(frames.length, `${what}: frames`).toBe(1);
  expect(frames[0].errors, what).toEqual([]);
  return frames[0];
}

/** Handshake and request from client port `sport`, up to the CP's SYN to a server. */
function open(b: Bench, sport: number, req = REQUEST) {
  b.deliver(0, fromClient({ seq: ISN, flags: "S", win: 64240, options: SYN_OPTIONS }, sport));
  const synAck = single(b.take(0), "SYN-ACK");
  const cookie = synAck.tcp!.seq;
  const tsval = tsOf(synAck)!.val;
  b.deliver(0, fromClient({ seq: ISN + 1, ack: cookie + 1, flags: "A", options: ts(101, tsval) }, sport));
  b.deliver(0, fromClient({ seq: ISN + 1, ack: cookie + 1, flags: "PA", options: ts(102, tsval), payload: req }, sport));
  const ack = single(b.take(0), "ACK of the request");
  const syn = synTo(b);
  return { sport, cookie, ackTs: tsOf(ack)!.val, ...syn, fwdKey: { saddr: addr(CLIENT.ip), daddr: addr(VIP), sport, dport: 80 } as FlowKey };
}

/** The one SYN the CP sent to a server, on whichever server port. */
function synTo(b: Bench) {
  const out = [1, 2].flatMap((p) => b.take(p).map((f) => ({ f, server: p - 1 })));
  expect(out.length, "one SYN to a server").toBe(1);
  expect(out[0].f.tcp!.flagText).toBe("S");
  return { server: out[0].server, localPort: out[0].f.tcp!.sport, syn: out[0].f };
}

/** Server `i` answers the SYN on `localPort`; returns the replayed request. */
function answer(b: Bench, i: number, localPort: number, serverIsn: number, serverTs = 5000) {
  b.deliver(i + 1, fromServer(i, localPort, {
    seq: serverIsn, ack: ISN + 1, flags: "SA", options: [{ kind: "mss", value: 1460 }, { kind: "sackPermitted" }, { kind: "ts", val: serverTs, ecr: 102 }, { kind: "nop" }, { kind: "wscale", shift: 7 }],
  }));
  return single(b.take(i + 1), "replay");
}

/** Alive signals every 100 ms from the servers in `alive` until `untilMs`, starting after `fromMs`. */
function signal(b: Bench, alive: number[], fromMs: number, untilMs: number): void {
  for (let t = fromMs + 100; t <= untilMs; t += 100) {
    b.advance(t * MS - b.now);
    for (const i of alive) b.cp.onAliveSignal({ ...ADDR[i], load: 0.5 });
  }
}

const POOL = { pool: { aliveIntervalPs: 100 * MS, missedAlive: 3, slowStartPs: 0 } };

describe("pool in the CP: response time, quiesce", () => {
  it("feeds the response-time EWMA from SYN -> SYN-ACK, skipping answers to retransmitted SYNs (Karn)", async () => {
    const b = await bench({}, scripted("first").policy);
    const c1 = open(b, 40001);
    b.advance(3 * MS);
    answer(b, 0, c1.localPort, 7000);
    expect(b.cp.serverViews()[0].responseTimePs).toBe(3 * MS);
    const c2 = open(b, 40002);
    b.advance(11 * MS);
    answer(b, 0, c2.localPort, 8000);
    expect(b.cp.serverViews()[0].responseTimePs).toBe(4 * MS); // 3 + (11 - 3) / 8
    const c3 = open(b, 40003);
    b.advance(1000 * MS); // the SYN is retransmitted: an answer now says nothing clean about the server
    const syns = b.take(1).filter((f) => f.tcp!.flagText === "S"); // (beside the first two replays' retransmissions)
    expect(syns.map((f) => f.tcp!.sport)).toEqual([c3.localPort]);
    b.advance(5 * MS);
    answer(b, 0, c3.localPort, 9000);
    expect(b.cp.serverViews()[0].responseTimePs).toBe(4 * MS);
    expect(b.cp.serverViews()[1].responseTimePs).toBeNaN();
  });

  it("quiesce: weight 0 gets no new connection even from a policy that ignores weights; spliced ones continue", async () => {
    const { policy } = scripted("first");
    const b = await bench({}, policy);
    const c1 = open(b, 40001);
    expect(c1.server).toBe(0);
    answer(b, 0, c1.localPort, 7000);
    expect(api.drain(b.cp, "s1")).toMatchObject({ weight: 0, configuredWeight: 0, up: true, activeConnections: 1 });
    expect(open(b, 40002).server).toBe(1);
    expect(open(b, 40003).server).toBe(1);
    // The drained server's spliced connection still flows through the data plane, both ways.
    const r = b.deliver(1, fromServer(0, c1.localPort, { seq: 7001, ack: ISN + 1 + REQUEST.length, flags: "PA", options: ts(5010, 102), payload: RESPONSE }));
    expect(r).toMatchObject({ verdict: "FORWARD", outPort: 0 });
    expect(single(b.take(0), "response").tcp).toMatchObject({ seq: u32(c1.cookie + 1), dport: 40001 });
    expect(api.stats(b.cp).servers[0]).toMatchObject({ state: "draining", view: { activeConnections: 1 } });
    api.setWeight(b.cp, "s1", 2);
    expect(open(b, 40004).server).toBe(0);
    expect(() => api.setWeight(b.cp, "s9", 1)).toThrow("no server named 's9' (have: s1, s2)");
  });
});

describe("pool in the CP: a server crashes", () => {
  it("dispatches an unanswered request again: new SYN, new splice with new server-side deltas, replay, PAWS-safe clock", async () => {
    const { policy, log, done } = scripted("first");
    const b = await bench(POOL, policy);
    for (const a of ADDR) b.cp.onRegistration(a);
    const c = open(b, 40001);
    const first = answer(b, 0, c.localPort, 7_000_000, 5000);
    expect(text(first.payload)).toBe(REQUEST);
    // s1 goes silent (crashed); s2 keeps signalling. Down 3 x 100 ms after s1's registration at 0.
    signal(b, [1], 0, 200);
    b.take(1); // the replay's retransmission to s1 at 200 ms
    expect(b.cp.serverViews()[0].up).toBe(true);
    expect(b.tables.lookup(c.fwdKey)).not.toBeNull();
    signal(b, [1], 200, 300);
    expect(b.cp.serverViews()[0].up).toBe(false);
    expect(b.tables.lookup(c.fwdKey)).toBeNull(); // the old splice is gone
    const again = synTo(b);
    expect(again.server).toBe(1);
    expect(again.syn.tcp).toMatchObject({ seq: ISN, dport: 8080 }); // the client's ISN again, towards s2
    expect(again.syn.ipv4!.dst).toBe(SERVERS[1].ip);
    const replay = answer(b, 1, again.localPort, 3_000_000, 90_000);
    expect(replay.tcp).toMatchObject({ seq: ISN + 1, ack: 3_000_001, flagText: "PA" });
    expect(text(replay.payload)).toBe(REQUEST);
    const fwd = b.tables.read(b.tables.lookup(c.fwdKey)!)!;
    const rev = b.tables.read(fwd.peer)!;
    expect(fwd.rewrite).toMatchObject({ daddr: addr(SERVERS[1].ip), sport: again.localPort, saddr: addr(LOCAL_IP) });
    expect(fwd.outPort).toBe(2);
    expect(rev).toMatchObject({ seqDelta: u32(c.cookie - 3_000_000), ackDelta: 0 }); // the client's space is unchanged
    // s2's answer reaches the client at the sequence number it expects from the start, and our clock has
    // moved past anything s1's ACKs could have shown the client (300 ms since the splice -> +301 ticks).
    b.deliver(2, fromServer(1, again.localPort, { seq: 3_000_001, ack: ISN + 1 + REQUEST.length, flags: "PA", options: ts(90_007, 102), payload: RESPONSE }));
    const toClient = single(b.take(0), "response from s2");
    expect(toClient.tcp).toMatchObject({ seq: u32(c.cookie + 1), ack: ISN + 1 + REQUEST.length, dport: 40001 });
    expect(tsOf(toClient)!.val).toBe(u32(c.ackTs + 301 + 7));
    expect(text(toClient.payload)).toBe(RESPONSE);
    expect(b.take(1)).toEqual([]); // nothing more to the crashed server
    expect(log).toEqual(["post s1 spliced", "post s2 spliced"]);
    expect(done).toEqual([["s1", { responsePackets: 0, durationPs: 300 * MS }]]);
    expect(b.cp.stats()).toMatchObject({ redispatched: 1, serversMarkedDown: 1, spliced: 2, crashResets: 0, activeConnections: 1 });
    expect(b.cp.serverViews().map((s) => s.activeConnections)).toEqual([0, 1]);
  });

  it("replays a client FIN that went through the splice with the request", async () => {
    const b = await bench(POOL, scripted("first").policy);
    for (const a of ADDR) b.cp.onRegistration(a);
    const c = open(b, 40001);
    answer(b, 0, c.localPort, 7_000_000);
    b.deliver(0, fromClient({ seq: ISN + 1 + REQUEST.length, ack: c.cookie + 1, flags: "FA", options: ts(103, c.ackTs) }, 40001));
    b.take(1);
    signal(b, [1], 0, 300);
    const again = synTo(b);
    const replay = answer(b, 1, again.localPort, 3_000_000);
    expect(replay.tcp!.flagText).toBe("FPA");
    expect(text(replay.payload)).toBe(REQUEST);
    expect(b.cp.stats().redispatched).toBe(1);
  });

  it("fails a connect in progress over at once instead of waiting for SYN retries", async () => {
    const { policy, log } = scripted("first");
    const b = await bench(POOL, policy);
    for (const a of ADDR) b.cp.onRegistration(a);
    const c = open(b, 40001);
    expect(c.server).toBe(0);
    signal(b, [1], 0, 300);
    expect(synTo(b).server).toBe(1); // at 300 ms, long before the 1 s SYN timeout
    expect(log).toEqual(["post s1 failed no_answer"]);
    expect(b.cp.stats()).toMatchObject({ failovers: 1, serverSynRetries: 0, serversMarkedDown: 1 });
  });

  it("resets a connection whose client already had response bytes: ACK probe, then RST at the ACK's number", async () => {
    const { policy, done } = scripted("first");
    const b = await bench(POOL, policy);
    for (const a of ADDR) b.cp.onRegistration(a);
    const c = open(b, 40001);
    answer(b, 0, c.localPort, 7_000_000);
    const part = RESPONSE.slice(0, 20);
    b.deliver(1, fromServer(0, c.localPort, { seq: 7_000_001, ack: ISN + 1 + REQUEST.length, flags: "A", options: ts(5010, 102), payload: part }));
    expect(single(b.take(0), "first response bytes").tcp!.seq).toBe(u32(c.cookie + 1));
    signal(b, [1], 0, 300);
    expect([...b.take(1), ...b.take(2)]).toEqual([]); // no new connection for it
    const probe = single(b.take(0), "ACK probe");
    expect(probe.tcp).toMatchObject({ flagText: "A", seq: c.cookie, dport: 40001 }); // below the client's window: it must ACK
    b.deliver(0, fromClient({ seq: ISN + 1 + REQUEST.length, ack: u32(c.cookie + 1 + part.length), flags: "A", options: ts(104, tsOf(probe)!.val) }, 40001));
    const rst = single(b.take(0), "RST");
    expect(rst.tcp).toMatchObject({ flagText: "R", seq: u32(c.cookie + 1 + part.length), dport: 40001 });
    expect(done).toEqual([["s1", { responsePackets: 1, durationPs: 300 * MS }]]);
    expect(b.cp.stats()).toMatchObject({ crashResets: 1, redispatched: 0, activeConnections: 0 });
    expect(b.tables.occupancy()).toBe(0);
  });

  it("does not retry a POST on another server (RFC 9110 9.2.2) unless configured to", async () => {
    const post = "POST /form HTTP/1.1\r\nHost: www.example.com\r\nContent-Length: 3\r\n\r\na=1";
    for (const retry of [false, true]) {
      const b = await bench({ pool: { ...POOL.pool, redispatchNonIdempotent: retry } }, scripted("first").policy);
      for (const a of ADDR) b.cp.onRegistration(a);
      const c = open(b, 40001, post);
      answer(b, 0, c.localPort, 7_000_000);
      signal(b, [1], 0, 300);
      b.take(1);
      if (retry) {
        expect(text(answer(b, 1, synTo(b).localPort, 3_000_000).payload)).toBe(post);
        expect(b.cp.stats()).toMatchObject({ redispatched: 1, crashResets: 0 });
      } else {
        expect(single(b.take(0), "ACK probe").tcp!.seq).toBe(c.cookie);
        expect(b.cp.stats()).toMatchObject({ redispatched: 0, crashResets: 1, crashResetsUnsafeMethod: 1 });
      }
    }
  });

  it("answers 503 when no server is left to take a re-dispatched request", async () => {
    const b = await bench(POOL, scripted("first").policy);
    for (const a of ADDR) b.cp.onRegistration(a);
    const c = open(b, 40001);
    answer(b, 0, c.localPort, 7_000_000);
    b.take(1);
    b.advance(300 * MS); // both servers silent
    const refusal = single(b.take(0), "503");
    expect(refusal.tcp).toMatchObject({ flagText: "FPA", seq: u32(c.cookie + 1) });
    expect(text(refusal.payload)).toMatch(/^HTTP\/1\.1 503 /);
    expect(b.cp.stats()).toMatchObject({ redispatched: 1, serversMarkedDown: 2, refusals: { no_server: 1 } });
  });
});

describe("pool in the CP: teardown and the runtime API", () => {
  it("calls done at teardown with the response segments the flow table counted and the splice's lifetime", async () => {
    const { policy, done } = scripted("first");
    const b = await bench({}, policy);
    const c = open(b, 40001);
    answer(b, 0, c.localPort, 7_000_000);
    const reqEnd = ISN + 1 + REQUEST.length;
    b.advance(5 * MS);
    b.deliver(1, fromServer(0, c.localPort, { seq: 7_000_001, ack: reqEnd, flags: "A", options: ts(5010, 102), payload: RESPONSE.slice(0, 10) }));
    b.deliver(1, fromServer(0, c.localPort, { seq: 7_000_011, ack: reqEnd, flags: "FPA", options: ts(5011, 102), payload: RESPONSE.slice(10) }));
    b.deliver(0, fromClient({ seq: reqEnd, ack: u32(c.cookie + 2 + RESPONSE.length), flags: "FA", options: ts(104, 0) }, 40001));
    b.advance(2000 * MS); // linger
    expect(done).toEqual([["s1", { responsePackets: 2, durationPs: 2005 * MS }]]);
  });

  it("removes a server only when its last connection ends, draining it meanwhile", async () => {
    const b = await bench({}, scripted("first").policy);
    const c = open(b, 40001);
    answer(b, 0, c.localPort, 7_000_000);
    expect(api.removeServer(b.cp, "s1")).toEqual({ removed: false });
    expect(api.pool(b.cp)[0].state).toBe("removing");
    expect(open(b, 40002).server).toBe(1);
    b.deliver(1, fromServer(0, c.localPort, { seq: 7_000_001, flags: "R" }));
    b.advance(2000 * MS); // RST linger, then the entries go
    expect(api.pool(b.cp)[0]).toMatchObject({ state: "removed", view: { up: false, weight: 0 } });
    expect(api.removeServer(b.cp, "s2")).toEqual({ removed: false }); // the second connection is still connecting
    const added = api.addServer(b.cp, { name: "s3", ip: "10.1.0.13", mac: "aa:bb:cc:00:01:03", port: 1, tcpPort: 8080, weight: 1 });
    expect(added).toMatchObject({ index: 2, up: true });
    expect(api.stats(b.cp).servers.map((s) => `${s.name}:${s.state}`)).toEqual(["s1:removed", "s2:removing", "s3:slow_start"]);
  });

  it("sends new connections to a server added at run time, and none to one set down by hand", async () => {
    const b = await bench({}, scripted("z", "last").policy);
    const s3 = api.addServer(b.cp, { name: "s3", ip: "10.1.0.13", mac: "aa:bb:cc:00:01:03", port: 2, tcpPort: 8080, weight: 2 });
    expect(s3).toMatchObject({ index: 2, weight: 2 / 16, configuredWeight: 2 });
    b.deliver(0, fromClient({ seq: ISN, flags: "S", options: SYN_OPTIONS }, 40001));
    const cookie = b.take(0)[0].tcp!.seq;
    b.deliver(0, fromClient({ seq: ISN + 1, ack: cookie + 1, flags: "PA", payload: REQUEST }, 40001));
    const syn = single(b.take(2), "SYN to s3");
    expect(syn.ipv4!.dst).toBe("10.1.0.13");
    expect(syn.eth!.dst).toBe("aa:bb:cc:00:01:03");
    expect(api.setServerUp(b.cp, "s3", false)).toMatchObject({ up: false, weight: 0 });
    // Its connect in progress failed over to s2 (the last candidate left), at once.
    expect(single(b.take(2), "SYN to s2").ipv4!.dst).toBe(SERVERS[1].ip);
    expect(api.pool(b.cp)[2]).toMatchObject({ state: "down", downReason: "manual" });
    b.advance(60_000 * MS);
    expect(api.pool(b.cp)[2].state).toBe("down"); // down by hand: only setServerUp brings it back
  });

  it("swaps the policy: new connections use the new one, the old is shut down, spliced ones are untouched", async () => {
    const a = scripted("a", "first");
    const z = scripted("z", "last");
    const b = await bench({}, a.policy);
    const c1 = open(b, 40001);
    answer(b, 0, c1.localPort, 7_000_000);
    expect(api.swapPolicy(b.cp, z.policy)).toBe("z");
    expect(a.log).toEqual(["post s1 spliced", "shutdown"]);
    expect(api.stats(b.cp).policy).toBe("z");
    const c2 = open(b, 40002);
    expect(c2.server).toBe(1);
    answer(b, 1, c2.localPort, 3_000_000);
    expect(z.log).toEqual(["post s2 spliced"]);
    // The first splice still forwards in the data plane.
    expect(b.deliver(0, fromClient({ seq: ISN + 1 + REQUEST.length, ack: c1.cookie + 1, flags: "PA", options: ts(110, 0), payload: REQUEST }, 40001))).toMatchObject({ verdict: "FORWARD", outPort: 1 });
    expect(api.swapPolicy(b.cp, { name: "round-robin" })).toBe("round-robin");
    expect(z.log).toEqual(["post s2 spliced", "shutdown"]);
    expect(() => api.swapPolicy(b.cp, { name: "nope" })).toThrow(/unknown policy 'nope'/);
  });
});
