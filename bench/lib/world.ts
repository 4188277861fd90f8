// Shared set-up for benchmarks that run the simulated world: one firmware build per process, the
// default scenario as a base to override.
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildFirmware } from "../../toolchain/build/build.js";
import { decodeFirmware, type FirmwareImage } from "../../toolchain/image/format.js";
import { loadProfile } from "../../toolchain/target/profile.js";
import { loadScenario } from "../../sim/scenario/load.js";
import type { Scenario } from "../../sim/scenario/schema.js";
import { runWorld } from "../../sim/world/world.js";
import type { SimResult } from "../../sim/report/result.js";

let firmware: FirmwareImage | undefined;

export async function benchFirmware(): Promise<FirmwareImage> {
  if (!firmware) {
    const dir = mkdtempSync(join(tmpdir(), "npswitch-bench-"));
    process.env.NPSWITCH_HOME = join(dir, "home");
    const b = await buildFirmware({ out: join(dir, "fw.npfw") });
    firmware = decodeFirmware(new Uint8Array(readFileSync(b.out)));
  }
  return firmware;
}

type DeepPartial<T> = { [K in keyof T]?: T[K] extends object ? DeepPartial<T[K]> : T[K] };

function merge<T>(base: T, over: DeepPartial<T>): T {
  const out = structuredClone(base) as Record<string, unknown>;
  for (const [k, v] of Object.entries(over)) {
    out[k] = v && typeof v === "object" && !Array.isArray(v) ? merge(out[k], v as never) : v;
  }
  return out as T;
}

export function scenario(over: DeepPartial<Scenario>): Scenario {
  return merge(loadScenario(), over);
}

export async function simulateScenario(sc: Scenario, policy?: string): Promise<SimResult> {
  const { result } = await runWorld({ firmware: await benchFirmware(), profile: loadProfile("ixp2400").profile, scenario: sc, policy });
  return result;
}
