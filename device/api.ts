// The device's management API server: the routes of device/protocol.ts (device/README.md) on HTTP/1.1 on loopback,
// every request with `Authorization: Bearer <token>`, JSON in and out (raw bytes for flash chunks), errors as
// { error } naming the field or step.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createHash, timingSafeEqual } from "node:crypto";
import * as cpApi from "../controlplane/api.js";
import { PolicyConfigError } from "../controlplane/policies/policy.js";
import { PoolError } from "../controlplane/pool/pool.js";
import { CpConfigError } from "../controlplane/config.js";
import { splitHostPort } from "./config.js";
import type { Device } from "./device.js";
import { prometheusText } from "./metrics.js";
import { ApiError } from "./errors.js";
import { ROUTES, type AnyRoute, type ErrorBody, type ParamName, type Route, type ServerViewJson, type Unchecked } from "./protocol.js";

const MAX_JSON_BYTES = 1 << 20;


const digest = (s: string) => createHash("sha256").update(s).digest();

function authorized(req: IncomingMessage, token: string): boolean {
  const h = req.headers.authorization ?? "";
  const m = /^Bearer\s+(\S+)\s*$/i.exec(h);
  return !!m && timingSafeEqual(digest(m[1]), digest(token));
}

async function body(req: IncomingMessage, limit: number): Promise<Buffer> {
  const parts: Buffer[] = [];
  let n = 0;
  for await (const chunk of req) {
    n += (chunk as Buffer).length;
    if (n > limit) throw new ApiError(413, `request body over ${limit} bytes`);
    parts.push(chunk as Buffer);
  }
  return Buffer.concat(parts);
}

async function json(req: IncomingMessage): Promise<Record<string, unknown>> {
  const b = await body(req, MAX_JSON_BYTES);
  if (b.length === 0) return {};
  let v: unknown;
  try {
    v = JSON.parse(b.toString("utf8"));
  } catch (e) {
    throw new ApiError(400, `body is not JSON: ${(e as Error).message}`);
  }
  if (v === null || typeof v !== "object" || Array.isArray(v)) throw new ApiError(400, "body must be a JSON object");
  return v as Record<string, unknown>;
}

/** A JSON answer, or text (the metrics). */
function send(res: ServerResponse, status: number, value: unknown, headers: Record<string, string> = {}): void {
  const text = typeof value === "string" ? value : JSON.stringify(value, (_k, v) => (typeof v === "number" && !Number.isFinite(v) ? null : v)) + "\n";
  res.writeHead(status, { "content-type": typeof value === "string" ? "text/plain; version=0.0.4; charset=utf-8" : "application/json", "content-length": Buffer.byteLength(text), ...headers });
  res.end(text);
}

function fail(res: ServerResponse, status: number, error: ErrorBody, headers: Record<string, string> = {}): void {
  send(res, status, error, headers);
}

interface Context<P extends ParamName, Req> {
  req: IncomingMessage;
  /** The path's parameters, URI-decoded. */
  params: Record<P, string>;
  /** Read the body as a JSON object (400 when it is not one; an empty body is {}). */
  json(): Promise<Unchecked<Req>>;
}

type Handler<P extends ParamName, Req, Res> = (ctx: Context<P, Req>) => Promise<Res>;

export class ManagementApi {
  private server: Server | null = null;
  private readonly routes: { route: AnyRoute; handler: Handler<never, unknown, unknown> }[] = [];

