// The device's management API protocol (device/README.md): routes, request bodies and answers, declared once.
// The device (api.ts, device.ts, upload.ts) builds these answers and the client (client/) reads them.
// Transport: HTTP/1.1 on loopback,
// `Authorization: Bearer <token>` on every request, JSON bodies (raw bytes for flash chunks). In the JSON,
// a number that is NaN or infinite is sent as null (typed `JsonNumber`). Its only imports are types
// (erased at run time), so the client never loads the device's engine or the control plane.
import type { ServerView } from "../controlplane/policies/policy.js";
import type { PoolMemberStatus } from "../controlplane/pool/pool.js";

/** Where the management API listens unless the config says otherwise (`management.listen`). */
export const DEFAULT_MANAGEMENT_LISTEN = "127.0.0.1:9180";

/** Largest firmware file a flash session accepts (bytes): `size` in POST /v1/flash is 1..this. */
export const MAX_IMAGE_BYTES = 16 << 20;

/** A JSON object from the other end before its checks: the protocol's field names, values not yet trusted. */
export type Unchecked<T> = { [K in keyof T]?: unknown };

/** A number as it arrives: the device sends NaN and ±Infinity as null. */
export type JsonNumber = number | null;

/** The device's two firmware slots. */
export type SlotName = "A" | "B";

/** Where a commit stopped when it refused an image (`step` of a 422, `last_flash.step`). */
export type FlashStep = "size" | "hash" | "format" | "signature" | "verify" | "self-test";

/** State of an upload session: taking chunks, or being verified by a commit. */
export type UploadState = "receiving" | "verifying";

// ------------------------------------------------------------------------------------------------
// Answers

/** Every 4xx/5xx answer. `error` is one line naming the field or step; the other fields come with some errors only. */
export interface ErrorBody {
  error: string;
  /** Commit refused (422): the step that refused the image. */
  step?: FlashStep;
  /** Flash chunk refused (409, 400) or commit of a partial upload (422): bytes the device holds; resume from this offset. */
  received?: number;
  /** Chunk refused because the device is busy (429): wait this long (ms) and send the same chunk again. Also in the Retry-After header (s). */
  retry_after_ms?: number;
  /** Commit refused at step "self-test" (422): the first failing fixtures (at most 10, at most 3 problems each). */
  failed?: { suite: string; description: string; problems: string[] }[];
}

/** The extra fields of an error answer (everything but `error`). */
export type ErrorExtra = Omit<ErrorBody, "error">;

/** A firmware image as the device describes it (status, commit, rollback). */
export interface ImageInfo {
  /** sha256 of the whole .npfw file, 64 lowercase hex digits. */
  sha256: string;
  /** Id of the signing key (first 16 hex digits of sha256 of the public key); null for an unsigned image. */
  key_id: string | null;
  /** ABI version of the manifest. */
  abi: number;
  /** Fingerprint of the shared memory layout; connections survive a swap when abi and layout stay the same. */
  layout: string;
  /** Target chip profile name (e.g. "ixp2400"). */
  target: string;
  /** The pipeline's images: Wasm instruction count, and the target's control store size (instructions) it must fit. */
  images: { name: string; instructions: number; budget: number }[];
}

/** Self-test of a commit: fixtures passed and failed, and how long it ran (ms). */
export interface SelfTestCounts {
  passed: number;
  failed: number;
  ms: number;
}

/**
 * What the device recorded about the last flash (status `last_flash`). Fields by `result`:
 * "swapped": slot, kept_connections, self_test; "refused": step, error; "rolled_back": those of
 * "swapped" plus rolled_back, why the probation swapped the previous image back.
 */
export interface FlashRecord {
  /** When the commit began (ISO time). */
  at: string;
  /** sha256 the upload session announced (hex). */
  sha256: string;
  result: "swapped" | "refused" | "rolled_back";
  /** The slot the image was written to. */
  slot?: SlotName;
  step?: FlashStep;
  error?: string;
  /** Whether spliced connections survived the swap (same table layout) or the tables were cleared. */
  kept_connections?: boolean;
  self_test?: SelfTestCounts;
  rolled_back?: string;
}

/** A flash that swapped its image in: what a successful commit records in `last_flash`. */
export interface FlashSwapped extends FlashRecord {
  result: "swapped";
  slot: SlotName;
  kept_connections: boolean;
  self_test: SelfTestCounts;
}

/** An upload session (GET /v1/flash/<session>, status `flash`). */
export interface FlashSessionInfo {
  session: string;
  /** Announced size of the image (bytes). */
  size: number;
  /** Bytes received so far, in order from offset 0: the offset of the next chunk. */
  received: number;
  state: UploadState;
}

