// Tests of the fuzzer's packet mutations (packet/mutate.ts): which bytes each mutation may touch, with what values, and the checksum fix-up.
import { describe, expect, it } from "vitest";
import { Random } from "../../lib/random.js";
import { packet } from "../../packet/builder.js";
import { decode } from "../../packet/decode.js";
import { MUTATIONS, fixChecksums, mutate, tcpOffsets, type MutationName } from "../../packet/mutate.js";

const A = "aa:bb:cc:00:00:01";
const B = "aa:bb:cc:00:00:02";
const SEEDS = 600;

/** Ethernet, IPv4 (no options), TCP with 12 option bytes (header 34..66), 16 bytes of payload (66..82). */
function tcpFrame(): Uint8Array {
  return packet().eth({ src: A, dst: B }).ipv4({ src: "10.0.0.1", dst: "10.0.0.100" })
    .tcp({ sport: 40000, dport: 80, seq: 1, ack: 2, flags: "PA", options: [{ kind: "mss", value: 1460 }, { kind: "sackPermitted" }, { kind: "nop" }, { kind: "nop" }, { kind: "wscale", shift: 7 }] })
    .payload("GET / HTTP/1.1\r\n").build();
}
const TCP = 34;
const PAYLOAD = 66;

function arpFrame(): Uint8Array {
  return packet().eth({ src: A, dst: "ff:ff:ff:ff:ff:ff" }).arp({ op: "request", sha: A, spa: "10.0.0.1", tpa: "10.0.0.100" }).build();
}

/** Offsets where `a` and `b` (same length) differ. */
function changed(a: Uint8Array, b: Uint8Array): number[] {
  expect(b.length).toBe(a.length);
  const out: number[] = [];
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) out.push(i);
  return out;
}

function bitsChanged(a: Uint8Array, b: Uint8Array): number {
  let n = 0;
  for (let i = 0; i < a.length; i++) for (let x = a[i] ^ b[i]; x; x &= x - 1) n++;
  return n;
}

/** Run mutation `name` on a fresh frame for each seed; `check` sees the original and the result. */
function forSeeds(name: MutationName, make: () => Uint8Array, check: (before: Uint8Array, after: Uint8Array, seed: number) => void, maxLength = 1518): void {
  for (let seed = 1; seed <= SEEDS; seed++) {
    const frame = make();
    const before = frame.slice();
    check(before, mutate(new Random(seed), frame, name, maxLength), seed);
  }
}

describe("tcpOffsets", () => {
  it("finds the IPv4 and TCP headers and the TCP length the frame holds", () => {
    expect(tcpOffsets(tcpFrame())).toEqual({ ip: 14, tcp: TCP, tcpLen: 32 + 16 });
    const withIpOptions = packet().eth({ src: A, dst: B }).ipv4({ src: "10.0.0.1", dst: "10.0.0.100", options: Uint8Array.of(1, 1, 1, 1) })
      .tcp({ sport: 1, dport: 2, seq: 0, flags: "S" }).build();
    expect(tcpOffsets(withIpOptions)).toEqual({ ip: 14, tcp: 38, tcpLen: 20 });
  });

  it("takes the shorter of the IPv4 total length and the frame", () => {
    const f = tcpFrame();
    expect(tcpOffsets(f.subarray(0, 70))).toEqual({ ip: 14, tcp: TCP, tcpLen: 70 - 34 });
    const shortTotal = f.slice();
    shortTotal[17] = 20 + 24; // total length 44: 24 bytes of TCP
    expect(tcpOffsets(shortTotal)).toEqual({ ip: 14, tcp: TCP, tcpLen: 24 });
    shortTotal[17] = 20 + 20;
    expect(tcpOffsets(shortTotal)).toEqual({ ip: 14, tcp: TCP, tcpLen: 20 });
    shortTotal[17] = 20 + 19; // less than a TCP header
    expect(tcpOffsets(shortTotal)).toEqual({ ip: 14 });
  });

  it("stops at what is not IPv4/TCP far enough", () => {
    expect(tcpOffsets(arpFrame())).toBeUndefined();
    expect(tcpOffsets(tcpFrame().subarray(0, 33))).toBeUndefined();
    expect(tcpOffsets(tcpFrame().subarray(0, 34))).toEqual({ ip: 14 }); // the IPv4 header, no TCP bytes
    const udp = packet().eth({ src: A, dst: B }).ipv4({ src: "10.0.0.1", dst: "10.0.0.100" }).udp({ sport: 1, dport: 2 }).payload("x".repeat(40)).build();
    expect(tcpOffsets(udp)).toEqual({ ip: 14 });
    const ihl4 = tcpFrame();
    ihl4[14] = 0x44;
    expect(tcpOffsets(ihl4)).toEqual({ ip: 14 });
    const ihl15 = tcpFrame().subarray(0, 60);
    ihl15[14] = 0x4f; // 60-byte header past the 46 bytes after Ethernet
    expect(tcpOffsets(ihl15)).toEqual({ ip: 14 });
    const ihlExact = tcpFrame().subarray(0, 14 + 24);
    ihlExact[14] = 0x46; // a 24-byte header that just fits
    expect(tcpOffsets(ihlExact)).toEqual({ ip: 14 });
  });
});

