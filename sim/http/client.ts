// A simulated HTTP/1.1 client (RFC 9112) on a Host: runs sessions of sequential requests (GET,
// or POST with a checkable body) on one keep-alive connection, or one request per connection
// with `Connection: close`; parses each response (status line, headers, Content-Length body),
// checks every body byte against the content the server must send, and measures latency from
// the first request byte written to the last response byte received.
import type { Picos } from "../../lib/time.js";
import type { Ip4 } from "../../packet/addr.js";
import type { CloseReason, TcpConnection, TcpHandlers } from "../tcp/connection.js";
import type { Host } from "../tcp/host.js";
import { errorBody, pathSeed, requestBodyOf, seededContentByte, sharedContentOf } from "./content.js";
import { HeadReader, contentLength } from "./head-reader.js";

export interface HttpRequestSpec {
  method?: "GET" | "POST";
  path: string;
  /** POST body length; the body is requestBodyOf(path, bodyBytes) so the server can check it. */
  bodyBytes?: number;
  /** Checked when given: the status, and for 200 the body length. */
  expectStatus?: number;
  expectBytes?: number;
}

export interface HttpResult {
  method: string;
  path: string;
  /** 0 when no response arrived. */
  status: number;
  bodyBytes: number;
  /** When the request's first byte was written and the response's last byte arrived (simulated time). */
  startPs: Picos;
  endPs: Picos;
  latencyPs: Picos;
  /** Every byte as expected and every expectation met. */
  ok: boolean;
  error?: string;
  /** Index of the session (connection) the request ran on. */
  session: number;
  /** Position of the request in its session. */
  index: number;
}

export interface HttpClientOptions {
  server: Ip4;
  port?: number;
  /** Host header value. Default "www.example.com". */
  hostHeader?: string;
  /** Keep every result in `results` (default true; drivers of long runs may use onResult only). */
  keepResults?: boolean;
}

export interface SessionOptions {
  /** Pause before each request after the first (think time), drawn per request. */
  think?: () => Picos;
}

export class HttpClientCounters {
  sessions = 0;
  requests = 0;
  responses = 0;
  ok = 0;
  failed = 0;
  bodyBytes = 0;
  /** Responses whose body differed from the expected content somewhere. */
  bodyMismatches = 0;
  resets = 0;
  timeouts = 0;
}

// IDLE: connecting, or thinking between requests: no response is due.
const enum Phase { IDLE, HEAD, BODY, DONE }

/** One session: its connection's context. */
class Session {
  phase = Phase.IDLE;
  index = 0;
  readonly head = new HeadReader();
  status = 0;
  bodyLeft = 0;
  bodyOffset = 0;
  bodyBytes = 0;
  /** Expected body: the file content (by seed) for 200, fixed bytes otherwise. */
  seed = 0;
  fixed: Uint8Array | undefined;
  mismatch = -1;
  startPs: Picos = 0;
  serverCloses = false;
  readonly results: HttpResult[] = [];

  constructor(
    readonly id: number,
    readonly requests: HttpRequestSpec[],
    public done: ((r: HttpResult[]) => void) | undefined,
    readonly think: (() => Picos) | undefined,
  ) {}
}

const encoder = new TextEncoder();

/** Bodies up to this size are checked against shared generated content (a memcmp), larger ones byte by byte. */
const MAX_SHARED_CHECK = 16 << 20;

/** Index (from 0) of the first of `n` bytes where data[at..] and want[from..] differ, or -1. */
function firstDifference(data: Uint8Array, at: number, want: Uint8Array, from: number, n: number): number {
  const a = Buffer.from(data.buffer, data.byteOffset + at, n);
  const b = Buffer.from(want.buffer, want.byteOffset + from, n);
  if (a.equals(b)) return -1;
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return n; // want was shorter than n
}

function firstSeededDifference(data: Uint8Array, at: number, seed: number, from: number, n: number): number {
  for (let i = 0; i < n; i++) if (data[at + i] !== seededContentByte(seed, from + i)) return i;
  return -1;
}

