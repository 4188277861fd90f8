// Text forms of IPv4 and Ethernet addresses ('10.0.0.1', 'aa:bb:cc:00:00:01') to and from bytes.

export type Ip4 = string | Uint8Array;
export type Mac = string | Uint8Array;

/** '10.0.0.1' -> 4 bytes in network order. Bytes pass through (copied, length checked). */
export function ip4Bytes(a: Ip4): Uint8Array {
  if (a instanceof Uint8Array) {
    if (a.length !== 4) throw new RangeError(`IPv4 address must be 4 bytes, got ${a.length}`);
    return a.slice();
  }
  const parts = a.split(".");
  if (parts.length !== 4) throw new SyntaxError(`bad IPv4 address '${a}'`);
  return Uint8Array.from(parts, (p) => {
    const n = Number(p);
    if (!/^\d{1,3}$/.test(p) || n > 255) throw new SyntaxError(`bad IPv4 address '${a}'`);
    return n;
  });
}

/** 'aa:bb:cc:00:00:01' -> 6 bytes. Bytes pass through (copied, length checked). */
export function macBytes(m: Mac): Uint8Array {
  if (m instanceof Uint8Array) {
    if (m.length !== 6) throw new RangeError(`MAC address must be 6 bytes, got ${m.length}`);
    return m.slice();
  }
  const parts = m.split(/[:-]/);
  if (parts.length !== 6 || parts.some((p) => !/^[0-9a-fA-F]{1,2}$/.test(p))) throw new SyntaxError(`bad MAC address '${m}'`);
  return Uint8Array.from(parts, (p) => parseInt(p, 16));
}

/** IPv4 address as a big-endian u32 (the value a be32 layout field holds). */
export function ip4ToU32(a: Ip4): number {
  const b = ip4Bytes(a);
  return ((b[0] << 24) | (b[1] << 16) | (b[2] << 8) | b[3]) >>> 0;
}

export function ip4String(b: Uint8Array): string {
  return Array.from(b.subarray(0, 4)).join(".");
}

export function macString(b: Uint8Array): string {
  return Array.from(b.subarray(0, 6), (x) => x.toString(16).padStart(2, "0")).join(":");
}
