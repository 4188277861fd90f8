// The NP functional model (sim/np): memory, intrinsics, rings, buffers and the pipeline, on probe images.
import { beforeAll, describe, expect, it } from "vitest";
import { join } from "node:path";
import { compileImage, PROJECT_ROOT } from "../../toolchain/build/compile.js";
import { CONFIG, MEMORY_PAGES, PAGE_SIZE } from "../../abi/layout.js";
import { decodeStruct } from "../../abi/codec.js";
import { crc32, npHash } from "../../abi/hash.js";
import { Dataplane, type ImageBytes } from "../../sim/np/dataplane.js";
import { CONFIG_BASE } from "../../abi/switch-config.js";
import { createNpMemory, npImports } from "../../sim/np/imports.js";
import { Rings } from "../../sim/np/rings.js";
import { Random } from "../../lib/random.js";

const PROBES = join(PROJECT_ROOT, "test/dataplane/probes");
let images: ImageBytes[];

beforeAll(async () => {
  images = [
    { name: "classify", wasm: await compileImage("harness", { slot: 0, dataplaneDir: PROBES }) },
    { name: "splice", wasm: await compileImage("harness-next", { slot: 1, dataplaneDir: PROBES }) },
  ];
});

/** Frame for the harness probe: byte 0 command, byte 1 argument, byte 2 second-stage port, then filler. */
const frame = (cmd: number, arg = 0, port = 0, len = 64) => {
  const f = new Uint8Array(len);
  f.set([cmd, arg, port]);
  for (let i = 3; i < len; i++) f[i] = i;
  return f;
};

describe("memory, rings and intrinsics", () => {
  it("creates the fixed-size shared memory", () => {
    const m = createNpMemory();
    expect(m.buffer.byteLength).toBe(MEMORY_PAGES * PAGE_SIZE);
    expect(() => m.grow(1)).toThrow();
  });

  it("rings are bounded FIFOs", () => {
    const r = new Rings({ TO_CP: 2 });
    const id = Rings.id("TO_CP");
    expect(r.put(id, Uint8Array.of(1))).toBe(true);
    expect(r.put(id, Uint8Array.of(2))).toBe(true);
    expect(r.put(id, Uint8Array.of(3))).toBe(false);
    expect(r.put(99, Uint8Array.of(3))).toBe(false);
    expect([...r.get(id)!]).toEqual([1]);
    expect(r.length(id)).toBe(1);
    expect(r.drain(id).map((m) => m[0])).toEqual([2]);
    expect(r.get(id)).toBeUndefined();
    expect(() => new Rings({ NOPE: 1 })).toThrow(/no ring named NOPE/);
  });

  it("implements every intrinsic over the memory", () => {
    const memory = createNpMemory();
    const rings = new Rings({ FROM_CP: 1 });
    let swaps = 0;
    const np = npImports(memory, { rings, clock: () => 0x1_0000_0005, ctxSwap: () => swaps++ }).np as Record<string, (...a: number[]) => number>;
    const mem = new Uint8Array(memory.buffer);
    mem.set([1, 2, 3, 4], 100);
    expect(np.ring_put(Rings.id("FROM_CP"), 100, 4)).toBe(1);
    expect(np.ring_put(Rings.id("FROM_CP"), 100, 4)).toBe(0);
    expect(np.ring_get(Rings.id("FROM_CP"), 200, 8)).toBe(1);
    expect([...mem.subarray(200, 208)]).toEqual([1, 2, 3, 4, 0, 0, 0, 0]);
    expect(np.ring_get(Rings.id("FROM_CP"), 200, 8)).toBe(0);
    expect(np.hash(1, 2, 3) >>> 0).toBe(npHash(1, 2, 3));
    expect(np.crc32(100, 4, 0) >>> 0).toBe(crc32(Uint8Array.of(1, 2, 3, 4)));
    expect(np.crc32(102, 2, crc32(Uint8Array.of(1, 2))) >>> 0).toBe(crc32(Uint8Array.of(1, 2, 3, 4)));
    expect(np.timestamp()).toBe(5);
    np.ctx_swap();
    expect(swaps).toBe(1);
    expect(() => np.crc32(memory.buffer.byteLength - 2, 4, 0)).toThrow(WebAssembly.RuntimeError);
  });

  it("the PRNG is deterministic per seed", () => {
    const a = new Random(42), b = new Random(42), c = new Random(43);
    const xs = Array.from({ length: 5 }, () => a.u32());
    expect(Array.from({ length: 5 }, () => b.u32())).toEqual(xs);
    expect(Array.from({ length: 5 }, () => c.u32())).not.toEqual(xs);
    for (let i = 0; i < 1000; i++) expect(a.int(3, 7)).toBeGreaterThanOrEqual(3);
  });
});

