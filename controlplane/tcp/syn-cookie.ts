// SYN cookies (RFC 4987 3.6): the SYN-ACK's ISN encodes everything the CP must remember about a SYN, so a
// SYN costs no state. ISN = slot(5 bits) | mss class(3 bits) | MAC(24 bits), the MAC a keyed hash
// (HMAC-SHA-256, truncated) of the 4-tuple, the client's ISN, the time slot and the MSS class. Like Linux,
// when the client sent timestamps the options the ISN cannot hold travel in the low 6 bits of our TSval
// (bits 0-3 the client's window scale or 15 for none, bit 4 SACK-permitted); the client echoes them in
// TSecr. Without timestamps the SYN-ACK offers neither window scaling nor SACK (nothing could carry them).
import { createHmac } from "node:crypto";
import { seqAdd } from "../../packet/seq.js";

/** MSS values a cookie can carry (3 bits): the client's MSS is rounded down to one of these. */
export const MSS_CLASSES: readonly number[] = [216, 536, 1200, 1300, 1400, 1440, 1460, 8960];
/** A cookie is valid in its time slot and the next one: 64 to 128 s after the SYN-ACK. */
export const COOKIE_SLOT_PS = 64_000_000_000_000;
const SLOT_BITS = 5;
const MSS_SHIFT = 24;
const MAC_MASK = 0xff_ffff;
/** Low TSval bits used for options, and their fields. */
const TS_OPT_MASK = 0x3f;
const TS_WSCALE_MASK = 0x0f;
const TS_WSCALE_NONE = 0x0f;
const TS_SACK = 0x10;
/** RFC 7323 2.3: a window shift above 14 is treated as 14. */
export const MAX_WSCALE = 14;
/** RFC 9293 3.7.1: the MSS assumed when a SYN carries none. */
export const DEFAULT_MSS = 536;

export interface CookieSyn {
  saddr: number;
  daddr: number;
  sport: number;
  dport: number;
  /** The client's initial sequence number. */
  isn: number;
  mss?: number;
  wscale?: number;
  sackPermitted: boolean;
  tsVal?: number;
}

/** What the SYN-ACK carries. */
export interface CookieGrant {
  isn: number;
  /** MSS to advertise: min(client's, switch's). */
  mss: number;
  sack: boolean;
  /** Our window scale, when the client offered one (and sent timestamps). */
  wscale?: number;
  ts?: { val: number; ecr: number };
}

/** The connection a valid cookie describes. */
export interface CookieConnection {
  clientIsn: number;
  /** Our ISN towards the client (the cookie). */
  isn: number;
  /** The client's MSS rounded down to its class. */
  mss: number;
  ts: boolean;
  /** The client's window shift when scaling is in effect, else null. */
  clientWscale: number | null;
  sack: boolean;
}

export class SynCookies {
  private readonly secret: Buffer;

  constructor(secret: string | Uint8Array, private readonly switchMss: number, private readonly switchWscale: number) {
    this.secret = Buffer.from(typeof secret === "string" ? Buffer.from(secret, "utf8") : secret);
    if (this.secret.length < 8) throw new RangeError("syn cookies: the secret must be at least 8 bytes");
  }

  /** The SYN-ACK's ISN and options for `syn` at time `nowPs`; `tsNow` is the CP's timestamp clock. */
  issue(syn: CookieSyn, nowPs: number, tsNow: number): CookieGrant {
    const clientMss = syn.mss ?? DEFAULT_MSS;
    let cls = 0;
    for (let i = 0; i < MSS_CLASSES.length; i++) if (MSS_CLASSES[i] <= clientMss) cls = i;
    const slot = Math.floor(nowPs / COOKIE_SLOT_PS);
    const isn = (((slot & ((1 << SLOT_BITS) - 1)) << (32 - SLOT_BITS)) | (cls << MSS_SHIFT) | this.mac(syn, syn.isn, slot, cls)) >>> 0;
    const grant: CookieGrant = { isn, mss: Math.min(clientMss, this.switchMss), sack: false };
    if (syn.tsVal === undefined) return grant; // Linux too: no timestamps, no room for wscale / SACK
    const clientWscale = syn.wscale === undefined ? TS_WSCALE_NONE : Math.min(syn.wscale, MAX_WSCALE);
    const bits = clientWscale | (syn.sackPermitted ? TS_SACK : 0);
    // Our TSval must not run ahead of our clock: step back one 64-tick unit when the bits would.
    let val = tsNow >>> 0;
    if ((val & TS_OPT_MASK) < bits) val = (val - (TS_OPT_MASK + 1)) >>> 0;
    grant.ts = { val: ((val & ~TS_OPT_MASK) | bits) >>> 0, ecr: syn.tsVal >>> 0 };
    grant.sack = syn.sackPermitted;
    if (syn.wscale !== undefined) grant.wscale = this.switchWscale;
    return grant;
  }

  /** The connection the ACK `seg` completes, or null when its cookie is not one we issued in the last two slots. */
  check(seg: { saddr: number; daddr: number; sport: number; dport: number; seq: number; ack: number; tsEcr?: number }, nowPs: number): CookieConnection | null {
    const isn = seqAdd(seg.ack, -1);
    const clientIsn = seqAdd(seg.seq, -1);
    const cls = (isn >>> MSS_SHIFT) & 0x7;
    const slotLow = isn >>> (32 - SLOT_BITS);
    const now = Math.floor(nowPs / COOKIE_SLOT_PS);
    const slot = [now, now - 1].find((s) => s >= 0 && (s & ((1 << SLOT_BITS) - 1)) === slotLow);
    if (slot === undefined || (isn & MAC_MASK) !== this.mac(seg, clientIsn, slot, cls)) return null;
    const conn: CookieConnection = { clientIsn, isn, mss: MSS_CLASSES[cls], ts: false, clientWscale: null, sack: false };
    if (seg.tsEcr === undefined) return conn;
    conn.ts = true;
    const w = seg.tsEcr & TS_WSCALE_MASK;
    conn.clientWscale = w === TS_WSCALE_NONE ? null : Math.min(w, MAX_WSCALE);
    conn.sack = (seg.tsEcr & TS_SACK) !== 0;
    return conn;
  }

  private mac(t: { saddr: number; daddr: number; sport: number; dport: number }, clientIsn: number, slot: number, cls: number): number {
    const msg = Buffer.alloc(24);
    msg.writeUInt32BE(t.saddr >>> 0, 0);
    msg.writeUInt32BE(t.daddr >>> 0, 4);
    msg.writeUInt16BE(t.sport, 8);
    msg.writeUInt16BE(t.dport, 10);
    msg.writeUInt32BE(clientIsn >>> 0, 12);
    msg.writeUInt32BE(slot >>> 0, 16);
    msg.writeUInt32BE(cls, 20);
    return createHmac("sha256", this.secret).update(msg).digest().readUIntBE(0, 3);
  }
}