export class HttpClient {
  readonly counters = new HttpClientCounters();
  readonly results: HttpResult[] = [];
  /** Called for every finished request (success or failure). */
  onResult: ((r: HttpResult) => void) | undefined;
  private readonly port: number;
  private readonly hostHeader: string;
  private readonly keep: boolean;
  private readonly handlers: TcpHandlers;

  constructor(readonly host: Host, readonly options: HttpClientOptions) {
    this.port = options.port ?? 80;
    this.hostHeader = options.hostHeader ?? "www.example.com";
    this.keep = options.keepResults ?? true;
    this.handlers = {
      onConnect: (conn) => this.sendNext(conn, conn.context as Session),
      onData: (conn, data) => this.onData(conn, conn.context as Session, data),
      onEnd: (conn) => this.onEnd(conn, conn.context as Session),
      onReset: () => { this.counters.resets++; },
      onClose: (conn, reason) => this.onClose(conn.context as Session, reason),
    };
  }

  /**
   * Open a connection and run `requests` one after another on it (keep-alive); the last one
   * carries `Connection: close`. `done` receives this session's results.
   */
  session(requests: HttpRequestSpec[], done?: (results: HttpResult[]) => void, options: SessionOptions = {}): void {
    if (requests.length === 0) throw new RangeError("a session needs at least one request");
    const s = new Session(this.counters.sessions++, requests, done, options.think);
    this.host.connect(this.options.server, this.port, this.handlers, s);
  }

  /** One request on its own connection (`Connection: close`). */
  request(req: HttpRequestSpec, done?: (result: HttpResult) => void): void {
    this.session([req], done && ((r) => done(r[0])));
  }

  private sendNext(conn: TcpConnection, s: Session): void {
    const req = s.requests[s.index];
    const method = req.method ?? "GET";
    const last = s.index === s.requests.length - 1;
    const body = method === "POST" ? requestBodyOf(req.path, req.bodyBytes ?? 0) : undefined;
    const head =
      `${method} ${req.path} HTTP/1.1\r\nHost: ${this.hostHeader}\r\nUser-Agent: npswitch-sim\r\nAccept: */*\r\n` +
      (body ? `Content-Type: application/octet-stream\r\nContent-Length: ${body.length}\r\n` : "") +
      (last ? "Connection: close\r\n" : "") + "\r\n";
    s.phase = Phase.HEAD;
    s.head.reset();
    s.status = 0;
    s.bodyBytes = 0;
    s.mismatch = -1;
    s.startPs = this.host.sched.now;
    this.counters.requests++;
    conn.write(encoder.encode(head));
    if (body && body.length) conn.write(body);
  }

  private onData(conn: TcpConnection, s: Session, data: Uint8Array): void {
    let at = 0;
    while (at < data.length) {
      if (s.phase === Phase.HEAD) {
        const end = s.head.push(data, at);
        if (end === -1) return;
        if (end === -2) return this.fail(conn, s, "response head too large");
        at = end;
        const err = this.startBody(s);
        if (err) return this.fail(conn, s, err);
        if (s.bodyLeft === 0) this.complete(conn, s);
        continue;
      }
      if (s.phase !== Phase.BODY) return this.fail(conn, s, `${data.length - at} bytes after the last response`);
      const n = Math.min(s.bodyLeft, data.length - at);
      if (s.mismatch < 0) {
        const bad = s.fixed ? firstDifference(data, at, s.fixed, s.bodyOffset, n) : firstSeededDifference(data, at, s.seed, s.bodyOffset, n);
        if (bad >= 0) s.mismatch = s.bodyOffset + bad;
      }
      s.bodyOffset += n;
      s.bodyLeft -= n;
      at += n;
      if (s.bodyLeft === 0) this.complete(conn, s);
    }
  }