describe("Dataplane", () => {
  it("writes the Config struct", async () => {
    const dp = await Dataplane.load(images);
    dp.configure({ vip: "10.0.0.100", localIp: "10.1.0.100", servicePorts: [80, 8080], portMacs: ["02:00:00:00:00:01", "02:00:00:00:00:02"], checkTcpChecksum: true });
    const cfg = decodeStruct(CONFIG, dp.memoryBytes(), CONFIG_BASE);
    expect(cfg).toMatchObject({ VIP: 0x0a000064, LOCAL_IP: 0x0a010064, NUM_PORTS: 2, NUM_SERVICES: 2, CHECK_TCP_CSUM: 1, SERVICE_PORT0: 80, SERVICE_PORT1: 8080, SERVICE_PORT2: 0 });
    expect([...(cfg.PORT_MAC1 as Uint8Array)]).toEqual([2, 0, 0, 0, 0, 2]);
    expect(dp.memoryBytes()[CONFIG_BASE + 12]).toBe(0); // be16 port 80: high byte first
    expect(dp.memoryBytes()[CONFIG_BASE + 13]).toBe(80);
  });

  it("reports a drop with its reason and counts it", async () => {
    const dp = await Dataplane.load(images);
    const r = dp.process(3, frame(0, 12));
    expect(r.verdict).toBe("DROP");
    expect(r.reason).toBe("IP_BAD_CHECKSUM");
    expect(r.ran).toEqual(["classify"]);
    expect(dp.counters().reasons.IP_BAD_CHECKSUM).toBe(1);
    expect(r.desc.IN_PORT).toBe(3);
  });

  it("forwards the rewritten frame on the chosen port", async () => {
    const dp = await Dataplane.load(images);
    const input = frame(1, 5);
    const r = dp.process(0, input);
    expect(r.verdict).toBe("FORWARD");
    expect(r.outPort).toBe(5);
    expect(r.reason).toBeUndefined();
    expect(r.frame.length).toBe(input.length);
    expect(r.frame[2]).toBe(0xee);
    expect([...r.frame.subarray(3)]).toEqual([...input.subarray(3)]);
  });

  it("hands a packet to the CP with a decoded message and holds its buffer until freed", async () => {
    const dp = await Dataplane.load(images);
    const r = dp.process(2, frame(2, 1, 0, 80));
    expect(r.verdict).toBe("TO_CP");
    expect(r.messages).toHaveLength(1);
    expect(r.messages[0]).toMatchObject({ ring: "TO_CP", type: "SYN", inPort: 2, desc: r.descAddr, len: 80 });
    expect(dp.rings.length(Rings.id("TO_CP"))).toBe(0); // drained into the result
    expect(dp.heldBuffers()).toBe(1);
    const r2 = dp.process(2, frame(1));
    expect(r2.descAddr).not.toBe(r.descAddr); // the held buffer is not reused
    dp.freeBuffer(r.descAddr);
    expect(dp.heldBuffers()).toBe(0);
    expect(() => dp.freeBuffer(r.descAddr)).toThrow(/not held/);
  });

  it("lets the image see a full exception ring", async () => {
    const dp = await Dataplane.load(images, { rings: { TO_CP: 1 }, drainToCp: false });
    expect(dp.process(0, frame(2, 2)).verdict).toBe("TO_CP");
    const r = dp.process(0, frame(2, 2));
    expect(r).toMatchObject({ verdict: "DROP", reason: "RING_FULL", messages: [] });
    expect(dp.rings.length(Rings.id("TO_CP"))).toBe(1);
  });

  it("runs the next stage on NEXT", async () => {
    const dp = await Dataplane.load(images);
    const r = dp.process(0, frame(3, 0, 6));
    expect(r).toMatchObject({ verdict: "FORWARD", outPort: 6, ran: ["classify", "splice"] });
    const only = await Dataplane.load(images.slice(0, 1));
    expect(only.process(0, frame(3)).verdict).toBe("NEXT");
  });

  it("catches traps, counts them as TRAP and keeps going", async () => {
    const dp = await Dataplane.load(images);
    const a = dp.process(0, frame(4));
    expect(a).toMatchObject({ verdict: "DROP", reason: "TRAP", trap: { image: "classify" } });
    expect(a.trap!.error).toMatch(/unreachable/);
    const b = dp.process(0, frame(5));
    expect(b.trap!.error).toMatch(/out of bounds/);
    expect(dp.counters().reasons.TRAP).toBe(2);
    expect(dp.process(0, frame(1, 1)).verdict).toBe("FORWARD");
  });

  it("gives images crc32, hash and timestamp", async () => {
    const dp = await Dataplane.load(images);
    dp.time = 777;
    const input = frame(6, 0, 0, 40);
    const r = dp.process(0, input);
    expect(r.desc.URL_HASH).toBe(crc32(input.subarray(2)));
    expect(r.desc.HOST_HASH).toBe(npHash(1, 2, 3));
    expect(r.desc.FLAGS).toBe(777);
  });

  it("reports a return value that is no verdict", async () => {
    const dp = await Dataplane.load(images);
    expect(dp.process(0, frame(7)).verdict).toBe("INVALID");
  });

  it("refuses a packet when the CP holds every buffer", async () => {
    const dp = await Dataplane.load(images, { rings: { TO_CP: 5000 } });
    for (let i = 0; i < 1024; i++) expect(dp.process(0, frame(2, 1)).verdict).toBe("TO_CP");
    expect(() => dp.process(0, frame(1))).toThrow(/buffers are held by the CP/);
  });

  it("gives each instance its own memory", async () => {
    const a = await Dataplane.load(images);
    const b = await Dataplane.load(images);
    a.process(0, frame(0, 3));
    expect(a.counters().reasons.ARP_TRUNCATED).toBe(1);
    expect(b.counters().reasons.ARP_TRUNCATED).toBe(0);
  });
});
