// The flash client against a scripted device: a node:http peer speaking the management API of
// device/README.md, recording every request, with faults injected per PUT or at commit.
import { afterEach, describe, expect, it } from "vitest";
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { writeFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { DeviceClient, DeviceError } from "../../device/client/client.js";
import { backoffMs, flashImage, paceDelayMs } from "../../device/client/flash.js";
import { BIN, npswitch, tempDir } from "./cli-helpers.js";

const TOKEN = "s3cret-token";
const SESSION = "sess-1";
const IMAGE_INFO = { sha256: "ab".repeat(32), key_id: "0123456789abcdef", abi: 1, target: "ixp2400", images: [{ name: "classify", instructions: 900 }, { name: "splice", instructions: 1200 }] };

/** What a PUT should meet instead of the normal answer. */
type Fault =
  | { status: number; body: Record<string, unknown>; headers?: Record<string, string>; truncateTo?: number }
  | { destroyAfter: number } // keep this many bytes of the chunk, then reset the connection
  | { hang: true }; // never answer

interface PeerScript {
  chunkSize?: number;
  load?: number;
  /** The n-th PUT (1-based) at `offset`: a fault, or undefined for the normal answer. */
  put?(n: number, offset: number): Fault | undefined;
  commit?: { status: number; body: Record<string, unknown> };
}

interface Peer {
  url: string;
  /** "METHOD path" of every request, in order. */
  log: string[];
  puts: { offset: number; length: number }[];
  authorizations: (string | undefined)[];
  /** The bytes the device holds for the session. */
  stored(): Uint8Array;
  declared?: { size: number; sha256: string };
  close(): Promise<void>;
}

const peers: Peer[] = [];
afterEach(async () => {
  await Promise.all(peers.splice(0).map((p) => p.close()));
});

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const d of req) parts.push(d as Buffer);
  return Buffer.concat(parts);
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { "Content-Type": "application/json", ...headers });
  res.end(JSON.stringify(body));
}

