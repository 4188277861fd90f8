// A simulated HTTP/1.1 origin server (RFC 9110, RFC 9112) on a Host: serves a file set whose
// bytes are contentOf(path, size), keeps connections alive unless asked to close, answers
// 404 / 405 / 400, and models service time with an LRU file cache and a pool of worker slots
// (requests wait in FIFO order when all workers are busy).
import type { Picos } from "../../lib/time.js";
import { Fifo } from "../net/fifo.js";
import type { TcpConnection, TcpHandlers } from "../tcp/connection.js";
import type { Host } from "../tcp/host.js";
import { LruCache, serviceTimePs, type CacheOptions } from "./cache.js";
import { STATUS_TEXT, errorBody, pathSeed, seededContentByte, sharedContentOf } from "./content.js";
import { HeadReader, contentLength, wantsClose } from "./head-reader.js";

/** Files a server holds: path -> size in bytes. */
export type FileSet = ReadonlyMap<string, number>;

export interface HttpServerOptions {
  port?: number;
  files: FileSet;
  cache?: Partial<CacheOptions>;
  /** Requests served at once; more wait. Default 16. */
  workers?: number;
  /** Largest request body accepted (413 beyond). Default 16 MiB. */
  maxBodyBytes?: number;
  name?: string;
}

export const DEFAULT_CACHE: CacheOptions = {
  capacityBytes: 64 << 20,
  hitPs: 20_000_000, // 20 µs: a request served from memory
  missPs: 5_000_000_000, // 5 ms: a disk read
  perKbPs: 1_000_000, // 1 µs per KiB copied
};

export class HttpServerCounters {
  connections = 0;
  requests = 0;
  responses = 0;
  cacheHits = 0;
  cacheMisses = 0;
  status200 = 0;
  status400 = 0;
  status404 = 0;
  status405 = 0;
  status413 = 0;
  /** Response bytes written (heads and bodies). */
  bytesServed = 0;
  bodyBytesServed = 0;
  postBodyBytes = 0;
  /** POST bodies that differ from requestBodyOf(path, length). */
  postBodyMismatches = 0;
  /** Largest number of requests that waited for a worker at once. */
  maxQueued = 0;
  resets = 0;
}

interface PendingRequest {
  conn: TcpConnection;
  state: ServerConnState;
  method: string;
  path: string;
  close: boolean;
  status: number;
  arrivedPs: Picos;
}

/** Per-connection parsing state, kept in conn.context. */
class ServerConnState {
  readonly head = new HeadReader();
  /** Request whose body is being read. */
  reading: PendingRequest | undefined;
  bodyLeft = 0;
  bodyOffset = 0;
  bodySeed = 0;
  bodyOk = true;
  /** Requests parsed and not yet answered, in order (pipelining is answered in order). */
  readonly queue: PendingRequest[] = [];
  inService = false;
  closing = false;
  /** We sent FIN: nothing more can be answered. */
  ended = false;
  open = true;
}

const encoder = new TextEncoder();

export class HttpServer {
  readonly name: string;
  readonly port: number;
  readonly counters = new HttpServerCounters();
  readonly cache: LruCache;
  readonly cacheOptions: CacheOptions;
  private readonly files: FileSet;
  private readonly workers: number;
  private busy = 0;
  private readonly waiting = new Fifo<PendingRequest>();
  private readonly maxBody: number;
  private readonly handlers: TcpHandlers;

  constructor(readonly host: Host, options: HttpServerOptions) {
    this.name = options.name ?? host.name;
    this.port = options.port ?? 80;
    this.files = options.files;
    this.cacheOptions = { ...DEFAULT_CACHE, ...options.cache };
    this.cache = new LruCache(this.cacheOptions.capacityBytes);
    this.workers = options.workers ?? 16;
    this.maxBody = options.maxBodyBytes ?? 16 << 20;
    this.handlers = {
      onData: (conn, data) => this.onData(conn, data),
      onEnd: (conn) => this.onPeerEnd(conn),
      onReset: () => { this.counters.resets++; },
      onClose: (conn) => { (conn.context as ServerConnState).open = false; },
    };
    host.listen(this.port, (conn) => {
      this.counters.connections++;
      conn.context = new ServerConnState();
      conn.handlers = this.handlers;
    });
  }

  /** Requests waiting for a worker now. */
  get queued(): number {
    return this.waiting.length;
  }

  private onData(conn: TcpConnection, data: Uint8Array): void {
    const st = conn.context as ServerConnState;
    let at = 0;
    while (at < data.length && !st.closing) {
      if (st.reading) {
        const n = Math.min(st.bodyLeft, data.length - at);
        for (let i = 0; i < n; i++) if (data[at + i] !== seededContentByte(st.bodySeed, st.bodyOffset + i)) { st.bodyOk = false; break; }
        st.bodyOffset += n;
        st.bodyLeft -= n;
        this.counters.postBodyBytes += n;
        at += n;
        if (st.bodyLeft === 0) {
          if (!st.bodyOk) this.counters.postBodyMismatches++;
          const req = st.reading;
          st.reading = undefined;
          this.enqueue(req);
        }
        continue;
      }
      const end = st.head.push(data, at);
      if (end === -1) return;
      if (end === -2) return this.reject(conn, st, 400);
      at = end;
      this.parseRequest(conn, st);
    }
  }

