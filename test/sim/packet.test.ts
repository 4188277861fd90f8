// Packet builder, decoder, checksums, TCP options and address parsing (sim/packet).
import { describe, expect, it } from "vitest";
import { packet, tcpFlagBits, tcpFlagText, IP_DF, IP_MF } from "../../packet/builder.js";
import { decode, internetChecksum, ipv4Checksum, tcpChecksum } from "../../packet/decode.js";
import { decodeTcpOptions, encodeTcpOptions } from "../../packet/tcp-options.js";
import { ip4Bytes, ip4ToU32, macBytes } from "../../packet/addr.js";
import { fromHex, hex, hexDiff } from "../../packet/hex.js";

const MAC_A = "aa:bb:cc:00:00:01";
const MAC_B = "aa:bb:cc:00:00:02";

/** Independent RFC 1071 check: summing everything including the checksum field gives 0xffff. */
function sumsToOnes(words: number[]): boolean {
  let s = words.reduce((a, b) => a + b, 0);
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return s === 0xffff;
}
function words(b: Uint8Array): number[] {
  const out: number[] = [];
  for (let i = 0; i < b.length; i += 2) out.push((b[i] << 8) | (b[i + 1] ?? 0));
  return out;
}

describe("builder", () => {
  it("builds the textbook IPv4 header byte for byte (checksum 0xb861)", () => {
    const f = packet()
      .eth({ src: MAC_A, dst: MAC_B })
      .ipv4({ src: "192.168.0.1", dst: "192.168.0.199", ttl: 64, flags: "DF", proto: 17, totalLength: 0x73 })
      .build();
    expect(hex(f.subarray(14, 34))).toBe("450000730000400040 11b861c0a80001c0a800c7".replace(/ /g, ""));
    expect(hex(f.subarray(0, 14))).toBe("aabbcc000002aabbcc0000010800");
  });

  it("builds a SYN with options that decodes back to the same fields and verifies", () => {
    const f = packet()
      .eth({ src: MAC_A, dst: MAC_B })
      .ipv4({ src: "10.0.0.1", dst: "10.0.0.100", id: 7, ttl: 63 })
      .tcp({
        sport: 40000, dport: 80, seq: 0xfffffff0, flags: "S", win: 29200,
        options: [{ kind: "mss", value: 1460 }, { kind: "sackPermitted" }, { kind: "ts", val: 123456, ecr: 0 }, { kind: "nop" }, { kind: "wscale", shift: 7 }],
      })
      .build();
    expect(f.length).toBe(14 + 20 + 40);
    const d = decode(f);
    expect(d.errors).toEqual([]);
    expect(d.ipv4).toMatchObject({ src: "10.0.0.1", dst: "10.0.0.100", ttl: 63, id: 7, proto: 6, ihl: 5, totalLength: 60, checksumOk: true });
    expect(d.tcp).toMatchObject({ sport: 40000, dport: 80, seq: 0xfffffff0, ack: 0, flags: 0x02, flagText: "S", win: 29200, dataOffset: 10, checksumOk: true });
    expect(d.tcp!.options).toEqual([
      { kind: "mss", value: 1460 }, { kind: "sackPermitted" }, { kind: "ts", val: 123456, ecr: 0 }, { kind: "nop" }, { kind: "wscale", shift: 7 },
    ]);
    expect(d.offsets).toEqual({ l3: 14, l4: 34, payload: 74 });
    expect(sumsToOnes(words(f.subarray(14, 34)))).toBe(true);
    const pseudo = [...words(f.subarray(26, 34)), 6, 40];
    expect(sumsToOnes([...pseudo, ...words(f.subarray(34))])).toBe(true);
  });

  it("computes the TCP checksum over an odd-length payload", () => {
    const f = packet().eth({ src: MAC_A, dst: MAC_B }).ipv4({ src: "10.0.0.1", dst: "10.0.0.100" })
      .tcp({ sport: 1, dport: 80, seq: 1, ack: 2, flags: "PA" }).payload("GET / HTTP/1.1\r\nHost: x\r\n\r\nZ").build();
    const d = decode(f);
    expect(d.errors).toEqual([]);
    expect(new TextDecoder().decode(d.payload)).toBe("GET / HTTP/1.1\r\nHost: x\r\n\r\nZ");
    const seg = f.subarray(34);
    expect(sumsToOnes([...words(f.subarray(26, 34)), 6, seg.length, ...words(seg)])).toBe(true);
    expect(tcpChecksum(f.subarray(26, 30), f.subarray(30, 34), seg)).toBe(d.tcp!.checksum);
  });

  it("parses TCP flag letters both ways", () => {
    expect(tcpFlagBits("SA")).toBe(0x12);
    expect(tcpFlagBits("FA")).toBe(0x11);
    expect(tcpFlagBits("PA")).toBe(0x18);
    expect(tcpFlagBits("")).toBe(0);
    expect(tcpFlagBits(0x1ff)).toBe(0xff);
    expect(tcpFlagText(0x12)).toBe("SA");
    expect(() => tcpFlagBits("SX")).toThrow(/unknown TCP flag 'X'/);
  });

  it("builds an ARP request in the RFC 826 layout", () => {
    const f = packet().eth({ src: MAC_A, dst: "ff:ff:ff:ff:ff:ff" }).arp({ op: "request", sha: MAC_A, spa: "10.0.0.1", tpa: "10.0.0.100" }).build();
    expect(hex(f)).toBe("ffffffffffff" + "aabbcc000001" + "0806" + "0001" + "0800" + "06" + "04" + "0001" + "aabbcc000001" + "0a000001" + "000000000000" + "0a000064");
    expect(decode(f).arp).toEqual({ htype: 1, ptype: 0x800, hlen: 6, plen: 4, op: 1, sha: MAC_A, spa: "10.0.0.1", tha: "00:00:00:00:00:00", tpa: "10.0.0.100" });
  });

  it("builds an ICMP echo whose checksum verifies", () => {
    const f = packet().eth({ src: MAC_A, dst: MAC_B }).ipv4({ src: "10.0.0.1", dst: "10.0.0.100" }).icmp({ type: 8, id: 0x1234, seq: 1, data: "abcdefg" }).build();
    const d = decode(f);
    expect(d.errors).toEqual([]);
    expect(d.ipv4!.proto).toBe(1);
    expect(d.icmp).toMatchObject({ type: 8, code: 0, id: 0x1234, seq: 1, checksumOk: true });
    expect(internetChecksum(f.subarray(34))).toBe(0);
  });

  it("builds UDP with proto 17 and a valid checksum", () => {
    const f = packet().eth({ src: MAC_A, dst: MAC_B }).ipv4({ src: "10.0.0.1", dst: "10.0.0.100" }).udp({ sport: 53, dport: 53 }).payload("hi").build();
    const d = decode(f);
    expect(d.ipv4!.proto).toBe(17);
    expect(d.udp).toMatchObject({ sport: 53, dport: 53, length: 10 });
    expect(sumsToOnes([...words(f.subarray(26, 34)), 17, 10, ...words(f.subarray(34))])).toBe(true);
  });

  it("pads IP options to 4 bytes and counts them in IHL", () => {
    const f = packet().eth({ src: MAC_A, dst: MAC_B }).ipv4({ src: "10.0.0.1", dst: "10.0.0.100", options: Uint8Array.of(1, 1, 1) })
      .tcp({ sport: 1, dport: 80, seq: 0, flags: "S" }).build();
    const d = decode(f);
    expect(d.ipv4).toMatchObject({ ihl: 6, totalLength: 44, checksumOk: true });
    expect(hex(d.ipv4!.options)).toBe("01010100");
    expect(d.tcp!.checksumOk).toBe(true);
  });

  it("sets fragment flags and offsets", () => {
    const f = packet().eth({ src: MAC_A, dst: MAC_B }).ipv4({ src: "10.0.0.1", dst: "10.0.0.100", flags: IP_MF, fragOffset: 100 }).build();
    expect(hex(f.subarray(20, 22))).toBe("2064");
    expect(decode(f).ipv4).toMatchObject({ flags: IP_MF, fragOffset: 100 });
    expect(decode(packet().eth({ src: MAC_A, dst: MAC_B }).ipv4({ src: "1.1.1.1", dst: "2.2.2.2", flags: "DF,MF" }).build()).ipv4!.flags).toBe(IP_DF | IP_MF);
  });

  it("keeps the given overrides so malformed packets can be built, and the decoder names each fault", () => {
    const base = () => packet().eth({ src: MAC_A, dst: MAC_B });
    const tcp = { sport: 1, dport: 80, seq: 0, flags: "S" } as const;
    const badIpSum = decode(base().ipv4({ src: "10.0.0.1", dst: "10.0.0.100", checksum: 0x1234 }).tcp(tcp).build());
    expect(badIpSum.ipv4!.checksum).toBe(0x1234);
    expect(badIpSum.errors.join()).toMatch(/IPv4: bad header checksum/);
    const ihl4 = decode(base().ipv4({ src: "10.0.0.1", dst: "10.0.0.100", ihl: 4 }).tcp(tcp).build());
    expect(ihl4.errors.join()).toMatch(/IHL 4 below 5/);
    expect(ihl4.ipv4!.checksumOk).toBe(false);
    const longTl = decode(base().ipv4({ src: "10.0.0.1", dst: "10.0.0.100", totalLength: 1000 }).tcp(tcp).build());
    expect(longTl.ipv4!.checksumOk).toBe(true);
    expect(longTl.errors.join()).toMatch(/total length 1000 runs past the frame/);
    const doff3 = decode(base().ipv4({ src: "10.0.0.1", dst: "10.0.0.100" }).tcp({ ...tcp, dataOffset: 3 }).build());
    expect(doff3.tcp!.checksumOk).toBe(true);
    expect(doff3.errors.join()).toMatch(/data offset 3 below 5/);
    const badTcpSum = decode(base().ipv4({ src: "10.0.0.1", dst: "10.0.0.100" }).tcp({ ...tcp, checksum: 0 }).build());
    expect(badTcpSum.errors.join()).toMatch(/TCP: bad checksum 0x0000/);
    const badOpt = decode(base().ipv4({ src: "10.0.0.1", dst: "10.0.0.100" }).tcp({ ...tcp, options: [{ kind: "raw", bytes: Uint8Array.of(2, 0, 0, 0) }] }).build());
    expect(badOpt.tcp!.optionsError).toMatch(/length 0/);
  });

  it("never throws when decoding truncated frames", () => {
    const f = packet().eth({ src: MAC_A, dst: MAC_B }).ipv4({ src: "10.0.0.1", dst: "10.0.0.100" })
      .tcp({ sport: 1, dport: 80, seq: 0, flags: "S", options: [{ kind: "mss", value: 1460 }] }).payload("xyz").build();
    for (let n = 0; n <= f.length; n++) expect(() => decode(f.subarray(0, n))).not.toThrow();
    expect(decode(f.subarray(0, 10)).errors[0]).toMatch(/shorter than an Ethernet header/);
    expect(decode(f.subarray(0, 30)).errors[0]).toMatch(/IPv4: 16 bytes/);
    expect(decode(f.subarray(0, 40)).errors.join()).toMatch(/TCP: 6 bytes/);
  });
});

