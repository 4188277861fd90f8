// Known answers for every hash and checksum the ABI names, against published vectors: CRC-32 (abi/hash.ts
// crc32, the np.crc32 unit), the flow hash (abi/hash.ts npHash, the np.hash unit: MurmurHash3_x86_32 of the
// three words' bytes), the flow-table bucket built on it, and the Internet checksum (packet/checksum.ts).
// Each is checked on the host function and on the np intrinsics exactly as the simulator hands them to the
// Wasm images (sim/np/imports.ts). The images' own checksum code: test/dataplane/checksum-lengths.test.ts.
import { describe, expect, it } from "vitest";
import { crc32, fmix32, npHash } from "../../abi/hash.js";
import { flowBucket } from "../../abi/flow-table.js";
import { CAPACITIES } from "../../abi/layout.js";
import { foldComplement, icmpChecksum, internetChecksum, ipv4Checksum, onesSum, tcpChecksum } from "../../packet/checksum.js";
import { fromHex } from "../../packet/hex.js";
import { createNpMemory, npImports } from "../../sim/np/imports.js";
import { Rings } from "../../sim/np/rings.js";

const enc = (s: string) => new TextEncoder().encode(s);

/**
 * CRC-32 (IEEE 802.3, reflected, polynomial 0xEDB88320, init and final XOR 0xFFFFFFFF): the catalogue's
 * check value ("123456789", CRC-32/ISO-HDLC) and the classic test strings every zlib-compatible CRC-32
 * agrees on; the 32-byte runs as Python's zlib.crc32 gives them.
 */
const CRC32_VECTORS: [string, Uint8Array, number][] = [
  ["\"\"", enc(""), 0x0000_0000],
  ["\"a\"", enc("a"), 0xe8b7_be43],
  ["\"abc\"", enc("abc"), 0x3524_41c2],
  ["\"123456789\" (check value)", enc("123456789"), 0xcbf4_3926],
  ["\"message digest\"", enc("message digest"), 0x2015_9d7f],
  ["\"abcdefghijklmnopqrstuvwxyz\"", enc("abcdefghijklmnopqrstuvwxyz"), 0x4c27_50bd],
  ["\"The quick brown fox jumps over the lazy dog\"", enc("The quick brown fox jumps over the lazy dog"), 0x414f_a339],
  ["32 zero bytes", new Uint8Array(32), 0x190a_55ad],
  ["32 bytes 0xff", new Uint8Array(32).fill(0xff), 0xff6c_ab0b],
];

/**
 * MurmurHash3_x86_32 (Appleby, SMHasher) written here from its definition, independently of abi/hash.ts:
 * 4-byte little-endian blocks, the 1-3 byte tail, the length, the fmix32 finaliser.
 */
function murmur3(data: Uint8Array, seed: number): number {
  const c1 = 0xcc9e2d51;
  const c2 = 0x1b873593;
  const rotl = (x: number, r: number) => ((x << r) | (x >>> (32 - r))) >>> 0;
  let h = seed >>> 0;
  const blocks = data.length >>> 2;
  for (let i = 0; i < blocks; i++) {
    let k = (data[4 * i] | (data[4 * i + 1] << 8) | (data[4 * i + 2] << 16) | (data[4 * i + 3] << 24)) >>> 0;
    k = Math.imul(k, c1) >>> 0;
    k = rotl(k, 15);
    k = Math.imul(k, c2) >>> 0;
    h = (h ^ k) >>> 0;
    h = rotl(h, 13);
    h = (Math.imul(h, 5) + 0xe6546b64) >>> 0;
  }
  const tail = data.subarray(blocks * 4);
  let k = 0;
  if (tail.length >= 3) k ^= tail[2] << 16;
  if (tail.length >= 2) k ^= tail[1] << 8;
  if (tail.length >= 1) {
    k ^= tail[0];
    k = Math.imul(k, c1) >>> 0;
    k = rotl(k, 15);
    k = Math.imul(k, c2) >>> 0;
    h = (h ^ k) >>> 0;
  }
  h = (h ^ data.length) >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b) >>> 0;
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35) >>> 0;
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * Published MurmurHash3_x86_32 vectors: Wikipedia's ("test", "Hello, world!", the quick brown fox, seed
 * 0x9747B28C), Ian Boyd's set (stackoverflow.com/a/31929528, also in Python mmh3's and Bitcoin Core's
 * tests), and mmh3's README ("foo" = 4138058784).
 */
