// TCP sequence-number comparisons modulo 2^32 (RFC 9293 3.4; RFC 1982 serial arithmetic).

@inline export function seqLt(a: u32, b: u32): bool { return <i32>(a - b) < 0; }
@inline export function seqLeq(a: u32, b: u32): bool { return <i32>(a - b) <= 0; }
@inline export function seqGt(a: u32, b: u32): bool { return <i32>(a - b) > 0; }
@inline export function seqGeq(a: u32, b: u32): bool { return <i32>(a - b) >= 0; }
/** a <= x < b, all modulo 2^32. */
@inline export function seqInWindow(x: u32, a: u32, b: u32): bool { return x - a < b - a; }
