// The network processor as the simulator sees it: ports, the data-plane pipeline on microengines
// (each stage a queue served by the MEs its image is loaded on), the shared memories, the rings to
// the control processor, and the CP core (cp-core.ts). Packets run to completion in Wasm when a
// thread picks them up; their timing comes from the instrumented trace; their effects (transmit,
// next stage, CP message) happen when the thread finishes, and they leave in arrival order
// (release-ring.ts).
import { CAPACITIES, NO_FLOW, PACKET_DESC, VERDICT, fieldOffsets } from "../../abi/layout.js";
import type { Scheduler } from "../engine/scheduler.js";
import { createNpMemory, npImports } from "../np/imports.js";
import { Rings } from "../np/rings.js";
import { countTrap, readCounters, BUFFERS_BASE, DESCRIPTORS_BASE } from "../np/dataplane.js";
import { writeSwitchConfig, type SwitchConfig } from "../../abi/switch-config.js";
import { decodeMessage } from "../../abi/ring-message.js";
import { instrumentImage, TIMING_EXPORTS } from "../timing/instrument.js";
import { programFromTrace, type ThreadProgram } from "../timing/trace.js";
import type { ChipTiming } from "../timing/costs.js";
import { MemorySystem } from "./memory-system.js";
import { Microengine, type MeStats } from "./microengine.js";
import { CpCore, type CpProgram } from "./cp-core.js";
import { ReleaseRing } from "./release-ring.js";

export type { CpProgram } from "./cp-core.js";

const NO_MESSAGES: Uint8Array[] = [];

const MAX_BUFFERS = CAPACITIES.MAX_BUFFERS.value;
const BUFFER_SIZE = CAPACITIES.BUFFER_SIZE.value;
const DESC = fieldOffsets(PACKET_DESC);
const D = (n: string) => DESC.get(n)!.offset;
const D_BUF = D("BUF"), D_LEN = D("LEN"), D_IN_PORT = D("IN_PORT"), D_OUT_PORT = D("OUT_PORT"), D_FLOW = D("FLOW");
const V = (n: string) => VERDICT.members.findIndex((m) => m.name === n);
const V_DROP = V("DROP"), V_FORWARD = V("FORWARD"), V_TO_CP = V("TO_CP"), V_NEXT = V("NEXT");
const RING_TO_CP = Rings.id("TO_CP");

export interface ChipImage {
  name: string;
  wasm: Uint8Array;
  mes: number[];
}

/** An image instrumented and compiled for the chip (NpChip.compile). */
export interface CompiledImage extends ChipImage {
  module: WebAssembly.Module;
}

export interface ChipOptions {
  timing: ChipTiming;
  images: ChipImage[];
  /** Stage order. */
  pipeline: string[];
  scheduler: Scheduler;
  config: SwitchConfig;
  /** A frame leaves on `port` at the current simulated time. */
  transmit: (port: number, frame: Uint8Array) => void;
  /** Packets queued before a stage (a scratch ring) beyond which arrivals are dropped. */
  stageQueue?: number;
  /** TO_CP ring capacity in messages. */
  cpRing?: number;
  /**
   * Dispatcher batching (Aron et al., USENIX 2000): the CP takes every message that queued while it
   * worked on the previous batch in one wake-up, so the batch size follows the CP's load. Off: one
   * message per wake-up. Default on.
   */
  cpBatching?: boolean;
  /** Cycles of one CP wake-up (interrupt, context switch), paid per batch. */
  cpWakeupCycles?: number;
  /** Keep every forwarded packet's NP latency for the report (default true; a long-running device says false). */
  keepLatency?: boolean;
}

export interface ChipStats {
  rxPackets: number;
  txPackets: number;
  txBytes: number;
  toCp: number;
  traps: number;
  drops: Record<string, number>;
  me: (MeStats & { stage: string })[];
  /** Time a packet spent in the NP, receive to transmit, per forwarded packet (ps). */
  latencyPs: number[];
  cycles: { stage: string; packets: number; cycles: number; waits: number }[];
  cpBusyPs: number;
  cpMessages: number;
  /** CP wake-ups that took ring messages, and the largest batch. */
  cpBatches: number;
  cpMaxBatch: number;
}

interface Instance {
  process: (desc: number) => number;
  reset: () => void;
  cycles: () => number;
  records: () => number;
}

interface Stage {
  name: string;
  index: number;
  queue: number[];
  mes: Microengine[];
  packets: number;
  cycles: number;
  waits: number;
}

