// Tests of IPv4 and MAC address forms (packet/addr.ts): parsing, rejection, copies of byte forms, and the text forms back.
import { describe, expect, it } from "vitest";
import { ip4Bytes, ip4String, ip4ToU32, macBytes, macString } from "../../packet/addr.js";

describe("IPv4 addresses", () => {
  it("parses dotted quads, 0 to 255 per part", () => {
    expect([...ip4Bytes("0.0.0.0")]).toEqual([0, 0, 0, 0]);
    expect([...ip4Bytes("255.255.255.255")]).toEqual([255, 255, 255, 255]);
    expect([...ip4Bytes("192.168.001.010")]).toEqual([192, 168, 1, 10]);
  });

  it.each(["10.0.0", "10.0.0.0.1", "10.0.0.256", "10.0.0.-1", "10.0..1", "10.0.0.1 ", "a.b.c.d", "1e1.0.0.1", "0x1.0.0.1", " 1.0.0.1", "0001.0.0.1", "1000.0.0.1", ""])(
    "refuses '%s'", (text) => {
      expect(() => ip4Bytes(text)).toThrow(new SyntaxError(`bad IPv4 address '${text}'`));
    });

  it("passes 4 bytes through as a copy and refuses other lengths", () => {
    const b = Uint8Array.of(10, 0, 0, 1);
    const out = ip4Bytes(b);
    expect(out).toEqual(b);
    out[0] = 99;
    expect(b[0]).toBe(10);
    expect(() => ip4Bytes(new Uint8Array(3))).toThrow(new RangeError("IPv4 address must be 4 bytes, got 3"));
    expect(() => ip4Bytes(new Uint8Array(5))).toThrow(new RangeError("IPv4 address must be 4 bytes, got 5"));
  });

  it("gives the big-endian u32, unsigned", () => {
    expect(ip4ToU32("10.0.0.100")).toBe(0x0a000064);
    expect(ip4ToU32("255.255.255.255")).toBe(0xffffffff);
    expect(ip4ToU32("128.0.0.1")).toBe(0x80000001);
    expect(ip4ToU32(Uint8Array.of(1, 2, 3, 4))).toBe(0x01020304);
  });

  it("writes the first 4 bytes as a dotted quad", () => {
    expect(ip4String(Uint8Array.of(192, 168, 0, 1, 9, 9))).toBe("192.168.0.1");
  });
});

describe("MAC addresses", () => {
  it("parses colon or dash separated hex pairs of either case, single digits too", () => {
    expect([...macBytes("aa:BB:cc:00:00:01")]).toEqual([0xaa, 0xbb, 0xcc, 0, 0, 1]);
    expect([...macBytes("02-00-00-00-00-ff")]).toEqual([2, 0, 0, 0, 0, 255]);
    expect([...macBytes("2:0:0:0:0:f")]).toEqual([2, 0, 0, 0, 0, 15]);
  });

  it.each(["aa:bb:cc:00:00", "aa:bb:cc:00:00:01:02", "aa:bb:cc:00:00:001", "aa:bb:cc:00:00:0g", "aa:bb:cc:00:00:g0", "aa:bb:cc:00::01", "aabbcc000001", "aa.bb.cc.00.00.01"])(
    "refuses '%s'", (text) => {
      expect(() => macBytes(text)).toThrow(new SyntaxError(`bad MAC address '${text}'`));
    });

  it("passes 6 bytes through as a copy and refuses other lengths", () => {
    const b = Uint8Array.of(1, 2, 3, 4, 5, 6);
    const out = macBytes(b);
    expect(out).toEqual(b);
    out[0] = 99;
    expect(b[0]).toBe(1);
    expect(() => macBytes(new Uint8Array(5))).toThrow(new RangeError("MAC address must be 6 bytes, got 5"));
  });

  it("writes the first 6 bytes as lower-case colon-separated pairs", () => {
    expect(macString(Uint8Array.of(0xaa, 0x0b, 0, 1, 0xff, 0x10, 7))).toBe("aa:0b:00:01:ff:10");
  });
});
