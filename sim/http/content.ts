// The bytes simulated servers serve: a deterministic function of (path, offset), so a client
// checks every response byte without holding a copy of the file. Also the fixed bodies of
// error responses and of POST request bodies.

/** FNV-1a hash of a path: the per-file seed of its content. */
export function pathSeed(path: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < path.length; i++) {
    h ^= path.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** Byte `offset` of a file whose pathSeed is `seed` (a murmur3-style finalizer of seed and offset). */
export function seededContentByte(seed: number, offset: number): number {
  let x = (seed ^ Math.imul(offset, 0x9e3779b1)) | 0;
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b);
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
  return (x ^ (x >>> 16)) & 0xff;
}

/** Byte `offset` of the file at `path`. */
export function contentByte(path: string, offset: number): number {
  return seededContentByte(pathSeed(path), offset);
}

/** The first `size` bytes of the file at `path`. */
export function contentOf(path: string, size: number): Uint8Array {
  const seed = pathSeed(path);
  const out = new Uint8Array(size);
  for (let i = 0; i < size; i++) out[i] = seededContentByte(seed, i);
  return out;
}

/**
 * Generated contents are kept for reuse (popular files are served and checked many times), up
 * to a byte budget, least recently used first out. Bigger files are generated each time.
 */
const MEMO_BUDGET = 128 << 20;
const memo = new Map<string, Uint8Array>();
let memoBytes = 0;

/**
 * contentOf(path, size), shared and immutable: the same bytes for every caller, so it must
 * never be modified. Returns a fresh array for files over a quarter of the budget.
 */
export function sharedContentOf(path: string, size: number): Uint8Array {
  const held = memo.get(path);
  if (held && held.length >= size) {
    memo.delete(path);
    memo.set(path, held);
    return held.subarray(0, size);
  }
  const bytes = contentOf(path, size);
  if (size > MEMO_BUDGET / 4) return bytes;
  if (held) {
    memo.delete(path);
    memoBytes -= held.length;
  }
  for (const [old, b] of memo) {
    if (memoBytes + size <= MEMO_BUDGET) break;
    memo.delete(old);
    memoBytes -= b.length;
  }
  memo.set(path, bytes);
  memoBytes += size;
  return bytes;
}

/** Index of the first byte of `data` that differs from the file content at `offset`, or -1. */
export function firstMismatch(seed: number, offset: number, data: Uint8Array): number {
  for (let i = 0; i < data.length; i++) if (data[i] !== seededContentByte(seed, offset + i)) return i;
  return -1;
}

/** The body a client POSTs to `path` (so the server can check it): content of "POST <path>". */
export function requestBodyOf(path: string, size: number): Uint8Array {
  return contentOf(`POST ${path}`, size);
}

export const STATUS_TEXT: Readonly<Record<number, string>> = {
  200: "OK", 400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed", 413: "Payload Too Large",
};

/** The body of an error response (what a client expects byte for byte). */
export function errorBody(status: number): Uint8Array {
  return new TextEncoder().encode(`${status} ${STATUS_TEXT[status] ?? "Error"}\n`);
}