/** Rings whose TO_CP puts are held back until the packet's thread finishes. */
class StagedRings extends Rings {
  staged: Uint8Array[] = [];
  inFlight = 0;
  override put(ring: number, message: Uint8Array): boolean {
    if (ring !== RING_TO_CP) return super.put(ring, message);
    if (this.length(ring) + this.inFlight + this.staged.length >= this.capacity(ring)) return false;
    this.staged.push(message.slice());
    return true;
  }
}

export class NpChip {
  readonly memory: WebAssembly.Memory;
  readonly bytes: Uint8Array;
  private readonly view: DataView;
  private readonly rings: StagedRings;
  private readonly memorySystem: MemorySystem;
  private readonly stages: Stage[] = [];
  private readonly freeBuffers: number[] = [];
  private readonly rxTime = new Float64Array(MAX_BUFFERS);
  /** The release-ring sequence number of the packet in each buffer (packets leave in arrival order). */
  private readonly seqOf = new Uint32Array(MAX_BUFFERS);
  /** What a thread's run of the packet in each buffer left for its completion (set by fetch). */
  private readonly jobStage: (Stage | null)[] = new Array(MAX_BUFFERS).fill(null);
  private readonly jobVerdict = new Int32Array(MAX_BUFFERS);
  private readonly jobTrapped = new Uint8Array(MAX_BUFFERS);
  private readonly jobMessages: Uint8Array[][] = new Array(MAX_BUFFERS).fill(NO_MESSAGES);
  private readonly releaseRing: ReleaseRing;
  private readonly cpCore: CpCore;
  private imports: WebAssembly.Imports | null = null;
  private readonly stats: ChipStats;
  private readonly chipDrops: Record<string, number> = {};

  private constructor(private readonly opts: ChipOptions, private readonly instances: Map<string, Instance[]>) {
    this.memory = createNpMemory();
    this.bytes = new Uint8Array(this.memory.buffer);
    this.view = new DataView(this.memory.buffer);
    this.rings = new StagedRings({ TO_CP: opts.cpRing ?? 1024 });
    this.memorySystem = new MemorySystem(opts.timing);
    for (let i = MAX_BUFFERS - 1; i >= 0; i--) this.freeBuffers.push(i);
    this.stats = { rxPackets: 0, txPackets: 0, txBytes: 0, toCp: 0, traps: 0, drops: {}, me: [], latencyPs: [], cycles: [], cpBusyPs: 0, cpMessages: 0, cpBatches: 0, cpMaxBatch: 0 };
    this.releaseRing = new ReleaseRing(opts, this.stats);
    this.cpCore = new CpCore(opts, this.stats);
  }

  /**
   * Instrument and instantiate every image on the MEs the manifest assigns it; call init(). Images
   * already compiled (NpChip.compile) are not compiled again.
   */
  static async create(opts: ChipOptions): Promise<NpChip> {
    const chip = new NpChip(opts, new Map());
    chip.imports = npImports(chip.memory, { rings: chip.rings, clock: () => chip.timestamp() });
    const t = opts.timing;
    const compiled = opts.images.every((i): i is CompiledImage => "module" in i) ? opts.images : await NpChip.compile(opts.images, t);
    for (const [index, name] of opts.pipeline.entries()) {
      const img = compiled.find((i) => i.name === name);
      if (!img) throw new Error(`pipeline stage ${name} has no image`);
      if (img.mes.length === 0) throw new Error(`image ${name} is assigned no microengine`);
      const stage: Stage = { name, index, queue: [], mes: [], packets: 0, cycles: 0, waits: 0 };
      for (const [k, meId] of img.mes.entries()) {
        stage.mes.push(new Microengine(meId, t.threadsPerMe, t.mePsPerCycle, t.ctxSwapCycles * t.mePsPerCycle, chip.memorySystem, opts.scheduler, (into) => chip.fetch(stage, k, into), (index) => chip.complete(index)));
      }
      chip.stages.push(stage);
    }
    chip.swapImages(compiled);
    writeSwitchConfig(chip.bytes, opts.config);
    return chip;
  }

  /** Instrument and compile images (nothing is instantiated: swapImages does that, synchronously). */
  static async compile(images: ChipImage[], timing: ChipTiming): Promise<CompiledImage[]> {
    return Promise.all(images.map(async (img) => ({ ...img, module: await WebAssembly.compile(instrumentImage(img.wasm, timing.costs) as BufferSource) })));
  }

