// The simulator's own figures: simulated throughput of spliced 64-byte and 1500-byte frames on the
// ixp2400 against OC-48 line rate, for several microengine assignments (how many MEs line rate
// takes), and host speed in simulated packets per host second. Frames of established spliced
// flows are offered at line rate on one port, straight into the chip (no TCP endpoints).
import { Scheduler, serializationPs } from "../sim/engine/scheduler.js";
import { PS_PER_S } from "../lib/time.js";
import { NpChip } from "../sim/chip/np.js";
import { chipTiming } from "../sim/timing/costs.js";
import { compiledImages } from "../sim/np/load.js";
import { SharedMemoryTables } from "../controlplane/tables/shared-memory-tables.js";
import { packet } from "../packet/builder.js";
import { ip4ToU32, macBytes } from "../packet/addr.js";
import { loadProfile } from "../toolchain/target/profile.js";
import { median, writeResult, type Figure } from "./lib/results.js";

const profile = loadProfile("ixp2400").profile;
const timing = chipTiming(profile);
const LINE_BPS = profile.media.lineRateGbps.value * 1e9;
const FLOWS = 256;
const VIP = "10.0.0.100", LOCAL = "10.1.0.100";
const config = { vip: VIP, localIp: LOCAL, servicePorts: [80], portMacs: ["02:00:00:00:00:10", "02:00:00:00:00:11"] };

/** Frames of FLOWS spliced client connections, each `frameBytes` long on the wire (FCS included). */
function frames(frameBytes: number): Uint8Array[] {
  const payload = frameBytes - 4 - 14 - 20 - 20;
  return Array.from({ length: FLOWS }, (_, i) => packet()
    .eth({ src: "aa:bb:cc:00:00:01", dst: config.portMacs[0] })
    .ipv4({ src: `192.168.${i >> 8}.${i & 255}`, dst: VIP, ttl: 64 })
    .tcp({ sport: 40000 + i, dport: 80, seq: 1000 + i, ack: 5000, flags: "A", win: 1000 })
    .payload(new Uint8Array(payload).fill(0x61)).build());
}

async function run(frameBytes: number, mes: [number, number], count: number) {
  const compiled = await compiledImages();
  const images = [
    { name: "classify", wasm: compiled.find((c) => c.name === "classify")!.wasm, mes: Array.from({ length: mes[0] }, (_, k) => k) },
    { name: "splice", wasm: compiled.find((c) => c.name === "splice")!.wasm, mes: Array.from({ length: mes[1] }, (_, k) => mes[0] + k) },
  ];
  const sched = new Scheduler();
  let txBytes = 0, txPackets = 0, firstTx = -1, lastTx = 0;
  const chip = await NpChip.create({
    timing, images, pipeline: ["classify", "splice"], scheduler: sched, config, stageQueue: 512,
    transmit: (_port, f) => { txBytes += f.length + 4; txPackets++; if (firstTx < 0) firstTx = sched.now; lastTx = sched.now; },
  });
  const tables = new SharedMemoryTables(chip.memory);
  const key = (s: string, d: string, sp: number, dp: number) => ({ saddr: ip4ToU32(s), daddr: ip4ToU32(d), sport: sp, dport: dp });
  for (let i = 0; i < FLOWS; i++) {
    const client = `192.168.${i >> 8}.${i & 255}`;
    const r = tables.install({
      fwd: { key: key(client, VIP, 40000 + i, 80), rewrite: key(LOCAL, "10.1.0.11", 50000 + i, 80), outPort: 1, nextHopMac: macBytes("aa:bb:cc:00:01:01"), seqDelta: 7, ackDelta: 9 },
      rev: { key: key("10.1.0.11", LOCAL, 80, 50000 + i), rewrite: key(VIP, client, 80, 40000 + i), outPort: 0, nextHopMac: macBytes("aa:bb:cc:00:00:01"), seqDelta: -7 >>> 0, ackDelta: -9 >>> 0 },
    });
    if (!r.ok) throw new Error(`install: ${r.message}`);
  }
  const fs = frames(frameBytes);
  const gap = serializationPs(frameBytes + 20, LINE_BPS); // preamble + inter-frame gap on the wire
  let sent = 0;
  const offer = () => {
    chip.receive(0, fs[sent % FLOWS]);
    if (++sent < count) sched.after(gap, offer);
  };
  sched.after(0, offer);
  const t0 = process.hrtime.bigint();
  sched.run();
  const host = Number(process.hrtime.bigint() - t0) / 1e9;
  const span = (lastTx - firstTx) / PS_PER_S;
  const snap = chip.snapshot();
  return {
    gbps: span > 0 ? (txBytes * 8) / span / 1e9 : 0,
    pps: span > 0 ? txPackets / span : 0,
    delivered: txPackets / count,
    hostPps: count / host,
    drops: snap.drops,
    busy: snap.me.map((m) => m.busyPs / Math.max(1, m.busyPs + m.stalledPs + m.idlePs)),
    cyclesPerPacket: snap.cycles.map((c) => (c.packets ? c.cycles / c.packets : 0)),
  };
}

