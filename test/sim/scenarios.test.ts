// Every scenario shipped in sim/scenarios validates, and each example runs through the simulator and
// shows what its own comments and the README say it shows: default (every request served, keep-alive,
// round robin over four servers), crash (a server dies; requests without a response byte are
// dispatched again, none fails), synflood (every legitimate request served while spoofed SYNs arrive,
// no state kept for them), lard (locality: LARD against weighted round robin on the same scenario).
import { beforeAll, describe, expect, it } from "vitest";
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { loadScenario } from "../../sim/scenario/load.js";
import { createPolicy } from "../../controlplane/policies/index.js";
import { buildFirmware } from "../../toolchain/build/build.js";
import { decodeFirmware, type FirmwareImage } from "../../toolchain/image/format.js";
import { loadProfile } from "../../toolchain/target/profile.js";
import { runWorld } from "../../sim/world/world.js";
import type { SimResult } from "../../sim/report/result.js";
import type { PoolEvent } from "../../controlplane/stats.js";
import { PS_PER_MS } from "../../lib/time.js";
import { tempDir } from "../toolchain/cli-helpers.js";

const dir = fileURLToPath(new URL("../../sim/scenarios/", import.meta.url));
const SHIPPED = readdirSync(dir).filter((f) => f.endsWith(".yaml")).sort();

let firmware: FirmwareImage;

beforeAll(async () => {
  const work = tempDir("scenarios");
  process.env.NPSWITCH_HOME = join(work, "home");
  firmware = decodeFirmware(new Uint8Array(readFileSync((await buildFirmware({ out: join(work, "fw.npfw") })).out)));
});

const scenario = (name: string) => loadScenario(join(dir, `${name}.yaml`));

async function run(sc: ReturnType<typeof scenario>, policy?: string): Promise<SimResult> {
  return (await runWorld({ firmware, profile: loadProfile().profile, scenario: sc, policy })).result;
}

/** Requests served per server, and their weighted cache hit rate. */
function hitRate(r: SimResult): number {
  const served = r.servers.reduce((n, s) => n + s.requests, 0);
  return r.servers.reduce((n, s) => n + s.cache_hit_rate * s.requests, 0) / served;
}

describe("shipped scenarios", () => {
  it.each(SHIPPED)("%s validates, and its policy block too", (file) => {
    const sc = loadScenario(join(dir, file));
    expect(sc.name).toBe(file.replace(/\.yaml$/, ""));
    expect(() => createPolicy(sc.policy.name, sc.policy.params)).not.toThrow();
  });

  it("each shipped scenario has its run below", () => {
    expect(SHIPPED).toEqual(["crash.yaml", "default.yaml", "lard.yaml", "synflood.yaml"]);
  });

  it("default: every request of the 8 keep-alive clients is served, 4 per connection, round robin over the 4 servers", async () => {
    const sc = scenario("default");
    const r = await run(sc);
    expect(r.policy).toBe("round-robin");
    expect(r.requests_completed).toBe(sc.clients.requests);
    expect(r.requests_failed).toBe(0); // the clients check every response byte
    expect(r.traps).toBe(0);
    expect(r.connections).toBe(sc.clients.requests / sc.clients.requests_per_connection);
    // Round robin by connection, each connection four requests: an equal share for each server.
    expect(r.servers.map((s) => s.requests)).toEqual(Array(sc.servers.count).fill(sc.clients.requests / sc.servers.count));
    // After the splice the connection's packets stay on the microengines.
    expect(r.cp_packets_per_connection).toBeLessThanOrEqual(8);
  });

  it("crash: server1 dies at 300 ms, is marked down by missed alive signals, its unanswered requests are dispatched again and none fails", async () => {
    const sc = scenario("crash");
    expect(sc.servers.crash).toEqual([{ server: 1, at_ms: 300 }]);
    const r = await run(sc);
    const cp = r.cp as Record<string, unknown>;
    expect(r.requests_completed).toBe(sc.clients.requests);
    expect(r.requests_failed).toBe(0);
    expect(cp.errors).toEqual([]);
    expect(cp.redispatched as number, "requests without a response byte dispatched again").toBeGreaterThan(0);
    expect(cp).toMatchObject({ serversMarkedDown: 1, serversBackUp: 0, crashResetsUnsafeMethod: 0 });
    const downs = (cp.poolEvents as PoolEvent[]).filter((e) => e.event === "down");
    expect(downs).toHaveLength(1);
    expect(downs[0]).toMatchObject({ server: "server1", reason: "missed_alive" });
    // Down after the crash, within missed_alive intervals (and the link's and the CP's delays).
    expect(downs[0].atPs).toBeGreaterThan(300 * PS_PER_MS);
    expect(downs[0].atPs).toBeLessThanOrEqual((300 + (sc.servers.missed_alive + 1) * sc.servers.alive_ms) * PS_PER_MS);
    // Each redispatched request reached server1, which never answered, and then another server.
    const served = r.servers.map((s) => s.requests);
    expect(served.reduce((a, b) => a + b, 0)).toBe(sc.clients.requests + (cp.redispatched as number));
    expect(served[1]).toBeLessThan(Math.min(served[0], served[2]));
  });

  it("synflood: every legitimate request is served while spoofed SYNs arrive at the scenario's rate; they leave no state", async () => {
    const sc = scenario("synflood");
    const rate = sc.attack!.syn_flood_per_s;
    const r = await run(sc);
    const cp = r.cp as { syns: number; cookiesSent: number; connections: number };
    expect(r.requests_completed).toBe(sc.clients.requests);
    expect(r.requests_failed).toBe(0);
    expect(r.spoofed_syns).toBeGreaterThan(1000);
    expect(r.spoofed_syns / r.simulated_seconds).toBeGreaterThan(0.8 * rate);
    expect(r.spoofed_syns / r.simulated_seconds).toBeLessThan(1.2 * rate);
    // A SYN cookie for every SYN, connections only for completed handshakes.
    expect(cp.syns).toBe(r.spoofed_syns + r.connections);
    expect(cp.cookiesSent).toBe(cp.syns);
    expect(cp.connections).toBe(r.connections);
    expect(r.drops.TX_UNKNOWN_MAC).toBe(r.spoofed_syns); // SYN-ACKs to spoofed sources reach no host
  });

  it("lard: locality, against weighted round robin on the same scenario (shortened to 2000 of its requests here)", async () => {
    // The shipped run (12000 requests) takes over a minute of host time per policy; its first 2000
    // requests already show the difference. `npm run bench -- lard` measures the whole run.
    const sc = scenario("lard");
    expect(sc.policy.name).toBe("lard");
    sc.clients.requests = 2000;
    const lard = await run(sc);
    const wrr = await run(sc, "weighted-round-robin");
    for (const r of [lard, wrr]) {
      expect(r.requests_completed, r.policy).toBe(2000);
      expect(r.requests_failed, r.policy).toBe(0);
    }
    // LARD sends a file to the server that has it cached: far more cache hits than spreading requests
    // evenly (the working set exceeds one server's cache) ...
    expect(wrr.servers.map((s) => s.requests)).toEqual([500, 500, 500, 500]);
    expect(hitRate(lard)).toBeGreaterThan(hitRate(wrr) + 0.15);
    // ... so fewer 2 ms disk misses: requests finish sooner (closed-loop clients: more requests per second).
    expect(lard.latency_us.mean).toBeLessThan(0.75 * wrr.latency_us.mean);
    expect(lard.latency_us.p50).toBeLessThan(wrr.latency_us.p50);
  });
});
