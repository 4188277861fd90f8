// Tests of PTF-style packet masks (packet/mask.ts): the byte range of every named field, field names in diffs, frame comparison.
import { describe, expect, it } from "vitest";
import { packet } from "../../packet/builder.js";
import { compareFrames, fieldAt, maskBytes } from "../../packet/mask.js";

const A = "aa:bb:cc:00:00:01";
const B = "aa:bb:cc:00:00:02";

/** Indices set in a mask, as [start, end) runs. */
function runs(mask: boolean[]): [number, number][] {
  const out: [number, number][] = [];
  for (let i = 0; i < mask.length; i++) {
    if (!mask[i]) continue;
    const start = i;
    while (i < mask.length && mask[i]) i++;
    out.push([start, i]);
  }
  return out;
}

// Ethernet 0-13, IPv4 14-37 (4 bytes of options), TCP 38-65 (8 bytes of options), payload 66-69.
const TCP_FRAME = packet().eth({ src: A, dst: B })
  .ipv4({ src: "10.0.0.1", dst: "10.0.0.100", options: Uint8Array.of(1, 1, 1, 0) })
  .tcp({ sport: 40000, dport: 80, seq: 1, ack: 2, flags: "PA", options: [{ kind: "mss", value: 1460 }, { kind: "nop" }, { kind: "wscale", shift: 7 }] })
  .payload("GET ").build();

/** Every maskable field of TCP_FRAME with its absolute byte range, in the order fieldAt prefers them. */
const TCP_FIELDS: [string, number, number][] = [
  ["eth.dst", 0, 6], ["eth.src", 6, 12], ["eth.type", 12, 14],
  ["ipv4.version", 14, 15], ["ipv4.ihl", 14, 15], ["ipv4.tos", 15, 16], ["ipv4.totalLength", 16, 18], ["ipv4.id", 18, 20],
  ["ipv4.flags", 20, 22], ["ipv4.fragOffset", 20, 22], ["ipv4.ttl", 22, 23], ["ipv4.proto", 23, 24], ["ipv4.checksum", 24, 26],
  ["ipv4.src", 26, 30], ["ipv4.dst", 30, 34], ["ipv4.options", 34, 38],
  ["tcp.sport", 38, 40], ["tcp.dport", 40, 42], ["tcp.seq", 42, 46], ["tcp.ack", 46, 50], ["tcp.dataOffset", 50, 51],
  ["tcp.flags", 51, 52], ["tcp.win", 52, 54], ["tcp.checksum", 54, 56], ["tcp.urg", 56, 58], ["tcp.options", 58, 66],
  ["payload", 66, 70],
];

const ARP_FRAME = packet().eth({ src: A, dst: "ff:ff:ff:ff:ff:ff" }).arp({ op: "request", sha: A, spa: "10.0.0.1", tpa: "10.0.0.100" }).build();
const ARP_FIELDS: [string, number, number][] = [
  ["eth.dst", 0, 6], ["eth.src", 6, 12], ["eth.type", 12, 14],
  ["arp.htype", 14, 16], ["arp.ptype", 16, 18], ["arp.hlen", 18, 19], ["arp.plen", 19, 20], ["arp.op", 20, 22],
  ["arp.sha", 22, 28], ["arp.spa", 28, 32], ["arp.tha", 32, 38], ["arp.tpa", 38, 42],
];

// ICMP 34-45: 8 header bytes and 4 of data.
const ICMP_FRAME = packet().eth({ src: A, dst: B }).ipv4({ src: "10.0.0.1", dst: "10.0.0.100" }).icmp({ type: 8, id: 7, seq: 1, data: "ping" }).build();
const ICMP_FIELDS: [string, number, number][] = [
  ["icmp.type", 34, 35], ["icmp.code", 35, 36], ["icmp.checksum", 36, 38], ["icmp.id", 38, 40], ["icmp.seq", 40, 42], ["icmp.data", 42, 46],
];

