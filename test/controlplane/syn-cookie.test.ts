// SYN cookies (controlplane/tcp/syn-cookie.ts): what a cookie carries, what it refuses.
import { describe, expect, it } from "vitest";
import { COOKIE_SLOT_PS, MSS_CLASSES, SynCookies } from "../../controlplane/tcp/syn-cookie.js";

const cookies = new SynCookies("a secret of the switch", 1460, 7);
const syn = { saddr: 0xc0a8_010a, daddr: 0x0a00_0064, sport: 40000, dport: 80, isn: 0xffff_fff0, sackPermitted: true, mss: 1460, wscale: 8, tsVal: 12345 };
const ackOf = (isn: number, tsEcr?: number, over: Partial<typeof syn> = {}) => ({ ...syn, ...over, seq: (syn.isn + 1) >>> 0, ack: (isn + 1) >>> 0, tsEcr });

describe("SYN cookies", () => {
  it("round-trips MSS class, window scale and SACK (through TSecr), across the ISN wrap", () => {
    const g = cookies.issue(syn, 5 * COOKIE_SLOT_PS + 7, 0x1000_0033);
    expect(g).toMatchObject({ mss: 1460, sack: true, wscale: 7 });
    expect(g.ts!.ecr).toBe(12345);
    expect(g.ts!.val).toBe(0x1000_0018); // the option bits replace the clock's low bits
    expect(cookies.issue(syn, 0, 0x1000_0013).ts!.val).toBe(0x0fff_ffd8); // ... one 64-tick unit back when they would run ahead
    const c = cookies.check(ackOf(g.isn, g.ts!.val), 5 * COOKIE_SLOT_PS + 9);
    expect(c).toEqual({ clientIsn: 0xffff_fff0, isn: g.isn, mss: 1460, ts: true, clientWscale: 8, sack: true });
  });

  it("never puts our TSval ahead of our clock", () => {
    for (const now of [0x40, 0x58, 0x7f, 0x1000_0000, 0x1000_003f]) {
      const g = cookies.issue(syn, 0, now);
      expect(g.ts!.val >>> 0).toBeLessThanOrEqual(now);
      expect(now - g.ts!.val).toBeLessThan(0x80);
    }
  });

  it("rounds the client's MSS down to a class and advertises min(client, switch)", () => {
    for (const mss of [100, 536, 1000, 1459, 1460, 9000]) {
      const g = cookies.issue({ ...syn, mss }, 0, 0);
      const c = cookies.check(ackOf(g.isn, g.ts!.val), 0)!;
      expect(c.mss).toBe(MSS_CLASSES.filter((m) => m <= mss).at(-1) ?? MSS_CLASSES[0]);
      expect(g.mss).toBe(Math.min(mss, 1460));
    }
  });

  it("carries no window scale or SACK without timestamps", () => {
    const g = cookies.issue({ ...syn, tsVal: undefined }, 0, 0);
    expect(g).toEqual({ isn: g.isn, mss: 1460, sack: false });
    expect(cookies.check(ackOf(g.isn), 0)).toMatchObject({ ts: false, clientWscale: null, sack: false });
  });

  it("is valid in its slot and the next, not after", () => {
    const g = cookies.issue(syn, 3 * COOKIE_SLOT_PS + 1, 0);
    expect(cookies.check(ackOf(g.isn, g.ts!.val), 4 * COOKIE_SLOT_PS + 5)).not.toBeNull();
    expect(cookies.check(ackOf(g.isn, g.ts!.val), 5 * COOKIE_SLOT_PS)).toBeNull();
    expect(cookies.check(ackOf(g.isn, g.ts!.val), 2 * COOKIE_SLOT_PS)).toBeNull();
  });

  it("rejects another 4-tuple, another client ISN, a flipped MSS class, another secret", () => {
    const g = cookies.issue(syn, 0, 0);
    expect(cookies.check(ackOf(g.isn, g.ts!.val, { sport: 40001 }), 0)).toBeNull();
    expect(cookies.check(ackOf(g.isn, g.ts!.val, { saddr: 0xc0a8_010b }), 0)).toBeNull();
    expect(cookies.check({ ...ackOf(g.isn, g.ts!.val), seq: syn.isn + 2 }, 0)).toBeNull();
    expect(cookies.check(ackOf((g.isn ^ (1 << 24)) >>> 0, g.ts!.val), 0)).toBeNull();
    expect(new SynCookies("another secret", 1460, 7).check(ackOf(g.isn, g.ts!.val), 0)).toBeNull();
  });

  it("refuses a short secret", () => {
    expect(() => new SynCookies("short", 1460, 7)).toThrow(/at least 8 bytes/);
  });
});
