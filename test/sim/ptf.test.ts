// PTF-style tests on the simulated NP (sendPacket / expectPacket with masks / expectNoOtherPackets):
// the exact images with timing, the pipeline across microengines, and trap recovery.
import { describe, expect, it } from "vitest";
import { PtfSwitch } from "../../sim/testing/ptf.js";
import { packet } from "../../packet/builder.js";
import { compileImage } from "../../toolchain/build/compile.js";
import { compiledImages } from "../../sim/np/load.js";
import { SharedMemoryTables } from "../../controlplane/tables/shared-memory-tables.js";
import { CLIENT, CLIENT_PORT, DEFAULT_CONFIG, LOCAL_IP, PORT_MACS, SERVER_PORT, VIP } from "../../sim/testing/fixtures/fixture.js";
import { CLIENT_ISN, SERVER_ISN, CP_ISN_TO_CLIENT, CP_ISN_TO_SERVER, SPLICE, fromClient, fromServer, toClient, toServer } from "../../sim/testing/fixtures/splice-model.js";
import { fileURLToPath } from "node:url";
import { cpSync, mkdtempSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";

const arpRequest = (tpa: string) =>
  packet().eth({ src: CLIENT.mac, dst: "ff:ff:ff:ff:ff:ff" }).arp({ op: "request", sha: CLIENT.mac, spa: CLIENT.ip, tha: "00:00:00:00:00:00", tpa }).build();

describe("PTF helpers on the simulated NP", () => {
  it("answers ARP for the VIP on the port it came in on, and nothing else", async () => {
    const sw = await PtfSwitch.create({ config: DEFAULT_CONFIG });
    sw.sendPacket(CLIENT_PORT, arpRequest(VIP));
    const reply = packet().eth({ src: PORT_MACS[CLIENT_PORT], dst: CLIENT.mac }).arp({ op: "reply", sha: PORT_MACS[CLIENT_PORT], spa: VIP, tha: CLIENT.mac, tpa: CLIENT.ip }).build();
    sw.expectPacket(CLIENT_PORT, reply);
    sw.expectNoOtherPackets();
    sw.sendPacket(CLIENT_PORT, arpRequest("192.168.1.1"));
    sw.expectNoOtherPackets();
    expect(sw.chip.dropCounts().ARP_NOT_FOR_US).toBe(1);
  });

  it("splices both directions through classify and splice on different microengines, with NP latency in cycles", async () => {
    const sw = await PtfSwitch.create({ config: DEFAULT_CONFIG });
    expect(new SharedMemoryTables(sw.chip.memory).install({ fwd: SPLICE.fwd, rev: SPLICE.rev }).ok).toBe(true);
    const ts = [{ kind: "nop" as const }, { kind: "nop" as const }, { kind: "ts" as const, val: 1000, ecr: 2000 }];
    const request = { flags: "PA", seq: CLIENT_ISN + 1, ack: CP_ISN_TO_CLIENT + 1, payload: "GET / HTTP/1.1\r\n\r\n", options: ts };
    sw.sendPacket(CLIENT_PORT, fromClient(request));
    sw.expectPacket(SERVER_PORT, toServer(request));
    const response = { flags: "A", seq: SERVER_ISN + 1, ack: CP_ISN_TO_SERVER + 1 + 18, payload: "HTTP/1.1 200 OK\r\n\r\n", options: ts };
    sw.sendPacket(SERVER_PORT, fromServer(response));
    const out = sw.expectPacket(CLIENT_PORT, toClient(response), ["ipv4.id"]);
    expect(out.length).toBe(fromServer(response).length);
    sw.expectNoOtherPackets();
    const snap = sw.chip.snapshot();
    expect(snap.cycles.map((c) => [c.stage, c.packets])).toEqual([["classify", 2], ["splice", 2]]);
    expect(new Set(snap.me.filter((m) => m.packets > 0).map((m) => m.stage))).toEqual(new Set(["classify", "splice"]));
    for (const me of snap.me) expect(me.stage).toBe(me.id < 4 ? "classify" : "splice");
    // Both stages ran and waited on memory: the packet spent more than their compute in the NP.
    for (const lat of snap.latencyPs) expect(lat).toBeGreaterThan(0);
    expect(snap.cycles.every((c) => c.waits > 0 && c.cycles > 100)).toBe(true);
  });

  it("sends SYNs to the CP and reports unmatched expectations clearly", async () => {
    const sw = await PtfSwitch.create({ config: DEFAULT_CONFIG });
    sw.sendPacket(CLIENT_PORT, fromClient({ flags: "S", seq: 77 }));
    expect(sw.toCp.map((m) => m.type)).toEqual(["SYN"]);
    expect(() => sw.expectPacket(SERVER_PORT, fromClient({ flags: "S", seq: 77 }))).toThrow(/expected a packet on port 1, none came/);
    sw.sendPacket(CLIENT_PORT, arpRequest(LOCAL_IP));
    expect(() => sw.expectPacket(CLIENT_PORT, arpRequest(LOCAL_IP))).toThrow(/packet on port 0 differs/);
  });

  it("catches a trapping image: the packet is dropped and counted, the thread goes on", async () => {
    // A splice stage that traps on every third packet (an out-of-bounds load), forwards the rest.
    const dir = mkdtempSync(join(tmpdir(), "npswitch-trap-"));
    const dataplane = fileURLToPath(new URL("../../dataplane", import.meta.url));
    mkdirSync(join(dir, "trapper"));
    cpSync(join(dataplane, "lib"), join(dir, "lib"), { recursive: true });
    writeFileSync(join(dir, "trapper", "index.ts"), `import { DESC_OUT_PORT } from "../lib/layout";
let n: u32 = 0;
export function init(): void {}
export function process(desc: usize): i32 {
  n++;
  if (n % 3 == 0) return <i32>load<u32>(0xfffffff0);
  store<u8>(desc, 1, DESC_OUT_PORT);
  return 1;
}
`);
    const trapper = await compileImage("trapper", { slot: 1, dataplaneDir: dir });
    const classify = (await compiledImages()).find((i) => i.name === "classify")!.wasm;
    const sw = await PtfSwitch.create({
      config: DEFAULT_CONFIG, pipeline: ["classify", "splice"],
      images: [{ name: "classify", wasm: classify, mes: [0] }, { name: "splice", wasm: trapper, mes: [1] }],
    });
    expect(new SharedMemoryTables(sw.chip.memory).install({ fwd: SPLICE.fwd, rev: SPLICE.rev }).ok).toBe(true);
    for (let i = 0; i < 9; i++) sw.sendPacket(CLIENT_PORT, fromClient({ flags: "A", seq: CLIENT_ISN + 1 + i, ack: CP_ISN_TO_CLIENT + 1 }));
    expect(sw.chip.snapshot().traps).toBe(3);
    expect(sw.chip.dropCounts().TRAP).toBe(3);
    expect(sw.pending(1)).toHaveLength(6);
    expect(sw.chip.buffersInUse()).toBe(0);
  });
});
