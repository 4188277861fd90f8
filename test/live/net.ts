// The live test network for live tests and benches: builds it with scripts/testnet.sh (namespaces,
// socat TAPs, nginx servers, HAProxy), runs commands inside its namespaces, kills and restarts
// backends, and starts `npswitch device` on it. Every child process has a timeout and is killed by
// its process-group id when it runs past it.
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { accessSync, constants, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parse, stringify } from "yaml";

export const REPO_ROOT = fileURLToPath(new URL("../../", import.meta.url));
export const TESTNET_SCRIPT = join(REPO_ROOT, "scripts/testnet.sh");
const NPSWITCH_BIN = join(REPO_ROOT, "bin/npswitch.js");
const RUN_BASE = process.env.NPSWITCH_TESTNET_RUN || "/run/npswitch-testnet";

/** The addresses scripts/testnet.sh gives the network (see the comment at its top). */
export const VIP = "10.90.1.100";
export const HAPROXY_IP = "10.90.3.100";
export const serverIp = (i: number) => `10.90.2.${10 + i}`;

const DEFAULT_TIMEOUT_MS = 30_000;
const TESTNET_TIMEOUT_MS = 90_000;
const DEVICE_READY_TIMEOUT_MS = 60_000;
const STOP_GRACE_MS = 5_000;
const MAX_OUTPUT_CHARS = 1 << 20; // of device output kept for output()

// ---- support ---------------------------------------------------------------------------------

const REQUIRED_COMMANDS = ["ip", "socat", "nginx", "curl", "openssl", "setsid"];

