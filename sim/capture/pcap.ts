// Classic libpcap capture files (https://www.tcpdump.org/manpages/pcap-savefile.5.html) with
// nanosecond timestamps (magic 0xa1b23c4d) and LINKTYPE_ETHERNET, stamped with simulated time.
// The bytes depend only on the frames and their times, so a seeded run gives the same file.
import { writeFileSync } from "node:fs";
import { PS_PER_NS, PS_PER_S, type Picos } from "../../lib/time.js";
import type { Link, LinkSide } from "../net/link.js";

export const PCAP_MAGIC_NS = 0xa1b23c4d;
export const LINKTYPE_ETHERNET = 1;
const GLOBAL_HEADER_LEN = 24;
const RECORD_HEADER_LEN = 16;
const NS_PER_S = PS_PER_S / PS_PER_NS;

export class PcapWriter {
  private readonly chunks: Uint8Array[] = [];
  private size = 0;
  frames = 0;

  constructor(readonly snapLen = 262_144) {
    const h = new Uint8Array(GLOBAL_HEADER_LEN);
    const dv = new DataView(h.buffer);
    dv.setUint32(0, PCAP_MAGIC_NS, true); // 0-3 magic (little-endian file)
    dv.setUint16(4, 2, true); // 4-5 version major
    dv.setUint16(6, 4, true); // 6-7 version minor
    dv.setInt32(8, 0, true); // 8-11 thiszone
    dv.setUint32(12, 0, true); // 12-15 sigfigs
    dv.setUint32(16, snapLen, true); // 16-19 snaplen
    dv.setUint32(20, LINKTYPE_ETHERNET, true); // 20-23 link type
    this.push(h);
  }

  /** Append `frame` captured at simulated time `timePs`. */
  add(timePs: Picos, frame: Uint8Array): void {
    const ns = Math.floor(timePs / PS_PER_NS);
    const incl = Math.min(frame.length, this.snapLen);
    const r = new Uint8Array(RECORD_HEADER_LEN + incl);
    const dv = new DataView(r.buffer);
    dv.setUint32(0, Math.floor(ns / NS_PER_S), true); // 0-3 seconds
    dv.setUint32(4, ns % NS_PER_S, true); // 4-7 nanoseconds
    dv.setUint32(8, incl, true); // 8-11 captured length
    dv.setUint32(12, frame.length, true); // 12-15 original length
    r.set(frame.subarray(0, incl), RECORD_HEADER_LEN);
    this.push(r);
    this.frames++;
  }

  /**
   * Capture at one endpoint of `link`: the frames `side` sends and the frames it receives, like
   * tcpdump on that interface.
   */
  captureEndpoint(link: Link, side: LinkSide): this {
    // A tap reports the sending side for "tx" and the receiving side for "rx".
    link.addTap((t, s, _dir, frame) => {
      if (s === side) this.add(t, frame);
    });
    return this;
  }

  /** The file's bytes so far. */
  bytes(): Uint8Array {
    const out = new Uint8Array(this.size);
    let at = 0;
    for (const c of this.chunks) {
      out.set(c, at);
      at += c.length;
    }
    return out;
  }

  writeFile(path: string): void {
    writeFileSync(path, this.bytes());
  }

  private push(b: Uint8Array): void {
    this.chunks.push(b);
    this.size += b.length;
  }
}
