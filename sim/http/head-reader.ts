// Collects the head of an HTTP/1.1 message (start line and header fields, RFC 9112 2.1) from
// stream chunks, up to the blank line, with a size limit; then parses it.

export const MAX_HEAD_BYTES = 16 * 1024;

export interface MessageHead {
  /** The start line's three parts: method, target, version (request) or version, status, reason (response). */
  start: [string, string, string];
  /** Header fields, names lower-cased; a repeated field keeps its last value. */
  headers: Map<string, string>;
}

export class HeadReader {
  private parts: Uint8Array[] = [];
  private size = 0;
  /** Last bytes seen, to find CRLFCRLF across chunk edges. */
  private tail = 0;

  reset(): void {
    this.parts = [];
    this.size = 0;
    this.tail = 0;
  }

  get bytes(): number {
    return this.size;
  }

  /**
   * Take bytes from `data` starting at `at` until the head is complete. Returns the index just
   * after the head in `data` when complete, -1 when more is needed, -2 when the head is too large.
   */
  push(data: Uint8Array, at: number): number {
    let t = this.tail;
    for (let i = at; i < data.length; i++) {
      t = ((t << 8) | data[i]) >>> 0;
      if (t === 0x0d0a0d0a) {
        this.parts.push(data.subarray(at, i + 1));
        this.size += i + 1 - at;
        this.tail = 0;
        return this.size > MAX_HEAD_BYTES ? -2 : i + 1;
      }
    }
    this.tail = t;
    this.parts.push(data.subarray(at));
    this.size += data.length - at;
    return this.size > MAX_HEAD_BYTES ? -2 : -1;
  }

  /** Parse the collected head; undefined when it is not a well-formed message head. */
  parse(): MessageHead | undefined {
    let text = "";
    for (const p of this.parts) text += latin1(p);
    const lines = text.slice(0, -4).split("\r\n");
    const m = /^(\S+) (\S+) (.*)$/.exec(lines[0]);
    if (!m) return undefined;
    const headers = new Map<string, string>();
    for (let i = 1; i < lines.length; i++) {
      const line = lines[i];
      const colon = line.indexOf(":");
      if (colon <= 0 || /[\s]/.test(line.slice(0, colon))) return undefined;
      headers.set(line.slice(0, colon).toLowerCase(), line.slice(colon + 1).trim());
    }
    return { start: [m[1], m[2], m[3]], headers };
  }
}

function latin1(b: Uint8Array): string {
  let s = "";
  for (let i = 0; i < b.length; i += 4096) s += String.fromCharCode.apply(null, Array.from(b.subarray(i, i + 4096)));
  return s;
}

/** Content-Length as a number; undefined when absent, NaN when malformed. */
export function contentLength(headers: Map<string, string>): number | undefined {
  const v = headers.get("content-length");
  if (v === undefined) return undefined;
  return /^\d{1,15}$/.test(v) ? Number(v) : NaN;
}

/** Whether the message asks to close the connection after this exchange (RFC 9112 9.3). */
export function wantsClose(headers: Map<string, string>, version: string): boolean {
  const c = (headers.get("connection") ?? "").toLowerCase().split(/\s*,\s*/);
  if (c.includes("close")) return true;
  return version === "HTTP/1.0" && !c.includes("keep-alive");
}
