// The control plane against full TCP endpoints (sim/tcp: Linux-like timestamps/PAWS, window scaling, SACK,
// RTO, delayed ACKs) over simulated links: HTTP requests through the switch (real images + ControlPlane),
// responses byte-exact, both ends close normally, the splice is removed, and the CP saw a handful of packets.
import { describe, expect, it } from "vitest";
import { Scheduler } from "../../sim/engine/scheduler.js";
import { PS_PER_MS, PS_PER_US } from "../../lib/time.js";
import { Link } from "../../sim/net/link.js";
import { Host } from "../../sim/tcp/host.js";
import type { TcpConfig } from "../../sim/tcp/config.js";
import type { CloseReason, TcpConnection } from "../../sim/tcp/connection.js";
import { loadDataplane, Rings } from "../../sim/np/index.js";
import { decodeMessage } from "../../abi/ring-message.js";
import { decodeStruct } from "../../abi/codec.js";
import { PACKET_DESC } from "../../abi/layout.js";
import { ControlPlane } from "../../controlplane/cp.js";
import { switchConfigOf } from "../../controlplane/config.js";
import { SharedMemoryTables } from "../../controlplane/tables/shared-memory-tables.js";
import { createPolicy } from "../../controlplane/policies/index.js";
import { BASE_CONFIG, CLIENT, PORT_MACS, SERVERS, VIP } from "./switch-wire.js";

interface Network {
  sched: Scheduler;
  cp: ControlPlane;
  tables: SharedMemoryTables;
  client: Host;
  servers: Host[];
  heldBuffers(): number;
}

async function network(o: { client?: Partial<TcpConfig>; server?: Partial<TcpConfig>; lossRate?: number } = {}): Promise<Network> {
  const sched = new Scheduler();
  const dp = await loadDataplane({ drainToCp: false, clock: () => Math.floor(sched.now / 1000) >>> 0 });
  const cfg = { ...BASE_CONFIG, limits: { ...BASE_CONFIG.limits, lingerPs: 500 * PS_PER_MS } };
  dp.configure(switchConfigOf(cfg));
  const links = PORT_MACS.map((_, port) => new Link(sched, { bitsPerSecond: 1e9, delayPs: 50 * PS_PER_US, lossRate: o.lossRate ?? 0, seed: 10 + port }));
  const toCp = Rings.id("TO_CP");
  const tables = new SharedMemoryTables(dp.memory);
  const cp = new ControlPlane(cfg, {
    now: () => sched.now,
    send: (port, frame) => void links[port].send(1, frame),
    tables,
    setTimer: (delayPs, fn) => sched.after(delayPs, fn),
    charge: () => {},
    frame(msg) {
      const mem = dp.memoryBytes();
      const d = decodeStruct(PACKET_DESC, mem, msg.desc);
      return mem.slice(d.BUF as number, (d.BUF as number) + (d.LEN as number));
    },
    freeBuffer: (desc) => dp.freeBuffer(desc),
  }, createPolicy("round-robin"));
  links.forEach((link, port) => link.attach(1, {
    receive(frame) {
      const r = dp.process(port, frame);
      if (r.verdict === "FORWARD") links[r.outPort!].send(1, r.frame);
      for (const bytes of dp.rings.drain(toCp)) cp.onMessage(decodeMessage(toCp, bytes));
    },
  }));
  const client = new Host(sched, { name: "client", mac: CLIENT.mac, ip: CLIENT.ip, nextHopMac: PORT_MACS[0], seed: 7, tcp: o.client }).plug(links[0], 0);
  const servers = SERVERS.map((s, i) => new Host(sched, { name: s.name, mac: s.mac, ip: s.ip, nextHopMac: PORT_MACS[s.port], seed: 100 + i, tcp: o.server }).plug(links[s.port], 0));
  return { sched, cp, tables, client, servers, heldBuffers: () => dp.heldBuffers() };
}

const enc = new TextEncoder();
const body = (n: number) => Uint8Array.from({ length: n }, (_, i) => (i * 7 + (i >> 8)) & 0xff);

/** Every server answers each request head it receives with `size` bytes, keeping the connection open. */
function serve(net: Network, size: number, log: string[]): void {
  net.servers.forEach((host, i) => host.listen(8080, (c) => {
    let pending = "";
    c.handlers = {
      onData(conn, data) {
        pending += new TextDecoder("latin1").decode(data);
        for (let end = pending.indexOf("\r\n\r\n"); end >= 0; end = pending.indexOf("\r\n\r\n")) {
          const head = pending.slice(0, end);
          pending = pending.slice(end + 4);
          log.push(`${SERVERS[i].name} ${head.split("\r\n")[0]}`);
          conn.write(enc.encode(`HTTP/1.1 200 OK\r\nContent-Length: ${size}\r\n\r\n`));
          conn.write(body(size));
        }
      },
      onEnd: (conn) => conn.end(),
    };
  }));
}

