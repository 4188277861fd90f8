// Tests of the struct codec (abi/codec.ts), the layout helpers it reads (abi/layout.ts) and the Config struct writer on it (abi/switch-config.ts): field kinds, bounds, errors, offsets, fingerprint, Config bytes.
import { describe, expect, it } from "vitest";
import { decodeStruct, encodeStruct, enumValue } from "../../abi/codec.js";
import { CONFIG_BASE, writeSwitchConfig } from "../../abi/switch-config.js";
import {
  CAPACITIES, CONFIG, FLOW_ENTRY, FLOW_STATE, MEMORY_PAGES, PACKET_DESC, PAGE_SIZE, REASON, REGIONS, RING_MSG, VERDICT,
  fieldOffsets, layoutFingerprint, region, type StructDecl,
} from "../../abi/layout.js";

/** A struct with one field of every kind, at natural alignment: u8 @0, u16 @2, u32 @4, be16 @8, be32 @12, mac @16. */
const ALL: StructDecl = {
  prefix: "T_",
  doc: "test",
  size: 24,
  fields: [
    { name: "A", kind: "u8", doc: "" },
    { name: "B", kind: "u16", doc: "" },
    { name: "C", kind: "u32", doc: "" },
    { name: "D", kind: "be16", doc: "" },
    { name: "E", kind: "be32", doc: "" },
    { name: "F", kind: "mac", doc: "" },
  ],
};

describe("fieldOffsets", () => {
  it("places each field at its natural alignment (a MAC on 2 bytes)", () => {
    expect([...fieldOffsets(ALL)]).toEqual([
      ["A", { offset: 0, kind: "u8" }], ["B", { offset: 2, kind: "u16" }], ["C", { offset: 4, kind: "u32" }],
      ["D", { offset: 8, kind: "be16" }], ["E", { offset: 12, kind: "be32" }], ["F", { offset: 16, kind: "mac" }],
    ]);
    const odd: StructDecl = { prefix: "O_", doc: "", size: 16, fields: [
      { name: "A", kind: "u8", doc: "" }, { name: "M", kind: "mac", doc: "" }, { name: "B", kind: "u8", doc: "" }, { name: "W", kind: "u32", doc: "" },
    ] };
    expect([...fieldOffsets(odd)].map(([n, f]) => [n, f.offset])).toEqual([["A", 0], ["M", 2], ["B", 8], ["W", 12]]);
  });

  it("accepts a struct that exactly fills its size and refuses one that overflows it", () => {
    expect(() => fieldOffsets({ ...ALL, size: 22 })).not.toThrow();
    expect(() => fieldOffsets({ ...ALL, size: 21 })).toThrow("layout: struct T_ needs 22 bytes but declares 21");
  });

  it("gives the declared structs the offsets the data plane uses", () => {
    const off = (s: StructDecl) => Object.fromEntries([...fieldOffsets(s)].map(([n, f]) => [n, f.offset]));
    expect(off(RING_MSG)).toEqual({ TYPE: 0, IN_PORT: 1, REASON: 2, DESC: 4, LEN: 8, PAYLOAD: 10, FLOW: 12, URL_HASH: 16, HOST_HASH: 20, FLAGS: 24, TIME: 28 });
    expect(off(PACKET_DESC)).toEqual({ BUF: 0, LEN: 4, IN_PORT: 6, OUT_PORT: 7, L3: 8, L4: 10, PAYLOAD: 12, REASON: 14, FLOW: 16, URL_HASH: 20, HOST_HASH: 24, FLAGS: 28 });
    expect(off(FLOW_ENTRY)).toMatchObject({ KEY_SADDR: 0, KEY_DPORT: 10, STATE: 12, WIN_SHIFT: 15, SEQ_DELTA: 28, NEW_DMAC: 44, PEER: 52, LAST_SEEN: 60 });
    expect(off(CONFIG)).toMatchObject({ VIP: 0, LOCAL_IP: 4, NUM_PORTS: 8, CHECK_TCP_CSUM: 10, SERVICE_PORT0: 12, SERVICE_PORT7: 26, PORT_MAC0: 28, PORT_MAC7: 70 });
  });
});

