// Splice plan (controlplane/splice-plan.ts): the deltas make client and server see one connection. Checked
// as identities over seeded random handshakes: what one end sends, translated, is what the other expects.
import { describe, expect, it } from "vitest";
import { planSplice, type SplicePlanInput } from "../../controlplane/splice-plan.js";
import { Random } from "../../lib/random.js";

const u32 = (v: number) => v >>> 0;

function input(r: Random): SplicePlanInput {
  const word = () => r.u32();
  return {
    client: { ip: 0xc0a8_010a, port: 40000, mac: new Uint8Array(6).fill(1), switchPort: 0, isn: word() },
    server: { ip: 0x0a01_000b, port: 8080, mac: new Uint8Array(6).fill(2), switchPort: 1, isn: word() },
    vip: 0x0a00_0064, service: 80, localIp: 0x0a01_0064, localPort: 33000,
    isnToClient: word(), isnToServer: word(),
    windows: { clientSends: 7, serverReads: 7, serverSends: r.below(15), clientReads: 7 },
    sack: { client: true, server: r.below(2) === 1 },
    timestamps: { lastTsValToClient: word(), serverTsVal: word(), toServerOffset: word() },
  };
}

describe("splice plan", () => {
  it("maps each side's sequence, acknowledgement and timestamp spaces onto the other's", () => {
    const r = new Random(0x5eed);
    for (let i = 0; i < 500; i++) {
      const p = input(r);
      const { fwd, rev } = planSplice(p);
      const n = r.below(1 << 30);
      // Client byte n (after its SYN) is byte n of our stream towards the server.
      expect(u32(p.client.isn + 1 + n + fwd.seqDelta)).toBe(u32(p.isnToServer + 1 + n));
      // The server's byte n is byte n of the cookie's stream towards the client.
      expect(u32(p.server.isn + 1 + n + rev.seqDelta)).toBe(u32(p.isnToClient + 1 + n));
      // Acknowledgements (and SACK edges) are the other direction's sequence numbers.
      expect(u32(p.isnToClient + 1 + n + fwd.ackDelta)).toBe(u32(p.server.isn + 1 + n));
      expect(u32(p.isnToServer + 1 + n + rev.ackDelta)).toBe(u32(p.client.isn + 1 + n));
      // The server's SYN-ACK TSval reaches the client as the newest TSval we sent it; echoes go back exactly.
      const t = p.timestamps!;
      const serverTs = u32(t.serverTsVal + n);
      const seenByClient = u32(serverTs + rev.timestamps!.tsvalDelta);
      expect(u32(seenByClient - t.lastTsValToClient)).toBe(n);
      expect(u32(seenByClient + fwd.timestamps!.tsecrDelta)).toBe(serverTs);
      const clientTs = u32(r.below(1 << 30));
      expect(u32(clientTs + fwd.timestamps!.tsvalDelta + rev.timestamps!.tsecrDelta)).toBe(clientTs);
      expect(rev.winShift).toBe(p.windows.serverSends - 7);
      expect(fwd.winShift).toBe(0);
      expect(rev.sack).toBe(p.sack.server);
    }
  });

  it("rewrites addresses to LOCAL_IP:port -> server and VIP:service -> client, out the right ports", () => {
    const p = input(new Random(1));
    const { fwd, rev } = planSplice(p);
    expect(fwd).toMatchObject({ key: { saddr: p.client.ip, daddr: p.vip, sport: 40000, dport: 80 }, rewrite: { saddr: p.localIp, daddr: p.server.ip, sport: 33000, dport: 8080 }, outPort: 1 });
    expect(rev).toMatchObject({ key: { saddr: p.server.ip, daddr: p.localIp, sport: 8080, dport: 33000 }, rewrite: { saddr: p.vip, daddr: p.client.ip, sport: 80, dport: 40000 }, outPort: 0 });
    expect(fwd.nextHopMac).toBe(p.server.mac);
    expect(rev.nextHopMac).toBe(p.client.mac);
  });

  it("rescales windows when only the client side scales (server declined)", () => {
    const p = { ...input(new Random(2)), windows: { clientSends: 6, serverReads: 0, serverSends: 0, clientReads: 7 }, timestamps: null };
    const { fwd, rev } = planSplice(p);
    expect(fwd.winShift).toBe(6);
    expect(rev.winShift).toBe(-7);
    expect(fwd.timestamps).toBeUndefined();
    expect(rev.timestamps).toBeUndefined();
  });
});
