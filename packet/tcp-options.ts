// TCP options (RFC 9293 3.1, RFC 7323 timestamps and window scale, RFC 2018 SACK): encode and decode.

export type TcpOption =
  | { kind: "mss"; value: number }
  | { kind: "wscale"; shift: number }
  | { kind: "sackPermitted" }
  | { kind: "sack"; blocks: [number, number][] }
  | { kind: "ts"; val: number; ecr: number }
  | { kind: "nop" }
  | { kind: "eol" }
  | { kind: "raw"; bytes: Uint8Array };

export const TCPOPT_EOL = 0;
export const TCPOPT_NOP = 1;
export const TCPOPT_MSS = 2; // len 4
export const TCPOPT_WSCALE = 3; // len 3
export const TCPOPT_SACK_PERMITTED = 4; // len 2
export const TCPOPT_SACK = 5; // len 2 + 8n
export const TCPOPT_TS = 8; // len 10

function u16(v: number): number[] {
  return [(v >>> 8) & 0xff, v & 0xff];
}
function u32(v: number): number[] {
  return [(v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff];
}

/** Option bytes in order, unpadded. */
export function encodeTcpOptions(options: TcpOption[]): Uint8Array {
  const out: number[] = [];
  for (const o of options) {
    switch (o.kind) {
      case "mss": out.push(TCPOPT_MSS, 4, ...u16(o.value)); break;
      case "wscale": out.push(TCPOPT_WSCALE, 3, o.shift & 0xff); break;
      case "sackPermitted": out.push(TCPOPT_SACK_PERMITTED, 2); break;
      case "sack": out.push(TCPOPT_SACK, 2 + 8 * o.blocks.length, ...o.blocks.flatMap(([l, r]) => [...u32(l), ...u32(r)])); break;
      case "ts": out.push(TCPOPT_TS, 10, ...u32(o.val), ...u32(o.ecr)); break;
      case "nop": out.push(TCPOPT_NOP); break;
      case "eol": out.push(TCPOPT_EOL); break;
      case "raw": out.push(...o.bytes); break;
    }
  }
  return Uint8Array.from(out);
}

export interface DecodedTcpOptions {
  options: TcpOption[];
  /** Why decoding stopped early (a length of 0/1 or one running past the header), if it did. */
  error?: string;
}

/**
 * Decode the option bytes of a TCP header. Stops at EOL (included once; the rest is padding).
 * A malformed option ends decoding: the remaining bytes are returned as one raw option with `error` set.
 */
export function decodeTcpOptions(bytes: Uint8Array): DecodedTcpOptions {
  const options: TcpOption[] = [];
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let i = 0;
  while (i < bytes.length) {
    const kind = bytes[i];
    if (kind === TCPOPT_EOL) {
      options.push({ kind: "eol" });
      return { options };
    }
    if (kind === TCPOPT_NOP) {
      options.push({ kind: "nop" });
      i++;
      continue;
    }
    if (i + 1 >= bytes.length) return { options: [...options, { kind: "raw", bytes: bytes.slice(i) }], error: `option ${kind} at ${i}: no length byte` };
    const len = bytes[i + 1];
    if (len < 2) return { options: [...options, { kind: "raw", bytes: bytes.slice(i) }], error: `option ${kind} at ${i}: length ${len}` };
    if (i + len > bytes.length) return { options: [...options, { kind: "raw", bytes: bytes.slice(i) }], error: `option ${kind} at ${i}: length ${len} runs past the header` };
    const at = i + 2;
    if (kind === TCPOPT_MSS && len === 4) options.push({ kind: "mss", value: dv.getUint16(at) });
    else if (kind === TCPOPT_WSCALE && len === 3) options.push({ kind: "wscale", shift: bytes[at] });
    else if (kind === TCPOPT_SACK_PERMITTED && len === 2) options.push({ kind: "sackPermitted" });
    else if (kind === TCPOPT_SACK && (len - 2) % 8 === 0 && len > 2) {
      const blocks: [number, number][] = [];
      for (let b = at; b < i + len; b += 8) blocks.push([dv.getUint32(b), dv.getUint32(b + 4)]);
      options.push({ kind: "sack", blocks });
    } else if (kind === TCPOPT_TS && len === 10) options.push({ kind: "ts", val: dv.getUint32(at), ecr: dv.getUint32(at + 4) });
    else options.push({ kind: "raw", bytes: bytes.slice(i, i + len) });
    i += len;
  }
  return { options };
}