/** GET /v1/status. */
export interface DeviceStatus {
  name: string;
  /** Seconds since the device started, rounded. */
  uptime_s: number;
  /** Share of the last second spent processing packets, 0..1, to 3 decimals. */
  load: number;
  running: { slot: SlotName; image: ImageInfo };
  /** The image each slot held when last looked at; null while the device has not seen one there. */
  slots: Record<SlotName, ImageInfo | null>;
  /** The upload in progress, if any. */
  flash: FlashSessionInfo | null;
  last_flash: FlashRecord | null;
  /** Rollbacks since the device started: by request, and by probation after a trap. */
  rollbacks: number;
  /** Name of the dispatching policy new connections go through. */
  policy: string;
}

/** POST /v1/flash (201): a new upload session. */
export interface FlashOpened {
  session: string;
  /** Largest chunk the device takes in one PUT (bytes). */
  chunk_size: number;
  /** The device's load now, 0..1 (unrounded). */
  load: number;
}

/** PUT /v1/flash/<session>/<offset>: the chunk is stored. */
export interface ChunkAccepted {
  /** Bytes received so far: the offset of the next chunk. */
  received: number;
  /** The device's load now, 0..1 (unrounded). */
  load: number;
  /** Suggested pause before the next chunk (ms): load² · 500, rounded. */
  retry_after_ms: number;
}

/** POST /v1/flash/<session>/commit: the image is verified, self-tested, written to the inactive slot and running. */
export interface CommitResult extends FlashSwapped {
  /** The image now running. */
  image: ImageInfo;
}

/** DELETE /v1/flash/<session>: the upload is discarded. */
export interface FlashAborted {
  session: string;
  aborted: true;
  /** Bytes it had received. */
  received: number;
}

/** POST /v1/rollback: the other slot's image runs again. */
export interface RollbackResult {
  /** The slot now running. */
  slot: SlotName;
  image: ImageInfo;
  /** Whether spliced connections survived (same table layout) or the tables were cleared. */
  kept_connections: boolean;
}

/** `T` as JSON.stringify sends it, where the fields `K` may be NaN (sent as null). */
export type WithJsonNumbers<T, K extends keyof T> = { -readonly [P in keyof T as P extends K ? never : P]: T[P] } & { [P in K]: JsonNumber };

/**
 * A server as the control plane sees it (POST/PATCH /v1/pool/servers..., drain; `view` in GET /v1/pool):
 * the CP's ServerView (controlplane/policies/policy.ts, which documents each field), camelCase, times in ps.
 */
export type ServerViewJson = WithJsonNumbers<ServerView, "load" | "responseTimePs">;

/** One entry of GET /v1/pool: the pool's PoolMemberStatus (controlplane/pool/pool.ts), removed servers included. Times in ps. */
export type PoolMemberJson = WithJsonNumbers<Omit<PoolMemberStatus, "view">, "lastAlivePs" | "reportedResponseTimePs"> & { view: ServerViewJson };

/** DELETE /v1/pool/servers/<name>: `removed` is false while connections still use it (it goes when the last one ends). */
export interface ServerRemoved {
  removed: boolean;
}

/** GET and PUT /v1/policy. */
export interface PolicyInfo {
  name: string;
}

// ------------------------------------------------------------------------------------------------
// Request bodies

/** POST /v1/flash. */
export interface FlashOpenRequest {
  /** Length of the whole .npfw file (bytes), 1..MAX_IMAGE_BYTES. */
  size: number;
  /** sha256 of the whole file, 64 lowercase hex digits. */
  sha256: string;
}

/** The body of POST commit, rollback and drain: `{}` (any JSON object is accepted and ignored). */
export type EmptyBody = Record<string, never>;

/** POST /v1/pool/servers: a server to add at run time (up at once, in slow start). Other fields are ignored. */
export interface AddServerRequest {
  name: string;
  ip: string;
  mac: string;
  /** Switch port it is reached on; default 1. */
  port?: number;
  /** Its TCP port; default 80. */
  tcp_port?: number;
  weight?: number;
  /** Priority pool (higher preferred); default 0. */
  priority?: number;
  tags?: Record<string, string>;
}

/** PATCH /v1/pool/servers/<name>: weight (>= 0; 0 drains), and/or force it down (false) or back up (true). */
export interface ServerChange {
  weight?: number;
  up?: boolean;
}

/** PUT /v1/policy: a built-in policy by name, with its parameters (a mapping; default {}). */
export interface SetPolicyRequest {
  name: string;
  params?: Record<string, unknown>;
}

// ------------------------------------------------------------------------------------------------
// Routes

export type HttpMethod = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";

/** What each path parameter matches (the device answers 404 for anything else). */
const PARAM_PATTERNS = { session: "[0-9a-f]+", offset: "\\d+", name: "[^/]+" } as const;
export type ParamName = keyof typeof PARAM_PATTERNS;

