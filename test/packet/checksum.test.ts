// Tests of the Internet checksum and the IPv4/TCP/ICMP checksums (packet/checksum.ts) against RFC 1071 examples and a plain reference sum.
import { describe, expect, it } from "vitest";
import { foldComplement, icmpChecksum, internetChecksum, ipv4Checksum, onesSum, tcpChecksum } from "../../packet/checksum.js";

/** Reference: RFC 1071 one's complement sum of big-endian words, folded with end-around carry, complemented. */
function reference(bytes: number[]): number {
  let s = 0;
  for (let i = 0; i < bytes.length; i += 2) {
    s += (bytes[i] << 8) + (bytes[i + 1] ?? 0);
    s = (s & 0xffff) + (s >>> 16);
  }
  return ~s & 0xffff;
}

describe("onesSum and foldComplement", () => {
  it("sums big-endian words without folding, an odd last byte as the high half", () => {
    expect(onesSum(Uint8Array.of(0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7))).toBe(0x0001 + 0xf203 + 0xf4f5 + 0xf6f7);
    expect(onesSum(Uint8Array.of(0x12, 0x34, 0x56))).toBe(0x1234 + 0x5600);
    expect(onesSum(Uint8Array.of(0xab))).toBe(0xab00);
    expect(onesSum(new Uint8Array(0))).toBe(0);
    expect(onesSum(Uint8Array.of(1, 2), 0x10000)).toBe(0x10102);
  });

  it("folds the carries back in and complements (RFC 1071 section 3 example)", () => {
    // 0001 f203 f4f5 f6f7 sums to 0x2ddf0, folds to 0xddf2, checksum 0x220d.
    expect(foldComplement(0x2ddf0)).toBe(0x220d);
    expect(internetChecksum(Uint8Array.of(0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7))).toBe(0x220d);
    expect(foldComplement(0)).toBe(0xffff);
    expect(foldComplement(0xffff)).toBe(0);
    expect(foldComplement(0x1_0000)).toBe(0xfffe);
    expect(foldComplement(0x1_fffe)).toBe(0);
    expect(foldComplement(0xffff_ffff)).toBe(0);
    expect(foldComplement(0x3_0000_0002)).toBe(0xfffa);
  });

  it("agrees with the reference on random data of every length up to 70", () => {
    let x = 12345;
    for (let n = 0; n <= 70; n++) {
      const bytes = Array.from({ length: n }, () => ((x = (x * 1103515245 + 12345) >>> 0) >>> 16) & 0xff);
      expect(internetChecksum(Uint8Array.from(bytes)), `length ${n}`).toBe(reference(bytes));
    }
  });
});

describe("ipv4Checksum", () => {
  it("computes the header checksum as if its field were zero (the textbook header, 0xb861)", () => {
    const header = [0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11, 0xb8, 0x61, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7];
    expect(ipv4Checksum(Uint8Array.from(header))).toBe(0xb861);
    header[10] = 0x12;
    header[11] = 0x34;
    const h = Uint8Array.from(header);
    expect(ipv4Checksum(h)).toBe(0xb861);
    expect([h[10], h[11]]).toEqual([0x12, 0x34]); // the caller's bytes are left alone
  });
});

describe("tcpChecksum", () => {
  const src = Uint8Array.of(10, 0, 0, 1);
  const dst = Uint8Array.of(10, 0, 0, 100);
  const pseudo = [10, 0, 0, 1, 10, 0, 0, 100, 0, 6];

  it("covers the pseudo-header (addresses, protocol 6, length) and the segment with its checksum field zeroed", () => {
    const seg = Array.from({ length: 25 }, (_, i) => (i * 37 + 11) & 0xff);
    const zeroed = [...seg];
    zeroed[16] = 0;
    zeroed[17] = 0;
    const want = reference([...pseudo, 0, 25, ...zeroed]);
    const bytes = Uint8Array.from(seg);
    expect(tcpChecksum(src, dst, bytes)).toBe(want);
    expect(bytes[16]).toBe(seg[16]);
    expect(tcpChecksum(dst, src, bytes)).toBe(want); // the sum does not depend on the order of the words
    expect(tcpChecksum(src, Uint8Array.of(10, 0, 0, 101), bytes)).not.toBe(want);
  });

  it("zeroes the checksum field of an 18-byte segment too, and sums a shorter one as it is", () => {
    const seg18 = Array.from({ length: 18 }, (_, i) => i + 1);
    expect(tcpChecksum(src, dst, Uint8Array.from(seg18))).toBe(reference([...pseudo, 0, 18, ...seg18.slice(0, 16), 0, 0]));
    const seg17 = Array.from({ length: 17 }, (_, i) => i + 1);
    expect(tcpChecksum(src, dst, Uint8Array.from(seg17))).toBe(reference([...pseudo, 0, 17, ...seg17]));
  });
});

describe("icmpChecksum", () => {
  it("sums the message with its checksum field zeroed, from 4 bytes on", () => {
    const msg = [8, 0, 0xaa, 0xbb, 0x12, 0x34, 0, 1, 0x61, 0x62, 0x63];
    expect(icmpChecksum(Uint8Array.from(msg))).toBe(reference([8, 0, 0, 0, 0x12, 0x34, 0, 1, 0x61, 0x62, 0x63]));
    expect(icmpChecksum(Uint8Array.of(8, 0, 0xaa, 0xbb))).toBe(reference([8, 0, 0, 0]));
    expect(icmpChecksum(Uint8Array.of(8, 0, 0xaa))).toBe(reference([8, 0, 0xaa]));
  });
});
