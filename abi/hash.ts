// Host models of the NP's hash and CRC units: the exact functions behind the np.hash and
// np.crc32 intrinsics, shared by the simulator, the device and the control plane (which must
// place flow-table entries in the bucket the data plane will probe).

/**
 * np.hash(a, b, c): three 32-bit words to a 32-bit hash. The IXP hash unit computes a
 * polynomial hash over GF(2); we model its contract (a fixed, well-mixing function of the
 * words), not its polynomial: a murmur3-style mix with the fmix32 finaliser.
 */
export function npHash(a: number, b: number, c: number): number {
  let h = mixWord(0x9747b28c, a);
  h = mixWord(h, b);
  h = mixWord(h, c);
  return fmix32(h ^ 12);
}

/** MurmurHash3's fmix32 finaliser: a bijection on 32-bit words in which every input bit moves every output bit. */
export function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** One murmur3 body step: mix word `w` into hash `h`. */
function mixWord(h: number, w: number): number {
  let k = Math.imul(w >>> 0, 0xcc9e2d51);
  k = (k << 15) | (k >>> 17);
  k = Math.imul(k, 0x1b873593);
  h ^= k;
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/**
 * np.crc32(addr, len, seed): CRC-32 (IEEE 802.3, reflected, polynomial 0xEDB88320).
 * `seed` is a previous result to continue from (0 to start), so crc32(ab) = crc32(b, crc32(a)).
 */
export function crc32(bytes: Uint8Array, seed = 0): number {
  let c = ~seed >>> 0;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}