describe("region", () => {
  it("finds a region by name and refuses an unknown one", () => {
    expect(region("CONFIG")).toBe(REGIONS.find((r) => r.name === "CONFIG"));
    expect(region("FLOWS").base).toBe(0x20_0000);
    expect(() => region("NOPE")).toThrow("layout has no region NOPE");
    expect(MEMORY_PAGES * PAGE_SIZE).toBe(8 * 1024 * 1024);
    expect(region("IMAGE_DATA").size).toBe(CAPACITIES.MAX_IMAGES.value * CAPACITIES.IMAGE_SLOT_SIZE.value);
  });
});

describe("decodeStruct", () => {
  it("reads each kind in its byte order: u16/u32 little-endian, be16/be32 network order, a MAC as 6 bytes", () => {
    const buf = Uint8Array.from({ length: 40 }, (_, i) => i + 1);
    expect(decodeStruct(ALL, buf, 8)).toEqual({
      A: 9, B: 0x0c0b, C: 0x100f0e0d, D: 0x1112, E: 0x15161718, F: Uint8Array.of(25, 26, 27, 28, 29, 30),
    });
  });

  it("gives the MAC as a copy, not a view of the buffer", () => {
    const buf = new Uint8Array(24);
    const v = decodeStruct(ALL, buf);
    buf[16] = 0xaa;
    expect(v.F).toEqual(new Uint8Array(6));
  });

  it("reads a struct that ends exactly at the end of the buffer and refuses one past it or before it", () => {
    const buf = new Uint8Array(30);
    buf[6] = 7;
    expect(decodeStruct(ALL, buf, 6).A).toBe(7);
    expect(() => decodeStruct(ALL, buf, 7)).toThrow(new RangeError("T_: 24 bytes at 7 past the buffer (30)"));
    expect(() => decodeStruct(ALL, buf, -1)).toThrow(new RangeError("T_: 24 bytes at -1 past the buffer (30)"));
  });

  it("reads through a view at the view's own offset", () => {
    const backing = new Uint8Array(64);
    backing[10] = 0x34;
    backing[11] = 0x12;
    const view = backing.subarray(8);
    expect(decodeStruct(ALL, view).B).toBe(0x1234);
  });
});

