// The client's bytes before the splice (RFC 9293 3.10.7.4 segment text processing): in-order bytes from
// the client's ISN+1 up to a fixed capacity (the receive window), out-of-order pieces held until the gap
// fills, retransmitted bytes trimmed. Everything accepted is replayed to the server byte for byte.
import { seqAdd, seqDiff } from "../../packet/seq.js";

export type Accepted = "new" | "duplicate" | "out_of_order" | "outside_window";

export class ReceiveBuffer {
  private data: Uint8Array;
  private used = 0;
  /** Out-of-order pieces by offset from `base` (each within the capacity). */
  private readonly pending = new Map<number, Uint8Array>();

  /** `base`: sequence number of the first byte (client ISN + 1). */
  constructor(readonly base: number, readonly capacity: number) {
    this.data = new Uint8Array(Math.min(capacity, 2048));
  }

  /** Next sequence number expected (what we acknowledge). */
  get next(): number {
    return seqAdd(this.base, this.used);
  }

  get length(): number {
    return this.used;
  }

  /** Bytes of window left. */
  get window(): number {
    return this.capacity - this.used;
  }

  /** The in-order bytes so far (a view; valid until the next accept). */
  bytes(): Uint8Array {
    return this.data.subarray(0, this.used);
  }

  /** Take the segment text `payload` at sequence number `seq`. */
  accept(seq: number, payload: Uint8Array): Accepted {
    let off = seqDiff(seq, this.base);
    let p = payload;
    if (off < 0) {
      if (off + p.length <= 0) return "duplicate";
      p = p.subarray(-off);
      off = 0;
    }
    if (off >= this.capacity) return "outside_window";
    if (off + p.length > this.capacity) p = p.subarray(0, this.capacity - off);
    if (off + p.length <= this.used) return "duplicate";
    if (off > this.used) {
      const have = this.pending.get(off);
      if (!have || have.length < p.length) this.pending.set(off, p.slice());
      return "out_of_order";
    }
    this.append(p.subarray(this.used - off));
    this.drainPending();
    return "new";
  }

  private append(p: Uint8Array): void {
    if (this.used + p.length > this.data.length) {
      const grown = new Uint8Array(Math.min(this.capacity, Math.max(this.data.length * 2, this.used + p.length)));
      grown.set(this.data.subarray(0, this.used));
      this.data = grown;
    }
    this.data.set(p, this.used);
    this.used += p.length;
  }

  private drainPending(): void {
    for (let progress = true; progress && this.pending.size > 0;) {
      progress = false;
      for (const [off, p] of this.pending) {
        if (off > this.used) continue;
        this.pending.delete(off);
        if (off + p.length > this.used) this.append(p.subarray(this.used - off));
        progress = true;
      }
    }
  }
}