describe("TCP options", () => {
  it("encodes each kind in its wire form", () => {
    expect(hex(encodeTcpOptions([{ kind: "mss", value: 1460 }]))).toBe("020405b4");
    expect(hex(encodeTcpOptions([{ kind: "wscale", shift: 7 }]))).toBe("030307");
    expect(hex(encodeTcpOptions([{ kind: "sackPermitted" }]))).toBe("0402");
    expect(hex(encodeTcpOptions([{ kind: "sack", blocks: [[1, 2], [0xffffffff, 0]] }]))).toBe("0512" + "0000000100000002" + "ffffffff00000000");
    expect(hex(encodeTcpOptions([{ kind: "ts", val: 0x01020304, ecr: 0xa0b0c0d0 }]))).toBe("080a01020304a0b0c0d0");
    expect(hex(encodeTcpOptions([{ kind: "nop" }, { kind: "eol" }, { kind: "raw", bytes: Uint8Array.of(0xfe, 3, 9) }]))).toBe("0100fe0309");
  });

  it("round-trips through the decoder", () => {
    const opts = [{ kind: "nop" }, { kind: "nop" }, { kind: "sack", blocks: [[10, 20], [30, 40], [50, 60]] }, { kind: "raw", bytes: Uint8Array.of(0xfd, 4, 1, 2) }] as const;
    expect(decodeTcpOptions(encodeTcpOptions([...opts] as never)).options).toEqual(opts);
  });

  it("reports malformed lengths and stops", () => {
    expect(decodeTcpOptions(Uint8Array.of(1, 2, 0, 0)).error).toMatch(/length 0/);
    expect(decodeTcpOptions(Uint8Array.of(2, 1)).error).toMatch(/length 1/);
    expect(decodeTcpOptions(Uint8Array.of(8, 10, 0, 0)).error).toMatch(/runs past the header/);
    expect(decodeTcpOptions(Uint8Array.of(1, 2)).error).toMatch(/no length byte/);
  });
});

