// Scratch rings of the NP: bounded FIFOs of message bytes, one per ring id (RINGS in abi/layout.ts).
import { RINGS } from "../../abi/layout.js";
import { ringId, ringName } from "../../abi/ring-message.js";

export type RingName = (typeof RINGS.members)[number]["name"];

export const DEFAULT_RING_CAPACITY = 1024;

export class Rings {
  private readonly fifos: Uint8Array[][];
  private readonly capacities: number[];
  /** Called on every successful put (the harness collects the messages a packet produced). */
  onPut?: (ring: number, message: Uint8Array) => void;

  /** `capacities` by ring name (messages per ring); missing rings get DEFAULT_RING_CAPACITY. */
  constructor(capacities: Partial<Record<string, number>> = {}) {
    for (const name of Object.keys(capacities)) {
      if (!RINGS.members.some((m) => m.name === name)) throw new Error(`rings: no ring named ${name} (have ${RINGS.members.map((m) => m.name).join(", ")})`);
    }
    this.capacities = RINGS.members.map((m) => capacities[m.name] ?? DEFAULT_RING_CAPACITY);
    this.fifos = RINGS.members.map(() => []);
  }

  get count(): number {
    return this.fifos.length;
  }

  static id(name: string): number {
    return ringId(name);
  }

  static nameOf(id: number): string {
    return ringName(id);
  }

  /** Append a copy of `message`; false when the ring is full or does not exist. */
  put(ring: number, message: Uint8Array): boolean {
    const fifo = this.fifos[ring];
    if (!fifo || fifo.length >= this.capacities[ring]) return false;
    const copy = message.slice();
    fifo.push(copy);
    this.onPut?.(ring, copy);
    return true;
  }

  /** Take the oldest message, or undefined when the ring is empty or does not exist. */
  get(ring: number): Uint8Array | undefined {
    return this.fifos[ring]?.shift();
  }

  length(ring: number): number {
    return this.fifos[ring]?.length ?? 0;
  }

  capacity(ring: number): number {
    return this.capacities[ring] ?? 0;
  }

  /** Remove and return every message of a ring. */
  drain(ring: number): Uint8Array[] {
    const fifo = this.fifos[ring];
    if (!fifo) return [];
    return fifo.splice(0, fifo.length);
  }

  /** Remove one specific message (by identity), e.g. the ones the harness already reported. */
  remove(ring: number, message: Uint8Array): boolean {
    const fifo = this.fifos[ring];
    const i = fifo ? fifo.indexOf(message) : -1;
    if (i < 0) return false;
    fifo.splice(i, 1);
    return true;
  }
}
