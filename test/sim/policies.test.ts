// Every built-in dispatching policy end to end in the simulator: two thousand connections through
// the real firmware and control plane, every response byte checked by the clients, none failed,
// and the CP's placement record agreeing with what the servers served. What each policy must choose
// is asserted per policy in policy-choices.test.ts.
import { beforeAll, describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { buildFirmware } from "../../toolchain/build/build.js";
import { decodeFirmware, type FirmwareImage } from "../../toolchain/image/format.js";
import { loadProfile } from "../../toolchain/target/profile.js";
import { loadScenario } from "../../sim/scenario/load.js";
import { runWorld } from "../../sim/world/world.js";
import { policyNames } from "../../controlplane/policies/index.js";
import { tempDir } from "../toolchain/cli-helpers.js";

const CONNECTIONS = 2000;
let firmware: FirmwareImage;

beforeAll(async () => {
  const work = tempDir("policies");
  process.env.NPSWITCH_HOME = join(work, "home");
  firmware = decodeFirmware(new Uint8Array(readFileSync((await buildFirmware({ out: join(work, "fw.npfw") })).out)));
});

function scenario() {
  const sc = loadScenario();
  sc.name = "policies";
  sc.duration_ms = 60_000;
  sc.clients = { ...sc.clients, count: 32, think_ms: 0, requests: CONNECTIONS, requests_per_connection: 1 };
  sc.files = { ...sc.files, count: 200, median_kb: 2, max_kb: 32 };
  return sc;
}

describe("each policy end to end in the simulator", () => {
  it.each(policyNames())("%s: 2000 connections, every response byte checked, none failed", async (policy) => {
    const sc = scenario();
    const { result: r } = await runWorld({ firmware, profile: loadProfile("ixp2400").profile, scenario: sc, policy });
    expect(r.policy).toBe(policy);
    expect(r.cp.errors, JSON.stringify(r.cp.errors)).toEqual([]);
    expect(r.requests_failed).toBe(0);
    expect(r.requests_completed).toBe(CONNECTIONS);
    expect(r.connections).toBe(CONNECTIONS);
    expect(r.traps).toBe(0);
    expect(r.servers.reduce((n, s) => n + s.requests, 0)).toBe(CONNECTIONS);
    // One request per connection: the placement by URL accounts for every request, server by server.
    const placed = r.servers.map((_, i) => Object.values(r.placement.by_url).reduce((n, row) => n + row[i], 0));
    expect(placed).toEqual(r.servers.map((s) => s.requests));
    expect(Object.values(r.placement.by_client).reduce((n, row) => n + row.reduce((a, b) => a + b, 0), 0)).toBe(CONNECTIONS);
    // After the splice the CP sees a connection only at teardown: the same few packets each.
    expect(r.cp_packets_per_connection).toBeLessThanOrEqual(8);
  });
});