function onPath(command: string): boolean {
  return (process.env.PATH ?? "").split(delimiter).some((dir) => {
    try {
      accessSync(join(dir, command), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/** Whether this machine can build the live network; `extra` names further commands a caller needs (wrk, haproxy). */
export function liveSupport(extra: string[] = []): { ok: boolean; missing: string[] } {
  const missing: string[] = [];
  if (process.getuid?.() !== 0) missing.push("root");
  if (!existsSync("/dev/net/tun")) missing.push("/dev/net/tun");
  for (const c of [...REQUIRED_COMMANDS, ...extra]) if (!onPath(c)) missing.push(c);
  return { ok: missing.length === 0, missing };
}

// ---- child processes -------------------------------------------------------------------------

export interface RunOptions {
  timeoutMs?: number;
  input?: Buffer;
}

export interface RunResult {
  /** Exit code; null when killed by a signal (see `signal`, `timedOut`). */
  code: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  stdout: Buffer;
  stderr: string;
}

/** Runs cmd to completion in its own process group; past the timeout the group gets SIGKILL. */
export function run(cmd: string[], opts: RunOptions = {}): Promise<RunResult> {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  return new Promise((resolvePromise, reject) => {
    const child = spawn(cmd[0], cmd.slice(1), { detached: true, stdio: [opts.input ? "pipe" : "ignore", "pipe", "pipe"] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup(child.pid, "SIGKILL");
    }, timeoutMs);
    child.stdout!.on("data", (b: Buffer) => out.push(b));
    child.stderr!.on("data", (b: Buffer) => err.push(b));
    child.on("error", (e) => {
      clearTimeout(timer);
      reject(new Error(`${cmd[0]}: ${e.message}`));
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolvePromise({ code, signal, timedOut, stdout: Buffer.concat(out), stderr: Buffer.concat(err).toString("utf8") });
    });
    if (opts.input) {
      child.stdin!.on("error", () => {}); // the command may exit without reading all of it
      child.stdin!.end(opts.input);
    }
  });
}

function killGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, signal);
  } catch {
    // already gone
  }
}

/** Runs cmd and throws, with its stderr, unless it exits 0. */
async function runOk(cmd: string[], what: string, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<RunResult> {
  const r = await run(cmd, { timeoutMs });
  if (r.code !== 0) {
    const why = r.timedOut ? `timed out after ${timeoutMs} ms` : `exit ${r.code ?? r.signal}`;
    throw new Error(`${what} failed (${why}):\n${(r.stderr + r.stdout.toString("utf8")).trim()}`);
  }
  return r;
}

// ---- the network -----------------------------------------------------------------------------

export interface TestnetOptions {
  prefix: string;
  servers?: number;
  udpBase?: number;
  haproxy?: boolean;
}

export interface Testnet {
  prefix: string;
  servers: number;
  udpBase: number;
  /** The script's run directory: logs, configs, /static content. */
  runDir: string;
  /** The device config fragment (switch, ports, servers) for this network. */
  deviceConfigPath: string;
  /** sha256 (hex) of /static/big.bin, the same on every server. */
  bigBinSha256: string;
  /** Runs cmd in the client namespace (the device's port 0 side, and HAProxy's client). */
  inClient(cmd: string[], opts?: RunOptions): Promise<RunResult>;
  /** Runs cmd in a namespace of this network: "client", "lan", "haproxy", "web1".. or a full name. */
  inNs(ns: string, cmd: string[], opts?: RunOptions): Promise<RunResult>;
  /** Tears the network down; safe to call more than once. */
  down(): Promise<void>;
}

export async function testnetUp(opts: TestnetOptions): Promise<Testnet> {
  const servers = opts.servers ?? 3;
  const udpBase = opts.udpBase ?? 20000;
  const dir = mkdtempSync(join(tmpdir(), `npswitch-testnet-${opts.prefix}-`));
  const deviceConfigPath = join(dir, "device.yaml");
  const runDir = join(RUN_BASE, opts.prefix);
  const down = async () => {
    await runOk([TESTNET_SCRIPT, "down", "--prefix", opts.prefix], `testnet down ${opts.prefix}`);
    rmSync(dir, { recursive: true, force: true });
  };
  const args = ["up", "--prefix", opts.prefix, "--servers", String(servers), "--udp-base", String(udpBase), "--device-config", deviceConfigPath];
  if (opts.haproxy) args.push("--with-haproxy");
  try {
    await runOk([TESTNET_SCRIPT, ...args], `testnet up ${opts.prefix}`, TESTNET_TIMEOUT_MS);
  } catch (e) {
    // The script cleans up after its own failures, but not when it was killed at the timeout.
    // Only when this call created the prefix: "already in use" must not tear down someone else's.
    if (!String(e).includes("is in use")) await down().catch(() => {});
    throw e;
  }
  const nsName = (ns: string) => (ns.startsWith(`${opts.prefix}-`) ? ns : `${opts.prefix}-${ns}`);
  const inNs = (ns: string, cmd: string[], o?: RunOptions) => run(["ip", "netns", "exec", nsName(ns), ...cmd], o);
  return {
    prefix: opts.prefix,
    servers,
    udpBase,
    runDir,
    deviceConfigPath,
    bigBinSha256: readFileSync(join(runDir, "big.bin.sha256"), "utf8").trim(),
    inClient: (cmd, o) => inNs("client", cmd, o),
    inNs,
    down,
  };
}

/**
 * SIGKILLs server i's nginx, master first (so it cannot respawn them) then its workers: the server
 * dies as if it crashed. The kernel closes its sockets: an idle keep-alive connection gets a FIN;
 * a response being sent stops short (the bytes already in the socket buffer, then a FIN: a
 * truncated body, not a RST); a connection with unread request bytes gets a RST; later segments
 * and new SYNs are answered with a RST. The echo server behind nginx keeps running.
 */
export async function killBackend(prefix: string, i: number): Promise<void> {
  await runOk([TESTNET_SCRIPT, "kill-backend", "--prefix", prefix, "--server", String(i)], `kill web${i}`);
}

/** Starts server i's nginx again (same config and content); resolves once it answers on :80. */
export async function restartBackend(prefix: string, i: number): Promise<void> {
  await runOk([TESTNET_SCRIPT, "start-backend", "--prefix", prefix, "--server", String(i)], `restart web${i}`);
}

// ---- the device ------------------------------------------------------------------------------

/** Builds a signed firmware image with the CLI (signed by $NPSWITCH_HOME's development key). */
export async function buildImage(out: string): Promise<string> {
  await runOk([process.execPath, NPSWITCH_BIN, "build", "-o", out], "npswitch build", 300_000);
  return out;
}

export interface DeviceOptions {
  net: Testnet;
  /** Firmware image to run (see buildImage). */
  image: string;
  policy?: { name: string; params?: Record<string, unknown> };
  /** Further top-level config keys (cp, management limits, ...). */
  extra?: Record<string, unknown>;
  readyTimeoutMs?: number;
}

export interface RunningDevice {
  pid: number;
  configPath: string;
  /** http://127.0.0.1:<port> of the management API, and its bearer token. */
  managementUrl: string;
  token: string;
  /** Everything the device printed so far (stdout and stderr). */
  output(): string;
  /** SIGTERM, then SIGKILL after 5 s; resolves when it has exited. */
  stop(): Promise<void>;
}

async function freeLoopbackPort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const srv = createServer();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolvePort(port));
    });
  });
}