// UDP 34-41, payload 42-43.
const UDP_FRAME = packet().eth({ src: A, dst: B }).ipv4({ src: "10.0.0.1", dst: "10.0.0.100" }).udp({ sport: 53, dport: 5353 }).payload("hi").build();
const UDP_FIELDS: [string, number, number][] = [
  ...TCP_FIELDS.slice(0, 15),
  ["udp.sport", 34, 36], ["udp.dport", 36, 38], ["udp.length", 38, 40], ["udp.checksum", 40, 42], ["payload", 42, 44],
];

describe("maskBytes", () => {
  it.each([
    ["TCP", TCP_FRAME, TCP_FIELDS], ["ARP", ARP_FRAME, ARP_FIELDS], ["ICMP", ICMP_FRAME, ICMP_FIELDS], ["UDP", UDP_FRAME, UDP_FIELDS],
  ] as const)("masks exactly the bytes of each named field of a %s frame", (_, frame, fields) => {
    for (const [name, start, end] of fields) expect(runs(maskBytes(frame, [name])), name).toEqual([[start, end]]);
  });

  it("masks nothing without a mask, and the union of several fields", () => {
    expect(maskBytes(TCP_FRAME)).toEqual(new Array(TCP_FRAME.length).fill(false));
    expect(runs(maskBytes(TCP_FRAME, ["ipv4.ttl", "ipv4.checksum", "tcp.checksum", "eth.src"]))).toEqual([[6, 12], [22, 23], [24, 26], [54, 56]]);
  });

  it("takes raw byte ranges (end exclusive) and clips them to the frame", () => {
    expect(runs(maskBytes(TCP_FRAME, ["bytes:3-5"]))).toEqual([[3, 5]]);
    expect(runs(maskBytes(TCP_FRAME, ["bytes:68-200"]))).toEqual([[68, 70]]);
    expect(runs(maskBytes(TCP_FRAME, ["bytes:0-0"]))).toEqual([]);
  });

  it("ends the option fields at the header length the frame declares", () => {
    const plain = packet().eth({ src: A, dst: B }).ipv4({ src: "10.0.0.1", dst: "10.0.0.100" })
      .tcp({ sport: 1, dport: 80, seq: 0, flags: "S" }).payload("xy").build();
    expect(runs(maskBytes(plain, ["ipv4.options"]))).toEqual([]);
    expect(runs(maskBytes(plain, ["tcp.options"]))).toEqual([]);
    expect(runs(maskBytes(plain, ["payload"]))).toEqual([[54, 56]]);
  });

  it("names what is wrong with a mask it cannot apply", () => {
    expect(() => maskBytes(TCP_FRAME, ["tcp.nope"])).toThrow(/^mask 'tcp.nope': unknown field \(known: eth.dst, eth.src, eth.type, arp.htype, .*, udp.checksum, payload, bytes:A-B\)$/);
    expect(() => maskBytes(TCP_FRAME, ["bytes:1-"])).toThrow(/mask 'bytes:1-': unknown field/);
    expect(() => maskBytes(TCP_FRAME, ["xbytes:1-2"])).toThrow(/unknown field/);
    expect(() => maskBytes(TCP_FRAME, ["bytes:1-2x"])).toThrow(/unknown field/);
    expect(() => maskBytes(TCP_FRAME, ["nope"])).toThrow(/mask 'nope': unknown field/);
    expect(() => maskBytes(TCP_FRAME, ["arp.op"])).toThrow("mask 'arp.op': the expected frame has no arp header");
    expect(() => maskBytes(ARP_FRAME, ["ipv4.ttl"])).toThrow("mask 'ipv4.ttl': the expected frame has no ipv4 header");
    expect(() => maskBytes(ARP_FRAME, ["tcp.seq"])).toThrow("mask 'tcp.seq': the expected frame has no tcp header");
    expect(() => maskBytes(ICMP_FRAME, ["udp.sport"])).toThrow("mask 'udp.sport': the expected frame has no udp header");
    expect(() => maskBytes(UDP_FRAME, ["icmp.id"])).toThrow("mask 'icmp.id': the expected frame has no icmp header");
    expect(() => maskBytes(ARP_FRAME, ["payload"])).toThrow("mask 'payload': the expected frame has no payload offset");
    expect(() => maskBytes(ICMP_FRAME, ["payload"])).toThrow("mask 'payload': the expected frame has no payload offset");
  });

  it("masks nothing of a header the frame is too short to hold", () => {
    const short = Uint8Array.of(1, 2, 3);
    expect(() => maskBytes(short, ["eth.dst"])).toThrow("mask 'eth.dst': the expected frame has no eth header");
    expect(maskBytes(short, ["bytes:0-2"])).toEqual([true, true, false]);
  });
});

