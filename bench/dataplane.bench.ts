// Host cost of the data-plane images as plain Wasm in Node: ns per packet on the splice fast path
// (classify finds the flow, splice rewrites and forwards), for 64-byte-payload and 1460-byte
// segments, plus instructions per image. Medians of several runs, images called directly (no
// harness), the frame re-copied into its buffer before every call as the NP's receive would.
import { compiledImages } from "../sim/np/load.js";
import { createNpMemory, npImports } from "../sim/np/imports.js";
import { Rings } from "../sim/np/rings.js";
import { BUFFERS_BASE, DESCRIPTORS_BASE } from "../sim/np/dataplane.js";
import { writeSwitchConfig } from "../abi/switch-config.js";
import { installSplice } from "../abi/flow-table.js";
import { packet } from "../packet/builder.js";
import { ip4ToU32, macBytes } from "../packet/addr.js";
import { NO_FLOW } from "../abi/layout.js";
import { countInstructions, readModule } from "../toolchain/wasm/reader.js";
import { instrumentImage } from "../sim/timing/instrument.js";
import { chipTiming } from "../sim/timing/costs.js";
import { loadProfile } from "../toolchain/target/profile.js";
import { median, writeResult, type Figure } from "./lib/results.js";

const PACKETS = Number(process.env.BENCH_PACKETS ?? 300_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const VIP = "10.0.0.100", LOCAL = "10.1.0.100", CLIENT = "192.168.1.10", SERVER = "10.1.0.11";

async function setup(instrumented: boolean) {
  const images = await compiledImages();
  const memory = createNpMemory();
  const imports = npImports(memory, { rings: new Rings({ TO_CP: 1 << 16 }), clock: () => 0 });
  const costs = chipTiming(loadProfile().profile).costs;
  const run: Record<string, (d: number) => number> = {};
  for (const img of images) {
    const wasm = instrumented ? instrumentImage(img.wasm, costs) : img.wasm;
    const { instance } = await WebAssembly.instantiate(wasm as BufferSource, imports);
    (instance.exports.init as () => void)();
    run[img.name] = instance.exports.process as (d: number) => number;
  }
  const mem = new Uint8Array(memory.buffer);
  writeSwitchConfig(mem, { vip: VIP, localIp: LOCAL, servicePorts: [80], portMacs: ["02:00:00:00:00:10", "02:00:00:00:00:11"] });
  const key = (s: string, d: string, sp: number, dp: number) => ({ saddr: ip4ToU32(s), daddr: ip4ToU32(d), sport: sp, dport: dp });
  installSplice(mem, {
    fwd: { key: key(CLIENT, VIP, 40000, 80), rewrite: key(LOCAL, SERVER, 50000, 80), outPort: 1, nextHopMac: macBytes("aa:bb:cc:00:01:01"), seqDelta: 0, ackDelta: 12345, timestamps: { tsvalDelta: 7, tsecrDelta: 9 }, sack: true },
    rev: { key: key(SERVER, LOCAL, 80, 50000), rewrite: key(VIP, CLIENT, 80, 40000), outPort: 0, nextHopMac: macBytes("aa:bb:cc:00:00:01"), seqDelta: (-12345) >>> 0, ackDelta: 0, timestamps: { tsvalDelta: 3, tsecrDelta: 5 }, sack: true, winShift: -2 },
  });
  return { run, mem, view: new DataView(memory.buffer) };
}

function frame(payload: number): Uint8Array {
  return packet().eth({ src: "aa:bb:cc:00:01:01", dst: "02:00:00:00:00:11" }).ipv4({ src: SERVER, dst: LOCAL, ttl: 64 })
    .tcp({ sport: 80, dport: 50000, seq: 1_000_000, ack: 2000, flags: "A", win: 1000, options: [{ kind: "nop" }, { kind: "nop" }, { kind: "ts", val: 100, ecr: 200 }] })
    .payload(new Uint8Array(payload).fill(0x61)).build();
}

/** ns per packet through classify then splice. */
function measure(env: Awaited<ReturnType<typeof setup>>, f: Uint8Array, stages: string[]): number {
  const { run, mem, view } = env;
  const desc = DESCRIPTORS_BASE, buf = BUFFERS_BASE;
  const one = () => {
    mem.set(f, buf);
    view.setUint32(desc, buf, true);
    view.setUint16(desc + 4, f.length, true);
    view.setUint8(desc + 6, 1);
    view.setUint32(desc + 16, NO_FLOW, true);
    let v = 0;
    for (const s of stages) v = run[s](desc);
    return v;
  };
  if (one() !== 1) throw new Error("the spliced packet was not forwarded");
  for (let i = 0; i < 20_000; i++) one(); // warm up the JIT
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < PACKETS; i++) one();
  return Number(process.hrtime.bigint() - t0) / PACKETS;
}

const plain = await setup(false);
const instrumented = await setup(true);
const figures: Figure[] = [];
const details: Record<string, number[]> = {};
for (const payload of [64, 1460]) {
  const f = frame(payload);
  const a: number[] = [], b: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    a.push(measure(plain, f, ["classify", "splice"]));
    b.push(measure(instrumented, f, ["classify", "splice"]));
  }
  const p = median(a), q = median(b);
  console.log(`${payload} B payload (${f.length} B frame): plain ${p.toFixed(1)} ns/packet, instrumented ${q.toFixed(1)} ns/packet (${(q / p).toFixed(2)}x), median of ${RUNS} x ${PACKETS}`);
  figures.push({ name: `splice fast path, ${payload} B payload, plain Wasm`, value: Number(p.toFixed(1)), unit: "ns/packet" });
  figures.push({ name: `splice fast path, ${payload} B payload, instrumented / plain`, value: Number((q / p).toFixed(2)), unit: "x" });
  details[`plain_${payload}`] = a;
  details[`instrumented_${payload}`] = b;
}
for (const img of await compiledImages()) {
  const n = countInstructions(readModule(img.wasm));
  console.log(`${img.name}: ${n} instructions (ixp2400 budget 4096)`);
  figures.push({ name: `${img.name} instructions`, value: n, unit: "of 4096" });
}
console.log(`wrote ${writeResult("dataplane", figures, details)}`);
