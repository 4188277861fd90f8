// The TCP sender's SACK scoreboard (RFC 6675, fed by RFC 2018 SACK blocks): what the receiver holds above SND.UNA, and which hole to retransmit next.
import { seqDiff, seqGt, seqLe, seqLt } from "../../packet/seq.js";
import type { ParsedTcp } from "../../packet/tcp-wire.js";

export class SackScoreboard {
  /** SACKed ranges above SND.UNA, sorted, [l0, r0, l1, r1, ...]. */
  private sacked: number[] = [];
  /**
   * RFC 6675 HighRxt, kept as one past the highest byte retransmitted in the current recovery:
   * holes below it were already retransmitted.
   */
  highRxt = 0;

  /** Record the SACK blocks of an arriving ACK (RFC 6675 Update()); D-SACK and bogus blocks are ignored. */
  update(p: ParsedTcp, sndUna: number, sndMax: number): void {
    for (let b = 0; b < p.sackCount; b++) {
      const l = p.sackBlocks[2 * b], r = p.sackBlocks[2 * b + 1];
      if (!seqLt(l, r) || seqLe(r, sndUna) || seqGt(r, sndMax)) continue; // D-SACK or bogus
      this.insert(seqLt(l, sndUna) ? sndUna : l, r);
    }
  }

  private insert(l: number, r: number): void {
    const sk = this.sacked;
    const out: number[] = [];
    let placed = false;
    for (let i = 0; i < sk.length; i += 2) {
      const a = sk[i], b = sk[i + 1];
      if (seqLt(b, l)) out.push(a, b);
      else if (seqLt(r, a)) {
        if (!placed) { out.push(l, r); placed = true; }
        out.push(a, b);
      } else {
        if (seqLt(a, l)) l = a;
        if (seqGt(b, r)) r = b;
      }
    }
    if (!placed) out.push(l, r);
    this.sacked = out;
  }

  /** SND.UNA advanced to `sndUna`: drop what it covers. */
  prune(sndUna: number): void {
    const sk = this.sacked;
    if (sk.length === 0) return;
    let i = 0;
    while (i < sk.length && seqLe(sk[i + 1], sndUna)) i += 2;
    if (i > 0) this.sacked = sk.slice(i);
    if (this.sacked.length && seqLt(this.sacked[0], sndUna)) this.sacked[0] = sndUna;
  }

  /** The end of the SACKed range holding `seq`, or undefined when `seq` is not SACKed. */
  sackedRangeEnd(seq: number): number | undefined {
    const sk = this.sacked;
    for (let i = 0; i < sk.length; i += 2) {
      if (seqLe(sk[i], seq) && seqLt(seq, sk[i + 1])) return sk[i + 1];
    }
    return undefined;
  }

  /** Bytes from `seq` up to the next SACKed range (so a retransmission does not resend SACKed data). */
  bytesBeforeSacked(seq: number): number {
    const sk = this.sacked;
    for (let i = 0; i < sk.length; i += 2) if (seqGt(sk[i], seq)) return seqDiff(sk[i], seq);
    return 0x7fffffff;
  }

  /**
   * RFC 6675 NextSeg() for retransmission: the start of the first hole at or above SND.UNA
   * (`sndUna`) not yet retransmitted and below the highest SACKed byte, or undefined if none.
   */
  nextHole(sndUna: number): number | undefined {
    const sk = this.sacked;
    let seq = seqGt(this.highRxt, sndUna) ? this.highRxt : sndUna;
    for (let i = 0; i < sk.length; i += 2) {
      if (seqLe(sk[i + 1], seq)) continue;
      if (seqLt(seq, sk[i])) return seq;
      seq = sk[i + 1];
    }
    return undefined;
  }

  /** Bytes up to `end` were retransmitted: move HighRxt past them. */
  retransmitted(end: number): void {
    if (seqGt(end, this.highRxt)) this.highRxt = end;
  }
}
