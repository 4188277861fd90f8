// PTF-style testing on the simulated NP: send a frame into a port, expect frames out of ports
// (with masks of the fields the device may rewrite), and expect nothing else. The chip runs the
// exact image bytes with timing; time advances until the switch is idle after each send.
import type { SwitchConfig } from "../../abi/switch-config.js";
import type { RingMessage } from "../../abi/ring-message.js";
import { compiledImages } from "../np/load.js";
import { compareFrames, type Mask } from "../../packet/mask.js";
import { hexDump } from "../../packet/hex.js";
import { Scheduler } from "../engine/scheduler.js";
import { NpChip, type ChipImage } from "../chip/np.js";
import { chipTiming } from "../timing/costs.js";
import { loadProfile, type Profile } from "../../toolchain/target/profile.js";

export interface PtfOptions {
  config: SwitchConfig;
  /** Images with their MEs; default: the current dataplane/ sources, compiled, MEs split evenly. */
  images?: ChipImage[];
  pipeline?: string[];
  profile?: Profile;
  /** Receives TO_CP messages (after the CP core's message cost); default: collected in `toCp`. */
  onCpMessage?: (msg: RingMessage, ptf: PtfSwitch) => void;
}

export class PtfSwitch {
  readonly sched = new Scheduler();
  /** Frames transmitted, per port, in order, not yet expected. */
  private readonly out = new Map<number, { at: number; frame: Uint8Array }[]>();
  /** TO_CP messages the CP received (when no onCpMessage is given). */
  readonly toCp: RingMessage[] = [];
  chip!: NpChip;

  static async create(o: PtfOptions): Promise<PtfSwitch> {
    const ptf = new PtfSwitch();
    const profile = o.profile ?? loadProfile().profile;
    const timing = chipTiming(profile);
    let images = o.images;
    const pipeline = o.pipeline ?? ["classify", "splice"];
    if (!images) {
      const compiled = await compiledImages();
      const per = Math.floor(timing.meCount / pipeline.length);
      images = pipeline.map((name, i) => ({ name, wasm: compiled.find((c) => c.name === name)!.wasm, mes: Array.from({ length: per }, (_, k) => i * per + k) }));
    }
    ptf.chip = await NpChip.create({
      timing, images, pipeline, scheduler: ptf.sched, config: o.config,
      transmit: (port, frame) => {
        let q = ptf.out.get(port);
        if (!q) ptf.out.set(port, (q = []));
        q.push({ at: ptf.sched.now, frame });
      },
    });
    ptf.chip.attachCp({
      onMessages: (msgs) => {
        for (const msg of msgs) {
          if (o.onCpMessage) o.onCpMessage(msg, ptf);
          else {
            ptf.toCp.push(msg);
            if (msg.type !== "FIN" && msg.type !== "RST") ptf.chip.freeDesc(msg.desc);
          }
        }
      },
    });
    return ptf;
  }

  /** A frame arrives on `port` now; the switch runs until it is idle. */
  sendPacket(port: number, frame: Uint8Array): void {
    this.chip.receive(port, frame);
    this.sched.run();
  }

  /** The next frame out of `port` must equal `expected` except for the masked fields. Returns it. */
  expectPacket(port: number, expected: Uint8Array, mask?: Mask): Uint8Array {
    const q = this.out.get(port);
    const got = q?.shift();
    if (!got) {
      const elsewhere = [...this.out.entries()].filter(([, v]) => v.length).map(([p, v]) => `port ${p}: ${v.length}`).join(", ");
      throw new Error(`expected a packet on port ${port}, none came${elsewhere ? ` (waiting: ${elsewhere})` : ""}\nexpected:\n${hexDump(expected)}`);
    }
    const diff = compareFrames(expected, got.frame, mask);
    if (diff) throw new Error(`packet on port ${port} differs${mask?.length ? ` (masked: ${mask.join(", ")})` : ""}:\n${diff}`);
    return got.frame;
  }

  /** No frame may be waiting on any port. */
  expectNoOtherPackets(): void {
    const left = [...this.out.entries()].flatMap(([port, q]) => q.map((f) => ({ port, ...f })));
    if (left.length) throw new Error(`${left.length} unexpected packet(s): ${left.map((l) => `port ${l.port}:\n${hexDump(l.frame)}`).join("\n")}`);
  }

  /** Frames transmitted on `port` and not yet expected, with their times. */
  pending(port: number): { at: number; frame: Uint8Array }[] {
    return this.out.get(port) ?? [];
  }
}