describe("mutate", () => {
  it("knows its mutations by name", () => {
    expect(MUTATIONS).toEqual([
      "bitFlip", "byteSet", "truncate", "extend", "ipTotalLength", "ipIhl", "tcpDataOffset", "tcpFlags",
      "tcpOptionGarbage", "tcpOptionLength", "sackGarbage", "httpGarbage",
    ]);
  });

  it("bitFlip flips 1 to 8 bits in place", () => {
    const counts = new Set<number>();
    forSeeds("bitFlip", tcpFrame, (before, after) => {
      const n = bitsChanged(before, after);
      expect(n).toBeLessThanOrEqual(8);
      counts.add(n);
    });
    expect(counts.has(1) && counts.has(8)).toBe(true);
    const empty = new Uint8Array(0);
    expect(mutate(new Random(1), empty, "bitFlip", 100)).toBe(empty);
  });

  it("byteSet sets 1 to 4 bytes in place", () => {
    const counts = new Set<number>();
    forSeeds("byteSet", tcpFrame, (before, after) => {
      const n = changed(before, after).length;
      expect(n).toBeLessThanOrEqual(4);
      counts.add(n);
    });
    expect(counts.has(4)).toBe(true);
    expect(mutate(new Random(1), new Uint8Array(0), "byteSet", 100)).toEqual(new Uint8Array(0));
  });

  it("truncate keeps a prefix, cut near a header boundary about half of the time", () => {
    const near = new Set([13, 14, 33, 34, 41, 42, 53, 54, 60, 74].flatMap((n) => [n - 1, n, n + 1]));
    const lengths: number[] = [];
    forSeeds("truncate", tcpFrame, () => undefined);
    for (let seed = 1; seed <= SEEDS; seed++) {
      const f = tcpFrame();
      const out = mutate(new Random(seed), f, "truncate", 1518);
      expect(out.length).toBeLessThanOrEqual(f.length);
      expect(out).toEqual(f.subarray(0, out.length));
      lengths.push(out.length);
    }
    const nearShare = lengths.filter((n) => near.has(n)).length / lengths.length;
    // Half cut near a boundary, the other half anywhere in 0..82 (which hits the 28 lengths near one a third of the time).
    expect(nearShare).toBeGreaterThan(0.55);
    expect(nearShare).toBeLessThan(0.8);
    expect(Math.min(...lengths)).toBe(0);
    expect(Math.max(...lengths)).toBe(82);
    // Too short for any boundary: any length up to the frame's.
    const tiny = Uint8Array.of(1, 2, 3, 4, 5);
    for (let seed = 1; seed < 50; seed++) expect(mutate(new Random(seed), tiny.slice(), "truncate", 100).length).toBeLessThanOrEqual(5);
  });

  it("extend appends 1 to 64 random bytes, never past maxLength", () => {
    const added = new Set<number>();
    for (let seed = 1; seed <= SEEDS; seed++) {
      const f = tcpFrame();
      const out = mutate(new Random(seed), f, "extend", 1518);
      expect(out.subarray(0, f.length)).toEqual(f);
      const n = out.length - f.length;
      expect(n).toBeGreaterThanOrEqual(1);
      expect(n).toBeLessThanOrEqual(64);
      added.add(n);
      const tight = mutate(new Random(seed), tcpFrame(), "extend", 85);
      expect(tight.length).toBeGreaterThan(82);
      expect(tight.length).toBeLessThanOrEqual(85);
    }
    expect(added.has(64) && added.has(1)).toBe(true);
    const full = tcpFrame();
    expect(mutate(new Random(1), full, "extend", 82)).toBe(full);
    expect(mutate(new Random(1), full, "extend", 60)).toBe(full);
  });

  it("ipTotalLength rewrites only the IPv4 total length", () => {
    const values = new Set<number>();
    forSeeds("ipTotalLength", tcpFrame, (before, after) => {
      for (const i of changed(before, after)) expect([16, 17]).toContain(i);
      values.add((after[16] << 8) | after[17]);
    });
    for (const v of [0, 1, 19, 20, 39, 40, 0xffff, 67, 69]) expect(values.has(v), `total length ${v}`).toBe(true);
  });

  it("ipIhl rewrites only the IHL nibble", () => {
    const ihls = new Set<number>();
    forSeeds("ipIhl", tcpFrame, (before, after) => {
      for (const i of changed(before, after)) expect(i).toBe(14);
      expect(after[14] >> 4).toBe(4);
      ihls.add(after[14] & 0xf);
    });
    expect(ihls.size).toBe(16);
  });

  it("tcpDataOffset rewrites only the data-offset nibble", () => {
    const offsets = new Set<number>();
    forSeeds("tcpDataOffset", () => {
      const f = tcpFrame();
      f[TCP + 12] |= 0x0a; // reserved bits set: they must stay
      return f;
    }, (before, after) => {
      for (const i of changed(before, after)) expect(i).toBe(TCP + 12);
      expect(after[TCP + 12] & 0xf).toBe(0x0a);
      offsets.add(after[TCP + 12] >> 4);
    });
    expect(offsets.size).toBe(16);
  });

  it("tcpFlags rewrites only the flags byte", () => {
    const flags = new Set<number>();
    forSeeds("tcpFlags", tcpFrame, (before, after) => {
      for (const i of changed(before, after)) expect(i).toBe(TCP + 13);
      flags.add(after[TCP + 13]);
    });
    expect(flags.size).toBeGreaterThan(200);
  });

  it("tcpOptionGarbage writes interesting kinds and lengths over the option bytes only", () => {
    const interesting = new Set([0, 1, 2, 3, 4, 5, 8, 30, 253, 254, 255, 10, 18, 26, 34, 40]);
    const touched = new Set<number>();
    forSeeds("tcpOptionGarbage", tcpFrame, (before, after) => {
      for (const i of changed(before, after)) {
        expect(i).toBeGreaterThanOrEqual(TCP + 20);
        expect(i).toBeLessThan(PAYLOAD);
        expect(interesting.has(after[i]), `byte ${after[i]}`).toBe(true);
        touched.add(i);
      }
    });
    expect(touched.size).toBe(12);
  });

  it("tcpOptionLength rewrites one option length byte inside the header", () => {
    const lengths = new Set([0, 1, 2, 3, 4, 8, 10, 18, 26, 34, 40, 255]);
    const touched = new Set<number>();
    forSeeds("tcpOptionLength", tcpFrame, (before, after) => {
      const c = changed(before, after);
      expect(c.length).toBeLessThanOrEqual(1);
      for (const i of c) {
        expect(i).toBeGreaterThanOrEqual(TCP + 21);
        expect(i).toBeLessThan(PAYLOAD);
        expect(lengths.has(after[i])).toBe(true);
        touched.add(i);
      }
    });
    expect(touched.size).toBe(11); // bytes 55..65: every option byte but the first can be a length
  });

  it("sackGarbage writes a SACK or TS option at one of the first four option bytes, filling the rest", () => {
    const starts = new Set<number>();
    const kinds = new Set<number>();
    // Twelve NOPs as options: the option written starts at the first byte that changed.
    const nops = () => packet().eth({ src: A, dst: B }).ipv4({ src: "10.0.0.1", dst: "10.0.0.100" })
      .tcp({ sport: 40000, dport: 80, seq: 1, flags: "PA", options: new Array(12).fill({ kind: "nop" }) }).payload("GET / HTTP/1.1\r\n").build();
    forSeeds("sackGarbage", nops, (before, after) => {
      const c = changed(before, after);
      for (const i of c) {
        expect(i).toBeGreaterThanOrEqual(TCP + 20);
        expect(i).toBeLessThan(PAYLOAD);
      }
      const at = c[0];
      expect(at).toBeLessThan(TCP + 24);
      starts.add(at);
      kinds.add(after[at]);
      expect(after[at + 1] === PAYLOAD - at || after[at + 1] < 48).toBe(true);
    });
    expect([...starts].sort()).toEqual([TCP + 20, TCP + 21, TCP + 22, TCP + 23]);
    expect([...kinds].sort()).toEqual([5, 8]);
  });

  it("httpGarbage replaces only the payload, with HTTP-looking text", () => {
    let sawHost = false;
    forSeeds("httpGarbage", tcpFrame, (before, after) => {
      for (const i of changed(before, after)) expect(i).toBeGreaterThanOrEqual(PAYLOAD);
      const text = new TextDecoder().decode(after.subarray(PAYLOAD));
      if (/host:/i.test(text)) sawHost = true;
    });
    expect(sawHost).toBe(true);
    const noPayload = packet().eth({ src: A, dst: B }).ipv4({ src: "10.0.0.1", dst: "10.0.0.100" }).tcp({ sport: 1, dport: 80, seq: 0, flags: "S" }).build();
    expect(mutate(new Random(3), noPayload.slice(), "httpGarbage", 1518)).toEqual(noPayload);
  });

  it.each(["ipTotalLength", "ipIhl"] as const)("%s leaves a frame that is not IPv4 alone", (name) => {
    for (let seed = 1; seed < 50; seed++) expect(mutate(new Random(seed), arpFrame(), name, 1518)).toEqual(arpFrame());
  });

  it.each(["tcpDataOffset", "tcpFlags", "tcpOptionGarbage", "tcpOptionLength", "sackGarbage", "httpGarbage"] as const)(
    "%s leaves a frame without a TCP header alone", (name) => {
      const udp = () => packet().eth({ src: A, dst: B }).ipv4({ src: "10.0.0.1", dst: "10.0.0.100" }).udp({ sport: 1, dport: 2 }).payload("x".repeat(40)).build();
      for (let seed = 1; seed < 50; seed++) {
        expect(mutate(new Random(seed), arpFrame(), name, 1518)).toEqual(arpFrame());
        expect(mutate(new Random(seed), udp(), name, 1518)).toEqual(udp());
      }
    });

  it("the option mutations leave a TCP header without room for them alone", () => {
    const plain = () => packet().eth({ src: A, dst: B }).ipv4({ src: "10.0.0.1", dst: "10.0.0.100" }).tcp({ sport: 1, dport: 80, seq: 0, flags: "S" }).payload("abcdefgh").build();
    const oneOption = () => packet().eth({ src: A, dst: B }).ipv4({ src: "10.0.0.1", dst: "10.0.0.100" })
      .tcp({ sport: 1, dport: 80, seq: 0, flags: "S", options: [{ kind: "nop" }] }).payload("abcdefgh").build();
    for (let seed = 1; seed < 50; seed++) {
      for (const name of ["tcpOptionGarbage", "tcpOptionLength", "sackGarbage"] as const) {
        expect(mutate(new Random(seed), plain(), name, 1518), name).toEqual(plain());
      }
      // 4 option bytes: room for a length byte, and for a 2-byte SACK start plus its length.
      const three = oneOption();
      three[TCP + 12] = 0x50; // data offset 5 again, but the frame holds the padded NOP
      expect(mutate(new Random(seed), three, "tcpOptionLength", 1518)).toEqual(three);
    }
  });
});