/** The client sends `requests` one after another on one connection, then closes. */
function fetch(net: Network, requests: string[], size: number) {
  const got: { closed?: CloseReason; responses: Uint8Array[] } = { responses: [] };
  let buf = new Uint8Array(0);
  let sent = 0;
  const next = (conn: TcpConnection) => {
    if (sent < requests.length) conn.write(enc.encode(`GET ${requests[sent++]} HTTP/1.1\r\nHost: www.example.com\r\n\r\n`));
    else conn.end();
  };
  net.client.connect(VIP, 80, {
    onConnect: next,
    onData(conn, data) {
      const joined = new Uint8Array(buf.length + data.length);
      joined.set(buf);
      joined.set(data, buf.length);
      buf = joined;
      const text = new TextDecoder("latin1").decode(buf.subarray(0, Math.min(buf.length, 200)));
      const headEnd = text.indexOf("\r\n\r\n");
      if (headEnd < 0 || buf.length < headEnd + 4 + size) return;
      got.responses.push(buf.slice(headEnd + 4, headEnd + 4 + size));
      buf = buf.slice(headEnd + 4 + size);
      next(conn);
    },
    onClose: (_c, reason) => void (got.closed = reason),
  });
  return got;
}

describe("control plane with full TCP endpoints", () => {
  it("serves keep-alive requests byte-exact through the splice, both ends close, the splice goes", async () => {
    const net = await network();
    const log: string[] = [];
    serve(net, 200_000, log);
    const got = fetch(net, ["/a", "/b"], 200_000);
    net.sched.run(20_000 * PS_PER_MS);
    expect(got.responses.map((r) => r.length)).toEqual([200_000, 200_000]);
    for (const r of got.responses) expect(Buffer.compare(Buffer.from(r), Buffer.from(body(200_000)))).toBe(0);
    expect(got.closed).toBe("normal");
    expect(log).toEqual(["s1 GET /a HTTP/1.1", "s1 GET /b HTTP/1.1"]); // the second request stays on s1
    const stats = net.cp.stats();
    expect(stats).toMatchObject({ connections: 1, requests: 1, spliced: 1, teardowns: 1, activeConnections: 0, cookiesRejected: 0, replayRetransmits: 0 });
    expect(stats.messages).toBeLessThanOrEqual(6); // SYN, ACK, request, SYN-ACK, FIN, FIN: the rest stayed on the data plane
    expect(net.tables.occupancy()).toBe(0);
    expect(net.heldBuffers()).toBe(0);
    expect(net.client.counters.segmentsSent).toBeGreaterThan(50);
    for (const h of [net.client, net.servers[0]]) {
      expect(h.counters, h.name).toMatchObject({ pawsDrops: 0, unacceptableSegments: 0, resetsSent: 0, resetsReceived: 0, retransmits: 0 });
    }
  });

  it("recovers from 1% loss both ways (SACK, timestamps and window scaling translated end to end)", async () => {
    const net = await network({ lossRate: 0.01 });
    const log: string[] = [];
    serve(net, 500_000, log);
    const got = fetch(net, ["/big"], 500_000);
    net.sched.run(120_000 * PS_PER_MS);
    expect(got.responses.length).toBe(1);
    expect(Buffer.compare(Buffer.from(got.responses[0]), Buffer.from(body(500_000)))).toBe(0);
    expect(got.closed).toBe("normal");
    expect(net.cp.stats().teardowns).toBe(1);
    // Loss happened and was repaired with SACK; no timestamp was rejected and nothing was reset.
    expect(net.servers[0].counters.retransmits).toBeGreaterThan(0);
    expect(net.client.counters.sackSegmentsSent).toBeGreaterThan(0);
    for (const h of [net.client, net.servers[0]]) expect(h.counters, h.name).toMatchObject({ pawsDrops: 0, resetsSent: 0, resetsReceived: 0 });
  });

  for (const side of ["client", "server"] as const) {
    for (const [what, tcp] of [
      ["without timestamps", { timestamps: false }],
      ["without window scaling", { wscale: -1 }],
      ["without SACK", { sack: false }],
    ] as [string, Partial<TcpConfig>][]) {
      it(`works with a ${side} ${what}`, async () => {
        const net = await network({ [side]: tcp, lossRate: 0.005 });
        serve(net, 100_000, []);
        const got = fetch(net, ["/x"], 100_000);
        net.sched.run(60_000 * PS_PER_MS);
        expect(got.responses.length).toBe(1);
        expect(Buffer.compare(Buffer.from(got.responses[0]), Buffer.from(body(100_000)))).toBe(0);
        expect(got.closed).toBe("normal");
        for (const h of [net.client, net.servers[0]]) expect(h.counters, h.name).toMatchObject({ pawsDrops: 0, resetsSent: 0, resetsReceived: 0 });
      });
    }
  }

  it("works with a server that scales its window less than the switch advertises", async () => {
    const net = await network({ server: { wscale: 2, rcvBufBytes: 200_000 } });
    serve(net, 100_000, []);
    const got = fetch(net, ["/x"], 100_000);
    net.sched.run(60_000 * PS_PER_MS);
    expect(got.responses.length).toBe(1);
    expect(got.closed).toBe("normal");
  });

  it("fails over when the first server has nothing listening (it resets the SYN)", async () => {
    const net = await network();
    const log: string[] = [];
    serve(net, 10_000, log);
    net.servers[0].unlisten(8080);
    const got = fetch(net, ["/x"], 10_000);
    net.sched.run(10_000 * PS_PER_MS);
    expect(got.responses.length).toBe(1);
    expect(log).toEqual(["s2 GET /x HTTP/1.1"]);
    expect(net.cp.stats()).toMatchObject({ failovers: 1, spliced: 1, teardowns: 1 });
  });
});