describe("encodeStruct", () => {
  it("writes each kind at its offset in its byte order", () => {
    const buf = new Uint8Array(28);
    encodeStruct(ALL, buf, 2, { A: 0xab, B: 0x1234, C: 0x89abcdef, D: 0x1234, E: 0x89abcdef, F: Uint8Array.of(1, 2, 3, 4, 5, 6) });
    expect([...buf]).toEqual([
      0, 0, 0xab, 0, 0x34, 0x12, 0xef, 0xcd, 0xab, 0x89, 0x12, 0x34, 0, 0, 0x89, 0xab, 0xcd, 0xef, 1, 2, 3, 4, 5, 6, 0, 0, 0, 0,
    ]);
  });

  it("leaves fields not named, or given as undefined, as they are", () => {
    const buf = new Uint8Array(24).fill(0x5a);
    encodeStruct(ALL, buf, 0, { B: 1, C: undefined });
    expect([...buf.subarray(0, 8)]).toEqual([0x5a, 0x5a, 1, 0, 0x5a, 0x5a, 0x5a, 0x5a]);
  });

  it("takes the largest value of each kind and refuses the next", () => {
    const buf = new Uint8Array(24);
    const max = { A: 0xff, B: 0xffff, C: 0xffff_ffff, D: 0xffff, E: 0xffff_ffff };
    encodeStruct(ALL, buf, 0, max);
    expect(decodeStruct(ALL, buf)).toMatchObject(max);
    expect(() => encodeStruct(ALL, buf, 0, { A: 0x100 })).toThrow(new RangeError("field T_A: 256 does not fit u8"));
    expect(() => encodeStruct(ALL, buf, 0, { B: 0x1_0000 })).toThrow(new RangeError("field T_B: 65536 does not fit u16"));
    expect(() => encodeStruct(ALL, buf, 0, { C: 2 ** 32 })).toThrow(new RangeError("field T_C: 4294967296 does not fit u32"));
    expect(() => encodeStruct(ALL, buf, 0, { D: 0x1_0000 })).toThrow(new RangeError("field T_D: 65536 does not fit be16"));
    expect(() => encodeStruct(ALL, buf, 0, { E: 2 ** 32 })).toThrow(new RangeError("field T_E: 4294967296 does not fit be32"));
  });

  it("takes zero and refuses negative and fractional numbers", () => {
    const buf = new Uint8Array(24).fill(1);
    encodeStruct(ALL, buf, 0, { A: 0 });
    expect(buf[0]).toBe(0);
    expect(() => encodeStruct(ALL, buf, 0, { A: -1 })).toThrow(new RangeError("field T_A: -1 does not fit u8"));
    expect(() => encodeStruct(ALL, buf, 0, { C: 1.5 })).toThrow(new TypeError("field T_C: expected an integer"));
    expect(() => encodeStruct(ALL, buf, 0, { C: Uint8Array.of(1, 2, 3, 4) })).toThrow(new TypeError("field T_C: expected an integer"));
  });

  it("refuses a MAC that is not 6 bytes", () => {
    const buf = new Uint8Array(24);
    expect(() => encodeStruct(ALL, buf, 0, { F: new Uint8Array(5) })).toThrow(new TypeError("field T_F: expected 6 bytes of MAC"));
    expect(() => encodeStruct(ALL, buf, 0, { F: new Uint8Array(7) })).toThrow(new TypeError("field T_F: expected 6 bytes of MAC"));
    expect(() => encodeStruct(ALL, buf, 0, { F: 0x010203 })).toThrow(new TypeError("field T_F: expected 6 bytes of MAC"));
    expect([...buf]).toEqual(new Array(24).fill(0));
  });

  it("refuses an unknown field and a struct past either end of the buffer", () => {
    const buf = new Uint8Array(30);
    expect(() => encodeStruct(ALL, buf, 0, { Z: 1 })).toThrow("T_: no field Z");
    expect(() => encodeStruct(ALL, buf, 7, { A: 1 })).toThrow(new RangeError("T_: 24 bytes at 7 past the buffer (30)"));
    expect(() => encodeStruct(ALL, buf, -1, { A: 1 })).toThrow(new RangeError("T_: 24 bytes at -1 past the buffer (30)"));
    encodeStruct(ALL, buf, 6, { A: 3 });
    expect(buf[6]).toBe(3);
  });

  it("writes through a view at the view's own offset", () => {
    const backing = new Uint8Array(64);
    encodeStruct(ALL, backing.subarray(8), 0, { B: 0x1234, E: 0x01020304 });
    expect([...backing.subarray(10, 12)]).toEqual([0x34, 0x12]);
    expect([...backing.subarray(20, 24)]).toEqual([1, 2, 3, 4]);
  });
});

describe("enumValue", () => {
  it("is the member's index, from `first` when the declaration sets it", () => {
    expect(enumValue(VERDICT, "DROP")).toBe(0);
    expect(enumValue(VERDICT, "NEXT")).toBe(3);
    expect(enumValue(FLOW_STATE, "CLOSED")).toBe(3);
    expect(enumValue(REASON, "TRAP")).toBe(REASON.members.length - 1);
    expect(enumValue({ first: 10, members: [{ name: "X" }, { name: "Y" }] }, "Y")).toBe(11);
    expect(() => enumValue(VERDICT, "MAYBE")).toThrow("no enum member MAYBE");
  });
});

describe("layoutFingerprint", () => {
  it("is a stable sha256 that ignores documentation but not layout", () => {
    const fp = layoutFingerprint();
    expect(fp).toMatch(/^[0-9a-f]{64}$/);
    expect(layoutFingerprint()).toBe(fp);
    const doc = RING_MSG.fields[0].doc;
    const text = VERDICT.members[0].text;
    const kind = RING_MSG.fields[0].kind;
    try {
      RING_MSG.fields[0].doc = "reworded";
      VERDICT.members[0].text = "reworded";
      expect(layoutFingerprint()).toBe(fp);
      RING_MSG.fields[0].kind = "u16";
      expect(layoutFingerprint()).not.toBe(fp);
    } finally {
      RING_MSG.fields[0].doc = doc;
      VERDICT.members[0].text = text;
      RING_MSG.fields[0].kind = kind;
    }
    expect(layoutFingerprint()).toBe(fp);
  });
});

const MACS = ["02:00:00:00:00:10", "02:00:00:00:00:11", "02:00:00:00:00:12"];

