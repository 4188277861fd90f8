// Out-of-order receive queue: holds segments beyond RCV.NXT, hands them back once the gap
// before them fills, and reports SACK blocks (RFC 2018 4: the block holding the most recently
// received segment first, then the most recently reported others).
import { seqAdd, seqDiff, seqGe, seqGt, seqLe, seqLt } from "../../packet/seq.js";

interface Piece { start: number; end: number; data: Uint8Array; fin: boolean }

export class Reassembly {
  /** Pieces sorted by start, non-overlapping. */
  private pieces: Piece[] = [];
  /** SACK block edges most recently reported, most recent first: [l0, r0, l1, r1, ...]. */
  private recent: number[] = [];
  bytes = 0;

  get empty(): boolean {
    return this.pieces.length === 0;
  }

  /** Keep `data` (starting at `seq`, beyond rcvNxt); `fin` when a FIN follows its last byte. */
  insert(seq: number, data: Uint8Array, fin: boolean): void {
    const start = seq >>> 0;
    const end = seqAdd(start, data.length);
    // Drop the parts already held (Linux keeps the old copy).
    const ps = this.pieces;
    let i = 0;
    while (i < ps.length && seqLe(ps[i].end, start)) i++;
    const cut: Piece[] = [];
    let cursor = start;
    for (let j = i; j < ps.length && seqLt(ps[j].start, end); j++) {
      if (seqLt(cursor, ps[j].start)) cut.push({ start: cursor, end: ps[j].start, data: data.subarray(seqDiff(cursor, seq), seqDiff(ps[j].start, seq)), fin: false });
      if (seqGt(ps[j].end, cursor)) cursor = ps[j].end;
    }
    if (seqLt(cursor, end)) cut.push({ start: cursor, end, data: data.subarray(seqDiff(cursor, seq)), fin });
    else if (fin) this.markFin(end);
    for (const c of cut) {
      let k = i;
      while (k < ps.length && seqLt(ps[k].start, c.start)) k++;
      ps.splice(k, 0, c);
      this.bytes += c.data.length;
    }
    this.noteRecent(start, end);
  }

  private markFin(end: number): void {
    for (const p of this.pieces) if (p.end === end) p.fin = true;
  }

  /** Remove and return the piece that starts at or before `rcvNxt` (trimmed to it), if any. */
  takeAt(rcvNxt: number): Piece | undefined {
    const ps = this.pieces;
    while (ps.length && seqLe(ps[0].end, rcvNxt) && !(ps[0].fin && ps[0].end === rcvNxt)) {
      this.bytes -= ps[0].data.length;
      ps.shift();
    }
    if (!ps.length || seqGt(ps[0].start, rcvNxt)) return undefined;
    const p = ps.shift()!;
    this.bytes -= p.data.length;
    const skip = seqDiff(rcvNxt, p.start);
    if (skip > 0) {
      p.data = p.data.subarray(skip);
      p.start = rcvNxt;
    }
    this.forgetBelow(p.end);
    return p;
  }

  /** Merge the most recent arrival into the list of blocks to report. */
  private noteRecent(start: number, end: number): void {
    // The block to report is the whole contiguous run of held pieces around [start, end).
    const ps = this.pieces;
    let lo = 0, hi = ps.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (seqLe(ps[mid].end, start)) lo = mid + 1;
      else hi = mid;
    }
    let first = lo, last = lo;
    while (first > 0 && ps[first - 1].end === ps[first].start) first--;
    while (last + 1 < ps.length && ps[last].end === ps[last + 1].start) last++;
    let l = start, r = end;
    if (ps.length) {
      if (seqLt(ps[first].start, l)) l = ps[first].start;
      if (seqGt(ps[last].end, r)) r = ps[last].end;
    }
    const next = [l, r];
    for (let i = 0; i < this.recent.length; i += 2) {
      const a = this.recent[i], b = this.recent[i + 1];
      if (seqLe(l, a) && seqGe(r, b)) continue; // subsumed by the new block
      next.push(a, b);
    }
    if (next.length > 2 * 4) next.length = 2 * 4;
    this.recent = next;
  }

  private forgetBelow(rcvNxt: number): void {
    const keep: number[] = [];
    for (let i = 0; i < this.recent.length; i += 2) if (seqGt(this.recent[i + 1], rcvNxt)) keep.push(this.recent[i], this.recent[i + 1]);
    this.recent = keep;
  }

  /** Write up to `max` SACK blocks above `rcvNxt` into `out`; returns how many. */
  sackBlocks(rcvNxt: number, out: number[], max: number): number {
    let n = 0;
    for (let i = 0; i < this.recent.length && n < max; i += 2) {
      const l = this.recent[i], r = this.recent[i + 1];
      if (seqLe(r, rcvNxt)) continue;
      out[2 * n] = seqGt(l, rcvNxt) ? l : rcvNxt;
      out[2 * n + 1] = r;
      n++;
    }
    return n;
  }
}
