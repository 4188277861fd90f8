// `switch.check_tcp_checksum` in a scenario reaches classify in `npswitch sim`'s switch: a request segment
// with a wrong TCP checksum is dropped on the microengines (TCP_BAD_CHECKSUM) when it is on, and reaches
// the CP (which refuses damaged segments itself) when it is off, the default.
import { beforeAll, describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { buildFirmware } from "../../toolchain/build/build.js";
import { decodeFirmware, type FirmwareImage } from "../../toolchain/image/format.js";
import { loadProfile } from "../../toolchain/target/profile.js";
import { DEFAULT_SCENARIO, parseScenario } from "../../sim/scenario/load.js";
import { cpConfigOf, SERVER_PORT } from "../../sim/world/world.js";
import { createSwitch } from "../../sim/chip/switch.js";
import { chipTiming } from "../../sim/timing/costs.js";
import { Scheduler } from "../../sim/engine/scheduler.js";
import { createPolicy } from "../../controlplane/policies/index.js";
import { packet } from "../../packet/builder.js";
import { decode } from "../../packet/decode.js";
import { PS_PER_MS } from "../../lib/time.js";
import { tempDir } from "../toolchain/cli-helpers.js";

let firmware: FirmwareImage;

/** The default scenario with `switch.check_tcp_checksum` set to `check` (left out when undefined). */
function scenario(check: boolean | undefined) {
  const text = readFileSync(DEFAULT_SCENARIO, "utf8");
  const edited = check === undefined ? text : text.replace(/^switch:\n/m, `switch:\n  check_tcp_checksum: ${check}\n`);
  expect(edited === text).toBe(check === undefined);
  return parseScenario(edited, "default.yaml");
}
const CLIENT_MAC = "02:00:00:00:01:01";
const SWITCH_MAC = "02:00:00:00:00:10";

beforeAll(async () => {
  const work = tempDir("check-tcp-checksum");
  process.env.NPSWITCH_HOME = join(work, "home");
  firmware = decodeFirmware(new Uint8Array(readFileSync((await buildFirmware({ out: join(work, "fw.npfw") })).out)));
});

/** Handshake with the switch, then send a request (whose TCP checksum is off by one when `damage`); what the switch did. */
async function sendRequest(check: boolean | undefined, damage = true) {
  const sc = scenario(check);
  const sched = new Scheduler();
  const out: { port: number; frame: Uint8Array }[] = [];
  const server = { name: "server0", ip: "10.1.0.11", mac: "02:00:00:00:02:01", port: SERVER_PORT, tcpPort: 80 };
  const sw = await createSwitch({
    firmware, timing: chipTiming(loadProfile().profile), sched, policy: createPolicy("round-robin"),
    transmit: (port, frame) => out.push({ port, frame }), cp: cpConfigOf(sc, 1, [server]),
  });
  const client = () => packet().eth({ src: CLIENT_MAC, dst: SWITCH_MAC }).ipv4({ src: "10.0.0.7", dst: sc.switch.vip });
  const step = (frame: Uint8Array) => {
    out.length = 0;
    sw.chip.receive(0, frame);
    sched.run(sched.now + 10 * PS_PER_MS);
    return out.map((o) => ({ port: o.port, tcp: decode(o.frame).tcp! }));
  };
  const [synAck] = step(client().tcp({ sport: 40000, dport: 80, seq: 1000, flags: "S", options: [{ kind: "mss", value: 1460 }] }).build());
  expect(synAck.tcp.flags & 0x12).toBe(0x12);
  expect(step(client().tcp({ sport: 40000, dport: 80, seq: 1001, ack: synAck.tcp.seq + 1, flags: "A" }).build())).toEqual([]);
  const request = client().tcp({ sport: 40000, dport: 80, seq: 1001, ack: synAck.tcp.seq + 1, flags: "PA" })
    .payload(new TextEncoder().encode("GET /index.html HTTP/1.1\r\nHost: vip\r\n\r\n")).build();
  const at = 14 + 20 + 16; // Ethernet, IPv4 without options, TCP bytes 16-17: checksum
  if (damage) request[at + 1] ^= 0x01;
  const answers = step(request);
  return { answers, drops: sw.chip.snapshot().drops, cp: sw.cp.stats() };
}

describe("switch.check_tcp_checksum in a scenario", () => {
  it("on: classify drops a request segment with a bad TCP checksum; the CP never sees it", async () => {
    const r = await sendRequest(true);
    expect(r.drops.TCP_BAD_CHECKSUM).toBe(1);
    expect(r.cp.badSegments).toBe(0);
    expect(r.cp.requests).toBe(0);
    expect(r.answers).toEqual([]);
  });

  it("off (the default): the segment reaches the CP, which refuses the damaged segment itself", async () => {
    for (const check of [false, undefined]) {
      const r = await sendRequest(check);
      expect(r.drops.TCP_BAD_CHECKSUM ?? 0, String(check)).toBe(0);
      expect(r.cp.badSegments, String(check)).toBe(1);
      expect(r.cp.requests, String(check)).toBe(0);
      expect(r.answers, String(check)).toEqual([]);
    }
  });

  it("the same request with a good checksum is dispatched in both settings: the drops above are the checksum's", async () => {
    for (const check of [true, undefined]) {
      const r = await sendRequest(check, false);
      expect(r.drops.TCP_BAD_CHECKSUM ?? 0, String(check)).toBe(0);
      expect(r.cp.requests, String(check)).toBe(1);
      const syn = r.answers.find((a) => a.port === SERVER_PORT);
      expect(syn?.tcp.flags, String(check)).toBe(0x02);
    }
  });
});