describe("addresses and hex", () => {
  it("parses and rejects addresses", () => {
    expect([...ip4Bytes("10.1.0.100")]).toEqual([10, 1, 0, 100]);
    expect(ip4ToU32("10.0.0.100")).toBe(0x0a000064);
    expect([...macBytes("aa:bb:cc:00:00:01")]).toEqual([0xaa, 0xbb, 0xcc, 0, 0, 1]);
    expect(() => ip4Bytes("10.0.0")).toThrow(/bad IPv4/);
    expect(() => ip4Bytes("10.0.0.256")).toThrow(/bad IPv4/);
    expect(() => macBytes("aa:bb")).toThrow(/bad MAC/);
  });

  it("marks differing bytes in a diff and hides masked ones", () => {
    const d = hexDiff(fromHex("00112233"), fromHex("0011ff33"), [false, true, false, false], (i) => `byte${i}`);
    expect(d).toContain("[22]");
    expect(d).toContain("[ff]");
    expect(d).toContain("..");
    expect(d).toContain("differing fields: byte2");
  });

  it("ipv4Checksum ignores the stored checksum field", () => {
    const f = packet().eth({ src: MAC_A, dst: MAC_B }).ipv4({ src: "10.0.0.1", dst: "10.0.0.2", checksum: 0xabcd }).build();
    const good = packet().eth({ src: MAC_A, dst: MAC_B }).ipv4({ src: "10.0.0.1", dst: "10.0.0.2" }).build();
    expect(ipv4Checksum(f.subarray(14, 34))).toBe(new DataView(good.buffer).getUint16(24));
  });
});
