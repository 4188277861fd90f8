// Tests of ring messages (abi/ring-message.ts): ring ids and names, reason names, decoding every field of a message, and who frees a packet buffer.
import { describe, expect, it } from "vitest";
import { encodeStruct } from "../../abi/codec.js";
import { MSG_TYPE, NO_FLOW, REASON, RING_MSG, RINGS } from "../../abi/layout.js";
import { cpOwnsBuffer, decodeMessage, reasonName, ringId, ringName } from "../../abi/ring-message.js";

describe("rings", () => {
  it("numbers the rings in declaration order, both ways", () => {
    expect(ringId("TO_CP")).toBe(0);
    expect(ringId("FROM_CP")).toBe(1);
    expect(ringId("CLASSIFY_TO_SPLICE")).toBe(2);
    for (const [i, m] of RINGS.members.entries()) expect(ringName(ringId(m.name))).toBe(m.name), expect(ringId(m.name)).toBe(i);
  });

  it("refuses an unknown ring name and names an unknown id", () => {
    expect(() => ringId("NOPE")).toThrow("rings: no ring named NOPE");
    expect(ringName(RINGS.members.length)).toBe(`RING_${RINGS.members.length}`);
    expect(ringName(-1)).toBe("RING_-1");
  });

  it("names reasons from the declaration, and an unknown one by number", () => {
    expect(reasonName(0)).toBe("NONE");
    expect(reasonName(1)).toBe("ETH_TRUNCATED");
    expect(reasonName(REASON.members.length - 1)).toBe("TRAP");
    expect(reasonName(REASON.members.length)).toBe(`REASON_${REASON.members.length}`);
  });
});

/** A message as the data plane writes it. */
function message(fields: Record<string, number>): Uint8Array {
  const b = new Uint8Array(RING_MSG.size);
  encodeStruct(RING_MSG, b, 0, fields);
  return b;
}

describe("decodeMessage", () => {
  it("decodes every field, with the enum fields by name", () => {
    const fields = {
      TYPE: 2, IN_PORT: 3, REASON: 24, DESC: 0x0010_0040, LEN: 1514, PAYLOAD: 66, FLOW: 1234,
      URL_HASH: 0xdead_beef, HOST_HASH: 0x0102_0304, FLAGS: 0x1c3, TIME: 0xffff_fff0,
    };
    const bytes = message(fields);
    const m = decodeMessage(ringId("TO_CP"), bytes);
    expect(m).toEqual({
      ring: "TO_CP", type: "SEGMENT", inPort: 3, reason: "TCP_NO_SERVICE", desc: 0x0010_0040, len: 1514, payload: 66, flow: 1234,
      urlHash: 0xdead_beef, hostHash: 0x0102_0304, flags: 0x1c3, time: 0xffff_fff0, raw: fields,
    });
    expect(bytes).toEqual(message(fields)); // decoding leaves the message as it was
  });

  it("names each message type, and an unknown type by number", () => {
    for (const [i, m] of MSG_TYPE.members.entries()) expect(decodeMessage(0, message({ TYPE: i })).type).toBe(m.name);
    expect(decodeMessage(0, message({ TYPE: 200 })).type).toBe("MSG_TYPE_200");
    expect(decodeMessage(7, message({})).ring).toBe("RING_7");
    expect(decodeMessage(1, message({})).ring).toBe("FROM_CP");
  });

  it("pads a short message with zeros and ignores bytes past the struct", () => {
    const full = message({ TYPE: 1, IN_PORT: 2, DESC: 0x01020304, TIME: 99 });
    const short = decodeMessage(0, full.subarray(0, 8));
    expect(short).toMatchObject({ type: "SYN", inPort: 2, desc: 0x01020304, time: 0, flow: 0 });
    const long = new Uint8Array(RING_MSG.size + 8).fill(0xff);
    long.set(full);
    expect(decodeMessage(0, long)).toEqual(decodeMessage(0, full));
    expect(decodeMessage(0, new Uint8Array(0))).toMatchObject({ type: "NONE", reason: "NONE", desc: 0, flags: 0 });
  });
});

describe("cpOwnsBuffer", () => {
  it("gives the CP the buffer of a message without a flow, and never of one on a spliced flow", () => {
    expect(cpOwnsBuffer({ flow: NO_FLOW })).toBe(true);
    expect(cpOwnsBuffer(decodeMessage(0, message({ TYPE: 1, FLOW: NO_FLOW })))).toBe(true);
    expect(cpOwnsBuffer({ flow: 0 })).toBe(false);
    expect(cpOwnsBuffer({ flow: 32767 })).toBe(false);
    expect(cpOwnsBuffer(decodeMessage(0, message({ TYPE: 3, FLOW: 5 })))).toBe(false);
  });
});