async function startPeer(script: PeerScript = {}): Promise<Peer> {
  const chunkSize = script.chunkSize ?? 4096;
  const load = script.load ?? 0;
  let buf = new Uint8Array(0);
  let received = 0;
  let putCount = 0;
  const hung: ServerResponse[] = [];
  const peer: Peer = {
    url: "", log: [], puts: [], authorizations: [],
    stored: () => buf.slice(0, received),
    close: () => new Promise<void>((resolve) => { for (const r of hung) r.destroy(); server.closeAllConnections(); server.close(() => resolve()); }),
  };
  const server: Server = createServer(async (req, res) => {
    const body = await readBody(req);
    const path = req.url ?? "";
    peer.log.push(`${req.method} ${path}`);
    peer.authorizations.push(req.headers.authorization);
    if (req.headers.authorization !== `Bearer ${TOKEN}`) return send(res, 401, { error: "missing or wrong bearer token" });
    const put = path.match(/^\/v1\/flash\/([^/]+)\/(\d+)$/);
    if (req.method === "GET" && path === "/v1/status") {
      return send(res, 200, { name: "dev0", uptime_s: 12.3, load, running: { slot: "A", image: IMAGE_INFO }, slots: { A: IMAGE_INFO, B: null }, flash: null, last_flash: null, rollbacks: 0 });
    }
    if (req.method === "GET" && path === "/metrics") {
      res.writeHead(200, { "Content-Type": "text/plain; version=0.0.4" });
      return res.end("npswitch_load 0\n");
    }
    if (req.method === "POST" && path === "/v1/flash") {
      peer.declared = JSON.parse(body.toString());
      buf = new Uint8Array(peer.declared!.size);
      received = 0;
      return send(res, 201, { session: SESSION, chunk_size: chunkSize, load });
    }
    if (req.method === "PUT" && put && put[1] === SESSION) {
      const offset = Number(put[2]);
      peer.puts.push({ offset, length: body.length });
      const fault = script.put?.(++putCount, offset);
      if (fault && "hang" in fault) return void hung.push(res);
      if (fault && "destroyAfter" in fault) {
        buf.set(body.subarray(0, fault.destroyAfter), offset);
        received = offset + fault.destroyAfter;
        return void req.socket.destroy();
      }
      if (fault) {
        if (fault.truncateTo !== undefined) received = fault.truncateTo;
        return send(res, fault.status, fault.body, fault.headers);
      }
      if (offset !== received) return send(res, 409, { error: `offset ${offset} is not the ${received} bytes received`, received });
      if (body.length > chunkSize || offset + body.length > buf.length) return send(res, 400, { error: `chunk of ${body.length} bytes at ${offset} is too big` });
      buf.set(body, offset);
      received += body.length;
      return send(res, 200, { received, load });
    }
    if (req.method === "GET" && path === `/v1/flash/${SESSION}`) {
      return send(res, 200, { session: SESSION, size: buf.length, received, state: "receiving" });
    }
    if (req.method === "POST" && path === `/v1/flash/${SESSION}/commit`) {
      if (script.commit) return send(res, script.commit.status, script.commit.body);
      const sha = createHash("sha256").update(peer.stored()).digest("hex");
      if (received !== peer.declared!.size) return send(res, 422, { error: `size: got ${received} of ${peer.declared!.size}`, step: "size" });
      if (sha !== peer.declared!.sha256) return send(res, 422, { error: "sha256 mismatch", step: "hash" });
      return send(res, 200, { result: "swapped", slot: "B", image: { ...IMAGE_INFO, sha256: sha }, self_test: { passed: 42, failed: 0 }, kept_connections: true });
    }
    if (req.method === "DELETE" && path === `/v1/flash/${SESSION}`) return send(res, 200, {});
    if (req.method === "PATCH" && path.startsWith("/v1/pool/servers/")) return send(res, 200, { name: decodeURIComponent(path.split("/")[4]), ...JSON.parse(body.toString()) });
    if (req.method === "PUT" && path === "/v1/policy") {
      const p = JSON.parse(body.toString());
      return p.name === "lard" ? send(res, 200, { name: "lard" }) : send(res, 400, { error: `policy: unknown policy '${p.name}'` });
    }
    if (req.method === "POST" && path === "/v1/rollback") return send(res, 409, { error: "slot B holds no image" });
    return send(res, 404, { error: `no such endpoint ${req.method} ${path}` });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  peer.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  peers.push(peer);
  return peer;
}

/** Deterministic bytes that are not a repeating pattern (so a misplaced chunk changes the hash). */
function imageBytes(n: number, seed = 1): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

const sha = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");

function recorder() {
  const sleeps: number[] = [];
  return { sleeps, sleep: async (ms: number) => void sleeps.push(ms) };
}

const offsets = (p: Peer) => p.puts.map((x) => x.offset);
const client = (p: Peer, opts = {}) => new DeviceClient(p.url, TOKEN, opts);

describe("flashImage against a scripted device", () => {
  it("(a) uploads byte-exact in the chunk size asked, offsets in order, then commits", async () => {
    const peer = await startPeer({ chunkSize: 4096 });
    const image = imageBytes(10_000);
    const progress: number[] = [];
    const r = await flashImage(client(peer), image, { chunkSize: 1000, sleep: recorder().sleep, onProgress: (sent, total) => { expect(total).toBe(10_000); progress.push(sent); } });
    expect(peer.declared).toEqual({ size: 10_000, sha256: sha(image) });
    expect(sha(peer.stored())).toBe(sha(image));
    expect(offsets(peer)).toEqual([0, 1000, 2000, 3000, 4000, 5000, 6000, 7000, 8000, 9000]);
    expect(peer.puts.every((p) => p.length === 1000)).toBe(true);
    expect(progress).toEqual([0, 1000, 2000, 3000, 4000, 5000, 6000, 7000, 8000, 9000, 10_000]);
    expect(peer.authorizations.every((a) => a === `Bearer ${TOKEN}`)).toBe(true);
    expect(peer.log.at(-1)).toBe(`POST /v1/flash/${SESSION}/commit`);
    expect(r).toMatchObject({ result: "swapped", slot: "B", self_test: { passed: 42, failed: 0 }, kept_connections: true });
  });

  it("(a) never sends more than the device's chunk_size, even when asked to", async () => {
    const peer = await startPeer({ chunkSize: 4096 });
    const image = imageBytes(10_000, 7);
    await flashImage(client(peer), image, { chunkSize: 1 << 20, sleep: recorder().sleep });
    expect(peer.puts).toEqual([{ offset: 0, length: 4096 }, { offset: 4096, length: 4096 }, { offset: 8192, length: 1808 }]);
    expect(sha(peer.stored())).toBe(sha(image));
  });

  it("(b) on 429 waits retry_after_ms and resends the same offset", async () => {
    const peer = await startPeer({ put: (n) => (n === 2 ? { status: 429, body: { error: "device busy: load 0.95", retry_after_ms: 750 }, headers: { "Retry-After": "1" } } : undefined) });
    const { sleeps, sleep } = recorder();
    const image = imageBytes(4000);
    await flashImage(client(peer), image, { chunkSize: 1000, sleep, minDelayMs: 0, maxDelayMs: 0 });
    expect(offsets(peer)).toEqual([0, 1000, 1000, 2000, 3000]);
    expect(sleeps).toEqual([750]); // the body's retry_after_ms wins over the header; no pacing at load 0
    expect(sha(peer.stored())).toBe(sha(image));
  });

  it("(b) on 429 without retry_after_ms uses Retry-After (seconds), else backs off from 100 ms", async () => {
    const peer = await startPeer({
      put: (n) => (n === 2 ? { status: 429, body: { error: "busy" }, headers: { "Retry-After": "2" } } : n === 3 || n === 4 ? { status: 429, body: { error: "busy" } } : undefined),
    });
    const { sleeps, sleep } = recorder();
    await flashImage(client(peer), imageBytes(3000), { chunkSize: 1000, sleep, maxDelayMs: 0 });
    expect(offsets(peer)).toEqual([0, 1000, 1000, 1000, 1000, 2000]);
    expect(sleeps).toEqual([2000, 200, 400]); // third failure in a row: 100 · 2²
    expect(backoffMs(1)).toBe(100);
    expect(backoffMs(30)).toBe(5000);
  });

  it("(c) paces by load: delay = minDelayMs + load² · maxDelayMs", async () => {
    const pace = { minDelayMs: 10, maxDelayMs: 200 };
    expect(paceDelayMs(0, pace)).toBe(10);
    expect(paceDelayMs(0.5, pace)).toBe(60);
    expect(paceDelayMs(1, pace)).toBe(210);
    expect(paceDelayMs(0.9, pace)).toBeGreaterThan(paceDelayMs(0, pace));
    expect(paceDelayMs(7, pace)).toBe(210); // clamped
    expect(paceDelayMs(Number.NaN, pace)).toBe(10);

    const run = async (load: number) => {
      const peer = await startPeer({ load });
      const { sleeps, sleep } = recorder();
      await flashImage(client(peer), imageBytes(5000), { chunkSize: 1000, sleep, ...pace });
      return sleeps;
    };
    const idle = await run(0);
    const busy = await run(0.9);
    expect(idle).toHaveLength(5);
    expect(busy).toHaveLength(5);
    expect(Math.min(...busy)).toBeGreaterThan(Math.max(...idle));
    expect(busy[0]).toBeCloseTo(10 + 0.81 * 200);
  });

  it("(d) after a connection reset mid-chunk asks the session's received and resumes there", async () => {
    const peer = await startPeer({ put: (n) => (n === 3 ? { destroyAfter: 500 } : undefined) });
    const { sleeps, sleep } = recorder();
    const image = imageBytes(5000);
    await flashImage(client(peer), image, { chunkSize: 1000, sleep, maxDelayMs: 0 });
    expect(peer.log).toContain(`GET /v1/flash/${SESSION}`);
    expect(offsets(peer)).toEqual([0, 1000, 2000, 2500, 3500, 4500]);
    expect(sleeps).toEqual([100]);
    expect(sha(peer.stored())).toBe(sha(image));
  });

  it("(d) treats a chunk the device never answers as lost: times out, asks, resumes", async () => {
    const peer = await startPeer({ put: (n) => (n === 2 ? { hang: true } : undefined) });
    const image = imageBytes(3000);
    await flashImage(client(peer, { timeoutMs: 200 }), image, { chunkSize: 1000, sleep: recorder().sleep });
    expect(offsets(peer)).toEqual([0, 1000, 1000, 2000]);
    expect(peer.log.filter((l) => l === `GET /v1/flash/${SESSION}`)).toHaveLength(1);
    expect(sha(peer.stored())).toBe(sha(image));
  });

  it("(e) on 409 resumes from the device's received", async () => {
    const peer = await startPeer({ put: (n) => (n === 3 ? { status: 409, body: { error: "offset 2000 is not the 1000 bytes received", received: 1000 }, truncateTo: 1000 } : undefined) });
    const image = imageBytes(4000);
    await flashImage(client(peer), image, { chunkSize: 1000, sleep: recorder().sleep });
    expect(offsets(peer)).toEqual([0, 1000, 2000, 1000, 2000, 3000]);
    expect(sha(peer.stored())).toBe(sha(image));
  });

  it("(f) gives up after maxRetries consecutive failures: DELETEs the session, says the running image is untouched", async () => {
    const peer = await startPeer({ put: (n) => (n >= 2 ? { status: 503, body: { error: "flash store unavailable" } } : undefined) });
    const { sleeps, sleep } = recorder();
    const err = await flashImage(client(peer), imageBytes(5000), { chunkSize: 1000, sleep, maxRetries: 3, maxDelayMs: 0 }).catch((e) => e);
    expect(err).toBeInstanceOf(DeviceError);
    expect(err.message).toMatch(/4 failed requests in a row \(last: PUT \/v1\/flash\/sess-1\/1000: 503: flash store unavailable\)/);
    expect(err.message).toMatch(/1000 of 5000 bytes were sent, the upload was discarded and the running image is untouched/);
    expect(offsets(peer)).toEqual([0, 1000, 1000, 1000, 1000]);
    expect(sleeps).toEqual([100, 200, 400]);
    expect(peer.log.at(-1)).toBe(`DELETE /v1/flash/${SESSION}`);
    expect(peer.log).not.toContain(`POST /v1/flash/${SESSION}/commit`);
  });

  it("(f) an unknown or expired session is not retried", async () => {
    const peer = await startPeer({ put: (n) => (n === 2 ? { status: 404, body: { error: "session sess-1 expired" } } : undefined) });
    const err = await flashImage(client(peer), imageBytes(3000), { chunkSize: 1000, sleep: recorder().sleep }).catch((e) => e);
    expect(err.message).toMatch(/^flashing stopped: PUT \/v1\/flash\/sess-1\/1000: 404: session sess-1 expired; 1000 of 3000 bytes were sent/);
    expect(offsets(peer)).toEqual([0, 1000]);
  });

  it("(g) a refused token: the message says how to pass one, and nothing is uploaded", async () => {
    const peer = await startPeer();
    const err = await flashImage(new DeviceClient(peer.url, "wrong"), imageBytes(3000), { sleep: recorder().sleep }).catch((e) => e);
    expect(err).toBeInstanceOf(DeviceError);
    expect(err.message).toBe("POST /v1/flash: 401: the device refused the token: pass --token or set NPSWITCH_TOKEN");
    expect(peer.log).toEqual(["POST /v1/flash"]);
    expect(peer.puts).toEqual([]);
    const noToken = await new DeviceClient(peer.url).status().catch((e) => e);
    expect(noToken.message).toMatch(/refused the token: pass --token or set NPSWITCH_TOKEN/);
    expect(peer.authorizations.at(-1)).toBeUndefined();
  });

  it("(h) a refused commit names the step and the device's reason", async () => {
    const peer = await startPeer({ commit: { status: 422, body: { error: "signature by key 0123456789abcdef is not trusted", step: "signature" } } });
    const err = await flashImage(client(peer), imageBytes(3000), { sleep: recorder().sleep }).catch((e) => e);
    expect(err).toBeInstanceOf(DeviceError);
    expect(err.message).toBe("device refused the image at step signature: signature by key 0123456789abcdef is not trusted; the running image is untouched");
    expect(err.info.status).toBe(422);
    expect(peer.log.slice(-2)).toEqual([`POST /v1/flash/${SESSION}/commit`, `DELETE /v1/flash/${SESSION}`]);
  });
});

describe("DeviceClient", () => {
  it("names the device that is not there", async () => {
    const peer = await startPeer();
    const url = peer.url;
    await peers.pop()!.close();
    const err = await new DeviceClient(url, TOKEN).status().catch((e) => e);
    expect(err).toBeInstanceOf(DeviceError);
    expect(err.message).toBe(`no device at ${url}: is \`npswitch device\` running?`);
  });

  it("speaks the pool, policy and metrics endpoints; errors name endpoint, status and the device's text", async () => {
    const peer = await startPeer();
    const c = client(peer);
    expect(await c.setServer("web 1", { weight: 0 })).toEqual({ name: "web 1", weight: 0 });
    expect(peer.log.at(-1)).toBe("PATCH /v1/pool/servers/web%201");
    expect(await c.setPolicy("lard")).toEqual({ name: "lard" });
    expect(await c.metrics()).toBe("npswitch_load 0\n");
    const bad = await c.setPolicy("nope", { x: 1 }).catch((e) => e);
    expect(bad.message).toBe("PUT /v1/policy: 400: policy: unknown policy 'nope'");
    const rb = await c.rollback().catch((e) => e);
    expect(rb.message).toBe("POST /v1/rollback: 409: slot B holds no image");
  });
});

/** The CLI in a child process, asynchronously, so that the in-process peer can answer it. */
function npswitchAsync(args: string[], env: Record<string, string> = {}): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, NPSWITCH_HOME: tempDir("flash-home"), NPSWITCH_PROGRESS: "", NPSWITCH_TOKEN: "", ...env } });
    let stdout = "", stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("close", (status) => resolve({ status, stdout, stderr }));
  });
}

