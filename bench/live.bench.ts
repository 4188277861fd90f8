// Live bench: wrk from the client namespace through the emulated device (`npswitch device`, VIP
// 10.90.1.100) and through HAProxy (10.90.3.100) to the same nginx servers, on the same machine
// in the same run. One small page (/index.html), 16 and 64 connections, keep-alive and "Connection:
// close"; the median of 3 runs of each, device and HAProxy alternated. Needs root, wrk, haproxy
// (see test/live/README.md); skips when they are missing.
//   npm run bench -- live
//   npx tsx bench/live.bench.ts --only haproxy   (or NPSWITCH_LIVE_ONLY=haproxy): one side only,
//                                                figures printed, no results file written
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { buildImage, HAPROXY_IP, liveSupport, startDevice, testnetUp, VIP, type RunningDevice, type Testnet } from "../test/live/net.js";
import { median, writeResult, type Figure } from "./lib/results.js";

const PREFIX = "npbench";
const UDP_BASE = 20400; // away from the live tests' default 20000
const RUNS = 3;
const WRK_ARGS = ["-t1", "-d8s", "--latency"];
/** Concurrent connections: a light load, and enough to keep every process of either path busy. */
const CONNECTIONS = [16, 64];
const PAGE = "/index.html";

const TARGETS = { device: `http://${VIP}${PAGE}`, haproxy: `http://${HAPROXY_IP}${PAGE}` } as const;
type Target = keyof typeof TARGETS;
const MODES = { "keep-alive": [], close: ["-H", "Connection: close"] } as const;
type Mode = keyof typeof MODES;

interface WrkRun {
  requestsPerSec: number;
  /** Requests wrk completed in the run. */
  requests: number;
  /** CPU time (user + system, µs) each kind of process used during the run, from /proc. */
  cpuUs: Record<string, number>;
  p50Ms: number;
  p99Ms: number;
  /** Non-2xx/3xx responses plus socket errors (connect, read, write, timeout). */
  errors: number;
  /** The same, by kind, as wrk counts them ("" when none). */
  errorKinds: string;
}

const { values } = parseArgs({ options: { only: { type: "string" } } });
const only = values.only ?? process.env.NPSWITCH_LIVE_ONLY;
if (only !== undefined && !(only in TARGETS)) {
  console.error(`live: --only must be ${Object.keys(TARGETS).join(" or ")} (got '${only}')`);
  process.exit(2);
}
const targets = (Object.keys(TARGETS) as Target[]).filter((t) => only === undefined || t === only);

const support = liveSupport(["wrk", "haproxy"]);
if (!support.ok) {
  console.log(`live: skipped, this machine lacks: ${support.missing.join(", ")}`);
  process.exit(0);
}

function latencyMs(text: string): number {
  const m = /^([\d.]+)(us|ms|s)$/.exec(text);
  if (!m) throw new Error(`wrk: cannot read latency '${text}'`);
  return Number(m[1]) * { us: 0.001, ms: 1, s: 1000 }[m[2] as "us" | "ms" | "s"];
}

function parseWrk(out: string): WrkRun {
  const rps = /^Requests\/sec:\s+([\d.]+)/m.exec(out);
  const p50 = /^\s+50%\s+(\S+)/m.exec(out);
  const p99 = /^\s+99%\s+(\S+)/m.exec(out);
  if (!rps || !p50 || !p99) throw new Error(`wrk: unexpected output:\n${out}`);
  const non2xx = /Non-2xx or 3xx responses:\s+(\d+)/.exec(out);
  const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  const kinds: [string, number][] = [["non-2xx/3xx", Number(non2xx?.[1] ?? 0)]];
  if (sock) kinds.push(["connect", Number(sock[1])], ["read", Number(sock[2])], ["write", Number(sock[3])], ["timeout", Number(sock[4])]);
  const nonzero = kinds.filter(([, n]) => n > 0);
  return {
    requestsPerSec: Number(rps[1]),
    requests: Number(/(\d+) requests in/.exec(out)?.[1] ?? 0),
    cpuUs: {},
    p50Ms: latencyMs(p50[1]),
    p99Ms: latencyMs(p99[1]),
    errors: nonzero.reduce((a, [, n]) => a + n, 0),
    errorKinds: nonzero.map(([k, n]) => `${k} ${n}`).join(", "),
  };
}