  /**
   * Load `images` on the stages' microengines now, between two packets: each is instantiated on the
   * chip's memory (its static data written to its slot), init() runs, and the next packet any thread
   * takes runs the new code. The shared memory — flow tables, counters, buffers, queued packets — is
   * untouched. Every stage needs an image with as many MEs as it has now. Synchronous on purpose:
   * no packet can run between the first and the last image being replaced.
   */
  swapImages(images: CompiledImage[]): void {
    const next = new Map<string, Instance[]>();
    for (const stage of this.stages) {
      const img = images.find((i) => i.name === stage.name);
      if (!img) throw new Error(`pipeline stage ${stage.name} has no image`);
      if (img.mes.length !== stage.mes.length) throw new Error(`image ${img.name} runs on ${img.mes.length} microengines, the stage has ${stage.mes.length}`);
      next.set(stage.name, img.mes.map(() => {
        const inst = new WebAssembly.Instance(img.module, this.imports!);
        const e = inst.exports as Record<string, () => number>;
        (e.init as () => void)();
        return { process: e.process as (d: number) => number, reset: e[TIMING_EXPORTS.reset], cycles: e[TIMING_EXPORTS.cycles], records: e[TIMING_EXPORTS.records] };
      }));
    }
    for (const [name, insts] of next) this.instances.set(name, insts);
  }

  /** Stage names in pipeline order with their microengine counts. */
  stageShape(): { name: string; mes: number }[] {
    return this.stages.map((s) => ({ name: s.name, mes: s.mes.length }));
  }

  /** Attach the control processor program that receives TO_CP messages. */
  attachCp(cp: CpProgram): void {
    this.cpCore.attach(cp);
  }

  /** np.timestamp(): ME cycles / 16 since the start, wrapping. */
  private timestamp(): number {
    return Math.floor(this.opts.scheduler.now / this.opts.timing.mePsPerCycle / 16) >>> 0;
  }

  private drop(reason: string): void {
    this.chipDrops[reason] = (this.chipDrops[reason] ?? 0) + 1;
  }

  /** A frame arrives on `port` now. */
  receive(port: number, frame: Uint8Array): void {
    this.stats.rxPackets++;
    if (frame.length > BUFFER_SIZE) return this.drop("RX_OVERSIZE");
    const first = this.stages[0];
    if (first.queue.length >= (this.opts.stageQueue ?? 512)) return this.drop("RX_RING_FULL");
    const index = this.freeBuffers.pop();
    if (index === undefined) return this.drop("RX_NO_BUFFER");
    const buf = BUFFERS_BASE + index * BUFFER_SIZE;
    const desc = DESCRIPTORS_BASE + index * PACKET_DESC.size;
    this.bytes.set(frame, buf);
    this.bytes.fill(0, desc, desc + PACKET_DESC.size);
    const v = this.view;
    v.setUint32(desc + D_BUF, buf, true);
    v.setUint16(desc + D_LEN, frame.length, true);
    v.setUint8(desc + D_IN_PORT, port);
    v.setUint32(desc + D_FLOW, NO_FLOW, true);
    this.rxTime[index] = this.opts.scheduler.now;
    this.seqOf[index] = this.releaseRing.admit();
    this.enqueue(first, index);
  }

  private enqueue(stage: Stage, index: number): void {
    stage.queue.push(index);
    for (const me of stage.mes) {
      me.wake();
      if (stage.queue.length === 0) break;
    }
  }

  /** An ME thread of `stage` takes the next packet: run it now, return its timing and completion. */
  private fetch(stage: Stage, meIndex: number, into: ThreadProgram): number {
    const index = stage.queue.shift();
    if (index === undefined) return -1;
    const inst = this.instances.get(stage.name)![meIndex];
    const desc = DESCRIPTORS_BASE + index * PACKET_DESC.size;
    if (this.rings.staged.length) this.rings.staged.length = 0;
    inst.reset();
    let verdict: number;
    let trapped = false;
    try {
      verdict = inst.process(desc);
    } catch (e) {
      if (!(e instanceof WebAssembly.RuntimeError || e instanceof RangeError)) throw e;
      trapped = true;
      verdict = V_DROP;
    }
    const program = programFromTrace(this.view, Math.min(inst.records(), 8192), inst.cycles(), this.opts.timing.cacheLineBytes, into);
    stage.packets++;
    stage.cycles += program.cycles;
    stage.waits += program.waits;
    const messages = this.rings.staged.length ? this.rings.staged.splice(0) : NO_MESSAGES;
    this.rings.inFlight += messages.length;
    this.jobStage[index] = stage;
    this.jobVerdict[index] = verdict;
    this.jobTrapped[index] = trapped ? 1 : 0;
    this.jobMessages[index] = messages;
    return index;
  }

