// A typed client for the emulated device's management API (device/README.md): bearer token,
// one request per call over node:http, each bounded by a timeout; every failure is a DeviceError.
import { request as httpRequest, type IncomingHttpHeaders } from "node:http";
import { request as httpsRequest } from "node:https";
import { NpswitchError } from "../../lib/errors.js";

export const DEFAULT_DEVICE_URL = "http://127.0.0.1:9180";
/** A request the device does not answer within this is abandoned (a stuck device must not hang the CLI). */
export const DEFAULT_TIMEOUT_MS = 10_000;
/** Commit verifies the image and runs the whole self-test before it answers, so it gets longer. */
export const DEFAULT_COMMIT_TIMEOUT_MS = 120_000;
/** No answer of this API is anywhere near this; a bigger one is not the device. */
const MAX_ANSWER_BYTES = 32 * 1024 * 1024;

export type Slot = "A" | "B";

/** A firmware image as the device describes it (status, commit, rollback). */
export interface ImageInfo {
  sha256: string;
  key_id: string;
  abi: number;
  target: string;
  images: { name: string; instructions: number }[];
}

export interface FlashSessionStatus {
  session: string;
  size: number;
  received: number;
  state: string;
}

/** What the device recorded about the last flash; the spec names only `rolled_back`. */
export interface LastFlash {
  rolled_back?: unknown;
  [field: string]: unknown;
}

export interface DeviceStatus {
  name: string;
  uptime_s: number;
  /** Share of the last second spent processing packets, 0..1. */
  load: number;
  running: { slot: Slot; image: ImageInfo };
  slots: { A: ImageInfo | null; B: ImageInfo | null };
  flash: FlashSessionStatus | null;
  last_flash: LastFlash | null;
  rollbacks: number;
}

export interface FlashOpened {
  session: string;
  chunk_size: number;
  load: number;
}

export interface ChunkAccepted {
  received: number;
  load: number;
  retry_after_ms?: number;
}

export interface CommitResult {
  result: "swapped";
  slot: Slot;
  /** The spec leaves its shape open: the status's image object, or (tolerated) its sha256. */
  image: ImageInfo | string;
  self_test: { passed: number; failed: number };
  kept_connections: boolean;
}

export interface RollbackResult {
  slot: Slot;
  image: ImageInfo | string;
}

/** A server to add, in the API's field names (`name, ip, mac, port, tcp_port, weight, ...`). */
export interface ServerSpec {
  name: string;
  ip: string;
  mac: string;
  port: number;
  tcp_port: number;
  weight?: number;
  [field: string]: unknown;
}

/** A server as the device shows it; the spec does not fix its fields beyond the name. */
export interface ServerView {
  name: string;
  [field: string]: unknown;
}

export interface DeviceClientOptions {
  /** Per-request timeout (ms); default DEFAULT_TIMEOUT_MS. */
  timeoutMs?: number;
  /** Timeout for the commit request (ms); default DEFAULT_COMMIT_TIMEOUT_MS. */
  commitTimeoutMs?: number;
}

/** How a request failed: the device answered with an error status, the connection failed, or no answer in time. */
export type DeviceFailure = "http" | "network" | "timeout";

/** A failed management request. The message names the endpoint, the status and the device's `error` text. */
export class DeviceError extends NpswitchError {
  constructor(
    message: string,
    readonly info: {
      failure: DeviceFailure;
      /** "PUT /v1/flash/<session>/<offset>" */
      endpoint: string;
      status?: number;
      /** The device's JSON answer, when it sent one. */
      body?: Record<string, unknown>;
      /** From the answer's `retry_after_ms`, else its Retry-After header. */
      retryAfterMs?: number;
    },
    details: string[] = [],
  ) {
    super(message, details);
    this.name = "DeviceError";
  }

  get status(): number | undefined {
    return this.info.status;
  }
}

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
}

interface Call {
  method: string;
  path: string;
  json?: unknown;
  bytes?: Uint8Array;
  timeoutMs?: number;
}

export class DeviceClient {
  readonly url: string;
  private readonly base: URL;
  private readonly timeoutMs: number;
  private readonly commitTimeoutMs: number;

  constructor(url: string = DEFAULT_DEVICE_URL, private readonly token?: string, opts: DeviceClientOptions = {}) {
    let base: URL;
    try {
      base = new URL(url);
    } catch {
      throw new NpswitchError(`device URL '${url}' is not a URL: use http://HOST:PORT`);
    }
    if (base.protocol !== "http:" && base.protocol !== "https:") throw new NpswitchError(`device URL '${url}' is not http:// or https://`);
    this.base = base;
    this.url = base.origin;
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.commitTimeoutMs = opts.commitTimeoutMs ?? DEFAULT_COMMIT_TIMEOUT_MS;
  }

  status(): Promise<DeviceStatus> {
    return this.json({ method: "GET", path: "/v1/status" });
  }

  async metrics(): Promise<string> {
    return (await this.call({ method: "GET", path: "/metrics" })).text;
  }

  pool(): Promise<ServerView[]> {
    return this.json({ method: "GET", path: "/v1/pool" });
  }

  setServer(name: string, change: { weight?: number; up?: boolean }): Promise<ServerView> {
    return this.json({ method: "PATCH", path: `/v1/pool/servers/${encodeURIComponent(name)}`, json: change });
  }

  drain(name: string): Promise<ServerView> {
    return this.json({ method: "POST", path: `/v1/pool/servers/${encodeURIComponent(name)}/drain`, json: {} });
  }

  addServer(cfg: ServerSpec): Promise<ServerView> {
    return this.json({ method: "POST", path: "/v1/pool/servers", json: cfg });
  }

