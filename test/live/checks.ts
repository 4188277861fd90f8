// Helpers of the live device tests (test/live/*.live.test.ts): the gate (a loud skip, or a failure under
// CI), a temporary NPSWITCH_HOME, curl and wrk in the client namespace with per-request results, and a
// tshark capture on the client TAP read back with the expert checks of the issue.
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "vitest";
import { liveSupport, run, VIP, type Testnet } from "./net.js";

export const sha256 = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");

// ---- the gate --------------------------------------------------------------------------------

/**
 * describe() when this machine can run live tests (liveSupport plus `needs`). Otherwise: under CI (any
 * non-empty $CI) one failing test naming what is missing; elsewhere a skip with one loud warning line.
 */
export function describeLive(name: string, needs: string[], body: () => void): void {
  const support = liveSupport(needs);
  if (support.ok) return void describe(name, body);
  const missing = support.missing.join(", ");
  if (process.env.CI) {
    describe(name, () => {
      it("has what the live tests need", () => {
        throw new Error(`live tests cannot run and CI is set: missing ${missing}`);
      });
    });
    return;
  }
  console.warn(`LIVE TESTS SKIPPED: missing ${missing}`);
  describe.skip(name, body);
}

/**
 * Points NPSWITCH_HOME at `dir` for this test process (vitest forks one per file), so that the images
 * built here are signed by a fresh development key and the device, spawned with this environment,
 * trusts exactly that key. Returns the undo.
 */
export function useHome(dir: string): () => void {
  const previous = process.env.NPSWITCH_HOME;
  process.env.NPSWITCH_HOME = dir;
  return () => {
    if (previous === undefined) delete process.env.NPSWITCH_HOME;
    else process.env.NPSWITCH_HOME = previous;
  };
}

// ---- curl ------------------------------------------------------------------------------------

/** afterAll of a live file: stop the device, take the network down, restore NPSWITCH_HOME, remove the work dir — each even when the one before failed. */
export async function tearDownLive(o: { dev?: { stop(): Promise<void> }; net?: { down(): Promise<void> }; restoreHome?: () => void; dir?: string }): Promise<void> {
  try {
    await o.dev?.stop();
  } finally {
    try {
      await o.net?.down();
    } finally {
      o.restoreHome?.();
      if (o.dir) rmSync(o.dir, { recursive: true, force: true });
    }
  }
}

export interface HttpCall {
  /** Path on the VIP, e.g. "/index.html". */
  path: string;
  /** A file whose bytes are POSTed (application/octet-stream). */
  postFile?: string;
  headers?: string[];
}

export interface Transfer {
  path: string;
  /** curl's exit code for this transfer: 0 complete, 56 reset, 28 timed out...; -1 when curl reported nothing. */
  exit: number;
  /** HTTP status; 0 when none came. */
  status: number;
  /** Connections this transfer opened: 0 when it reused one. */
  connects: number;
  /** The X-Backend header ("" when none). */
  backend: string;
  body: Buffer;
  /** curl's error text for this transfer. */
  error: string;
}

export interface CurlOptions {
  /** Run the calls in parallel, at most this many at a time, each opening its connection at once. */
  parallel?: number;
  /** For the whole curl run; default 60 s. */
  timeoutMs?: number;
}

const FIELD_SEP = "\t";

/**
 * One curl process in the client namespace for all `calls` (in order, so sequential calls share a
 * keep-alive connection; or in parallel), with every transfer's outcome: exit code, status, new
 * connections, X-Backend and body.
 */
