// Functional model of the NP data plane: runs the exact image bytes on one shared memory, packet by
// packet (classify, then splice when classify says NEXT), with buffers, descriptors and rings.
import {
  region, CAPACITIES, COUNTER, NO_FLOW, PACKET_DESC, REASON, VERDICT, fieldOffsets,
} from "../../abi/layout.js";
import { decodeStruct, encodeStruct, type StructValue } from "../../abi/codec.js";
import { decodeMessage, reasonName, type RingMessage } from "../../abi/ring-message.js";
import { writeSwitchConfig, type SwitchConfig } from "../../abi/switch-config.js";
import { Random } from "../../lib/random.js";
import { createNpMemory, npImports } from "./imports.js";
import { Rings } from "./rings.js";

export type Verdict = "DROP" | "FORWARD" | "TO_CP" | "NEXT" | "INVALID";

export interface ImageBytes {
  name: string;
  wasm: Uint8Array;
  /** The wasm already compiled (saves compiling it again for each fresh data plane). */
  module?: WebAssembly.Module;
}

export interface DataplaneOptions {
  /** Messages per ring by name (e.g. { TO_CP: 1 }), or a Rings instance to share. */
  rings?: Rings | Partial<Record<string, number>>;
  /** np.timestamp(); defaults to the settable `dp.time`. */
  clock?: () => number;
  ctxSwap?: () => void;
  /** Images run in this order while each returns NEXT. Default ['classify', 'splice']. */
  pipeline?: string[];
  /**
   * Take the TO_CP messages a packet produced off the ring after reporting them (default true):
   * tests look at `result.messages`; a simulated CP sets false and reads the ring itself.
   */
  drainToCp?: boolean;
  /**
   * Seed of the garbage written into each packet buffer beyond the frame (default GARBAGE_SEED): on the
   * chip and the device a buffer holds whatever its previous packet left there, never zeros, so an
   * image that reads past the frame must not find zeros here either. The same seed, the same bytes.
   */
  garbageSeed?: number;
}

/** Default seed of the bytes a fresh Dataplane leaves in its packet buffers beyond each frame. */
export const GARBAGE_SEED = 0x9a4b_a6e5;

export interface ProcessResult {
  verdict: Verdict;
  /** Reason name from DESC_REASON (always for DROP; for other verdicts when the stage set one). */
  reason?: string;
  outPort?: number;
  /** The buffer's bytes after the stages ran (DESC_BUF, DESC_LEN as they left them). */
  frame: Uint8Array;
  /** Ring messages put while this packet ran. */
  messages: RingMessage[];
  trap?: { image: string; error: string };
  /** The descriptor as the stages left it (field names of PACKET_DESC). */
  desc: StructValue;
  /** Descriptor address; with TO_CP the buffer stays allocated until freeBuffer(descAddr). */
  descAddr: number;
  /** Images that ran, in order. */
  ran: string[];
  /** Raw return value of the last image that ran. */
  rawVerdict: number;
}

interface LoadedImage {
  name: string;
  init: () => void;
  process: (desc: number) => number;
}

export const COUNTERS_BASE = region("COUNTERS").base;
export const DESCRIPTORS_BASE = region("DESCRIPTORS").base;
export const BUFFERS_BASE = region("BUFFERS").base;
export const FLOWS_BASE = region("FLOWS").base;
const MAX_BUFFERS = CAPACITIES.MAX_BUFFERS.value;
const BUFFER_SIZE = CAPACITIES.BUFFER_SIZE.value;
const MAX_REASONS = CAPACITIES.MAX_REASONS.value;
const DESC_FIELDS = fieldOffsets(PACKET_DESC);
const DESC_OFF = (name: string) => DESC_FIELDS.get(name)!.offset;
const REASON_TRAP = REASON.members.findIndex((m) => m.name === "TRAP");
const VERDICT_NEXT = VERDICT.members.findIndex((m) => m.name === "NEXT");
const RING_TO_CP = Rings.id("TO_CP");

export function verdictName(n: number): Verdict {
  return (VERDICT.members[n]?.name as Verdict | undefined) ?? "INVALID";
}

