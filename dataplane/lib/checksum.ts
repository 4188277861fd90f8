// Internet checksum (RFC 1071) and its incremental update (RFC 1624, eqn. 3: HC' = ~(~HC + ~m + m')).

/** One's complement partial sum of the big-endian 16-bit words at ptr (an odd trailing byte is padded with zero), added to `sum`. */
export function checksumAdd(ptr: usize, len: u32, sum: u32): u32 {
  let p = ptr;
  const end = ptr + (len & ~1);
  while (p < end) {
    sum += <u32>bswap<u16>(load<u16>(p));
    p += 2;
  }
  if (len & 1) sum += <u32>load<u8>(p) << 8;
  // Fold the carries now so repeated calls never overflow 32 bits (the value is unchanged mod 0xffff).
  return (sum & 0xffff) + (sum >>> 16);
}

/** Fold a partial sum to 16 bits and complement it: the value of a checksum field, host order. */
export function checksumFold(sum: u32): u16 {
  sum = (sum & 0xffff) + (sum >>> 16);
  sum = (sum & 0xffff) + (sum >>> 16);
  return <u16>~sum;
}

/** The one's complement sum of the two 16-bit halves of a 32-bit value. */
@inline function halves(v: u32): u32 {
  return (v >>> 16) + (v & 0xffff);
}

/**
 * Accumulate the change of a 16-bit word from `oldWord` to `newWord` into a delta sum
 * (~m + m' of RFC 1624); apply the delta with csumApply. Many changes share one fold.
 */
@inline export function csumDelta16(delta: u32, oldWord: u32, newWord: u32): u32 {
  return delta + (~oldWord & 0xffff) + (newWord & 0xffff);
}

/** Accumulate the change of a 32-bit value at an even offset of the checksummed data. */
@inline export function csumDelta32(delta: u32, oldValue: u32, newValue: u32): u32 {
  return delta + halves(~oldValue) + halves(newValue);
}

/**
 * Accumulate the change of a 32-bit value that sits at an odd offset of the checksummed data
 * (TCP options need no alignment): the one's complement sum commutes with a byte swap
 * (RFC 1071 2.B), so the change counts byte-swapped.
 */
export function csumDelta32Odd(delta: u32, oldValue: u32, newValue: u32): u32 {
  let d = halves(~oldValue) + halves(newValue);
  d = (d & 0xffff) + (d >>> 16);
  d = (d & 0xffff) + (d >>> 16);
  return delta + (((d & 0xff) << 8) | (d >>> 8));
}

/** Apply an accumulated delta to a checksum field value (host order): RFC 1624 eqn. 3. */
@inline export function csumApply(check: u32, delta: u32): u16 {
  return checksumFold((~check & 0xffff) + delta);
}

/** RFC 1624 eqn. 3 for one 16-bit word; all values host order. */
export function csumReplace16(check: u16, oldWord: u16, newWord: u16): u16 {
  return csumApply(check, csumDelta16(0, oldWord, newWord));
}

/** RFC 1624 eqn. 3 for a 32-bit value at an even offset (two 16-bit words); all values host order. */
export function csumReplace32(check: u16, oldValue: u32, newValue: u32): u16 {
  return csumApply(check, csumDelta32(0, oldValue, newValue));
}