export async function curl(net: Testnet, calls: HttpCall[], opts: CurlOptions = {}): Promise<Transfer[]> {
  const timeoutMs = opts.timeoutMs ?? 60_000;
  const dir = mkdtempSync(join(tmpdir(), `npswitch-curl-${net.prefix}-`));
  try {
    // One config group per call ("next" separates them): options are per transfer, the connection cache is shared.
    const groups = calls.map((c, i) => {
      const lines = [
        `url = "http://${VIP}${c.path}"`,
        `output = "${join(dir, `body-${i}`)}"`,
        `max-time = ${Math.max(1, Math.floor(timeoutMs / 1000) - 2)}`,
        "connect-timeout = 5",
        `write-out = "${[i, "%{exitcode}", "%{http_code}", "%{num_connects}", "%header{x-backend}", "%{errormsg}"].join("\\t")}\\n"`,
      ];
      for (const h of c.headers ?? []) lines.push(`header = "${h}"`);
      if (c.postFile) lines.push(`data-binary = "@${c.postFile}"`, 'header = "Content-Type: application/octet-stream"');
      return lines.join("\n");
    });
    const config = join(dir, "curl.config");
    writeFileSync(config, groups.join("\nnext\n") + "\n");
    const parallel = opts.parallel ? ["--parallel", "--parallel-immediate", "--parallel-max", String(opts.parallel)] : [];
    const r = await net.inClient(["curl", "-sS", ...parallel, "-K", config], { timeoutMs });
    const reported = new Map<number, string[]>();
    for (const line of r.stdout.toString("utf8").split("\n")) {
      const f = line.split(FIELD_SEP);
      if (f.length >= 6 && /^\d+$/.test(f[0])) reported.set(Number(f[0]), f);
    }
    const why = r.timedOut ? `curl killed after ${timeoutMs} ms` : `curl exit ${r.code ?? r.signal}: ${r.stderr.trim().split("\n").slice(-3).join(" | ")}`;
    return calls.map((c, i) => {
      const f = reported.get(i);
      const file = join(dir, `body-${i}`);
      const body = existsSync(file) ? readFileSync(file) : Buffer.alloc(0);
      if (!f) return { path: c.path, exit: -1, status: 0, connects: 0, backend: "", body, error: `no report for this transfer (${why})` };
      return { path: c.path, exit: Number(f[1]), status: Number(f[2]), connects: Number(f[3]), backend: f[4].trim(), body, error: f.slice(5).join(" ").trim() };
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The transfers that did not complete with `status`, one line each (for assertion messages). */
export function failedTransfers(ts: Transfer[], status = 200): string[] {
  return ts.filter((t) => t.exit !== 0 || t.status !== status).map((t) => `${t.path}: exit ${t.exit}, status ${t.status}, backend '${t.backend}': ${t.error}`);
}

/** The body of /index.html names the server that answered, as X-Backend does: "web<i>\n". */
export function indexBodyMatches(t: Transfer): boolean {
  return /^web\d+$/.test(t.backend) && t.body.toString("utf8") === `${t.backend}\n`;
}

// ---- wrk -------------------------------------------------------------------------------------

export interface WrkSummary {
  requests: number;
  connectErrors: number;
  readErrors: number;
  writeErrors: number;
  timeouts: number;
  /** Responses with a status outside 2xx/3xx. */
  badStatus: number;
}

// wrk's done() hook: its counters, one line, whatever it prints otherwise.
const WRK_REPORT = `done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("WRK %d %d %d %d %d %d\\n", summary.requests, e.connect, e.read, e.write, e.timeout, e.status))
end
`;

/** wrk against the VIP from the client namespace: keep-alive connections, `seconds` long. */
export async function wrk(net: Testnet, path: string, o: { connections: number; seconds: number; threads?: number }): Promise<WrkSummary> {
  const dir = mkdtempSync(join(tmpdir(), `npswitch-wrk-${net.prefix}-`));
  try {
    const script = join(dir, "report.lua");
    writeFileSync(script, WRK_REPORT);
    const threads = Math.min(o.threads ?? 1, o.connections);
    const cmd = ["wrk", "-t", String(threads), "-c", String(o.connections), "-d", `${o.seconds}s`, "--timeout", "5s", "-s", script, `http://${VIP}${path}`];
    const r = await net.inClient(cmd, { timeoutMs: (o.seconds + 30) * 1000 });
    const out = r.stdout.toString("utf8");
    const m = /^WRK (\d+) (\d+) (\d+) (\d+) (\d+) (\d+)$/m.exec(out);
    if (r.code !== 0 || !m) throw new Error(`wrk failed (exit ${r.code ?? r.signal}${r.timedOut ? ", timed out" : ""}):\n${out}${r.stderr}`);
    const [requests, connectErrors, readErrors, writeErrors, timeouts, badStatus] = m.slice(1).map(Number);
    return { requests, connectErrors, readErrors, writeErrors, timeouts, badStatus };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// ---- capture ---------------------------------------------------------------------------------

const CAPTURE_START_TIMEOUT_MS = 15_000;
const CAPTURE_STOP_TIMEOUT_MS = 10_000;

export interface Capture {
  file: string;
  /** Ends the capture (SIGINT, SIGKILL past a bound); resolves with tshark's own count of dropped packets, when it said. */
  stop(): Promise<{ dropped: number | null; stderr: string }>;
}

/** tshark on the client TAP (`<prefix>c0`) in the client namespace, writing `file`; resolves once it captures. */
export async function startCapture(net: Testnet, file: string): Promise<Capture> {
  const child = spawn("ip", ["netns", "exec", `${net.prefix}-client`, "tshark", "-q", "-i", `${net.prefix}c0`, "-B", "64", "-w", file], {
    detached: true,
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  let exited = false;
  const exit = new Promise<void>((resolve) => {
    child.on("close", () => {
      exited = true;
      resolve();
    });
    child.on("error", (e) => {
      stderr += e.message;
      exited = true;
      resolve();
    });
  });
  const capturing = new Promise<boolean>((resolve) => {
    child.stderr!.on("data", (b: Buffer) => {
      stderr += b.toString("utf8");
      if (stderr.includes("Capturing on")) resolve(true);
    });
    void exit.then(() => resolve(false));
    setTimeout(() => resolve(false), CAPTURE_START_TIMEOUT_MS);
  });
  const kill = (signal: NodeJS.Signals, group: boolean) => {
    try {
      process.kill(group ? -child.pid! : child.pid!, signal);
    } catch {
      // already gone
    }
  };
  const waitExit = (ms: number) => Promise.race([exit.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), ms))]);
  const stop = async () => {
    if (!exited) {
      kill("SIGINT", false); // `ip netns exec` exec'd tshark: this is tshark, which stops its dumpcap and flushes the file
      if (!(await waitExit(CAPTURE_STOP_TIMEOUT_MS))) {
        kill("SIGKILL", true);
        await waitExit(CAPTURE_STOP_TIMEOUT_MS);
      }
    }
    const m = /(\d+) packets? dropped/.exec(stderr);
    return { dropped: m ? Number(m[1]) : null, stderr };
  };
  if (!(await capturing)) {
    await stop();
    throw new Error(`tshark did not start capturing on ${net.prefix}c0:\n${stderr.trim()}`);
  }
  return { file, stop };
}

/**
 * The issue's wire checks: bad IP or TCP checksums, "ACKed unseen segment", "previous segment not captured".
 * One exception: tshark calls a TCP checksum of 0xFFFF where it computes 0x0000 bad (RFC 1624: both
 * are ones'-complement zero, and receivers accept either). The client's own Linux stack sends one now
 * and then (seen: a pure ACK of a 10 MiB download); frames the device sends (from the VIP) get no such pass.
 */
export const WIRE_PROBLEMS_FILTER =
  "(tcp.checksum.status == 0 && !(tcp.checksum.ffff && ip.src == 10.90.1.10)) || ip.checksum.status == 0 || tcp.analysis.ack_lost_segment || tcp.analysis.lost_segment";

export interface CaptureReport {
  frames: number;
  /** Summary lines of the frames matching WIRE_PROBLEMS_FILTER (checksums verified). */
  problems: string[];
  http200: number;
  /** For the record: segments tshark calls out of order, and retransmissions. */
  outOfOrder: number;
  retransmissions: number;
}

async function framesMatching(file: string, filter: string | null): Promise<string[]> {
  const cmd = ["tshark", "-r", file, "-o", "tcp.check_checksum:TRUE", "-o", "ip.check_checksum:TRUE"];
  if (filter) cmd.push("-Y", filter);
  const r = await run(cmd, { timeoutMs: 120_000 });
  if (r.code !== 0) throw new Error(`tshark -r ${file}${filter ? ` -Y '${filter}'` : ""} failed (exit ${r.code ?? r.signal}):\n${r.stderr}`);
  return r.stdout.toString("utf8").split("\n").filter((l) => l.trim() !== "");
}

/** Reads a capture back with tshark: its size, the wire problems, and the HTTP 200 responses in it. */
export async function readCapture(file: string): Promise<CaptureReport> {
  const [all, problems, http200, outOfOrder, retransmissions] = await Promise.all([
    framesMatching(file, null),
    framesMatching(file, WIRE_PROBLEMS_FILTER),
    framesMatching(file, "http.response.code == 200"),
    framesMatching(file, "tcp.analysis.out_of_order"),
    framesMatching(file, "tcp.analysis.retransmission || tcp.analysis.fast_retransmission"),
  ]);
  return { frames: all.length, problems, http200: http200.length, outOfOrder: outOfOrder.length, retransmissions: retransmissions.length };
}