  private parseRequest(conn: TcpConnection, st: ServerConnState): void {
    const head = st.head.parse();
    st.head.reset();
    this.counters.requests++;
    if (!head) return this.reject(conn, st, 400);
    const [method, target, version] = head.start;
    if (version !== "HTTP/1.1" && version !== "HTTP/1.0") return this.reject(conn, st, 400);
    if (version === "HTTP/1.1" && !head.headers.has("host")) return this.reject(conn, st, 400);
    if (head.headers.has("transfer-encoding")) return this.reject(conn, st, 400); // no chunked bodies here
    const length = contentLength(head.headers) ?? 0;
    if (Number.isNaN(length)) return this.reject(conn, st, 400);
    if (length > this.maxBody) return this.reject(conn, st, 413);
    const path = target.split("?")[0];
    const req: PendingRequest = {
      conn, state: st, method, path, close: wantsClose(head.headers, version), status: 200, arrivedPs: this.host.sched.now,
    };
    if (method !== "GET" && method !== "POST") req.status = 405;
    else if (!this.files.has(path)) req.status = 404;
    if (length > 0) {
      st.reading = req;
      st.bodyLeft = length;
      st.bodyOffset = 0;
      st.bodySeed = pathSeed(`POST ${path}`);
      st.bodyOk = true;
      return;
    }
    this.enqueue(req);
  }

  /** A malformed request: answer `status` and close (the stream can no longer be framed). */
  private reject(conn: TcpConnection, st: ServerConnState, status: number): void {
    st.closing = true;
    st.head.reset();
    this.enqueue({ conn, state: st, method: "", path: "", close: true, status, arrivedPs: this.host.sched.now });
  }

  private onPeerEnd(conn: TcpConnection): void {
    const st = conn.context as ServerConnState;
    // The client half-closed: answer what it asked, then close our side.
    if (!st.inService && st.queue.length === 0) this.endConnection(conn, st);
    else st.closing = true;
  }

  private enqueue(req: PendingRequest): void {
    const st = req.state;
    st.queue.push(req);
    if (!st.inService) this.admit(st);
  }

  /** Hand the connection's next request to a worker, or let it wait for one. */
  private admit(st: ServerConnState): void {
    const req = st.queue[0];
    if (!req) return;
    st.inService = true;
    if (this.busy < this.workers) return this.startService(req);
    this.waiting.push(req);
    if (this.waiting.length > this.counters.maxQueued) this.counters.maxQueued = this.waiting.length;
  }

  private startService(req: PendingRequest): void {
    this.busy++;
    let delay = this.cacheOptions.hitPs;
    if (req.status === 200) {
      const size = this.files.get(req.path)!;
      const hit = this.cache.access(req.path, size);
      if (hit) this.counters.cacheHits++;
      else this.counters.cacheMisses++;
      delay = serviceTimePs(this.cacheOptions, hit, size);
    }
    this.host.sched.after(delay, () => this.finishService(req));
  }

  private finishService(req: PendingRequest): void {
    this.busy--;
    const st = req.state;
    st.queue.shift();
    st.inService = false;
    if (st.open && !st.ended) this.respond(req);
    const next = this.waiting.shift();
    if (next) this.startService(next);
    if (!st.open || st.ended) st.queue.length = 0;
    else if (st.queue.length) this.admit(st);
    else if (st.closing && req.conn.peerFinished) this.endConnection(req.conn, st);
  }

  private endConnection(conn: TcpConnection, st: ServerConnState): void {
    if (st.ended) return;
    st.ended = true;
    conn.end();
  }

  private respond(req: PendingRequest): void {
    const { conn, status } = req;
    const body = status === 200 ? sharedContentOf(req.path, this.files.get(req.path)!) : errorBody(status);
    const close = req.close || req.state.closing;
    const head = encoder.encode(
      `HTTP/1.1 ${status} ${STATUS_TEXT[status]}\r\nServer: npswitch-sim\r\n` +
      `Content-Type: ${status === 200 ? "application/octet-stream" : "text/plain"}\r\n` +
      `Content-Length: ${body.length}\r\n${close ? "Connection: close\r\n" : ""}\r\n`,
    );
    conn.write(head);
    conn.write(body);
    this.counters.responses++;
    this.counters.bytesServed += head.length + body.length;
    this.counters.bodyBytesServed += body.length;
    if (status === 200) this.counters.status200++;
    else if (status === 400) this.counters.status400++;
    else if (status === 404) this.counters.status404++;
    else if (status === 405) this.counters.status405++;
    else if (status === 413) this.counters.status413++;
    if (close) this.endConnection(conn, req.state);
  }
}
