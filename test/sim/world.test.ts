// The simulator end to end: the default scenario from the CLI, determinism (same seed, same JSON and
// the same pcap bytes), and captures that tshark reads without errors or warnings.
import { beforeAll, describe, expect, it } from "vitest";
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { buildFirmware } from "../../toolchain/build/build.js";
import { decodeFirmware, type FirmwareImage } from "../../toolchain/image/format.js";
import { loadProfile } from "../../toolchain/target/profile.js";
import { loadScenario } from "../../sim/scenario/load.js";
import { runWorld } from "../../sim/world/world.js";
import { npswitch, tempDir } from "../toolchain/cli-helpers.js";

const work = tempDir("world");
const home = join(work, "home");
let fwPath: string;
let firmware: FirmwareImage;

beforeAll(async () => {
  process.env.NPSWITCH_HOME = home;
  fwPath = (await buildFirmware({ out: join(work, "fw.npfw") })).out;
  firmware = decodeFirmware(new Uint8Array(readFileSync(fwPath)));
});

function smallScenario(requests: number) {
  const sc = loadScenario();
  sc.clients.requests = requests;
  return sc;
}

/** The tshark command (NPSWITCH_TSHARK overrides it: a path that does not exist shows the skip). */
const TSHARK = process.env.NPSWITCH_TSHARK || "tshark";
const tsharkAvailable = spawnSync(TSHARK, ["-v"], { encoding: "utf8" }).status === 0;

describe("npswitch sim", () => {
  it("runs the default scenario end to end: every request completes, none fails, no trap", () => {
    const r = npswitch(["sim", fwPath, "--json"], { home });
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    const j = JSON.parse(r.stdout);
    for (const k of ["seed", "simulated_seconds", "host_seconds", "packets", "throughput_gbps", "requests_completed", "requests_failed", "latency_us", "me_utilization", "cp_packets_per_connection", "drops", "traps"]) {
      expect(j, k).toHaveProperty(k);
    }
    expect(j.requests_completed).toBe(loadScenario().clients.requests);
    expect(j.requests_failed).toBe(0);
    expect(j.traps).toBe(0);
    expect(j.latency_us.p50).toBeGreaterThan(0);
    expect(j.latency_us.p99).toBeGreaterThanOrEqual(j.latency_us.p50);
    expect(j.me_utilization).toHaveLength(8);
    // After the splice the CP sees a connection again only at teardown.
    expect(j.cp_packets_per_connection).toBeGreaterThan(0);
    expect(j.cp_packets_per_connection).toBeLessThanOrEqual(8);
    expect(j.connections).toBeGreaterThan(0);
  });

  it("is deterministic: the same seed gives the same result and the same pcap bytes; another seed differs", async () => {
    const profile = loadProfile("ixp2400").profile;
    const run = (seed: number) => runWorld({ firmware, profile, scenario: smallScenario(60), seed, capture: true });
    const a = await run(7);
    const b = await run(7);
    const c = await run(8);
    const strip = (r: typeof a.result) => ({ ...r, host_seconds: 0 });
    expect(strip(b.result)).toEqual(strip(a.result));
    expect(a.result.requests_completed).toBe(60);
    for (const port of ["port0", "port1"]) {
      expect(Buffer.from(b.pcaps.get(port)!).equals(Buffer.from(a.pcaps.get(port)!)), port).toBe(true);
      expect(Buffer.from(c.pcaps.get(port)!).equals(Buffer.from(a.pcaps.get(port)!)), port).toBe(false);
    }
  });

  it("writes pcaps that tshark reads with no malformed packets, bad checksums or sequence warnings", async (ctx) => {
    if (!tsharkAvailable) {
      // Under CI the check must run: a missing tshark fails it. Elsewhere the test is reported skipped.
      if (process.env.CI) throw new Error(`tshark is not installed ('${TSHARK} -v' failed); CI must install it (.ci/run)`);
      console.warn("\n!!! SKIPPED: tshark is not installed (apt-get install tshark); pcap check not run !!!\n");
      ctx.skip("tshark is not installed");
    }
    const { pcaps } = await runWorld({ firmware, profile: loadProfile().profile, scenario: smallScenario(80), capture: true });
    for (const [port, bytes] of pcaps) {
      const file = join(work, `${port}.pcap`);
      writeFileSync(file, bytes);
      const r = spawnSync(TSHARK, ["-r", file, "-o", "tcp.check_checksum:TRUE", "-o", "ip.check_checksum:TRUE", "-q", "-z", "expert"], { encoding: "utf8" });
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout, port).not.toMatch(/^Errors|^Warnings|Malformed|Bad checksum|ACKed segment that wasn't captured|Previous segment/m);
      expect(r.stdout, port).toMatch(/Connection establish request \(SYN\)/);
      const count = spawnSync(TSHARK, ["-r", file, "-Y", "http.response.code == 200"], { encoding: "utf8" });
      expect(count.stdout.trim().split("\n").length, port).toBe(80);
    }
  });

  it("refuses a policy block with an unknown parameter or an impossible value, naming it", async () => {
    const profile = loadProfile().profile;
    const sc = smallScenario(10);
    sc.policy = { name: "lard", params: { tLo: 3 } };
    await expect(runWorld({ firmware, profile, scenario: sc })).rejects.toThrow(/^policy lard: unknown parameter 'tLo' \(known: .*tLow.*\)$/);
    sc.policy = { name: "maglev", params: { tableSize: 65536 } };
    await expect(runWorld({ firmware, profile, scenario: sc })).rejects.toThrow(/policy maglev: parameter tableSize: .*prime/);
    await expect(runWorld({ firmware, profile, scenario: smallScenario(10), policy: "fastest" })).rejects.toThrow(/^unknown policy 'fastest' \(have: .*least-connections.*\)$/);
  });

  it("names a bad scenario field and a missing image", () => {
    const bad = join(work, "bad.yaml");
    writeFileSync(bad, "name: bad\nclients: {count: 0, requests: 5}\nservers: {count: 2}\nfiles: {count: 10}\n");
    const r = npswitch(["sim", fwPath, "--scenario", bad], { home });
    expect(r.status).toBe(1);
    expect(r.stderr.trim()).toBe(`npswitch: error: ${bad}: field clients.count (line 2): Too small: expected number to be >0`);
    const m = npswitch(["sim", join(work, "none.npfw")], { home });
    expect(m.status).toBe(1);
    expect(m.stderr.trim()).toBe(`npswitch: error: ${join(work, "none.npfw")}: no such firmware image`);
  });
});
