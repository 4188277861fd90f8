// A simulated world: the NP chip running a firmware image with the control-plane program on its
// CP core, simulated clients on switch port 0 and servers on port 1, each host on its own link,
// driven by a scenario. Deterministic: same firmware, scenario and seed, same result and captures.
import type { CpConfig } from "../../controlplane/cp.js";
import { createPolicy } from "../../controlplane/policies/index.js";
import type { FirmwareImage } from "../../toolchain/image/format.js";
import type { Profile } from "../../toolchain/target/profile.js";
import { NpswitchError } from "../../lib/errors.js";
import { Scheduler } from "../engine/scheduler.js";
import { PS_PER_MS, PS_PER_S, PS_PER_US } from "../../lib/time.js";
import { cpLimitsOf } from "../scenario/config-fields.js";
import { Link } from "../net/link.js";
import { Host } from "../tcp/host.js";
import { HttpClient, type HttpResult } from "../http/client.js";
import { HttpServer } from "../http/server.js";
import { Workload } from "../workload/workload.js";
import { exponential } from "../workload/distributions.js";
import { Random } from "../../lib/random.js";
import { packet } from "../../packet/builder.js";
import { PcapWriter } from "../capture/pcap.js";
import type { NpChip } from "../chip/np.js";
import { createSwitch } from "../chip/switch.js";
import { chipTiming } from "../timing/costs.js";
import type { Scenario } from "../scenario/schema.js";
import { cdf, percentile, round, type SimResult } from "../report/result.js";
import { startPoolAgents } from "./pool-agent.js";

export const CLIENT_PORT = 0;
export const SERVER_PORT = 1;
const PORT_MACS = ["02:00:00:00:00:10", "02:00:00:00:00:11"];

export interface WorldOptions {
  firmware: FirmwareImage;
  profile: Profile;
  scenario: Scenario;
  /** Overrides scenario.seed. */
  seed?: number;
  /** Overrides scenario.policy.name (with its default parameters). */
  policy?: string;
  /** Capture every switch port to pcap. */
  capture?: boolean;
  /** Called now and then with the fraction done, for a progress bar. */
  onProgress?: (fraction: number) => void;
}

export interface WorldRun {
  result: SimResult;
  /** pcap bytes per switch port, when captured. */
  pcaps: Map<string, Uint8Array>;
}

interface PortMember {
  host: Host;
  link: Link;
}

const mac = (prefix: number, i: number) => `aa:bb:cc:00:${prefix.toString(16).padStart(2, "0")}:${(i + 1).toString(16).padStart(2, "0")}`;
const macKey = (b: Uint8Array, at: number) => ((b[at + 2] << 24) | (b[at + 3] << 16) | (b[at + 4] << 8) | b[at + 5]) >>> 0;

/** The CP's configuration from a scenario's `switch` block, for `servers` (port 0: clients, 1: servers). */
export function cpConfigOf(sc: Scenario, seed: number, servers: CpConfig["servers"]): CpConfig {
  return {
    vip: sc.switch.vip, localIp: sc.switch.local_ip, servicePorts: [sc.switch.service_port], portMacs: PORT_MACS,
    servers, synCookieSecret: `npswitch-sim-${seed}`,
    limits: cpLimitsOf(sc.switch.cp), checkTcpChecksum: sc.switch.check_tcp_checksum,
  };
}