const MURMUR3_VECTORS: [string, Uint8Array, number, number][] = [
  ["\"\"", enc(""), 0, 0x0000_0000],
  ["\"\"", enc(""), 1, 0x514e_28b7],
  ["\"\"", enc(""), 0xffff_ffff, 0x81f1_6f39],
  ["4 zero bytes", new Uint8Array(4), 0, 0x2362_f9de],
  ["\"a\"", enc("a"), 0x9747_b28c, 0x7fa0_9ea6],
  ["\"ab\"", enc("ab"), 0x9747_b28c, 0x7487_5592],
  ["\"abc\"", enc("abc"), 0x9747_b28c, 0xc84a_62dd],
  ["\"abcd\"", enc("abcd"), 0x9747_b28c, 0xf047_8627],
  ["\"aaaa\"", enc("aaaa"), 0x9747_b28c, 0x5a97_808a],
  ["\"test\"", enc("test"), 0x9747_b28c, 0x704b_81dc],
  ["\"Hello, world!\"", enc("Hello, world!"), 0x9747_b28c, 0x2488_4cba],
  ["\"The quick brown fox jumps over the lazy dog\"", enc("The quick brown fox jumps over the lazy dog"), 0x9747_b28c, 0x2fa8_26cd],
  ["\"a\" x 256", enc("a".repeat(256)), 0x9747_b28c, 0x3740_5bdc],
  ["\"abc\"", enc("abc"), 0, 0xb3dd_93fa],
  ["\"abcdbcdecdef...nopq\" (56 bytes)", enc("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"), 0, 0xee92_5b90],
  ["\"foo\"", enc("foo"), 0, 4138058784],
];

/** The seed np.hash uses (abi/hash.ts). */
const NP_HASH_SEED = 0x9747_b28c;
const le = (...words: number[]) => {
  const b = new Uint8Array(4 * words.length);
  const dv = new DataView(b.buffer);
  words.forEach((w, i) => dv.setUint32(4 * i, w >>> 0, true));
  return b;
};

/** The np intrinsics as the simulator gives them to an image, on a fresh memory. */
function intrinsics() {
  const memory = createNpMemory();
  const np = npImports(memory, { rings: new Rings(), clock: () => 0 }).np as Record<string, (...a: number[]) => number>;
  const mem = new Uint8Array(memory.buffer);
  return { np, mem, memory };
}
/** A free spot of the memory map's packet buffers. */
const AT = 0x40_0000 + 100;

describe("CRC-32 (np.crc32)", () => {
  it.each(CRC32_VECTORS)("crc32(%s) is the published value", (_name, bytes, want) => {
    expect(crc32(bytes)).toBe(want);
  });

  it("continues from a seed: crc32(b, crc32(a)) = crc32(ab) at every split of \"123456789\"", () => {
    const all = enc("123456789");
    for (let cut = 0; cut <= all.length; cut++) expect(crc32(all.subarray(cut), crc32(all.subarray(0, cut))), `split at ${cut}`).toBe(0xcbf43926);
  });

  it.each(CRC32_VECTORS)("the np.crc32 intrinsic the images call gives crc32(%s) too, at odd and even addresses", (_name, bytes, want) => {
    const { np, mem } = intrinsics();
    for (const at of [AT, AT + 1]) {
      mem.fill(0xee, at - 8, at + bytes.length + 8); // neighbours that must not be read
      mem.set(bytes, at);
      expect(np.crc32(at, bytes.length, 0) >>> 0).toBe(want);
    }
  });

  it("the np.crc32 intrinsic continues from a seed and traps outside the memory", () => {
    const { np, mem, memory } = intrinsics();
    mem.set(enc("123456789"), AT);
    expect(np.crc32(AT + 4, 5, np.crc32(AT, 4, 0)) >>> 0).toBe(0xcbf43926);
    expect(() => np.crc32(memory.buffer.byteLength - 4, 8, 0)).toThrow(WebAssembly.RuntimeError);
  });
});

