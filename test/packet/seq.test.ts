// Tests of TCP sequence-number arithmetic (packet/seq.ts): comparisons and sums modulo 2^32, across the wrap.
import { describe, expect, it } from "vitest";
import { seqAdd, seqDiff, seqGe, seqGt, seqLe, seqLt } from "../../packet/seq.js";

const MAX = 0xffff_ffff;

describe("sequence comparisons", () => {
  it.each([
    // a, b, a - b as the signed distance
    [5, 3, 2], [3, 5, -2], [7, 7, 0], [1, MAX, 2], [MAX, 1, -2], [0, 0x8000_0001, 0x7fff_ffff], [0x8000_0001, 0, -0x7fff_ffff],
    [10, 0xffff_fff0, 26],
  ])("compares %i with %i by the signed 32-bit distance %i", (a, b, d) => {
    expect(seqDiff(a, b)).toBe(d);
    expect(seqLt(a, b)).toBe(d < 0);
    expect(seqLe(a, b)).toBe(d <= 0);
    expect(seqGt(a, b)).toBe(d > 0);
    expect(seqGe(a, b)).toBe(d >= 0);
  });

  it("treats half the space ahead as before (2^31 apart is 'less' both ways round)", () => {
    expect(seqDiff(0x8000_0000, 0)).toBe(-0x8000_0000);
    expect(seqLt(0x8000_0000, 0)).toBe(true);
    expect(seqLt(0, 0x8000_0000)).toBe(true);
  });
});

describe("seqAdd", () => {
  it("adds modulo 2^32 and returns an unsigned value", () => {
    expect(seqAdd(1, 2)).toBe(3);
    expect(seqAdd(MAX, 1)).toBe(0);
    expect(seqAdd(MAX - 4, 10)).toBe(5);
    expect(seqAdd(3, -5)).toBe(MAX - 1);
    expect(seqAdd(0x7fff_ffff, 1)).toBe(0x8000_0000);
  });
});
