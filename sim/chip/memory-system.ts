// The NP's shared memories as FIFO channels: an access waits for the channel to be free (queueing),
// holds it for the occupancy time, and completes after the memory's latency.
import { MEMORY_KINDS, type ChipTiming } from "../timing/costs.js";

interface Channel {
  freeAt: number;
  busyPs: number;
  accesses: number;
  queuedPs: number;
}

export interface ChannelStats {
  kind: string;
  channel: number;
  accesses: number;
  busyPs: number;
  meanQueuePs: number;
}

export class MemorySystem {
  private readonly channels: Channel[][];
  private readonly latencyPs: number[];
  private readonly occupancyPs: number[];

  constructor(timing: ChipTiming) {
    this.channels = MEMORY_KINDS.map((k) => Array.from({ length: timing.memories[k].channels }, () => ({ freeAt: 0, busyPs: 0, accesses: 0, queuedPs: 0 })));
    this.latencyPs = MEMORY_KINDS.map((k) => timing.memories[k].latencyCycles * timing.mePsPerCycle);
    this.occupancyPs = MEMORY_KINDS.map((k) => timing.memories[k].occupancyCycles * timing.mePsPerCycle);
  }

  /**
   * Issue an access of memory kind `kind` at time `now` for the 64-byte line `line` (lines are
   * interleaved over the kind's channels). Returns the time the data is there.
   */
  access(kind: number, line: number, now: number): number {
    const chans = this.channels[kind];
    const ch = chans[line % chans.length];
    const start = ch.freeAt > now ? ch.freeAt : now;
    const occ = this.occupancyPs[kind];
    ch.queuedPs += start - now;
    ch.freeAt = start + occ;
    ch.busyPs += occ;
    ch.accesses++;
    return start + this.latencyPs[kind];
  }

  stats(): ChannelStats[] {
    return this.channels.flatMap((chans, k) => chans.map((c, i) => ({
      kind: MEMORY_KINDS[k], channel: i, accesses: c.accesses, busyPs: c.busyPs, meanQueuePs: c.accesses ? c.queuedPs / c.accesses : 0,
    })));
  }
}
