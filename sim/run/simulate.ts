// `npswitch sim` as a library call: load and check the firmware (the verifier runs at load), load
// the scenario, run the world, write the captures and the report.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { NpswitchError } from "../../lib/errors.js";
import { verifyFirmware } from "../../toolchain/image/verify-firmware.js";
import { loadProfile } from "../../toolchain/target/profile.js";
import { DEFAULT_OUT } from "../../toolchain/build/build.js";
import { DEFAULT_SCENARIO, loadScenario } from "../scenario/load.js";
import { runWorld } from "../world/world.js";
import { renderReport } from "../report/html.js";
import type { SimResult } from "../report/result.js";

export interface SimulateOptions {
  image?: string;
  scenario?: string;
  seed?: number;
  policy?: string;
  target?: string;
  pcapDir?: string;
  reportFile?: string;
  onProgress?: (fraction: number) => void;
}

export interface SimulateOutput {
  result: SimResult;
  /** Warnings about the image that do not stop a simulation (e.g. a key this machine does not trust). */
  warnings: string[];
  pcapFiles: string[];
}

export async function simulate(o: SimulateOptions = {}): Promise<SimulateOutput> {
  const image = o.image ?? DEFAULT_OUT;
  if (!existsSync(image)) {
    throw new NpswitchError(`${image}: no such firmware image${o.image ? "" : "; build one first with 'npx npswitch build'"}`);
  }
  const report = verifyFirmware(new Uint8Array(readFileSync(image)), { target: o.target });
  const warnings: string[] = [];
  const fatal = report.violations.filter((v) => {
    const untrusted = v.rule === "signature" && /not trusted/.test(v.message);
    if (untrusted) warnings.push(`${image}: ${v.message} (simulating anyway; a device would refuse it)`);
    return !untrusted;
  });
  if (fatal.length || !report.firmware) {
    const lines = fatal.map((v) => `${image}: ${v.image}: ${v.rule}: ${v.message}`);
    throw new NpswitchError(`the simulator refuses this image: ${lines[0]}`, lines.slice(1));
  }
  const firmware = report.firmware;
  const { profile } = loadProfile(o.target ?? firmware.manifest.target.name);
  const scenarioPath = o.scenario ?? DEFAULT_SCENARIO;
  const scenario = loadScenario(scenarioPath);
  const { result, pcaps } = await runWorld({
    firmware, profile, scenario, seed: o.seed, policy: o.policy, capture: o.pcapDir !== undefined, onProgress: o.onProgress,
  });
  const pcapFiles: string[] = [];
  if (o.pcapDir !== undefined) {
    mkdirSync(o.pcapDir, { recursive: true });
    for (const [name, bytes] of pcaps) {
      const file = join(o.pcapDir, `${name}.pcap`);
      writeFileSync(file, bytes);
      pcapFiles.push(file);
    }
  }
  if (o.reportFile) writeFileSync(o.reportFile, renderReport(result));
  return { result, warnings, pcapFiles };
}
