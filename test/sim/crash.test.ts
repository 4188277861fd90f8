// A server crash in the simulator: servers answer slowly (every request takes 50 ms), one crashes mid-run
// and stops answering anything. Its pool agent falls silent, the CP marks it down within missed_alive
// intervals, and every request that had received no response byte is dispatched again to another server
// and completes. Responses are one small segment pair written at once, so a response is either wholly on
// the wire before the crash or not sent at all: no request can fail, and none does.
import { beforeAll, describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { buildFirmware } from "../../toolchain/build/build.js";
import { decodeFirmware, type FirmwareImage } from "../../toolchain/image/format.js";
import { loadProfile } from "../../toolchain/target/profile.js";
import { ScenarioSchema } from "../../sim/scenario/schema.js";
import { parseScenario } from "../../sim/scenario/load.js";
import { runWorld } from "../../sim/world/world.js";
import { pacedIntervalPs } from "../../sim/world/pool-agent.js";
import { PS_PER_MS } from "../../lib/time.js";
import type { PoolEvent } from "../../controlplane/stats.js";
import { tempDir } from "../toolchain/cli-helpers.js";

const work = tempDir("crash");
let firmware: FirmwareImage;

beforeAll(async () => {
  process.env.NPSWITCH_HOME = join(work, "home");
  const out = (await buildFirmware({ out: join(work, "fw.npfw") })).out;
  firmware = decodeFirmware(new Uint8Array(readFileSync(out)));
});

const CRASH_MS = 300;
const ALIVE_MS = 20;
const MISSED = 3;

function scenario(over: { control_share?: number; crash?: boolean } = {}) {
  return ScenarioSchema.parse({
    name: "crash", seed: 5, duration_ms: 5000,
    clients: { count: 12, mode: "closed", think_ms: 0, requests: 180, requests_per_connection: 1, link: { gbps: 1, delay_us: 50 } },
    servers: {
      count: 3, workers: 8, cache: { capacity_mb: 1, hit_us: 50_000, miss_us: 50_000, per_kb_us: 0 }, link: { gbps: 1, delay_us: 10 },
      alive_ms: ALIVE_MS, missed_alive: MISSED, slow_start_ms: 0, control_share: over.control_share ?? 0.01,
      crash: over.crash === false ? [] : [{ server: 1, at_ms: CRASH_MS }],
    },
    files: { count: 40, size_bytes: 300 },
  });
}

const downs = (events: unknown) => (events as PoolEvent[]).filter((e) => e.event === "down");

describe("simulator: a server crashes mid-run", () => {
  it("re-dispatches every unanswered request: all complete, none fails, the server is down within 3 alive intervals", async () => {
    const { result } = await runWorld({ firmware, profile: loadProfile("ixp2400").profile, scenario: scenario() });
    expect(result.requests_completed).toBe(180);
    expect(result.requests_failed).toBe(0);
    expect(result.cp.errors).toEqual([]);
    const cp = result.cp as Record<string, unknown>;
    expect(cp.redispatched as number, "requests the crashed server had not answered").toBeGreaterThan(0);
    expect(cp).toMatchObject({ serversMarkedDown: 1, serversBackUp: 0, crashResetsUnsafeMethod: 0 });
    const [down] = downs(cp.poolEvents);
    expect(down).toMatchObject({ server: "server1", event: "down", reason: "missed_alive" });
    // Its last signal left at most one interval before the crash: down after 2 intervals at the earliest,
    // 3 at the latest (plus the link's 10 us and the CP's queue).
    expect(down.atPs).toBeGreaterThan((CRASH_MS + (MISSED - 1) * ALIVE_MS) * PS_PER_MS);
    expect(down.atPs).toBeLessThanOrEqual((CRASH_MS + MISSED * ALIVE_MS + 1) * PS_PER_MS);
    // Work went on without it: the other two servers answered the rest.
    const served = result.servers.map((s) => s.requests);
    expect(served[0] + served[2]).toBeGreaterThan(180 - served[1]);
  });

  it("paces alive signals to the control share of the link, stretching the interval, without false alarms", async () => {
    // 64 B per signal at 1e-6 of 1 Gb/s: one signal per 512 ms at most, instead of every 20 ms.
    expect(pacedIntervalPs(1e9, 1e-6)).toBe(512 * PS_PER_MS);
    expect(pacedIntervalPs(1e9, 0.01)).toBe(51_200_000); // 51.2 us at the default 1%
    const { result } = await runWorld({ firmware, profile: loadProfile("ixp2400").profile, scenario: scenario({ control_share: 1e-6, crash: false }) });
    const cp = result.cp as Record<string, unknown>;
    expect(result.requests_failed).toBe(0);
    expect(cp.serversMarkedDown).toBe(0);
    // Registration at 0 and a signal every 512 ms over the run, per server.
    const expected = 3 * Math.floor((result.simulated_seconds * 1000) / 512);
    expect(cp.aliveSignals as number).toBeGreaterThanOrEqual(expected - 3);
    expect(cp.aliveSignals as number).toBeLessThanOrEqual(expected);
  });

  it("names a crash of a server that does not exist", () => {
    const yaml = "name: x\nclients: {count: 1, requests: 1}\nservers: {count: 2, crash: [{server: 2, at_ms: 10}]}\nfiles: {count: 1}\n";
    expect(() => parseScenario(yaml, "x.yaml")).toThrow("x.yaml: field servers.crash.0.server (line 3): is 2: servers are numbered 0..1");
  });
});
