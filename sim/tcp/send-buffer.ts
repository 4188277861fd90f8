// Bytes written by the application and not yet acknowledged, addressed by sequence number.
// Chunks are kept as written (not copied); acknowledged chunks are released from the front.
import { seqAdd, seqDiff } from "../../packet/seq.js";

export class SendBuffer {
  private chunks: Uint8Array[] = [];
  private head = 0; // index of the first live chunk
  private headSkip = 0; // bytes of chunks[head] already acknowledged
  /** Sequence number of the first unacknowledged byte held. */
  startSeq = 0;
  /** Bytes held (written and not yet acknowledged). */
  length = 0;

  reset(startSeq: number): void {
    this.startSeq = startSeq >>> 0;
  }

  /** Sequence number just past the last byte written. */
  get endSeq(): number {
    return seqAdd(this.startSeq, this.length);
  }

  append(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    this.chunks.push(bytes);
    this.length += bytes.length;
  }

  /** Release everything before `seq`. */
  ackTo(seq: number): void {
    let n = seqDiff(seq, this.startSeq);
    if (n <= 0) return;
    if (n > this.length) n = this.length;
    this.startSeq = seqAdd(this.startSeq, n);
    this.length -= n;
    while (n > 0) {
      const c = this.chunks[this.head];
      const left = c.length - this.headSkip;
      if (n < left) {
        this.headSkip += n;
        break;
      }
      n -= left;
      this.chunks[this.head++] = undefined as unknown as Uint8Array;
      this.headSkip = 0;
    }
    if (this.head > 64 && this.head * 2 > this.chunks.length) {
      this.chunks = this.chunks.slice(this.head);
      this.head = 0;
    }
  }

  /** Copy `len` bytes starting at sequence `seq` into `dst` at `at`. */
  copyOut(seq: number, len: number, dst: Uint8Array, at: number): void {
    let skip = seqDiff(seq, this.startSeq) + this.headSkip;
    let i = this.head;
    while (skip >= this.chunks[i].length) skip -= this.chunks[i++].length;
    while (len > 0) {
      const c = this.chunks[i++];
      const n = Math.min(len, c.length - skip);
      dst.set(n === c.length ? c : c.subarray(skip, skip + n), at);
      at += n;
      len -= n;
      skip = 0;
    }
  }
}