describe("fieldAt", () => {
  it.each([
    ["TCP", TCP_FRAME, TCP_FIELDS], ["ARP", ARP_FRAME, ARP_FIELDS], ["UDP", UDP_FRAME, UDP_FIELDS],
  ] as const)("names the field of every byte of a %s frame", (_, frame, fields) => {
    for (let i = 0; i < frame.length; i++) {
      const field = fields.find(([, a, b]) => i >= a && i < b);
      const want = field?.[0] === "payload" ? `payload[${i - field[1]}]` : field?.[0];
      expect(fieldAt(frame, i), `byte ${i}`).toBe(want ?? `byte ${i}`);
    }
  });

  it("names the ICMP fields and the bytes past the IPv4 header of an ICMP frame", () => {
    for (const [name, a, b] of ICMP_FIELDS) for (let i = a; i < b; i++) expect(fieldAt(ICMP_FRAME, i), `byte ${i}`).toBe(name);
  });

  it("falls back to the byte offset where no header is known", () => {
    const other = packet().eth({ src: A, dst: B, type: 0x86dd }).payload("v6 stuff").build();
    expect(fieldAt(other, 12)).toBe("eth.type");
    expect(fieldAt(other, 14)).toBe("byte 14");
    expect(fieldAt(Uint8Array.of(1, 2, 3), 1)).toBe("byte 1");
  });
});

describe("compareFrames", () => {
  it("is undefined for equal frames and for frames that differ only in masked bytes", () => {
    expect(compareFrames(TCP_FRAME, TCP_FRAME.slice())).toBeUndefined();
    const rewritten = TCP_FRAME.slice();
    rewritten[22] -= 1; // TTL
    rewritten[24] ^= 0xff; // IPv4 checksum
    expect(compareFrames(TCP_FRAME, rewritten, ["ipv4.ttl", "ipv4.checksum"])).toBeUndefined();
    expect(compareFrames(TCP_FRAME, rewritten, ["ipv4.ttl"])).toBeDefined();
  });

  it("shows the differing bytes and names their fields", () => {
    const got = TCP_FRAME.slice();
    got[22] = 1; // TTL
    got[43] ^= 1; // a byte of tcp.seq
    got[67] = 0x58; // payload[1]
    const diff = compareFrames(TCP_FRAME, got, ["ipv4.checksum"])!;
    expect(diff.split("\n").at(-1)).toBe("differing fields: ipv4.ttl, tcp.seq, payload[1]");
    expect(diff.startsWith("length")).toBe(false);
    expect(diff).toContain("[40]"); // TTL 64 expected
    expect(diff).toContain("[01]");
  });

  it("reports a length difference first, even when every common byte is equal", () => {
    const longer = new Uint8Array(TCP_FRAME.length + 2);
    longer.set(TCP_FRAME);
    const diff = compareFrames(TCP_FRAME, longer)!;
    expect(diff.split("\n")[0]).toBe(`length: expected ${TCP_FRAME.length}, actual ${TCP_FRAME.length + 2}`);
    expect(compareFrames(TCP_FRAME, TCP_FRAME.subarray(0, 60))!.split("\n")[0]).toBe(`length: expected ${TCP_FRAME.length}, actual 60`);
  });
});