const figures: Figure[] = [];
const details: unknown[] = [];
const lineRate = (bytes: number) => LINE_BPS / ((bytes + 20) * 8);
console.log(`ixp2400, OC-48 ${profile.media.lineRateGbps.value} Gb/s; offered at line rate on one port; ${FLOWS} spliced flows`);
console.log("frame  MEs(classify+splice)  achieved Gb/s  Mpps    of line rate  delivered  host pkts/s  compute cycles/pkt (classify, splice)");
const configs: [number, number][] = [[1, 1], [2, 1], [2, 2], [3, 2], [3, 3], [4, 4]];
for (const bytes of [64, 1500]) {
  const count = bytes === 64 ? 40_000 : 8_000;
  let smallest: string | null = null;
  for (const mes of configs) {
    const r = await run(bytes, mes, count);
    const share = r.pps / lineRate(bytes);
    if (!smallest && share >= 0.99 && r.delivered >= 0.99) smallest = `${mes[0]}+${mes[1]}`;
    console.log(`${String(bytes).padStart(5)}  ${`${mes[0]}+${mes[1]}`.padEnd(20)}  ${r.gbps.toFixed(3).padStart(13)}  ${(r.pps / 1e6).toFixed(3).padStart(6)}  ${(share * 100).toFixed(1).padStart(11)}%  ${(r.delivered * 100).toFixed(1).padStart(8)}%  ${r.hostPps.toFixed(0).padStart(11)}  ${r.cyclesPerPacket.map((c) => c.toFixed(0)).join(", ")}`);
    details.push({ bytes, mes, ...r });
    figures.push({ name: `${bytes} B spliced, ${mes[0]}+${mes[1]} MEs`, value: Number(r.gbps.toFixed(3)), unit: "Gb/s" });
  }
  console.log(`  line rate (${(lineRate(bytes) / 1e6).toFixed(3)} Mpps) for ${bytes} B frames first reached with ${smallest ?? "none of these"} MEs`);
  figures.push({ name: `${bytes} B: fewest MEs at line rate (classify+splice)`, value: smallest ? smallest.split("+").map(Number).reduce((a, b) => a + b) : -1, unit: smallest ? `MEs (${smallest})` : "not reached" });
}

// Host speed: simulated packets per host second, median of several runs of the full 8-ME chip.
const speeds: number[] = [];
for (let i = 0; i < 3; i++) speeds.push((await run(64, [4, 4], Number(process.env.SPEED_PACKETS ?? 60_000))).hostPps);
console.log(`host speed: ${median(speeds).toFixed(0)} simulated packets per host second (median of 3, 64 B spliced, 4+4 MEs)`);
figures.push({ name: "host speed, spliced forwarding", value: Math.round(median(speeds)), unit: "simulated packets/host s" });
console.log(`wrote ${writeResult("sim", figures, details)}`);
