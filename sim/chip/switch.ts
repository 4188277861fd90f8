// The switch as one piece: the NP chip running a firmware image's pipeline, and the control-plane
// program on the chip's CP core (ring messages in batches and timers are CP work that occupies the
// core for the cycles it charges; frames it sends leave when that work ends). The simulated world
// and the emulated device (device) both build their switch here, so both run the same thing.
import { ControlPlane, type CpConfig } from "../../controlplane/cp.js";
import { switchConfigOf } from "../../controlplane/config.js";
import type { CpEnv } from "../../controlplane/env.js";
import { cpCycles } from "../../controlplane/costs.js";
import type { Policy } from "../../controlplane/policies/policy.js";
import { SharedMemoryTables } from "../../controlplane/tables/shared-memory-tables.js";
import type { FirmwareImage } from "../../toolchain/image/format.js";
import { NpswitchError } from "../../lib/errors.js";
import type { Scheduler } from "../engine/scheduler.js";
import type { ChipTiming } from "../timing/costs.js";
import { NpChip, type ChipImage, type CompiledImage } from "./np.js";

export interface SwitchOptions {
  firmware: FirmwareImage;
  timing: ChipTiming;
  sched: Scheduler;
  /** A frame leaves on `port` at the scheduler's current time. */
  transmit: (port: number, frame: Uint8Array) => void;
  cp: CpConfig;
  policy: Policy<any>;
  /** Microengines per pipeline stage, overriding the manifest's assignment (what names the override, for errors). */
  mes?: { counts: Record<string, number>; origin: string };
  stageQueue?: number;
  cpBatching?: boolean;
  keepLatency?: boolean;
  /** The firmware's images already compiled for the chip (NpChip.compile of chipImages): not compiled again. */
  compiled?: CompiledImage[];
}

export interface Switch {
  chip: NpChip;
  cp: ControlPlane;
  env: CpEnv;
}

/** The firmware's images with the microengines each runs on: the manifest's, or `mes` when given. */
export function chipImages(firmware: FirmwareImage, meCount: number, mes?: SwitchOptions["mes"]): ChipImage[] {
  const m = firmware.manifest;
  const images = m.images.map((img) => ({ name: img.name, wasm: firmware.payloads.get(img.name)!, mes: img.mes }));
  if (!mes) return images;
  let next = 0;
  for (const stage of m.pipeline) {
    const n = mes.counts[stage];
    if (n === undefined) throw new NpswitchError(`${mes.origin}: no count for stage '${stage}' (stages: ${m.pipeline.join(", ")})`);
    images.find((i) => i.name === stage)!.mes = Array.from({ length: n }, (_, k) => next + k);
    next += n;
  }
  if (next > meCount) throw new NpswitchError(`${mes.origin}: ${next} microengines, the target has ${meCount}`);
  return images;
}

export async function createSwitch(o: SwitchOptions): Promise<Switch> {
  const chip = await NpChip.create({
    timing: o.timing, images: o.compiled ?? chipImages(o.firmware, o.timing.meCount, o.mes), pipeline: o.firmware.manifest.pipeline, scheduler: o.sched,
    config: switchConfigOf(o.cp),
    transmit: o.transmit, stageQueue: o.stageQueue, cpBatching: o.cpBatching, cpWakeupCycles: cpCycles("wakeup"), keepLatency: o.keepLatency,
  });
  const env: CpEnv = {
    now: () => o.sched.now,
    send: (port, frame) => chip.cpSend(port, frame),
    tables: new SharedMemoryTables(chip.memory),
    setTimer: (delayPs, fn) => o.sched.after(delayPs, () => chip.runOnCp(fn)),
    charge: (op, units = 1) => chip.chargeCp(cpCycles(op, units)),
    frame: (msg) => chip.frameOf(msg.desc),
    freeBuffer: (desc) => chip.freeDesc(desc),
  };
  const cp = new ControlPlane(o.cp, env, o.policy);
  chip.attachCp({ onMessages: (msgs) => { for (const m of msgs) cp.onMessage(m); } });
  return { chip, cp, env };
}
