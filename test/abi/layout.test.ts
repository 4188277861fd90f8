// The one declaration of shared layouts: the generated AssemblyScript constants are current, the
// memory map is sound, and the codec reads back what it writes at the declared byte offsets.
import { describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { GENERATED_LAYOUT_PATH, generateLayout } from "../../abi/generate.js";
import {
  CAPACITIES, FLOW_ENTRY, MEMORY_PAGES, PAGE_SIZE, REGIONS, RING_MSG, STRUCTS, fieldOffsets,
} from "../../abi/layout.js";
import { decodeStruct, encodeStruct } from "../../abi/codec.js";

describe("shared layout declaration", () => {
  it("dataplane/lib/layout.ts is generated from the current declaration (npm run gen:layout)", () => {
    expect(readFileSync(GENERATED_LAYOUT_PATH, "utf8")).toBe(generateLayout());
  });

  it("places regions inside the memory without overlap", () => {
    const sorted = [...REGIONS].sort((a, b) => a.base - b.base);
    for (let i = 0; i < sorted.length; i++) {
      expect(sorted[i].base + sorted[i].size, sorted[i].name).toBeLessThanOrEqual(MEMORY_PAGES * PAGE_SIZE);
      if (i > 0) expect(sorted[i].base, `${sorted[i].name} overlaps ${sorted[i - 1].name}`).toBeGreaterThanOrEqual(sorted[i - 1].base + sorted[i - 1].size);
    }
    const flows = REGIONS.find((r) => r.name === "FLOWS")!;
    expect(flows.size).toBe(CAPACITIES.MAX_FLOWS.value * FLOW_ENTRY.size);
    expect(CAPACITIES.MAX_FLOWS.value & (CAPACITIES.MAX_FLOWS.value - 1)).toBe(0);
  });

  it("lays out fields at natural alignment without overlap", () => {
    for (const s of STRUCTS) {
      const spans = [...fieldOffsets(s).values()];
      for (const { offset, kind } of spans) {
        if (kind === "u16" || kind === "be16" || kind === "mac") expect(offset % 2).toBe(0);
        if (kind === "u32" || kind === "be32") expect(offset % 4).toBe(0);
      }
    }
    // The generated file states the byte range of a field the data plane depends on.
    expect(generateLayout()).toContain("@inline export const FLOW_SEQ_DELTA: usize = 28; // 28-31 u32");
  });

  it("round-trips a flow entry through the codec at the declared offsets, in the declared byte orders", () => {
    const buf = new Uint8Array(256);
    const value = {
      KEY_SADDR: 0x0a000001, KEY_DADDR: 0x0a000064, KEY_SPORT: 40000, KEY_DPORT: 80, STATE: 1, FLAGS: 0x0c,
      OUT_PORT: 2, WIN_SHIFT: 0xfe, SEQ_DELTA: 0xfffffff0, NEW_DMAC: Uint8Array.of(2, 0, 0, 0, 0, 9), PEER: 77,
    };
    encodeStruct(FLOW_ENTRY, buf, 64, value);
    const back = decodeStruct(FLOW_ENTRY, buf, 64);
    for (const [k, v] of Object.entries(value)) expect(back[k], k).toEqual(v);
    expect([...buf.subarray(64, 68)]).toEqual([10, 0, 0, 1]); // be32: network order, as in a packet
    expect([...buf.subarray(64 + 8, 64 + 10)]).toEqual([0x9c, 0x40]); // be16 port 40000
    expect([...buf.subarray(64 + 28, 64 + 32)]).toEqual([0xf0, 0xff, 0xff, 0xff]); // u32: little-endian
  });

  it("refuses values that do not fit and fields that do not exist", () => {
    const buf = new Uint8Array(64);
    expect(() => encodeStruct(RING_MSG, buf, 0, { TYPE: 256 })).toThrow(/MSG_TYPE: 256 does not fit u8/);
    expect(() => encodeStruct(RING_MSG, buf, 0, { NOPE: 1 })).toThrow(/no field NOPE/);
    expect(() => decodeStruct(RING_MSG, buf, 40)).toThrow(/past the buffer/);
  });
});