  /** Parse the response head; returns an error text when it cannot be used. */
  private startBody(s: Session): string | undefined {
    const head = s.head.parse();
    if (!head) return "malformed response head";
    const [version, code, reason] = head.start;
    if (version !== "HTTP/1.1" || !/^\d{3}$/.test(code)) return `bad status line '${version} ${code} ${reason}'`;
    s.status = Number(code);
    const length = contentLength(head.headers);
    if (length === undefined || Number.isNaN(length)) return "response without a valid Content-Length";
    s.serverCloses = (head.headers.get("connection") ?? "").toLowerCase() === "close";
    s.bodyLeft = length;
    s.bodyBytes = length;
    s.bodyOffset = 0;
    s.phase = Phase.BODY;
    if (s.status === 200) {
      const path = s.requests[s.index].path;
      s.fixed = length <= MAX_SHARED_CHECK ? sharedContentOf(path, length) : undefined;
      s.seed = pathSeed(path);
    } else {
      s.fixed = errorBody(s.status);
      if (s.fixed.length !== length) s.mismatch = 0;
    }
    return undefined;
  }

  private complete(conn: TcpConnection, s: Session): void {
    const req = s.requests[s.index];
    let error: string | undefined;
    if (s.mismatch >= 0) {
      this.counters.bodyMismatches++;
      error = `body differs from the expected content at byte ${s.mismatch}`;
    } else if (req.expectStatus !== undefined && s.status !== req.expectStatus) error = `status ${s.status}, expected ${req.expectStatus}`;
    else if (req.expectBytes !== undefined && s.status === 200 && s.bodyBytes !== req.expectBytes) error = `${s.bodyBytes} body bytes, expected ${req.expectBytes}`;
    this.counters.responses++;
    this.counters.bodyBytes += s.bodyBytes;
    this.record(s, error);
    s.index++;
    if (s.index < s.requests.length && !s.serverCloses) {
      if (!s.think) return this.sendNext(conn, s);
      s.phase = Phase.IDLE; // idle until the think time is over
      this.host.sched.after(s.think(), () => { if (s.phase === Phase.IDLE) this.sendNext(conn, s); });
      return;
    }
    s.phase = Phase.DONE;
    conn.end();
    this.failRest(s, "server closed the connection");
  }

  private record(s: Session, error: string | undefined): void {
    const req = s.requests[s.index];
    const now = this.host.sched.now;
    const r: HttpResult = {
      method: req.method ?? "GET", path: req.path, status: s.status, bodyBytes: s.bodyBytes,
      startPs: s.startPs, endPs: now, latencyPs: now - s.startPs, ok: error === undefined, session: s.id, index: s.index,
    };
    if (error !== undefined) r.error = error;
    if (r.ok) this.counters.ok++;
    else this.counters.failed++;
    if (this.keep) this.results.push(r);
    s.results.push(r);
    this.onResult?.(r);
  }

  /** Give up on the session: the current request fails with `why`, the rest are not sent. */
  private fail(conn: TcpConnection, s: Session, why: string): void {
    if (s.phase !== Phase.DONE && s.index < s.requests.length) {
      this.record(s, why);
      s.index++;
    }
    s.phase = Phase.DONE;
    this.failRest(s, "not sent: an earlier request on the connection failed");
    conn.abort();
  }

  private failRest(s: Session, why: string): void {
    const now = this.host.sched.now;
    while (s.index < s.requests.length) {
      s.startPs = now;
      s.status = 0;
      s.bodyBytes = 0;
      this.record(s, why);
      s.index++;
    }
    if (s.done) {
      const done = s.done;
      s.done = undefined;
      done(s.results);
    }
  }

  private onEnd(conn: TcpConnection, s: Session): void {
    if (s.phase === Phase.DONE) return;
    // The server closed while a response was due (or before it finished).
    this.fail(conn, s, s.phase === Phase.BODY ? `connection closed ${s.bodyLeft} bytes before the end of the body` : "connection closed before the response");
  }

  private onClose(s: Session, reason: CloseReason): void {
    if (reason === "timeout") this.counters.timeouts++;
    if (s.phase === Phase.DONE) return;
    s.phase = Phase.DONE;
    if (s.index < s.requests.length) {
      this.record(s, reason === "reset" ? "connection reset" : `connection closed (${reason})`);
      s.index++;
    }
    this.failRest(s, "not sent: the connection closed");
  }
}
