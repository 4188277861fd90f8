// Wraparound-safe 32-bit sequence number arithmetic (RFC 9293 3.4, RFC 1982 style).

export function seqLt(a: number, b: number): boolean {
  return ((a - b) | 0) < 0;
}
export function seqLe(a: number, b: number): boolean {
  return ((a - b) | 0) <= 0;
}
export function seqGt(a: number, b: number): boolean {
  return ((a - b) | 0) > 0;
}
export function seqGe(a: number, b: number): boolean {
  return ((a - b) | 0) >= 0;
}
/** a + n as a sequence number (u32). */
export function seqAdd(a: number, n: number): number {
  return (a + n) >>> 0;
}
/** Distance from b forward to a (a - b), as a signed 32-bit number. */
export function seqDiff(a: number, b: number): number {
  return (a - b) | 0;
}