  removeServer(name: string): Promise<{ removed: boolean }> {
    return this.json({ method: "DELETE", path: `/v1/pool/servers/${encodeURIComponent(name)}` });
  }

  policy(): Promise<{ name: string }> {
    return this.json({ method: "GET", path: "/v1/policy" });
  }

  setPolicy(name: string, params?: Record<string, unknown>): Promise<{ name: string }> {
    return this.json({ method: "PUT", path: "/v1/policy", json: params === undefined ? { name } : { name, params } });
  }

  rollback(): Promise<RollbackResult> {
    return this.json({ method: "POST", path: "/v1/rollback", json: {} });
  }

  // The flash session, one call per endpoint; device/client/flash.ts drives them.

  openFlash(size: number, sha256: string): Promise<FlashOpened> {
    return this.json({ method: "POST", path: "/v1/flash", json: { size, sha256 } });
  }

  putChunk(session: string, offset: number, bytes: Uint8Array): Promise<ChunkAccepted> {
    return this.json({ method: "PUT", path: `${sessionPath(session)}/${offset}`, bytes });
  }

  flashSession(session: string): Promise<FlashSessionStatus> {
    return this.json({ method: "GET", path: sessionPath(session) });
  }

  commitFlash(session: string): Promise<CommitResult> {
    return this.json({ method: "POST", path: `${sessionPath(session)}/commit`, json: {}, timeoutMs: this.commitTimeoutMs });
  }

  async abortFlash(session: string): Promise<void> {
    await this.call({ method: "DELETE", path: sessionPath(session) });
  }

  // ----------------------------------------------------------------------------------------------

  private async json<T>(c: Call): Promise<T> {
    const a = await this.call(c);
    try {
      return JSON.parse(a.text) as T;
    } catch {
      throw new DeviceError(`${c.method} ${c.path}: ${a.status} answer is not JSON: ${firstLine(a.text)}`, {
        failure: "http", endpoint: `${c.method} ${c.path}`, status: a.status,
      });
    }
  }

  /** One request; resolves with any 2xx answer, throws DeviceError for everything else. */
  private async call(c: Call): Promise<Answer> {
    const endpoint = `${c.method} ${c.path}`;
    const timeoutMs = c.timeoutMs ?? this.timeoutMs;
    let a: Answer;
    try {
      a = await this.send(c, timeoutMs);
    } catch (e) {
      throw this.connectionError(endpoint, e as NodeJS.ErrnoException, timeoutMs);
    }
    if (a.status >= 200 && a.status < 300) return a;
    const body = parseObject(a.text);
    const said = typeof body?.error === "string" ? body.error : firstLine(a.text) || "(no error text)";
    const retryAfterMs = retryAfter(body, a.headers);
    const info = { failure: "http" as const, endpoint, status: a.status, body, retryAfterMs };
    if (a.status === 401) {
      throw new DeviceError(`${endpoint}: 401: the device refused the token: pass --token or set NPSWITCH_TOKEN`, info);
    }
    throw new DeviceError(`${endpoint}: ${a.status}: ${said}`, info);
  }

  private connectionError(endpoint: string, e: NodeJS.ErrnoException, timeoutMs: number): DeviceError {
    if (e.name === "AbortError") return new DeviceError(`${endpoint}: no answer from ${this.url} within ${timeoutMs} ms`, { failure: "timeout", endpoint });
    if (e.code === "ECONNREFUSED") return new DeviceError(`no device at ${this.url}: is \`npswitch device\` running?`, { failure: "network", endpoint });
    return new DeviceError(`${endpoint}: connection to ${this.url} failed: ${e.code ?? e.message}`, { failure: "network", endpoint });
  }

  private send(c: Call, timeoutMs: number): Promise<Answer> {
    const body = c.bytes ?? (c.json === undefined ? undefined : Buffer.from(JSON.stringify(c.json)));
    const headers: Record<string, string | number> = { Accept: "application/json" };
    if (this.token) headers.Authorization = `Bearer ${this.token}`;
    if (body) {
      headers["Content-Type"] = c.bytes ? "application/octet-stream" : "application/json";
      headers["Content-Length"] = body.byteLength;
    }
    const url = new URL(c.path, this.base);
    const request = url.protocol === "https:" ? httpsRequest : httpRequest;
    // The timeout covers the whole exchange, the answer's body included.
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), timeoutMs);
    return new Promise<Answer>((resolve, reject) => {
      const req = request(url, { method: c.method, headers, signal: abort.signal }, (res) => {
        const parts: Buffer[] = [];
        let size = 0;
        res.on("data", (d: Buffer) => {
          size += d.length;
          if (size > MAX_ANSWER_BYTES) req.destroy(new Error(`answer larger than ${MAX_ANSWER_BYTES} bytes`));
          else parts.push(d);
        });
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(parts).toString("utf8") }));
        res.on("error", reject);
      });
      req.on("error", reject);
      req.end(body);
    }).finally(() => clearTimeout(timer));
  }
}

function sessionPath(session: string): string {
  return `/v1/flash/${encodeURIComponent(session)}`;
}

function parseObject(text: string): Record<string, unknown> | undefined {
  try {
    const v: unknown = JSON.parse(text);
    return v && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** `retry_after_ms` from the answer, else the Retry-After header (seconds); undefined when neither is usable. */
function retryAfter(body: Record<string, unknown> | undefined, headers: IncomingHttpHeaders): number | undefined {
  const ms = body?.retry_after_ms;
  if (typeof ms === "number" && Number.isFinite(ms) && ms >= 0) return ms;
  const s = Number(headers["retry-after"]);
  return headers["retry-after"] !== undefined && Number.isFinite(s) && s >= 0 ? s * 1000 : undefined;
}

function firstLine(text: string): string {
  return text.trim().split("\n", 1)[0].slice(0, 200);
}