/**
 * CPU time (user + system, µs) used so far by the processes on the request path, by kind: the device
 * (by its pid), socat, nginx, haproxy (by command name; this bench's network runs the only ones).
 * The kernel's own work (softirq) is not in it.
 */
function cpuByKind(devicePid: number | undefined): Record<string, number> {
  const tick = 1e6 / 100; // USER_HZ
  const out: Record<string, number> = {};
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, "utf8");
    } catch {
      continue; // gone meanwhile
    }
    const comm = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
    const kind = Number(entry) === devicePid ? "device" : ["socat", "nginx", "haproxy"].includes(comm) ? comm : null;
    if (!kind) continue;
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    out[kind] = (out[kind] ?? 0) + (Number(f[11]) + Number(f[12])) * tick; // utime, stime (fields 14, 15)
  }
  return out;
}

async function wrk(net: Testnet, target: Target, mode: Mode, connections: number): Promise<WrkRun> {
  const before = cpuByKind(device?.pid);
  const r = await net.inClient(["wrk", ...WRK_ARGS, `-c${connections}`, ...MODES[mode], TARGETS[target]], { timeoutMs: 60_000 });
  if (r.code !== 0) throw new Error(`wrk against ${target} (${mode}) failed (${r.timedOut ? "timed out" : `exit ${r.code ?? r.signal}`}): ${r.stderr}`);
  const after = cpuByKind(device?.pid);
  const run = parseWrk(r.stdout.toString("utf8"));
  for (const k of Object.keys(after)) if (after[k] - (before[k] ?? 0) > 0) run.cpuUs[k] = after[k] - (before[k] ?? 0);
  return run;
}

/** One request through the target must reach a server before the figures mean anything. */
async function checkPath(net: Testnet, target: Target): Promise<void> {
  const r = await net.inClient(["curl", "-sS", "-m", "5", "-o", "/dev/null", "-w", "%{http_code}", TARGETS[target]], { timeoutMs: 10_000 });
  const status = r.stdout.toString("utf8");
  if (r.code !== 0 || status !== "200") throw new Error(`GET ${TARGETS[target]} through ${target}: ${status || "no answer"} ${r.stderr.trim()}`);
}

const work = mkdtempSync(join(tmpdir(), "npswitch-bench-live-"));
process.env.NPSWITCH_HOME ??= join(work, "home"); // the build signs with, and the device trusts, its development key
let net: Testnet | undefined;
let device: RunningDevice | undefined;
const runs: Record<string, WrkRun[]> = {};
try {
  const image = targets.includes("device") ? await buildImage(join(work, "fw.npfw")) : undefined;
  net = await testnetUp({ prefix: PREFIX, udpBase: UDP_BASE, haproxy: true });
  if (image) {
    try {
      device = await startDevice({ net, image, policy: { name: "round-robin" } });
    } catch (e) {
      throw new Error(`live: the device half cannot run (use --only haproxy for the HAProxy figures alone).\n${(e as Error).message}`);
    }
  }
  for (const t of targets) await checkPath(net, t);

  for (let run = 0; run < RUNS; run++) {
    for (const mode of Object.keys(MODES) as Mode[]) {
      for (const c of CONNECTIONS) {
        // Alternate who goes first, so a drift over the run (thermal, page cache) favours neither.
        const order = run % 2 === 0 ? targets : [...targets].reverse();
        for (const t of order) {
          const r = await wrk(net, t, mode, c);
          (runs[`${t} ${mode} c${c}`] ??= []).push(r);
          console.log(`run ${run + 1}/${RUNS} ${t.padEnd(7)} ${mode.padEnd(10)} c${String(c).padEnd(3)} ${r.requestsPerSec.toFixed(0).padStart(7)} req/s  p50 ${r.p50Ms.toFixed(2)} ms  p99 ${r.p99Ms.toFixed(2)} ms${r.errors ? `  errors: ${r.errorKinds}` : ""}`);
        }
      }
    }
  }
} finally {
  await device?.stop();
  await net?.down();
  rmSync(work, { recursive: true, force: true });
}