describe("flow hash (np.hash): MurmurHash3_x86_32 of the three words' little-endian bytes, seed 0x9747B28C", () => {
  it.each(MURMUR3_VECTORS)("the reference MurmurHash3 gives the published value for %s (seed %d)", (_name, bytes, seed, want) => {
    expect(murmur3(bytes, seed)).toBe(want >>> 0);
  });

  it("fmix32 is MurmurHash3's finaliser: hashing nothing with seed s gives fmix32(s)", () => {
    expect(fmix32(0)).toBe(0);
    expect(fmix32(1)).toBe(0x514e28b7);
    expect(fmix32(0xffffffff)).toBe(0x81f16f39);
  });

  const WORDS: [number, number, number][] = [
    [0, 0, 0], [1, 2, 3], [0xffff_ffff, 0xffff_ffff, 0xffff_ffff], [0x6463_6261, 0x6867_6665, 0x6c6b_6a69], // "abcdefghijkl"
    [0x0a01_a8c0, 0x6400_000a, 0x5000_409c], // 192.168.1.10:40000 -> 10.0.0.100:80 as the data plane loads it
    [0x8000_0000, 1, 0x7fff_ffff],
  ];

  it.each(WORDS)("npHash(%d, %d, %d) is MurmurHash3 of the 12 bytes", (a, b, c) => {
    expect(npHash(a, b, c)).toBe(murmur3(le(a, b, c), NP_HASH_SEED));
  });

  it("npHash(\"abcd\", \"efgh\", \"ijkl\") = MurmurHash3(\"abcdefghijkl\", 0x9747B28C)", () => {
    expect(npHash(0x6463_6261, 0x6867_6665, 0x6c6b_6a69)).toBe(murmur3(enc("abcdefghijkl"), NP_HASH_SEED));
  });

  it.each(WORDS)("the np.hash intrinsic the images call gives npHash(%d, %d, %d) (as an i32)", (a, b, c) => {
    const { np } = intrinsics();
    expect(np.hash(a | 0, b | 0, c | 0) >>> 0).toBe(npHash(a, b, c));
    expect(np.hash(a >>> 0, b >>> 0, c >>> 0) >>> 0).toBe(npHash(a, b, c)); // the sign of the JS number does not matter
  });

  it("a flow's bucket is MurmurHash3 of the packet's 12 bytes (source, destination address, source, destination port) masked to the buckets", () => {
    const buckets = CAPACITIES.MAX_FLOWS.value / CAPACITIES.FLOW_WAYS.value;
    const bytes = Uint8Array.of(192, 168, 1, 10, 10, 0, 0, 100, 0x9c, 0x40, 0, 80); // IPv4 bytes 12-19, TCP bytes 0-3
    const key = { saddr: 0xc0a8010a, daddr: 0x0a000064, sport: 40000, dport: 80 };
    expect(flowBucket(key)).toBe(murmur3(bytes, NP_HASH_SEED) & (buckets - 1));
    // Every port pair of one address pair: the bucket follows the bytes, both ports included.
    for (const [sport, dport] of [[1, 2], [2, 1], [65535, 0], [0, 65535], [443, 50000]]) {
      const b = Uint8Array.of(192, 168, 1, 10, 10, 0, 0, 100, sport >> 8, sport & 0xff, dport >> 8, dport & 0xff);
      expect(flowBucket({ ...key, sport, dport }), `${sport} -> ${dport}`).toBe(murmur3(b, NP_HASH_SEED) & (buckets - 1));
    }
  });
});

