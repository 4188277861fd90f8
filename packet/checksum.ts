// The Internet checksum (RFC 1071) and the IPv4 / TCP / ICMP checksums built on it: the one host
// implementation, used by the packet builder, the decoder and the tests.

/** One's complement sum of big-endian 16-bit words (odd trailing byte padded with zero), not folded. */
export function onesSum(bytes: Uint8Array, sum = 0): number {
  const n = bytes.length & ~1;
  for (let i = 0; i < n; i += 2) sum += (bytes[i] << 8) | bytes[i + 1];
  if (bytes.length & 1) sum += bytes[bytes.length - 1] << 8;
  return sum;
}

/** Fold a 32-bit-or-wider partial sum to 16 bits and complement it: the value of a checksum field. */
export function foldComplement(sum: number): number {
  while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 0x10000);
  return ~sum & 0xffff;
}

/** RFC 1071 checksum of `bytes` (with the checksum field inside them zeroed, or 0 when verifying). */
export function internetChecksum(bytes: Uint8Array): number {
  return foldComplement(onesSum(bytes));
}

/** IPv4 header checksum of `header` (IHL*4 bytes), computed as if its checksum field were zero. */
export function ipv4Checksum(header: Uint8Array): number {
  const copy = header.slice();
  copy[10] = 0;
  copy[11] = 0;
  return internetChecksum(copy);
}

/** Pseudo-header partial sum: source, destination, protocol and L4 length (RFC 793 3.1). */
function pseudoHeaderSum(src: Uint8Array, dst: Uint8Array, proto: number, l4Length: number): number {
  return onesSum(src) + onesSum(dst) + proto + l4Length;
}

/**
 * TCP checksum of `segment` (TCP header and payload) between IPv4 addresses `src` and `dst`
 * (4 raw bytes each), computed as if its checksum field were zero.
 */
export function tcpChecksum(src: Uint8Array, dst: Uint8Array, segment: Uint8Array): number {
  const copy = segment.slice();
  if (copy.length >= 18) {
    copy[16] = 0;
    copy[17] = 0;
  }
  return foldComplement(onesSum(copy, pseudoHeaderSum(src, dst, 6, segment.length)));
}

/** ICMP checksum of `message` (header and data), computed as if its checksum field were zero. */
export function icmpChecksum(message: Uint8Array): number {
  const copy = message.slice();
  if (copy.length >= 4) {
    copy[2] = 0;
    copy[3] = 0;
  }
  return internetChecksum(copy);
}