/** Build the world, run it to the end of its workload (or the scenario's time limit), report. */
export async function runWorld(o: WorldOptions): Promise<WorldRun> {
  const started = performance.now();
  const sc = o.scenario;
  const seed = o.seed ?? sc.seed;
  const policyName = o.policy ?? sc.policy.name;
  const timing = chipTiming(o.profile);
  const sched = new Scheduler();

  // Ports: each switch port reaches its hosts directly by destination MAC.
  const members: Map<number, PortMember>[] = [new Map(), new Map()];
  const captures = o.capture ? [new PcapWriter(), new PcapWriter()] : null;
  const timeline = new Map<number, { bytes: number; requests: number }>();
  const bucketPs = Math.max(PS_PER_US, Math.round((sc.duration_ms * PS_PER_MS) / 100));
  const bucket = (t: number) => {
    const k = Math.floor(t / bucketPs);
    let b = timeline.get(k);
    if (!b) timeline.set(k, (b = { bytes: 0, requests: 0 }));
    return b;
  };
  let unknownMac = 0;
  const transmit = (port: number, frame: Uint8Array) => {
    captures?.[port]?.add(sched.now, frame);
    bucket(sched.now).bytes += frame.length;
    const member = members[port]?.get(macKey(frame, 0));
    if (!member) {
      unknownMac++;
      return;
    }
    member.link.send(0, frame);
  };
  let chip!: NpChip;
  const ingress = (port: number) => ({
    receive: (frame: Uint8Array) => {
      captures?.[port]?.add(sched.now, frame);
      chip.receive(port, frame);
    },
  });

  const linkOf = (l: Scenario["clients"]["link"], name: string, s: number) =>
    new Link(sched, { name, bitsPerSecond: l.gbps * 1e9, delayPs: l.delay_us * PS_PER_US, lossRate: l.loss, seed: s, queueBytes: l.queue_kb * 1024 });
  const attach = (port: number, host: Host, link: Link) => {
    link.attach(0, ingress(port));
    link.attach(1, host);
    host.plug(link, 1);
    members[port].set(macKey(host.mac, 0), { host, link });
  };

  // Servers on port 1.
  const workload = new Workload({
    files: sc.files.count, zipfAlpha: sc.files.zipf_alpha, seed: seed ^ 0x51ed,
    sizes: sc.files.size_bytes ? { kind: "lognormal", mu: Math.log(sc.files.size_bytes), sigma: 0 } : { kind: "surge", mu: Math.log(sc.files.median_kb * 1024) },
    maxBytes: sc.files.size_bytes ?? sc.files.max_kb * 1024,
    postFraction: sc.clients.method_post_fraction,
  });
  const servers: HttpServer[] = [];
  const serverConfigs: CpConfig["servers"] = [];
  for (let i = 0; i < sc.servers.count; i++) {
    const ip = `10.1.0.${11 + i}`;
    const host = new Host(sched, { name: `server${i}`, mac: mac(1, i), ip, nextHopMac: PORT_MACS[SERVER_PORT], seed: seed * 1000 + 100 + i });
    attach(SERVER_PORT, host, linkOf(sc.servers.link, `server${i}`, seed * 1000 + 200 + i));
    const c = sc.servers.cache;
    servers.push(new HttpServer(host, {
      port: 80, files: workload.fileSet(), workers: sc.servers.workers, name: `server${i}`,
      cache: { capacityBytes: c.capacity_mb * (1 << 20), hitPs: c.hit_us * PS_PER_US, missPs: c.miss_us * PS_PER_US, perKbPs: c.per_kb_us * PS_PER_US },
    }));
    serverConfigs.push({ name: `server${i}`, ip, mac: mac(1, i), port: SERVER_PORT, tcpPort: 80, weight: sc.servers.weights?.[i] ?? 1 });
  }

  // The switch: the chip with the control-plane program on its CP core (sim/chip/switch.ts).
  let policy;
  try {
    policy = createPolicy(policyName, policyName === sc.policy.name ? sc.policy.params : {});
  } catch (e) {
    throw new NpswitchError(`${(e as Error).message}`);
  }
  // Placement: where the CP spliced each connection, recorded from the post hook (the server the CP connected
  // to, whatever the policy is), keyed by client address and by the path of the connection's first request.
  const byClient = new Map<string, number[]>();
  const byUrl = new Map<string, number[]>();
  const place = (table: Map<string, number[]>, key: string, server: number) => {
    let row = table.get(key);
    if (!row) table.set(key, (row = new Array<number>(sc.servers.count).fill(0)));
    row[server] = (row[server] ?? 0) + 1;
  };
  const innerPost = policy.post;
  policy.post = function (server, req, outcome) {
    if (outcome.outcome === "spliced") {
      const ip = req.clientIp ?? 0;
      place(byClient, `${ip >>> 24}.${(ip >>> 16) & 255}.${(ip >>> 8) & 255}.${ip & 255}`, server.index);
      place(byUrl, req.url.split("?")[0], server.index);
    }
    innerPost?.call(this, server, req, outcome);
  };
  const sw = await createSwitch({
    firmware: o.firmware, timing, sched, transmit, policy,
    mes: sc.switch.mes ? { counts: sc.switch.mes, origin: `scenario ${sc.name}: field switch.mes` } : undefined,
    stageQueue: sc.switch.stage_queue, cpBatching: sc.switch.cp.batching,
    cp: cpConfigOf(sc, seed, serverConfigs),
  });
  chip = sw.chip;
  const { cp, env } = sw;

  // ---- Server pool (sim/world/pool-agent.ts): an agent per server sends alive signals out of band to the
  // CP's pool; the scenario's crashes silence servers. ----
  startPoolAgents({
    sched, scenario: sc, cp, toCp: (delayPs, fn) => void env.setTimer(delayPs, fn),
    servers: servers.map((http) => ({ http, link: members[SERVER_PORT].get(macKey(http.host.mac, 0))!.link })),
  });
  // ---- end of the server pool block ----

  // Clients on port 0, and the workload driver with a request budget.
  const clients: HttpClient[] = [];
  for (let i = 0; i < sc.clients.count; i++) {
    const host = new Host(sched, { name: `client${i}`, mac: mac(0, i), ip: `192.168.0.${10 + i}`, nextHopMac: PORT_MACS[CLIENT_PORT], seed: seed * 1000 + i });
    attach(CLIENT_PORT, host, linkOf(sc.clients.link, `client${i}`, seed * 1000 + 300 + i));
    const client = new HttpClient(host, { server: sc.switch.vip, port: sc.switch.service_port, keepResults: false });
    clients.push(client);
  }
  const latencies: number[] = [];
  let completed = 0, failed = 0, issued = 0, finished = 0;
  const errors: string[] = [];
  const total = sc.clients.requests;
  const perConn = sc.clients.requests_per_connection;
  const onResult = (r: HttpResult) => {
    finished++;
    if (r.ok) {
      completed++;
      latencies.push(r.latencyPs);
      bucket(sched.now).requests++;
    } else {
      failed++;
      if (errors.length < 10) errors.push(`${r.method} ${r.path}: ${r.error ?? `status ${r.status}`}`);
    }
    if (finished % 50 === 0) o.onProgress?.(finished / total);
  };
  for (const c of clients) c.onResult = onResult;
  const rng = new Random(seed ^ 0xc11e);
  const thinkPs = sc.clients.think_ms * PS_PER_MS;
  const think = () => (thinkPs > 0 ? Math.round(exponential(rng, thinkPs)) : 0);
  const startSession = (client: HttpClient, then?: () => void) => {
    if (issued >= total) return;
    const n = Math.min(perConn, total - issued);
    issued += n;
    client.session(workload.nextSession(n), () => then?.(), thinkPs > 0 ? { think } : {});
  };
  if (sc.clients.mode === "closed") {
    clients.forEach((client) => {
      const loop = () => startSession(client, () => sched.after(think(), loop));
      sched.after(rng.below(1000) * PS_PER_US / 100, loop);
    });
  } else {
    const gap = PS_PER_S / sc.clients.rate_per_s!;
    let next = 0;
    const arrive = () => {
      startSession(clients[next++ % clients.length]);
      if (issued < total) sched.after(Math.max(1, Math.round(exponential(rng, gap))), arrive);
    };
    sched.after(0, arrive);
  }

  // A SYN flood: spoofed sources on the client port, Poisson arrivals; their SYN-ACKs go nowhere.
  const flood = sc.attack;
  let floodSyns = 0;
  if (flood.syn_flood_per_s > 0) {
    const frng = new Random(seed ^ 0xf100d);
    const gapPs = PS_PER_S / flood.syn_flood_per_s;
    const stopPs = (flood.stop_ms ?? sc.duration_ms) * PS_PER_MS;
    const spoofed = () => {
      if (finished >= total || sched.now >= stopPs) return;
      const a = frng.u32();
      chip.receive(CLIENT_PORT, packet()
        .eth({ src: `02:66:${[a >>> 24, (a >>> 16) & 255, (a >>> 8) & 255, a & 255].map((b) => b.toString(16).padStart(2, "0")).join(":")}`, dst: PORT_MACS[CLIENT_PORT] })
        .ipv4({ src: `100.${64 + ((a >>> 24) & 63)}.${(a >>> 16) & 255}.${(a >>> 8) & 255}`, dst: sc.switch.vip, ttl: 64 })
        .tcp({ sport: 1024 + (frng.u32() % 60000), dport: sc.switch.service_port, seq: frng.u32(), flags: "S", win: 64240, options: [{ kind: "mss", value: 1460 }] })
        .build());
      floodSyns++;
      sched.after(Math.max(1, Math.round(exponential(frng, gapPs))), spoofed);
    };
    sched.at(flood.start_ms * PS_PER_MS, spoofed);
  }

  // Run until every request finished or the time limit; bounded in events as a guard.
  const limitPs = sc.duration_ms * PS_PER_MS;
  const maxEvents = 200_000_000;
  while (finished < total && sched.now < limitPs && sched.pending > 0 && sched.eventsRun < maxEvents) {
    sched.run(Math.min(limitPs, sched.now + 10 * PS_PER_MS));
  }
  o.onProgress?.(1);
  const endPs = sched.now;

  // Report.
  const snap = chip.snapshot();
  const seconds = endPs / PS_PER_S;
  const sorted = Float64Array.from(latencies).sort();
  const us = (ps: number) => ps / PS_PER_US;
  const npLat = Float64Array.from(snap.latencyPs).sort();
  const cpStats = cp.stats();
  const drops = { ...snap.drops };
  if (unknownMac) drops.TX_UNKNOWN_MAC = unknownMac;
  const result: SimResult = {
    scenario: sc.name,
    target: o.profile.name,
    policy: policyName,
    seed,
    simulated_seconds: round(seconds, 6),
    host_seconds: round((performance.now() - started) / 1000, 3),
    packets: snap.rxPackets,
    throughput_gbps: round(seconds ? (snap.txBytes * 8) / seconds / 1e9 : 0, 4),
    packets_per_second: round(seconds ? snap.txPackets / seconds : 0, 0),
    requests_completed: completed,
    requests_failed: failed + Math.max(0, total - finished),
    requests_per_second: round(seconds ? completed / seconds : 0, 1),
    latency_us: {
      p50: round(us(percentile(sorted, 50)), 1), p90: round(us(percentile(sorted, 90)), 1), p99: round(us(percentile(sorted, 99)), 1),
      max: round(us(sorted.length ? sorted[sorted.length - 1] : 0), 1), mean: round(us(sorted.reduce((a, b) => a + b, 0) / (sorted.length || 1)), 1),
    },
    np_latency_us: { p50: round(us(percentile(npLat, 50)), 3), p99: round(us(percentile(npLat, 99)), 3) },
    np_latency_cycles: { p50: Math.round(percentile(npLat, 50) / timing.mePsPerCycle), p99: Math.round(percentile(npLat, 99) / timing.mePsPerCycle) },
    me_utilization: snap.me.map((me) => {
      const t = me.busyPs + me.stalledPs + me.idlePs || 1;
      return { me: me.id, stage: me.stage, busy: round(me.busyPs / t, 4), stalled: round(me.stalledPs / t, 4), idle: round(me.idlePs / t, 4), packets: me.packets };
    }),
    cp_utilization: round(endPs ? Math.min(1, snap.cpBusyPs / endPs) : 0, 4),
    connections: cpStats.spliced,
    cp_packets_per_connection: round(cpStats.spliced ? snap.cpMessages / cpStats.spliced : 0, 3),
    spoofed_syns: floodSyns,
    cp_batches: snap.cpBatches,
    cp_max_batch: snap.cpMaxBatch,
    drops,
    traps: snap.traps,
    servers: servers.map((s, i) => ({
      name: `server${i}`, requests: s.counters.requests, bytes: s.counters.bytesServed,
      cache_hit_rate: round(s.counters.cacheHits / Math.max(1, s.counters.cacheHits + s.counters.cacheMisses), 4),
    })),
    cp: { ...cpStats, errors },
    placement: { by_client: sortedRecord(byClient), by_url: sortedRecord(byUrl) },
    timeline: [...timeline.entries()].sort((a, b) => a[0] - b[0]).map(([k, b]) => ({
      t_ms: round(((k + 1) * bucketPs) / PS_PER_MS, 3), gbps: round((b.bytes * 8) / (bucketPs / PS_PER_S) / 1e9, 4), requests: b.requests,
    })),
    latency_cdf: cdf(sorted).map(([x, f]) => [round(us(x), 1), round(f, 4)] as [number, number]),
  };
  const pcaps = new Map<string, Uint8Array>();
  if (captures) captures.forEach((w, port) => pcaps.set(`port${port}`, w.bytes()));
  return { result, pcaps };
}

/** A map as a plain object with its keys in order (stable JSON). */
function sortedRecord(m: Map<string, number[]>): Record<string, number[]> {
  return Object.fromEntries([...m.entries()].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)));
}