describe("Internet checksum (packet/checksum.ts, RFC 1071)", () => {
  it("RFC 1071 3's example: 00 01 f2 03 f4 f5 f6 f7 sums to 0xddf2, checksum 0x220d", () => {
    const b = fromHex("0001f203f4f5f6f7");
    expect(foldComplement(onesSum(b))).toBe(~0xddf2 & 0xffff);
    expect(internetChecksum(b)).toBe(0x220d);
  });

  it("an odd trailing byte is the high byte of a last word padded with zero", () => {
    expect(internetChecksum(Uint8Array.of(0xab))).toBe(0x54ff);
    expect(internetChecksum(Uint8Array.of(0x00, 0x01, 0xf2))).toBe(~(0x0001 + 0xf200) & 0xffff);
    expect(internetChecksum(Uint8Array.of(0x00, 0x01, 0xf2, 0x00))).toBe(internetChecksum(Uint8Array.of(0x00, 0x01, 0xf2)));
    expect(internetChecksum(Uint8Array.of(0x00, 0x01, 0xf2, 0x01))).not.toBe(internetChecksum(Uint8Array.of(0x00, 0x01, 0xf2)));
    expect(internetChecksum(new Uint8Array(0))).toBe(0xffff);
  });

  it("the IPv4 header of Wikipedia's example (192.168.0.1 -> 192.168.0.199, UDP) has checksum 0xb861, and verifies to 0", () => {
    const header = fromHex("450000730000400040110000c0a80001c0a800c7");
    expect(ipv4Checksum(header)).toBe(0xb861);
    header[10] = 0xb8;
    header[11] = 0x61;
    expect(ipv4Checksum(header)).toBe(0xb861); // its own checksum field does not count
    expect(internetChecksum(header)).toBe(0);
  });

  it("the ICMP echo request of a Windows ping (id 1, seq 1, 32 bytes \"abcdefghijklmnopqrstuvwabcdefghi\") has checksum 0x4d5a", () => {
    const message = Uint8Array.from([8, 0, 0, 0, 0, 1, 0, 1, ...enc("abcdefghijklmnopqrstuvwabcdefghi")]);
    expect(icmpChecksum(message)).toBe(0x4d5a);
    message[2] = 0x4d;
    message[3] = 0x5a;
    expect(internetChecksum(message)).toBe(0);
  });

  it("a TCP checksum includes the pseudo-header: verifying pseudo-header and segment gives 0, at every payload length 0..64", () => {
    const src = Uint8Array.of(192, 168, 1, 10);
    const dst = Uint8Array.of(10, 0, 0, 100);
    for (let n = 0; n <= 64; n++) {
      const seg = new Uint8Array(20 + n);
      seg.set([0x9c, 0x40, 0, 80, 0, 0, 3, 0xe9, 0, 0, 0x13, 0x89, 0x50, 0x18, 0x01, 0xf6]);
      for (let i = 0; i < n; i++) seg[20 + i] = 0x41 + ((i * 7) % 50);
      const sum = tcpChecksum(src, dst, seg);
      seg[16] = sum >> 8;
      seg[17] = sum & 0xff;
      const pseudo = Uint8Array.from([...src, ...dst, 0, 6, seg.length >> 8, seg.length & 0xff]);
      expect(internetChecksum(Uint8Array.from([...pseudo, ...seg])), `payload ${n}`).toBe(0);
      if (n > 0) {
        seg[seg.length - 1] ^= 0x01;
        expect(internetChecksum(Uint8Array.from([...pseudo, ...seg])), `payload ${n}, last byte changed`).not.toBe(0);
      }
    }
  });
});