describe("writeSwitchConfig", () => {
  it("writes the Config struct at the CONFIG region in the declared byte orders", () => {
    expect(CONFIG_BASE).toBe(0x2_0000);
    const mem = new Uint8Array(MEMORY_PAGES * PAGE_SIZE);
    writeSwitchConfig(mem, { vip: "10.0.0.100", localIp: "10.1.0.100", servicePorts: [80, 8443], portMacs: MACS, checkTcpChecksum: true });
    const at = CONFIG_BASE;
    expect([...mem.subarray(at, at + 12)]).toEqual([10, 0, 0, 100, 10, 1, 0, 100, 3, 2, 1, 0]);
    expect([...mem.subarray(at + 12, at + 16)]).toEqual([0, 80, 0x20, 0xfb]); // be16 80, 8443
    expect([...mem.subarray(at + 28, at + 46)]).toEqual([2, 0, 0, 0, 0, 0x10, 2, 0, 0, 0, 0, 0x11, 2, 0, 0, 0, 0, 0x12]);
    expect(mem.subarray(0, at).every((b) => b === 0)).toBe(true);
    expect(mem.subarray(at + CONFIG.size).every((b) => b === 0)).toBe(true);
  });

  it("writes zero for the checksum switch when off or absent, and zeroes what an earlier config left", () => {
    const mem = new Uint8Array(MEMORY_PAGES * PAGE_SIZE);
    mem.fill(0xee, CONFIG_BASE - 4, CONFIG_BASE + CONFIG.size + 4);
    writeSwitchConfig(mem, { vip: "10.0.0.1", localIp: "10.0.0.2", servicePorts: [80], portMacs: [MACS[0]] });
    const v = decodeStruct(CONFIG, mem, CONFIG_BASE);
    expect(v).toMatchObject({ VIP: 0x0a000001, LOCAL_IP: 0x0a000002, NUM_PORTS: 1, NUM_SERVICES: 1, CHECK_TCP_CSUM: 0, PAD0: 0, SERVICE_PORT0: 80, SERVICE_PORT1: 0 });
    expect(v.PORT_MAC1).toEqual(new Uint8Array(6));
    expect([...mem.subarray(CONFIG_BASE + 46, CONFIG_BASE + CONFIG.size)].every((b) => b === 0)).toBe(true);
    // Only the struct: the bytes around it are not the writer's.
    expect([...mem.subarray(CONFIG_BASE - 4, CONFIG_BASE)]).toEqual([0xee, 0xee, 0xee, 0xee]);
    expect([...mem.subarray(CONFIG_BASE + CONFIG.size, CONFIG_BASE + CONFIG.size + 4)]).toEqual([0xee, 0xee, 0xee, 0xee]);
    writeSwitchConfig(mem, { vip: "10.0.0.1", localIp: "10.0.0.2", servicePorts: [80], portMacs: [MACS[0]], checkTcpChecksum: false });
    expect(decodeStruct(CONFIG, mem, CONFIG_BASE).CHECK_TCP_CSUM).toBe(0);
  });

  it("takes up to 8 service ports and 8 port MACs and refuses more", () => {
    const mem = new Uint8Array(MEMORY_PAGES * PAGE_SIZE);
    const ports = [1, 2, 3, 4, 5, 6, 7, 8];
    const macs = ports.map((p) => `02:00:00:00:00:0${p}`);
    writeSwitchConfig(mem, { vip: "10.0.0.1", localIp: "10.0.0.2", servicePorts: ports, portMacs: macs });
    const v = decodeStruct(CONFIG, mem, CONFIG_BASE);
    expect(v).toMatchObject({ NUM_PORTS: 8, NUM_SERVICES: 8, SERVICE_PORT7: 8 });
    expect(v.PORT_MAC7).toEqual(Uint8Array.of(2, 0, 0, 0, 0, 8));
    expect(() => writeSwitchConfig(mem, { vip: "10.0.0.1", localIp: "10.0.0.2", servicePorts: [...ports, 9], portMacs: macs }))
      .toThrow(new RangeError("configure: 9 service ports, at most 8"));
    expect(() => writeSwitchConfig(mem, { vip: "10.0.0.1", localIp: "10.0.0.2", servicePorts: ports, portMacs: [...macs, MACS[0]] }))
      .toThrow(new RangeError("configure: 9 port MACs, at most 8"));
  });
});