describe("fixChecksums", () => {
  it("makes the IPv4 header checksum good again, and the TCP one when asked", () => {
    const f = tcpFrame();
    f[22] = 7; // TTL
    f[PAYLOAD + 2] = 0x21;
    expect(decode(f).ipv4!.checksumOk).toBe(false);
    fixChecksums(f, false);
    expect(decode(f).ipv4!.checksumOk).toBe(true);
    expect(decode(f).tcp!.checksumOk).toBe(false);
    fixChecksums(f, true);
    expect(decode(f).errors).toEqual([]);
  });

  it("sums the TCP segment the IPv4 total length declares", () => {
    const f = tcpFrame();
    f[17] -= 4; // the last 4 payload bytes are now Ethernet padding
    fixChecksums(f, true);
    const d = decode(f);
    expect(d.ipv4!.checksumOk).toBe(true);
    expect(d.tcp!.checksumOk).toBe(true);
  });

  it("leaves headers it cannot find alone", () => {
    const arp = arpFrame();
    fixChecksums(arp, true);
    expect(arp).toEqual(arpFrame());
    const ihl4 = tcpFrame();
    ihl4[14] = 0x44;
    const before = ihl4.slice();
    fixChecksums(ihl4, true);
    expect(ihl4).toEqual(before);
    const ipOnly = tcpFrame();
    ipOnly[17] = 20 + 10; // 10 bytes of TCP: no TCP header
    ipOnly[22] = 9;
    const tcpBefore = ipOnly.slice(TCP);
    fixChecksums(ipOnly, true);
    expect(decode(ipOnly).ipv4!.checksumOk).toBe(true);
    expect(ipOnly.slice(TCP)).toEqual(tcpBefore);
  });
});