  constructor(private readonly device: Device, private readonly token: string) {
    const d = device;
    const str = (v: unknown, field: string) => {
      if (typeof v !== "string" || !v) throw new ApiError(400, `field ${field}: expected a string`);
      return v;
    };
    this.on(ROUTES.status, async () => d.status());
    this.on(ROUTES.metrics, async () => prometheusText(d));
    this.on(ROUTES.flashOpen, async ({ json }) => {
      const b = await json();
      const s = d.uploads.begin(b.size, b.sha256);
      return { session: s.id, chunk_size: d.uploads.chunkSize, load: d.load() };
    });
    this.on(ROUTES.flashSession, async ({ params }) => {
      const s = d.uploads.get(params.session);
      return { session: s.id, size: s.size, received: s.received, state: s.state };
    });
    this.on(ROUTES.flashChunk, async ({ req, params }) => {
      const id = params.session;
      d.uploads.get(id);
      const bytes = await body(req, d.uploads.chunkSize);
      const load = d.load();
      if (load > d.cfg.management.flash_busy_load) {
        const retry = Math.round(200 + 1800 * load);
        throw new ApiError(429, `device busy (load ${load.toFixed(2)} > ${d.cfg.management.flash_busy_load}): send this chunk again later`, { retry_after_ms: retry }, { "retry-after": String(Math.ceil(retry / 1000)) });
      }
      const s = d.uploads.chunk(id, Number(params.offset), new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length));
      return { received: s.received, load, retry_after_ms: Math.round(load * load * 500) };
    });
    this.on(ROUTES.flashCommit, async ({ json, params }) => {
      await json();
      const r = await d.commit(params.session);
      return { ...r, image: d.status().running.image };
    });
    this.on(ROUTES.flashAbort, async ({ params }) => {
      const s = d.uploads.get(params.session);
      d.uploads.finish(params.session);
      return { session: s.id, aborted: true, received: s.received };
    });
    this.on(ROUTES.rollback, async ({ json }) => {
      await json();
      return await d.rollback();
    });
    this.on(ROUTES.pool, async () => cpApi.pool(d.cp));
    this.on(ROUTES.addServer, async ({ json }) => {
      const b = await json();
      return cpApi.addServer(d.cp, {
        name: str(b.name, "name"), ip: str(b.ip, "ip"), mac: str(b.mac, "mac"), port: Number(b.port ?? 1), tcpPort: Number(b.tcp_port ?? 80),
        weight: b.weight === undefined ? undefined : Number(b.weight), priority: b.priority === undefined ? undefined : Number(b.priority),
        tags: (b.tags ?? {}) as Record<string, string>,
      });
    });
    this.on(ROUTES.setServer, async ({ json, params }) => {
      const b = await json();
      const n = params.name;
      let view: ServerViewJson = d.cp.pool.views[d.cp.pool.indexOf(n)];
      if (b.weight !== undefined) {
        if (typeof b.weight !== "number" || !(b.weight >= 0)) throw new ApiError(400, `field weight: expected a number >= 0, got ${JSON.stringify(b.weight)}`);
        view = cpApi.setWeight(d.cp, n, b.weight);
      }
      if (b.up !== undefined) {
        if (typeof b.up !== "boolean") throw new ApiError(400, `field up: expected true or false, got ${JSON.stringify(b.up)}`);
        view = cpApi.setServerUp(d.cp, n, b.up);
      }
      return view;
    });
    this.on(ROUTES.drain, async ({ json, params }) => {
      await json();
      return cpApi.drain(d.cp, params.name);
    });
    this.on(ROUTES.removeServer, async ({ params }) => cpApi.removeServer(d.cp, params.name));
    this.on(ROUTES.policy, async () => ({ name: d.cp.policyName }));
    this.on(ROUTES.setPolicy, async ({ json }) => {
      const b = await json();
      const params = b.params ?? {};
      if (typeof params !== "object" || params === null || Array.isArray(params)) throw new ApiError(400, "field params: expected a mapping");
      return { name: d.setPolicy(str(b.name, "name"), params as Record<string, unknown>) };
    });
  }

  /** Serve `route` with `handler`: its answer goes out with the route's success status. */
  private on<P extends ParamName, Req, Res>(route: Route<P, Req, Res>, handler: Handler<P, Req, Res>): void {
    this.routes.push({ route: route as unknown as AnyRoute, handler: handler as unknown as Handler<never, unknown, unknown> });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      if (!authorized(req, this.token)) {
        req.resume();
        return fail(res, 401, { error: "missing or wrong bearer token (Authorization: Bearer <token>)" }, { "www-authenticate": 'Bearer realm="npswitch"' });
      }
      const path = (req.url ?? "/").split("?")[0];
      const matching = this.routes.filter((r) => r.route.pattern.test(path));
      const found = matching.find((r) => r.route.method === req.method);
      if (!found) {
        req.resume();
        const allowed = matching.map((r) => r.route.method).join(", ");
        if (matching.length) return fail(res, 405, { error: `${req.method} not allowed on ${path} (allowed: ${allowed})` }, { allow: allowed });
        return fail(res, 404, { error: `no such endpoint: ${path} (see device/README.md)` });
      }
      const params = found.route.match(path)!;
      const value = await found.handler({ req, params, json: () => json(req) });
      send(res, found.route.ok, value);
    } catch (e) {
      if (e instanceof ApiError) return fail(res, e.status, { error: e.message, ...e.extra }, e.headers);
      if (e instanceof PoolError || e instanceof PolicyConfigError || e instanceof CpConfigError) return fail(res, 400, { error: e.message });
      fail(res, 500, { error: `internal error: ${(e as Error).message}` });
    }
  }

  async listen(): Promise<{ host: string; port: number }> {
    const { host, port } = splitHostPort(this.device.cfg.management.listen);
    const server = createServer((req, res) => void this.handle(req, res));
    server.keepAliveTimeout = 5000;
    await new Promise<void>((resolve, reject) => {
      server.once("error", (e) => reject(new Error(`management API: cannot listen on ${host}:${port}: ${e.message}`)));
      server.listen(port, host, () => resolve());
    });
    this.server = server;
    const a = server.address();
    return { host, port: typeof a === "object" && a ? a.port : port };
  }

  async close(): Promise<void> {
    const s = this.server;
    this.server = null;
    if (!s) return;
    s.closeAllConnections();
    await new Promise<void>((r) => s.close(() => r()));
  }
}