const figures: Figure[] = [];
const rows: string[][] = [["target", "mode", "conns", "req/s", "p50 ms", "p99 ms", "errors"]];
const medians: Record<string, WrkRun> = {};
const cases = (Object.keys(MODES) as Mode[]).flatMap((mode) => CONNECTIONS.map((c) => ({ mode, c, key: `${mode} c${c}` })));
for (const { mode, c, key } of cases) {
  for (const t of targets) {
    const rs = runs[`${t} ${key}`];
    const m: WrkRun = {
      requestsPerSec: median(rs.map((r) => r.requestsPerSec)),
      p50Ms: median(rs.map((r) => r.p50Ms)),
      p99Ms: median(rs.map((r) => r.p99Ms)),
      errors: rs.reduce((a, r) => a + r.errors, 0),
      errorKinds: "",
      requests: rs.reduce((a, r) => a + r.requests, 0),
      cpuUs: {},
    };
    medians[`${t} ${key}`] = m;
    rows.push([t, mode, String(c), m.requestsPerSec.toFixed(0), m.p50Ms.toFixed(2), m.p99Ms.toFixed(2), String(m.errors)]);
    figures.push({ name: `${t} ${key} requests`, value: Math.round(m.requestsPerSec), unit: "req/s" });
    figures.push({ name: `${t} ${key} p99 latency`, value: Number(m.p99Ms.toFixed(3)), unit: "ms" });
  }
}
const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
console.log(`\nwrk ${WRK_ARGS.join(" ")} ${PAGE}, median of ${RUNS} runs (errors: summed)`);
for (const r of rows) console.log(r.map((v, c) => (c < 2 ? v.padEnd(widths[c]) : v.padStart(widths[c]))).join("  "));
console.log(`errors: wrk's socket errors (connect/read/write/timeout) and non-2xx answers`);

// Where the CPU goes: µs of CPU per request by process kind, over all runs of a case.
const kinds = ["device", "socat", "haproxy", "nginx"];
const cpuRows: string[][] = [["target", "mode", "conns", ...kinds.map((k) => `${k} µs/req`)]];
for (const { mode, c, key } of cases) {
  for (const t of targets) {
    const rs = runs[`${t} ${key}`];
    const requests = rs.reduce((a, r) => a + r.requests, 0);
    const per = (k: string) => rs.reduce((a, r) => a + (r.cpuUs[k] ?? 0), 0) / Math.max(1, requests);
    cpuRows.push([t, mode, String(c), ...kinds.map((k) => per(k).toFixed(1))]);
    for (const k of kinds) if (per(k) > 0) figures.push({ name: `${t} ${key} ${k} CPU per request`, value: Number(per(k).toFixed(1)), unit: "µs" });
  }
}
const cw = cpuRows[0].map((_, c) => Math.max(...cpuRows.map((r) => r[c].length)));
console.log(`\nCPU per request (user + system of each process kind, from /proc; kernel softirq not included)`);
for (const r of cpuRows) console.log(r.map((v, c) => (c < 2 ? v.padEnd(cw[c]) : v.padStart(cw[c]))).join("  "));

if (targets.length < 2) {
  console.log(`\nonly ${targets[0]} measured: no device/HAProxy ratio, no results file written`);
} else {
  for (const { key } of cases) {
    const ratio = medians[`device ${key}`].requestsPerSec / medians[`haproxy ${key}`].requestsPerSec;
    console.log(`device/HAProxy ${key}: ${ratio.toFixed(2)}x requests/s`);
    figures.push({ name: `device/HAProxy ${key} requests`, value: Number(ratio.toFixed(3)), unit: "ratio" });
  }
  console.log(`wrote ${writeResult("live", figures, { wrk: WRK_ARGS, connections: CONNECTIONS, page: PAGE, runs })}`);
}
