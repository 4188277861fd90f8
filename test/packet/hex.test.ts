// Tests of hex rendering (packet/hex.ts): hex strings both ways, the dump, and the side-by-side diff, character for character.
import { describe, expect, it } from "vitest";
import { fromHex, hex, hexDiff, hexDump } from "../../packet/hex.js";

describe("hex and fromHex", () => {
  it("writes two lower-case digits a byte, no separator", () => {
    expect(hex(Uint8Array.of(0, 1, 0x0f, 0x10, 0xab, 0xff))).toBe("00010f10abff");
    expect(hex(new Uint8Array(0))).toBe("");
  });

  it("reads digits of either case, skipping whitespace and colons", () => {
    expect([...fromHex("00 0a:0B\n\tff")]).toEqual([0, 10, 11, 255]);
    expect([...fromHex("aa:bb:cc:00:00:01")]).toEqual([0xaa, 0xbb, 0xcc, 0, 0, 1]);
    expect([...fromHex("")]).toEqual([]);
    expect([...fromHex("  ")]).toEqual([]);
  });

  it("refuses an odd number of digits and anything not a digit", () => {
    expect(() => fromHex("abc")).toThrow(new SyntaxError("bad hex string"));
    expect(() => fromHex("0g")).toThrow(new SyntaxError("bad hex string"));
    expect(() => fromHex("0x00")).toThrow(new SyntaxError("bad hex string"));
    expect(() => fromHex("00-11")).toThrow(new SyntaxError("bad hex string"));
  });
});

describe("hexDump", () => {
  it("writes 16 bytes a line after a 4-digit hex offset", () => {
    const bytes = Uint8Array.from({ length: 18 }, (_, i) => i * 15);
    expect(hexDump(bytes)).toBe(
      "0000  00 0f 1e 2d 3c 4b 5a 69 78 87 96 a5 b4 c3 d2 e1\n" +
      "0010  f0 ff",
    );
    expect(hexDump(new Uint8Array(0))).toBe("");
    expect(hexDump(new Uint8Array(16)).split("\n")).toHaveLength(1);
  });
});

describe("hexDiff", () => {
  it("marks differing bytes and lines, shows masked bytes as .., and missing bytes as --", () => {
    const expected = Uint8Array.from({ length: 18 }, (_, i) => i);
    const actual = expected.slice(0, 17);
    actual[1] = 0xaa; // differs
    actual[2] = 0xbb; // differs but masked
    const ignored: boolean[] = [];
    ignored[2] = true;
    expect(hexDiff(expected, actual, ignored).split("\n")).toEqual([
      "! 0000 expected 00 [01] .. 03 04 05 06 07 08 09 0a 0b 0c 0d 0e 0f",
      "!      actual   00 [aa] .. 03 04 05 06 07 08 09 0a 0b 0c 0d 0e 0f",
      "! 0010 expected 10 [11]",
      "!      actual   10 [--]",
    ]);
  });

  it("marks nothing for equal frames and names the fields only when asked and only if some differ", () => {
    const a = Uint8Array.of(1, 2, 3);
    expect(hexDiff(a, a.slice(), undefined, () => "f")).toBe("  0000 expected 01 02 03\n       actual   01 02 03");
    expect(hexDiff(a, Uint8Array.of(1, 9, 3))).toBe("! 0000 expected 01 [02] 03\n!      actual   01 [09] 03");
    expect(hexDiff(Uint8Array.of(1), Uint8Array.of(1, 2, 3, 4), undefined, (i) => (i < 3 ? "short" : `tail${i}`)).split("\n").at(-1))
      .toBe("differing fields: short, tail3");
  });

  it("lists each differing field once, in the order of the bytes", () => {
    const e = new Uint8Array(20);
    const a = e.slice();
    for (const i of [1, 2, 17, 19]) a[i] = 1;
    expect(hexDiff(e, a, undefined, (i) => (i < 16 ? "head" : "tail")).split("\n").at(-1)).toBe("differing fields: head, tail");
  });
});