  /** The thread that ran the packet in buffer `index` finished: its effects happen now. */
  private complete(index: number): void {
    const stage = this.jobStage[index]!;
    const verdict = this.jobVerdict[index];
    const trapped = this.jobTrapped[index] === 1;
    const messages = this.jobMessages[index];
    this.jobStage[index] = null;
    this.jobMessages[index] = NO_MESSAGES;
    const desc = DESCRIPTORS_BASE + index * PACKET_DESC.size;
    const v = this.view;
    const seq = this.seqOf[index];
    this.rings.inFlight -= messages.length;
    if (trapped) {
      this.stats.traps++;
      countTrap(v);
      this.freeBuffers.push(index);
      return this.releaseRing.retire(seq, -1, null);
    }
    for (const m of messages) this.deliverToCp(m);
    if (verdict === V_NEXT) {
      const next = this.stages[stage.index + 1];
      if (next) return this.enqueue(next, index);
      this.drop("PIPELINE_END");
      this.freeBuffers.push(index);
      return this.releaseRing.retire(seq, -1, null);
    }
    if (verdict === V_FORWARD) {
      const buf = v.getUint32(desc + D_BUF, true);
      const len = v.getUint16(desc + D_LEN, true);
      const port = v.getUint8(desc + D_OUT_PORT);
      const frame = this.bytes.slice(buf, buf + len);
      this.freeBuffers.push(index);
      return this.releaseRing.retire(seq, port, frame, this.rxTime[index]);
    }
    if (verdict !== V_TO_CP) {
      if (verdict !== V_DROP) this.drop(`BAD_VERDICT_${verdict}`);
      this.freeBuffers.push(index);
    } // TO_CP: the CP owns the buffer until it frees it
    this.releaseRing.retire(seq, -1, null);
  }

  /**
   * Queue work on the CP core. It runs when the core is free; the cycles it charges (chargeCp)
   * occupy the core; the frames it sends (cpSend) leave when it ends.
   */
  runOnCp(work: () => void): void {
    this.cpCore.run(work);
  }

  /** Charge CP cycles to the work now running on the CP core. */
  chargeCp(cycles: number): void {
    this.cpCore.charge(cycles);
  }

  /** A frame the CP sends: it leaves when the current CP work ends. */
  cpSend(port: number, frame: Uint8Array): void {
    this.cpCore.send(port, frame);
  }

  private deliverToCp(bytes: Uint8Array): void {
    this.stats.toCp++;
    const msg = decodeMessage(RING_TO_CP, bytes);
    if (!this.cpCore.deliver(msg)) {
      this.drop("NO_CP");
      if (msg.type !== "FIN" && msg.type !== "RST") this.freeDesc(msg.desc);
    }
  }

  /** The CP is done with the buffer of a TO_CP packet. */
  freeDesc(desc: number): void {
    const index = (desc - DESCRIPTORS_BASE) / PACKET_DESC.size;
    if (!Number.isInteger(index) || index < 0 || index >= MAX_BUFFERS) throw new Error(`freeDesc: 0x${desc.toString(16)} is not a descriptor`);
    this.freeBuffers.push(index);
  }

  /** The frame bytes of a descriptor (for the CP). */
  frameOf(desc: number): Uint8Array {
    const buf = this.view.getUint32(desc + D_BUF, true);
    const len = this.view.getUint16(desc + D_LEN, true);
    return this.bytes.slice(buf, buf + len);
  }

  /** Counters the DP keeps in COUNTERS plus the chip's own drops, by name. */
  dropCounts(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [name, n] of Object.entries(readCounters(this.view).reasons)) if (n && name !== "NONE") out[name] = n;
    for (const [k, n] of Object.entries(this.chipDrops)) out[k] = n;
    return out;
  }

  events(): Record<string, number> {
    return readCounters(this.view).events;
  }

  snapshot(): ChipStats {
    const now = this.opts.scheduler.now;
    return {
      ...this.stats,
      drops: this.dropCounts(),
      me: this.stages.flatMap((s) => s.mes.map((me) => ({ ...me.stats(now), stage: s.name }))),
      cycles: this.stages.map((s) => ({ stage: s.name, packets: s.packets, cycles: s.cycles, waits: s.waits })),
    };
  }

  /** Packets received and traps so far (cheap: no snapshot). */
  counts(): { rx: number; traps: number } {
    return { rx: this.stats.rxPackets, traps: this.stats.traps };
  }

  buffersInUse(): number {
    return MAX_BUFFERS - this.freeBuffers.length;
  }
}