describe("npswitch flash", () => {
  const work = tempDir("flash");
  const home = join(work, "home");

  it("--help explains the slots, the self-test and rollback", () => {
    const r = npswitch(["flash", "--help"], { home });
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/two slots, A and B/);
    expect(r.stdout).toMatch(/self-test/);
    expect(r.stdout).toMatch(/--rollback/);
    expect(r.stdout).toMatch(/--token-file <file>/);
  });

  it("names a missing image in one line, exit 1", () => {
    const missing = join(work, "nope.npfw");
    const r = npswitch(["flash", missing, "--device", "http://127.0.0.1:9"], { home });
    expect(r.status).toBe(1);
    expect(r.stderr).toBe(`npswitch: error: ${missing}: no such file\n`);
  });

  it("flashes a file with the token from $NPSWITCH_TOKEN and prints JSON; --status prints the slots", async () => {
    const peer = await startPeer({ chunkSize: 1024 });
    const file = join(work, "fw.npfw");
    const image = imageBytes(5000, 3);
    writeFileSync(file, image);
    const r = await npswitchAsync(["flash", file, "--device", peer.url, "--chunk-size", "700", "--json"], { NPSWITCH_TOKEN: TOKEN });
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ file, bytes: 5000, result: "swapped", slot: "B", image: { sha256: sha(image) }, self_test: { passed: 42, failed: 0 } });
    expect(peer.puts.every((p) => p.length <= 700)).toBe(true);
    expect(sha(peer.stored())).toBe(sha(image));

    const tokenFile = join(work, "token");
    writeFileSync(tokenFile, `${TOKEN}\n`);
    const s = await npswitchAsync(["flash", "--status", "--device", peer.url, "--token-file", tokenFile]);
    expect(s.status).toBe(0);
    expect(s.stdout).toMatch(/^running\s+slot A, image abababababab$/m);
    expect(s.stdout).toMatch(/^slot B\s+\(empty\)$/m);

    const denied = await npswitchAsync(["flash", "--status", "--device", peer.url]);
    expect(denied.status).toBe(1);
    expect(denied.stderr).toBe("npswitch: error: GET /v1/status: 401: the device refused the token: pass --token or set NPSWITCH_TOKEN\n");
  });
});