export class Dataplane {
  readonly memory: WebAssembly.Memory;
  readonly rings: Rings;
  /** np.timestamp() value when no clock is given. */
  time = 0;
  private readonly images = new Map<string, LoadedImage>();
  private readonly pipeline: string[];
  private readonly drainToCp: boolean;
  private readonly freeBuffers: number[] = [];
  private readonly held = new Set<number>();
  /** Garbage for the bytes of a buffer beyond its frame (deterministic per instance). */
  private readonly garbage: Random;

  private constructor(memory: WebAssembly.Memory, rings: Rings, opts: DataplaneOptions) {
    this.memory = memory;
    this.rings = rings;
    this.garbage = new Random(opts.garbageSeed ?? GARBAGE_SEED);
    this.pipeline = opts.pipeline ?? ["classify", "splice"];
    this.drainToCp = opts.drainToCp ?? true;
    for (let i = MAX_BUFFERS - 1; i >= 0; i--) this.freeBuffers.push(i);
  }

  /** Instantiate every image on one fresh shared memory with the NP imports and call init() on each, in order. */
  static async load(images: ImageBytes[], opts: DataplaneOptions = {}): Promise<Dataplane> {
    const memory = createNpMemory();
    const rings = opts.rings instanceof Rings ? opts.rings : new Rings(opts.rings ?? {});
    const dp = new Dataplane(memory, rings, opts);
    const imports = npImports(memory, { rings, clock: opts.clock ?? (() => dp.time), ctxSwap: opts.ctxSwap });
    for (const { name, wasm, module: compiled } of images) {
      if (dp.images.has(name)) throw new Error(`dataplane: image ${name} given twice`);
      const module = compiled ?? (await WebAssembly.compile(wasm as BufferSource));
      const instance = await WebAssembly.instantiate(module, imports);
      const { init, process } = instance.exports as Record<string, unknown>;
      if (typeof init !== "function" || typeof process !== "function") throw new Error(`dataplane: image ${name} does not export init() and process(desc)`);
      dp.images.set(name, { name, init: init as () => void, process: process as (d: number) => number });
    }
    for (const image of dp.images.values()) image.init();
    return dp;
  }

  imageNames(): string[] {
    return [...this.images.keys()];
  }

  memoryBytes(): Uint8Array {
    return new Uint8Array(this.memory.buffer);
  }

  /** Write the Config struct (the whole struct: fields not given are zero). */
  configure(cfg: SwitchConfig): void {
    writeSwitchConfig(this.memoryBytes(), cfg);
  }