/** The parameter names of a path template: "/v1/flash/{session}/{offset}" → "session" | "offset". */
type ParamsOf<T extends string> = T extends `${string}{${infer N extends ParamName}}${infer Rest}` ? N | ParamsOf<Rest> : never;

/** One endpoint: method, path, success status, and (as types only) its request body and answer. */
export interface Route<P extends ParamName, Req, Res> {
  readonly method: HttpMethod;
  /** The path with its parameters in braces, e.g. "/v1/flash/{session}/{offset}". */
  readonly template: string;
  /** Matches a request path (without query). */
  readonly pattern: RegExp;
  /** Status of a successful answer: 201 when it creates something, else 200. */
  readonly ok: 200 | 201;
  /** The path for these parameters, each URI-encoded. */
  path(params: Record<P, string | number>): string;
  /** "METHOD path", as errors name the endpoint. */
  endpoint(params: Record<P, string | number>): string;
  /** The parameters of a path `pattern` matches, URI-decoded; null when it does not match. */
  match(path: string): Record<P, string> | null;
  /** Never set: carries the types of the request body (undefined: none) and of the answer. */
  readonly types?: { request: Req; response: Res };
}

function route<T extends string>(method: HttpMethod, template: T, ok: 200 | 201 = 200) {
  return <Req, Res>(): Route<ParamsOf<T>, Req, Res> => {
    type P = ParamsOf<T>;
    const names: P[] = [];
    for (const [, n] of template.matchAll(/\{(\w+)\}/g)) if (!(n in PARAM_PATTERNS)) throw new Error(`route ${template}: unknown parameter ${n}`);
    const pattern = new RegExp(`^${template.replace(/\{(\w+)\}/g, (_m, n: P) => (names.push(n), `(${PARAM_PATTERNS[n]})`))}$`);
    const path = (params: Record<P, string | number>) => template.replace(/\{(\w+)\}/g, (_m, n: P) => encodeURIComponent(String(params[n])));
    return {
      method, template, pattern, ok, path,
      endpoint: (params) => `${method} ${path(params)}`,
      match: (p) => {
        const m = pattern.exec(p);
        return m && (Object.fromEntries(names.map((n, i) => [n, decodeURIComponent(m[i + 1])])) as Record<P, string>);
      },
    };
  };
}

/** Every endpoint of the management API. */
export const ROUTES = {
  status: route("GET", "/v1/status")<undefined, DeviceStatus>(),
  /** Prometheus text format 0.0.4 (text/plain), not JSON. */
  metrics: route("GET", "/metrics")<undefined, string>(),
  /** 409 while another upload is in progress (one at a time; it expires after flash_session_timeout_s without a chunk). */
  flashOpen: route("POST", "/v1/flash", 201)<FlashOpenRequest, FlashOpened>(),
  flashSession: route("GET", "/v1/flash/{session}")<undefined, FlashSessionInfo>(),
  /**
   * Raw bytes (application/octet-stream), 1..chunk_size, starting at `offset` = the bytes received so far.
   * 409 { received } at another offset; 429 { retry_after_ms } when busy; 404 unknown or expired session.
   */
  flashChunk: route("PUT", "/v1/flash/{session}/{offset}")<Uint8Array, ChunkAccepted>(),
  /** 422 { step, ... } when refused: the running image and both slots stay as they were. */
  flashCommit: route("POST", "/v1/flash/{session}/commit")<EmptyBody, CommitResult>(),
  flashAbort: route("DELETE", "/v1/flash/{session}")<undefined, FlashAborted>(),
  /** 409 when the other slot holds no image, or one that no longer verifies. */
  rollback: route("POST", "/v1/rollback")<EmptyBody, RollbackResult>(),
  pool: route("GET", "/v1/pool")<undefined, PoolMemberJson[]>(),
  addServer: route("POST", "/v1/pool/servers", 201)<AddServerRequest, ServerViewJson>(),
  setServer: route("PATCH", "/v1/pool/servers/{name}")<ServerChange, ServerViewJson>(),
  drain: route("POST", "/v1/pool/servers/{name}/drain")<EmptyBody, ServerViewJson>(),
  removeServer: route("DELETE", "/v1/pool/servers/{name}")<undefined, ServerRemoved>(),
  policy: route("GET", "/v1/policy")<undefined, PolicyInfo>(),
  /** 400 naming the parameter when the policy refuses its params. */
  setPolicy: route("PUT", "/v1/policy")<SetPolicyRequest, PolicyInfo>(),
} as const;

/** Any route (for tables of them): its parameters and types unknown. */
export type AnyRoute = Route<never, unknown, unknown>;
