// The device's management API (device/README.md): HTTP/1.1 on loopback, every request with
// `Authorization: Bearer <token>`, JSON in and out (raw bytes for flash chunks), errors as
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

function send(res: ServerResponse, status: number, value: unknown, headers: Record<string, string> = {}): void {
  const text = typeof value === "string" ? value : JSON.stringify(value, (_k, v) => (typeof v === "number" && !Number.isFinite(v) ? null : v)) + "\n";
  res.writeHead(status, { "content-type": typeof value === "string" ? "text/plain; version=0.0.4; charset=utf-8" : "application/json", "content-length": Buffer.byteLength(text), ...headers });
  res.end(text);
}

type Handler = (req: IncomingMessage, params: string[]) => Promise<[number, unknown, Record<string, string>?]>;

export class ManagementApi {
  private server: Server | null = null;
  private readonly routes: { method: string; path: RegExp; handler: Handler }[] = [];

  constructor(private readonly device: Device, private readonly token: string) {
    const d = device;
    const str = (v: unknown, field: string) => {
      if (typeof v !== "string" || !v) throw new ApiError(400, `field ${field}: expected a string`);
      return v;
    };
    this.route("GET", /^\/v1\/status$/, async () => [200, d.status()]);
    this.route("GET", /^\/metrics$/, async () => [200, prometheusText(d)]);
    this.route("POST", /^\/v1\/flash$/, async (req) => {
      const b = await json(req);
      const s = d.uploads.begin(b.size, b.sha256);
      return [201, { session: s.id, chunk_size: d.uploads.chunkSize, load: d.load() }];
    });
    this.route("GET", /^\/v1\/flash\/([0-9a-f]+)$/, async (_req, [id]) => {
      const s = d.uploads.get(id);
      return [200, { session: s.id, size: s.size, received: s.received, state: s.state }];
    });
    this.route("PUT", /^\/v1\/flash\/([0-9a-f]+)\/(\d+)$/, async (req, [id, offset]) => {
      d.uploads.get(id);
      const bytes = await body(req, d.uploads.chunkSize);
      const load = d.load();
      if (load > d.cfg.management.flash_busy_load) {
        const retry = Math.round(200 + 1800 * load);
        return [429, { error: `device busy (load ${load.toFixed(2)} > ${d.cfg.management.flash_busy_load}): send this chunk again later`, retry_after_ms: retry }, { "retry-after": String(Math.ceil(retry / 1000)) }];
      }
      const s = d.uploads.chunk(id, Number(offset), new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length));
      return [200, { received: s.received, load, retry_after_ms: Math.round(load * load * 500) }];
    });
    this.route("POST", /^\/v1\/flash\/([0-9a-f]+)\/commit$/, async (req, [id]) => {
      await json(req);
      const r = await d.commit(id);
      return [200, { ...r, image: d.status().running.image }];
    });
    this.route("DELETE", /^\/v1\/flash\/([0-9a-f]+)$/, async (_req, [id]) => {
      const s = d.uploads.get(id);
      d.uploads.finish(id);
      return [200, { session: s.id, aborted: true, received: s.received }];
    });
    this.route("POST", /^\/v1\/rollback$/, async (req) => {
      await json(req);
      return [200, await d.rollback()];
    });
    this.route("GET", /^\/v1\/pool$/, async () => [200, cpApi.pool(d.cp)]);
    this.route("POST", /^\/v1\/pool\/servers$/, async (req) => {
      const b = await json(req);
      const view = cpApi.addServer(d.cp, {
        name: str(b.name, "name"), ip: str(b.ip, "ip"), mac: str(b.mac, "mac"), port: Number(b.port ?? 1), tcpPort: Number(b.tcp_port ?? 80),
        weight: b.weight === undefined ? undefined : Number(b.weight), priority: b.priority === undefined ? undefined : Number(b.priority),
        tags: (b.tags ?? {}) as Record<string, string>,
      });
      return [201, view];
    });
    this.route("PATCH", /^\/v1\/pool\/servers\/([^/]+)$/, async (req, [name]) => {
      const b = await json(req);
      const n = decodeURIComponent(name);
      let view = d.cp.pool.views[d.cp.pool.indexOf(n)];
      if (b.weight !== undefined) {
        if (typeof b.weight !== "number" || !(b.weight >= 0)) throw new ApiError(400, `field weight: expected a number >= 0, got ${JSON.stringify(b.weight)}`);
        view = cpApi.setWeight(d.cp, n, b.weight);
      }
      if (b.up !== undefined) {
        if (typeof b.up !== "boolean") throw new ApiError(400, `field up: expected true or false, got ${JSON.stringify(b.up)}`);
        view = cpApi.setServerUp(d.cp, n, b.up);
      }
      return [200, view];
    });
    this.route("POST", /^\/v1\/pool\/servers\/([^/]+)\/drain$/, async (req, [name]) => {
      await json(req);
      return [200, cpApi.drain(d.cp, decodeURIComponent(name))];
    });
    this.route("DELETE", /^\/v1\/pool\/servers\/([^/]+)$/, async (_req, [name]) => [200, cpApi.removeServer(d.cp, decodeURIComponent(name))]);
    this.route("GET", /^\/v1\/policy$/, async () => [200, { name: d.cp.policyName }]);
    this.route("PUT", /^\/v1\/policy$/, async (req) => {
      const b = await json(req);
      const params = b.params ?? {};
      if (typeof params !== "object" || params === null || Array.isArray(params)) throw new ApiError(400, "field params: expected a mapping");
      return [200, { name: d.setPolicy(str(b.name, "name"), params as Record<string, unknown>) }];
    });
  }

  private route(method: string, path: RegExp, handler: Handler): void {
    this.routes.push({ method, path, handler });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      if (!authorized(req, this.token)) {
        req.resume();
        return send(res, 401, { error: "missing or wrong bearer token (Authorization: Bearer <token>)" }, { "www-authenticate": 'Bearer realm="npswitch"' });
      }
      const path = (req.url ?? "/").split("?")[0];
      const matching = this.routes.filter((r) => r.path.test(path));
      const route = matching.find((r) => r.method === req.method);
      if (!route) {
        req.resume();
        if (matching.length) return send(res, 405, { error: `${req.method} not allowed on ${path} (allowed: ${matching.map((r) => r.method).join(", ")})` }, { allow: matching.map((r) => r.method).join(", ") });
        return send(res, 404, { error: `no such endpoint: ${path} (see device/README.md)` });
      }
      const params = route.path.exec(path)!.slice(1);
      const [status, value, headers] = await route.handler(req, params);
      send(res, status, value, headers);
    } catch (e) {
      if (e instanceof ApiError) return send(res, e.status, { error: e.message, ...e.extra });
      if (e instanceof PoolError || e instanceof PolicyConfigError || e instanceof CpConfigError) return send(res, 400, { error: e.message });
      send(res, 500, { error: `internal error: ${(e as Error).message}` });
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
