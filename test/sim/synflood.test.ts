// A SYN flood in the simulator: spoofed SYNs at a high rate to the VIP while legitimate clients run.
// SYN cookies keep no state per SYN, so every legitimate request is still served.
import { beforeAll, describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { buildFirmware } from "../../toolchain/build/build.js";
import { decodeFirmware, type FirmwareImage } from "../../toolchain/image/format.js";
import { loadProfile } from "../../toolchain/target/profile.js";
import { loadScenario } from "../../sim/scenario/load.js";
import { runWorld } from "../../sim/world/world.js";
import { tempDir } from "../toolchain/cli-helpers.js";

let firmware: FirmwareImage;

beforeAll(async () => {
  const work = tempDir("synflood");
  process.env.NPSWITCH_HOME = join(work, "home");
  firmware = decodeFirmware(new Uint8Array(readFileSync((await buildFirmware({ out: join(work, "fw.npfw") })).out)));
});

describe("SYN flood", () => {
  it("serves every legitimate request while 50k spoofed SYNs per second arrive, keeping no state for them", async () => {
    const sc = loadScenario();
    sc.clients.requests = 200;
    sc.attack = { syn_flood_per_s: 50_000, start_ms: 0 };
    const { result: r } = await runWorld({ firmware, profile: loadProfile().profile, scenario: sc });
    expect(r.spoofed_syns).toBeGreaterThan(1000);
    expect(r.requests_completed).toBe(200);
    expect(r.requests_failed).toBe(0);
    const cp = r.cp as { syns: number; cookiesSent: number; connections: number; activeConnections: number };
    expect(cp.syns).toBeGreaterThanOrEqual(r.spoofed_syns);
    expect(cp.cookiesSent).toBe(cp.syns);
    // Only completed handshakes make state: the spoofed sources never answer their SYN-ACKs.
    expect(cp.connections).toBe(r.connections);
    expect(cp.activeConnections).toBeLessThanOrEqual(r.connections); // legitimate ones (some lingering), none for the flood
    // The SYN-ACKs to the spoofed addresses leave the switch but reach no host.
    expect(r.drops.TX_UNKNOWN_MAC).toBe(r.spoofed_syns);
  });
});
