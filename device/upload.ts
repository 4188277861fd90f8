// Firmware uploads in progress: one session at a time, its chunks appended in order to a .part file in
// the state directory (nothing else is touched until commit), expired after a while without a chunk.
// A chunk must start where the received bytes end; anything else is refused with the offset to resume
// from, so a client that lost an answer neither skips nor repeats bytes.
import { randomBytes } from "node:crypto";
import { appendFileSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ApiError } from "./errors.js";
import { MAX_IMAGE_BYTES, ROUTES, type UploadState } from "./protocol.js";

export interface UploadSession {
  id: string;
  size: number;
  sha256: string;
  received: number;
  state: UploadState;
  path: string;
  lastChunkMs: number;
}

export class Uploads {
  private session: UploadSession | null = null;
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly dir: string, readonly chunkSize: number, private readonly timeoutMs: number, private readonly log: (line: string) => void) {}

  get current(): UploadSession | null {
    return this.session;
  }

  begin(size: unknown, sha256: unknown): UploadSession {
    if (!Number.isInteger(size) || (size as number) <= 0 || (size as number) > MAX_IMAGE_BYTES) {
      throw new ApiError(400, `field size: expected the image's length in bytes, 1..${MAX_IMAGE_BYTES}, got ${JSON.stringify(size)}`);
    }
    if (typeof sha256 !== "string" || !/^[0-9a-f]{64}$/.test(sha256)) throw new ApiError(400, `field sha256: expected 64 lowercase hex digits, got ${JSON.stringify(sha256)}`);
    if (this.session) {
      throw new ApiError(409, `another upload is in progress (session ${this.session.id}, ${this.session.received}/${this.session.size} bytes); it expires after ${this.timeoutMs / 1000} s without a chunk`);
    }
    const id = randomBytes(8).toString("hex");
    const path = join(this.dir, `upload-${id}.part`);
    writeFileSync(path, new Uint8Array(0));
    this.session = { id, size: size as number, sha256, received: 0, state: "receiving", path, lastChunkMs: Date.now() };
    this.arm();
    return this.session;
  }

  get(id: string): UploadSession {
    const s = this.session;
    if (!s || s.id !== id) throw new ApiError(404, `no upload session ${id} (expired, aborted or committed); start again with ${ROUTES.flashOpen.endpoint({})}`);
    return s;
  }

  chunk(id: string, offset: number, bytes: Uint8Array): UploadSession {
    const s = this.get(id);
    if (s.state !== "receiving") throw new ApiError(409, `session ${id} is being verified`, { received: s.received });
    if (offset !== s.received) throw new ApiError(409, `chunk at offset ${offset}, but ${s.received} bytes were received: resume from ${s.received}`, { received: s.received });
    if (bytes.length === 0 || bytes.length > this.chunkSize) throw new ApiError(400, `chunk of ${bytes.length} bytes: expected 1..${this.chunkSize}`, { received: s.received });
    if (s.received + bytes.length > s.size) throw new ApiError(400, `chunk ends at ${s.received + bytes.length}, past the announced size ${s.size}`, { received: s.received });
    appendFileSync(s.path, bytes);
    s.received += bytes.length;
    s.lastChunkMs = Date.now();
    this.arm();
    return s;
  }

  /** The whole upload, for verification; the session then stays "verifying" until finish(). */
  take(id: string): { session: UploadSession; bytes: Uint8Array } {
    const s = this.get(id);
    if (s.state !== "receiving") throw new ApiError(409, `session ${id} is already being verified`);
    if (s.received !== s.size) throw new ApiError(422, `only ${s.received} of ${s.size} bytes were received`, { step: "size", received: s.received });
    s.state = "verifying";
    if (this.timer) clearTimeout(this.timer), (this.timer = null);
    return { session: s, bytes: new Uint8Array(readFileSync(s.path)) };
  }

  /** End the session and delete its part file (commit done, refused, or aborted). */
  finish(id: string): void {
    const s = this.get(id);
    rmSync(s.path, { force: true });
    this.session = null;
    if (this.timer) clearTimeout(this.timer), (this.timer = null);
  }

  private arm(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      const s = this.session;
      if (!s || s.state !== "receiving") return;
      this.log(`flash: upload session ${s.id} expired after ${this.timeoutMs / 1000} s without a chunk (${s.received}/${s.size} bytes); the running image is untouched`);
      this.finish(s.id);
    }, this.timeoutMs);
    this.timer.unref();
  }

  close(): void {
    if (this.session) this.finish(this.session.id);
  }
}
