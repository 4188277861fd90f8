// A typed client for the emulated device's management API (device/README.md): bearer token,
// one request per call over node:http, each bounded by a timeout; every failure is a DeviceError.
import { request as httpRequest, type IncomingHttpHeaders } from "node:http";
import { request as httpsRequest } from "node:https";
import { NpswitchError } from "../../lib/errors.js";
import {
  DEFAULT_MANAGEMENT_LISTEN, ROUTES,
  type AddServerRequest, type ChunkAccepted, type CommitResult, type DeviceStatus, type ErrorBody, type FlashOpened, type FlashSessionInfo,
  type ParamName, type PolicyInfo, type PoolMemberJson, type RollbackResult, type Route, type ServerChange, type ServerRemoved,
  type ServerViewJson, type Unchecked,
} from "../protocol.js";

export const DEFAULT_DEVICE_URL = `http://${DEFAULT_MANAGEMENT_LISTEN}`;
/** A request the device does not answer within this is abandoned (a stuck device must not hang the CLI). */
export const DEFAULT_TIMEOUT_MS = 10_000;
/** Commit verifies the image and runs the whole self-test before it answers, so it gets longer. */
export const DEFAULT_COMMIT_TIMEOUT_MS = 120_000;
/** No answer of this API is anywhere near this; a bigger one is not the device. */
const MAX_ANSWER_BYTES = 32 * 1024 * 1024;

// The answers' types, for callers that import them from here (cli/flash.ts); declared in device/protocol.ts.

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
      /** The device's JSON answer (an ErrorBody, unchecked), when it sent one. */
      body?: Unchecked<ErrorBody> & Record<string, unknown>;
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
    return this.ask(ROUTES.status, {}, undefined);
  }

  async metrics(): Promise<string> {
    return (await this.call(this.request(ROUTES.metrics, {}, undefined))).text;
  }

  pool(): Promise<PoolMemberJson[]> {
    return this.ask(ROUTES.pool, {}, undefined);
  }

  setServer(name: string, change: ServerChange): Promise<ServerViewJson> {
    return this.ask(ROUTES.setServer, { name }, change);
  }

  drain(name: string): Promise<ServerViewJson> {
    return this.ask(ROUTES.drain, { name }, {});
  }

  addServer(cfg: AddServerRequest): Promise<ServerViewJson> {
    return this.ask(ROUTES.addServer, {}, cfg);
  }

  removeServer(name: string): Promise<ServerRemoved> {
    return this.ask(ROUTES.removeServer, { name }, undefined);
  }

  policy(): Promise<PolicyInfo> {
    return this.ask(ROUTES.policy, {}, undefined);
  }

  setPolicy(name: string, params?: Record<string, unknown>): Promise<PolicyInfo> {
    return this.ask(ROUTES.setPolicy, {}, params === undefined ? { name } : { name, params });
  }

  rollback(): Promise<RollbackResult> {
    return this.ask(ROUTES.rollback, {}, {});
  }

  // The flash session, one call per endpoint; device/client/flash.ts drives them.

  openFlash(size: number, sha256: string): Promise<FlashOpened> {
    return this.ask(ROUTES.flashOpen, {}, { size, sha256 });
  }

  putChunk(session: string, offset: number, bytes: Uint8Array): Promise<ChunkAccepted> {
    return this.ask(ROUTES.flashChunk, { session, offset }, bytes);
  }

  flashSession(session: string): Promise<FlashSessionInfo> {
    return this.ask(ROUTES.flashSession, { session }, undefined);
  }

  commitFlash(session: string): Promise<CommitResult> {
    return this.ask(ROUTES.flashCommit, { session }, {}, this.commitTimeoutMs);
  }

  async abortFlash(session: string): Promise<void> {
    await this.call(this.request(ROUTES.flashAbort, { session }, undefined));
  }

  // ----------------------------------------------------------------------------------------------

  /** One request to `route`, its answer parsed as the route's answer type (trusted as the device's word). */
  private ask<P extends ParamName, Req, Res>(route: Route<P, Req, Res>, params: Record<P, string | number>, body: Req, timeoutMs?: number): Promise<Res> {
    return this.json<Res>(this.request(route, params, body, timeoutMs));
  }

  /** The request for `route`: bytes go raw, any other body as JSON, undefined as none. */
  private request<P extends ParamName, Req>(route: Route<P, Req, unknown>, params: Record<P, string | number>, body: Req, timeoutMs?: number): Call {
    const c: Call = { method: route.method, path: route.path(params), timeoutMs };
    if (body instanceof Uint8Array) c.bytes = body;
    else if (body !== undefined) c.json = body;
    return c;
  }

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