  /** Run one frame through the pipeline. Traps are caught, counted as TRAP and reported. */
  process(inPort: number, frame: Uint8Array): ProcessResult {
    if (frame.length > BUFFER_SIZE) throw new RangeError(`process: frame of ${frame.length} bytes exceeds BUFFER_SIZE ${BUFFER_SIZE}`);
    const index = this.freeBuffers.pop();
    if (index === undefined) throw new Error(`process: all ${MAX_BUFFERS} buffers are held by the CP (call freeBuffer)`);
    const mem = this.memoryBytes();
    const buf = BUFFERS_BASE + index * BUFFER_SIZE;
    const descAddr = DESCRIPTORS_BASE + index * PACKET_DESC.size;
    // As on the chip (sim/chip/np.ts receive): the frame over a buffer that is not clean (here seeded
    // garbage, there the previous packet's bytes), and a descriptor zeroed before its fields are set.
    this.fillGarbage(buf + (frame.length & ~3), buf + BUFFER_SIZE);
    mem.set(frame, buf);
    mem.fill(0, descAddr, descAddr + PACKET_DESC.size);
    encodeStruct(PACKET_DESC, mem, descAddr, { BUF: buf, LEN: frame.length, IN_PORT: inPort, FLOW: NO_FLOW });

    const messages: RingMessage[] = [];
    const puts: { ring: number; bytes: Uint8Array }[] = [];
    const previousOnPut = this.rings.onPut;
    this.rings.onPut = (ring, bytes) => {
      puts.push({ ring, bytes });
      previousOnPut?.(ring, bytes);
    };
    const ran: string[] = [];
    let raw = VERDICT_NEXT;
    let trap: ProcessResult["trap"];
    try {
      for (const name of this.pipeline) {
        const image = this.images.get(name);
        if (!image) break;
        ran.push(name);
        try {
          raw = image.process(descAddr);
        } catch (e) {
          if (!(e instanceof WebAssembly.RuntimeError || e instanceof RangeError)) throw e;
          trap = { image: name, error: e.message };
          break;
        }
        if (raw !== VERDICT_NEXT) break;
      }
    } finally {
      this.rings.onPut = previousOnPut;
    }
    for (const { ring, bytes } of puts) {
      messages.push(decodeMessage(ring, bytes));
      if (ring === RING_TO_CP && this.drainToCp) this.rings.remove(ring, bytes);
    }

    const desc = decodeStruct(PACKET_DESC, this.memoryBytes(), descAddr);
    let verdict: Verdict = trap ? "DROP" : verdictName(raw);
    let reason: string | undefined;
    if (trap) {
      countTrap(new DataView(this.memory.buffer));
      const dv = new DataView(this.memory.buffer);
      dv.setUint16(descAddr + DESC_OFF("REASON"), REASON_TRAP, true);
      desc.REASON = REASON_TRAP;
      reason = "TRAP";
    } else if (verdict === "DROP" || (desc.REASON as number) !== 0) {
      reason = reasonName(desc.REASON as number);
    }
    const outBuf = desc.BUF as number;
    const outLen = desc.LEN as number;
    const inRange = outBuf >= BUFFERS_BASE && outBuf + outLen <= BUFFERS_BASE + MAX_BUFFERS * BUFFER_SIZE;
    const out = inRange ? this.memoryBytes().slice(outBuf, outBuf + outLen) : this.memoryBytes().slice(buf, buf + frame.length);

    if (verdict === "TO_CP") this.held.add(index);
    else this.freeBuffers.push(index);
    const result: ProcessResult = { verdict, frame: out, messages, desc, descAddr, ran, rawVerdict: raw };
    if (reason !== undefined) result.reason = reason;
    if (verdict === "FORWARD") result.outPort = desc.OUT_PORT as number;
    if (trap) result.trap = trap;
    return result;
  }

  /** Seeded garbage over [from, to) of the memory; both 4-byte aligned. */
  private fillGarbage(from: number, to: number): void {
    const words = new Uint32Array(this.memory.buffer, from, (to - from) >>> 2);
    for (let i = 0; i < words.length; i++) words[i] = this.garbage.u32();
  }

  /** The CP is done with the buffer of a TO_CP packet. */
  freeBuffer(descAddr: number): void {
    const index = (descAddr - DESCRIPTORS_BASE) / PACKET_DESC.size;
    if (!this.held.delete(index)) throw new Error(`freeBuffer: descriptor 0x${descAddr.toString(16)} is not held by the CP`);
    this.freeBuffers.push(index);
  }

  /** Buffers currently held by the CP (TO_CP packets not yet freed). */
  heldBuffers(): number {
    return this.held.size;
  }

  /** Counters by name from the declaration: drop reasons and events. */
  counters(): { reasons: Record<string, number>; events: Record<string, number> } {
    return readCounters(new DataView(this.memory.buffer));
  }

  resetCounters(): void {
    this.memoryBytes().fill(0, COUNTERS_BASE, COUNTERS_BASE + region("COUNTERS").size);
  }
}

/** The data plane's counters in COUNTERS, by name from the declaration: drop reasons and events. */
export function readCounters(dv: DataView): { reasons: Record<string, number>; events: Record<string, number> } {
  const reasons: Record<string, number> = {};
  const events: Record<string, number> = {};
  REASON.members.forEach((m, i) => (reasons[m.name] = dv.getUint32(COUNTERS_BASE + 4 * i, true)));
  COUNTER.members.forEach((m, i) => (events[m.name] = dv.getUint32(COUNTERS_BASE + 4 * (MAX_REASONS + i), true)));
  return { reasons, events };
}

/** A trap is counted by the host under REASON_TRAP, beside the reasons the images count themselves. */
export function countTrap(dv: DataView): void {
  const at = COUNTERS_BASE + 4 * REASON_TRAP;
  dv.setUint32(at, (dv.getUint32(at, true) + 1) >>> 0, true);
}
