// The fixture runner (test/dataplane/fixture.ts) and fuzz plumbing (packet/mutate.ts, sim/testing/fuzz.ts)
// on probe images: masks resolve to the right bytes, mismatches are reported readably, traps are recorded.
import { beforeAll, describe, expect, it } from "vitest";
import { join } from "node:path";
import { compileImage, PROJECT_ROOT } from "../../toolchain/build/compile.js";
import { Dataplane, type ImageBytes } from "../../sim/np/dataplane.js";
import { emptyStats, runFuzzPacket } from "../../sim/testing/fuzz.js";
import { Random } from "../../lib/random.js";
import { packet } from "../../packet/builder.js";
import { decode } from "../../packet/decode.js";
import { fixChecksums, mutate, MUTATIONS, tcpOffsets } from "../../packet/mutate.js";
import { compareFrames, fieldAt, maskBytes, runFixture, type Fixture } from "../../sim/testing/fixtures/fixture.js";

const PROBES = join(PROJECT_ROOT, "test/dataplane/probes");
let images: ImageBytes[];
beforeAll(async () => {
  images = [{ name: "classify", wasm: await compileImage("harness", { slot: 0, dataplaneDir: PROBES }) }];
});

const syn = () =>
  packet().eth({ src: "aa:bb:cc:00:00:01", dst: "02:00:00:00:00:10" }).ipv4({ src: "10.0.0.1", dst: "10.0.0.100" })
    .tcp({ sport: 1, dport: 80, seq: 5, flags: "S", options: [{ kind: "mss", value: 1460 }] }).payload("hi").build();

describe("masks", () => {
  it("resolve field names to byte ranges of the expected frame", () => {
    const f = syn();
    const ignored = (mask: string[]) => maskBytes(f, mask).flatMap((b, i) => (b ? [i] : []));
    expect(ignored(["eth.src"])).toEqual([6, 7, 8, 9, 10, 11]);
    expect(ignored(["ipv4.ttl", "ipv4.checksum"])).toEqual([22, 24, 25]);
    expect(ignored(["tcp.seq"])).toEqual([38, 39, 40, 41]);
    expect(ignored(["tcp.options"])).toEqual([54, 55, 56, 57]);
    expect(ignored(["payload"])).toEqual([58, 59]);
    expect(ignored(["bytes:0-2"])).toEqual([0, 1]);
    expect(() => maskBytes(f, ["tcp.nope"])).toThrow(/unknown field/);
    expect(() => maskBytes(f, ["icmp.checksum"])).toThrow(/no icmp header/);
  });

  it("name the field at an offset", () => {
    const f = syn();
    expect(fieldAt(f, 22)).toBe("ipv4.ttl");
    expect(fieldAt(f, 50)).toBe("tcp.checksum");
    expect(fieldAt(f, 59)).toBe("payload[1]");
  });

  it("compare frames byte by byte, masked bytes ignored", () => {
    const a = syn();
    const b = a.slice();
    b[22] = 1; // ttl
    expect(compareFrames(a, b, ["ipv4.ttl"])).toBeUndefined();
    const diff = compareFrames(a, b)!;
    expect(diff).toContain("[40]");
    expect(diff).toContain("[01]");
    expect(diff).toContain("differing fields: ipv4.ttl");
    expect(compareFrames(a, a.slice(0, 50))).toMatch(/length: expected 60, actual 50/);
  });
});

describe("runFixture", () => {
  it("passes a matching fixture and lists every mismatch of a wrong one", async () => {
    const dp = await Dataplane.load(images);
    const input = new Uint8Array(64);
    input.set([1, 3]); // probe: FORWARD on port 3, byte 2 rewritten to 0xee
    const out = input.slice();
    out[2] = 0xee;
    const ok: Fixture = { description: "probe forward", inPort: 0, input, expect: { verdict: "FORWARD", outPort: 3, output: { bytes: out } } };
    expect(runFixture(dp, ok).verdict).toBe("FORWARD");
    const wrong: Fixture = { description: "probe forward, wrong", inPort: 0, input, expect: { verdict: "DROP", reason: "IP_TRUNCATED", outPort: 2, output: { bytes: input } } };
    let message = "";
    try {
      runFixture(dp, wrong);
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toContain('fixture "probe forward, wrong"');
    expect(message).toContain("verdict: expected DROP, got FORWARD");
    expect(message).toContain("reason: expected IP_TRUNCATED, got none");
    expect(message).toContain("out port: expected 2, got 3");
    expect(message).toMatch(/output frame differs[\s\S]*\[00\][\s\S]*\[ee\]/);
  });

  it("checks ring messages field by field", async () => {
    const dp = await Dataplane.load(images);
    const input = new Uint8Array(40);
    input.set([2, 1]); // probe: TO_CP with a SYN message
    expect(() => runFixture(dp, { description: "msg", inPort: 4, input, expect: { verdict: "TO_CP", message: { type: "SYN", inPort: 4, len: 40 } } })).not.toThrow();
    expect(() => runFixture(dp, { description: "msg2", inPort: 4, input, expect: { verdict: "TO_CP", message: { type: "SEGMENT" } } })).toThrow(/message.type: expected SEGMENT, got SYN/);
  });
});

describe("fuzz plumbing", () => {
  it("every mutation keeps the frame within bounds and never throws", () => {
    const rng = new Random(99);
    for (let i = 0; i < 3000; i++) {
      let f = syn();
      for (const m of [rng.pick(MUTATIONS), rng.pick(MUTATIONS)]) f = mutate(rng, f, m, 2048);
      expect(f.length).toBeLessThanOrEqual(2048);
      fixChecksums(f, true);
      decode(f);
    }
  });

  it("fixChecksums makes a mutated header verify again", () => {
    const f = syn();
    f[14 + 8] = 3; // TTL change breaks the IP checksum
    f[tcpOffsets(f)!.tcp! + 4] ^= 0xff; // seq change breaks the TCP checksum
    expect(decode(f).errors.length).toBe(2);
    fixChecksums(f, true);
    expect(decode(f).errors).toEqual([]);
  });

  it("records a trap with the image and the packet in hex", async () => {
    const dp = await Dataplane.load(images);
    const stats = emptyStats();
    const frame = Uint8Array.of(4, 0, 0, 0xab);
    runFuzzPacket(dp, { inPort: 1, frame, kind: "random", mutations: [] }, stats);
    expect(stats.traps).toEqual([{ image: "classify", error: expect.stringMatching(/unreachable/), inPort: 1, frame: "040000ab", kind: "random", mutations: [] }]);
    runFuzzPacket(dp, { inPort: 1, frame: Uint8Array.of(7), kind: "random", mutations: [] }, stats);
    expect(stats.violations[0]).toMatch(/returned 9 \(INVALID\)/);
  });
});