/**
 * Starts `npswitch device` on the network: the network's config fragment plus image, state_dir,
 * management (a free loopback port, a fresh token) and policy. Resolves when the device prints a
 * line starting with "ready"; rejects, with its output, if it exits first or stays silent too long.
 */
export async function startDevice(opts: DeviceOptions): Promise<RunningDevice> {
  const dir = mkdtempSync(join(tmpdir(), `npswitch-device-${opts.net.prefix}-`));
  const token = randomBytes(16).toString("hex");
  const tokenFile = join(dir, "token");
  writeFileSync(tokenFile, token + "\n", { mode: 0o600 });
  mkdirSync(join(dir, "state"));
  const port = await freeLoopbackPort();
  const config = {
    ...parse(readFileSync(opts.net.deviceConfigPath, "utf8")),
    image: opts.image,
    state_dir: join(dir, "state"),
    management: { listen: `127.0.0.1:${port}`, token_file: tokenFile },
    policy: opts.policy ?? { name: "round-robin" },
    ...opts.extra,
  };
  const configPath = join(dir, "device.yaml");
  writeFileSync(configPath, stringify(config));

  const child = spawn(process.execPath, [NPSWITCH_BIN, "device", "--config", configPath], {
    cwd: REPO_ROOT,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  const append = (s: string) => {
    output += s;
    if (output.length > MAX_OUTPUT_CHARS) output = output.slice(-MAX_OUTPUT_CHARS / 2);
  };
  let exited: string | null = null;
  const exitedPromise = new Promise<void>((resolveExit) => {
    child.on("exit", (code, signal) => {
      exited = `exit ${code ?? signal}`;
      resolveExit();
    });
    child.on("error", (e) => {
      exited = e.message;
      resolveExit();
    });
  });
  const kill = async () => {
    if (exited !== null) return;
    killGroup(child.pid, "SIGTERM");
    const timer = setTimeout(() => killGroup(child.pid, "SIGKILL"), STOP_GRACE_MS);
    await exitedPromise;
    clearTimeout(timer);
  };
  const stop = async () => {
    await kill();
    rmSync(dir, { recursive: true, force: true });
  };

  const readyTimeoutMs = opts.readyTimeoutMs ?? DEVICE_READY_TIMEOUT_MS;
  try {
    await new Promise<void>((resolveReady, reject) => {
      let line = "";
      const timer = setTimeout(() => reject(new Error(`it printed no line starting with "ready" within ${readyTimeoutMs / 1000} s`)), readyTimeoutMs);
      child.stdout!.on("data", (b: Buffer) => {
        const s = b.toString("utf8");
        append(s);
        line += s;
        const lines = line.split("\n");
        line = lines.pop()!;
        if (lines.some((l) => l.startsWith("ready"))) {
          clearTimeout(timer);
          resolveReady();
        }
      });
      child.stderr!.on("data", (b: Buffer) => append(b.toString("utf8")));
      void exitedPromise.then(() => {
        clearTimeout(timer);
        reject(new Error(`it ended (${exited}) before printing "ready"`));
      });
    });
  } catch (e) {
    await kill(); // the config and state stay in place for a look
    const tail = output.trim().split("\n").slice(-20).join("\n");
    throw new Error(`npswitch device did not start: ${(e as Error).message}\nconfig: ${configPath}\n${tail ? `output:\n${tail}` : "no output"}`);
  }
  return { pid: child.pid!, configPath, managementUrl: `http://127.0.0.1:${port}`, token, output: () => output, stop };
}
