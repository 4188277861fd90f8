// The emulated device in-process, without TAP devices: its ports are UDP sockets on loopback, and this
// test plays socat's part. Boot from the config image into slot A, the management API's token check,
// flashing (verify, self-test, inactive slot, swap, active record, reboot into it), refusals that leave
// everything as it was, a trapping image rolled back by itself, interrupted and expired uploads, the
// pool and policy operations, and the Prometheus text.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSocket, type Socket } from "node:dgram";
import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { buildFirmware } from "../../toolchain/build/build.js";
import { generateKey, devKeyPath } from "../../toolchain/image/keys.js";
import { DeviceClient, DeviceError } from "../../device/client/client.js";
import { flashImage } from "../../device/client/flash.js";
import { parseDeviceConfig, type DeviceConfig } from "../../device/config.js";
import { Device } from "../../device/device.js";
import { ManagementApi } from "../../device/api.js";
import { packet } from "../../packet/builder.js";
import { decode } from "../../packet/decode.js";
import { sha256Hex } from "../../toolchain/image/format.js";

const work = mkdtempSync(join(tmpdir(), "npswitch-device-"));
process.env.NPSWITCH_HOME = join(work, "home");
const TOKEN = "t0ken-for-tests";
const DATAPLANE = fileURLToPath(new URL("../../dataplane", import.meta.url));
const PORT_MACS = ["02:00:00:00:00:10", "02:00:00:00:00:11"];
const CLIENT_MAC = "02:90:01:00:00:0a";

/** A copy of dataplane/ changed by `change`, built and signed with the dev key. */
async function buildCopy(name: string, change: (dir: string) => void): Promise<string> {
  const dir = join(work, `dp-${name}`);
  cpSync(DATAPLANE, dir, { recursive: true });
  change(dir);
  return (await buildFirmware({ out: join(work, `${name}.npfw`), dataplaneDir: dir })).out;
}

/** A copy of dataplane/ with `edit` applied to one image's source. */
function buildVariant(name: string, image: string, edit: (src: string) => string): Promise<string> {
  return buildCopy(name, (dir) => {
    const file = join(dir, image, "index.ts");
    const src = readFileSync(file, "utf8");
    const edited = edit(src);
    expect(edited).not.toBe(src);
    writeFileSync(file, edited);
  });
}

const images: Record<string, string> = {};
let device: Device;
let api: ManagementApi;
let client: DeviceClient;
let url: string;
let socats: Socket[] = [];
const received: { port: number; frame: Uint8Array }[] = [];
const logs: string[] = [];

function config(stateDir: string, extra = "", switchExtra = ""): DeviceConfig {
  const cfg = parseDeviceConfig(`
name: test-device
image: ${images.good}
state_dir: ${stateDir}
trusted_keys: [${devKeyPath()}.pub]
management: { listen: "127.0.0.1:0", flash_session_timeout_s: 0.5, probation_packets: 1000, probation_s: 60 }
switch: { vip: 10.90.1.100, local_ip: 10.90.2.100${switchExtra} }
ports:
  - { name: client, mac: "${PORT_MACS[0]}", listen: "127.0.0.1:0", peer: "127.0.0.1:${(socats[0].address()).port}" }
  - { name: servers, mac: "${PORT_MACS[1]}", listen: "127.0.0.1:0", peer: "127.0.0.1:${(socats[1].address()).port}" }
servers:
  - { name: web1, ip: 10.90.2.11, mac: "02:90:02:00:00:0b", port: 1, tags: { group: static } }
  - { name: web2, ip: 10.90.2.12, mac: "02:90:02:00:00:0c", port: 1, tags: { group: api } }
${extra}`, "test-device.yaml");
  return cfg;
}

async function startDevice(stateDir: string, switchExtra = ""): Promise<void> {
  device = await Device.start(config(stateDir, "", switchExtra), { token: TOKEN, log: (l) => logs.push(l) });
  api = new ManagementApi(device, TOKEN);
  const a = await api.listen();
  url = `http://127.0.0.1:${a.port}`;
  client = new DeviceClient(url, TOKEN);
}

async function stopDevice(): Promise<void> {
  await api.close();
  await device.stop();
}

/** Send a frame into device port `port` (as socat would) and wait for what comes out, up to `ms`. */
async function exchange(port: number, frame: Uint8Array, ms = 2000): Promise<{ port: number; frame: Uint8Array }[]> {
  received.length = 0;
  const to = device.portAddresses()[port];
  await new Promise<void>((r, j) => socats[port].send(frame, to.port, to.host, (e) => (e ? j(e) : r())));
  const until = Date.now() + ms;
  while (received.length === 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
  await new Promise((r) => setTimeout(r, 30));
  return [...received];
}

/** Send a frame into device port `port` and collect what comes out until `done` says so (or `ms` pass). */
async function exchangeUntil(port: number, frame: Uint8Array, done: (out: { port: number; frame: Uint8Array }[]) => boolean, ms = 3000): Promise<{ port: number; frame: Uint8Array }[]> {
  received.length = 0;
  const to = device.portAddresses()[port];
  await new Promise<void>((r, j) => socats[port].send(frame, to.port, to.host, (e) => (e ? j(e) : r())));
  const until = Date.now() + ms;
  while (!done(received) && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
  await new Promise((r) => setTimeout(r, 30));
  return [...received];
}

const VIP = "10.90.1.100", LOCAL_IP = "10.90.2.100", CLIENT_IP = "10.90.1.10";
const SERVER_MACS: Record<string, string> = { "10.90.2.11": "02:90:02:00:00:0b", "10.90.2.12": "02:90:02:00:00:0c" };
const REQUEST = new TextEncoder().encode("GET /index.html HTTP/1.1\r\nHost: vip\r\n\r\n");

/** A client connection spliced to a fake server: both sides' sequence numbers and the server side's 4-tuple. */
interface Spliced {
  clientPort: number;
  /** Client side: the client's next seq, and the switch's (the SYN cookie's) next seq. */
  clientNext: number;
  switchNext: number;
  /** Server side: the switch's port on LOCAL_IP, the server's address and MAC, its next seq, the switch's next seq. */
  localPort: number;
  serverIp: string;
  serverMac: string;
  serverNext: number;
  cpNext: number;
}

/**
 * Open a real connection through the device and get it spliced: the client's handshake with the CP (a
 * SYN cookie), its request, the CP's SYN to the server it chose on port 1, this test's SYN-ACK as that
 * server, and the CP's replay of the request; then the splice is in the data plane's tables.
 */
async function openSplicedConnection(clientPort: number): Promise<Spliced> {
  const fromClient = () => packet().eth({ src: CLIENT_MAC, dst: PORT_MACS[0] }).ipv4({ src: CLIENT_IP, dst: VIP });
  const c0 = 0x1000_0000 + clientPort;
  const [synAck] = await exchange(0, fromClient().tcp({ sport: clientPort, dport: 80, seq: c0, flags: "S", options: [{ kind: "mss", value: 1460 }] }).build());
  expect(synAck?.port, "SYN-ACK to the client").toBe(0);
  const s0 = decode(synAck.frame).tcp!.seq;
  await exchange(0, fromClient().tcp({ sport: clientPort, dport: 80, seq: c0 + 1, ack: s0 + 1, flags: "A" }).build(), 100);
  const isSyn = (o: { port: number; frame: Uint8Array }) => o.port === 1 && decode(o.frame).tcp?.flagText === "S";
  const out = await exchangeUntil(0, fromClient().tcp({ sport: clientPort, dport: 80, seq: c0 + 1, ack: s0 + 1, flags: "PA" }).payload(REQUEST).build(), (o) => o.some(isSyn));
  const syn = out.find(isSyn);
  expect(syn, "the CP's SYN to a server").toBeDefined();
  const d = decode(syn!.frame);
  expect(d.ipv4!.src).toBe(LOCAL_IP);
  const serverIp = d.ipv4!.dst;
  const serverMac = SERVER_MACS[serverIp];
  expect(d.eth!.dst).toBe(serverMac);
  const sv0 = 0x7000_0000 + clientPort;
  const replay = await exchangeUntil(1, packet().eth({ src: serverMac, dst: PORT_MACS[1] }).ipv4({ src: serverIp, dst: LOCAL_IP })
    .tcp({ sport: 80, dport: d.tcp!.sport, seq: sv0, ack: d.tcp!.seq + 1, flags: "SA", options: [{ kind: "mss", value: 1460 }] }).build(),
  (o) => o.some((f) => f.port === 1 && decode(f.frame).payload.length > 0));
  const request = replay.find((f) => f.port === 1 && decode(f.frame).payload.length > 0);
  expect(request, "the CP replays the request to the server").toBeDefined();
  expect(Buffer.from(decode(request!.frame).payload).toString()).toBe(Buffer.from(REQUEST).toString());
  return {
    clientPort, clientNext: c0 + 1 + REQUEST.length, switchNext: s0 + 1,
    localPort: d.tcp!.sport, serverIp, serverMac, serverNext: sv0 + 1, cpNext: (d.tcp!.seq + 1 + REQUEST.length) >>> 0,
  };
}

/**
 * One segment each way on a spliced connection: the data plane (not the CP, which sees nothing) must
 * forward each with the splice's rewrite: MACs, addresses, ports, and sequence numbers translated to
 * the other side's space. Returns what came out of each.
 */
async function spliceSegments(c: Spliced): Promise<{ toServer: { port: number; frame: Uint8Array }[]; toClient: { port: number; frame: Uint8Array }[] }> {
  const toServer = await exchange(0, packet().eth({ src: CLIENT_MAC, dst: PORT_MACS[0] }).ipv4({ src: CLIENT_IP, dst: VIP })
    .tcp({ sport: c.clientPort, dport: 80, seq: c.clientNext, ack: c.switchNext, flags: "A", win: 1000 }).build(), 500);
  const toClient = await exchange(1, packet().eth({ src: c.serverMac, dst: PORT_MACS[1] }).ipv4({ src: c.serverIp, dst: LOCAL_IP })
    .tcp({ sport: 80, dport: c.localPort, seq: c.serverNext, ack: c.cpNext, flags: "PA", win: 1000 }).payload("HTTP/1.1 200 OK\r\n").build(), 500);
  return { toServer, toClient };
}

function expectSpliced(c: Spliced, out: Awaited<ReturnType<typeof spliceSegments>>): void {
  expect(out.toServer.map((o) => o.port), "client segment out of the server port only").toEqual([1]);
  const a = decode(out.toServer[0].frame);
  expect(a.errors).toEqual([]);
  expect({ eth: [a.eth!.src, a.eth!.dst], ip: [a.ipv4!.src, a.ipv4!.dst], ports: [a.tcp!.sport, a.tcp!.dport], seq: a.tcp!.seq, ack: a.tcp!.ack })
    .toEqual({ eth: [PORT_MACS[1], c.serverMac], ip: [LOCAL_IP, c.serverIp], ports: [c.localPort, 80], seq: c.cpNext, ack: c.serverNext });
  expect(out.toClient.map((o) => o.port), "server segment out of the client port only").toEqual([0]);
  const b = decode(out.toClient[0].frame);
  expect(b.errors).toEqual([]);
  expect({ eth: [b.eth!.src, b.eth!.dst], ip: [b.ipv4!.src, b.ipv4!.dst], ports: [b.tcp!.sport, b.tcp!.dport], seq: b.tcp!.seq, ack: b.tcp!.ack })
    .toEqual({ eth: [PORT_MACS[0], CLIENT_MAC], ip: [VIP, CLIENT_IP], ports: [80, c.clientPort], seq: c.switchNext, ack: c.clientNext });
}

const arpRequest = () => packet().eth({ src: CLIENT_MAC, dst: "ff:ff:ff:ff:ff:ff" }).arp({ op: "request", sha: CLIENT_MAC, spa: "10.90.1.10", tha: "00:00:00:00:00:00", tpa: "10.90.1.100" }).build();
const arpReply = () => packet().eth({ src: PORT_MACS[0], dst: CLIENT_MAC }).arp({ op: "reply", sha: PORT_MACS[0], spa: "10.90.1.100", tha: CLIENT_MAC, tpa: "10.90.1.10" }).build();
const slotBytes = (dir: string) => Object.fromEntries(["A", "B"].map((s) => [s, existsSync(join(dir, `slot-${s}.npfw`)) ? sha256Hex(readFileSync(join(dir, `slot-${s}.npfw`))) : null]));

beforeAll(async () => {
  images.good = (await buildFirmware({ out: join(work, "good.npfw") })).out;
  // Same sources, other bytes: a second image that differs from the first (for slot checks).
  images.good2 = await buildVariant("good2", "classify", (s) => s.replace("export function init(): void {}", "export function init(): void {}\n// variant 2"));
  // The splice stage drops every packet: its fixtures fail (the self-test refuses it).
  images.broken = await buildVariant("broken", "splice", (s) => s.replace(
    "  const index = load<u32>(desc, DESC_FLOW);\n",
    "  const index = load<u32>(desc, DESC_FLOW);\n  if (index != 0xfffffff0) return drop(desc, REASON_TCP_CLOSED_FLOW);\n"));
  // Classify traps on 1234-byte frames only, which no fixture has: it passes the self-test and traps live.
  images.trapping = await buildVariant("trapping", "classify", (s) => s.replace(
    "  count(COUNTER_RX);\n",
    "  count(COUNTER_RX);\n  if (load<u16>(desc, 4) == 1234) unreachable();\n"));
  // A third stage (a copy of splice that no packet reaches): other stages and ME split, so the swap is cold.
  images.threeStage = await buildCopy("three-stage", (dir) => {
    cpSync(join(dir, "splice"), join(dir, "tx"), { recursive: true });
    writeFileSync(join(dir, "pipeline.json"), JSON.stringify({ stages: ["classify", "splice", "tx"], mapping: "pipelined" }));
  });
  // Signed by a key the device does not trust.
  generateKey(join(work, "other.pem"));
  images.untrusted = (await buildFirmware({ out: join(work, "untrusted.npfw"), keyPath: join(work, "other.pem") })).out;
  // One byte of a payload changed after signing.
  const bytes = readFileSync(images.good);
  bytes[bytes.length - 200] ^= 0x01;
  images.tampered = join(work, "tampered.npfw");
  writeFileSync(images.tampered, bytes);

  for (let i = 0; i < 2; i++) {
    const s = createSocket("udp4");
    await new Promise<void>((r) => s.bind(0, "127.0.0.1", () => r()));
    s.on("message", (m) => received.push({ port: i, frame: new Uint8Array(m) }));
    socats.push(s);
  }
  await startDevice(join(work, "state"));
}, 180_000);

afterAll(async () => {
  await stopDevice().catch(() => {});
  for (const s of socats) s.close();
  socats = [];
});

describe("device boot and ports", () => {
  it("boots the config's image into slot A and records it active", async () => {
    const s = await client.status();
    expect(s.running.slot).toBe("A");
    expect(s.running.image!.sha256).toBe(sha256Hex(readFileSync(images.good)));
    expect(JSON.parse(readFileSync(join(work, "state", "active.json"), "utf8")).slot).toBe("A");
    expect(logs.some((l) => l.includes("written to slot A"))).toBe(true);
  });

  it("answers an ARP request for the VIP on the client port with the exact reply frame", async () => {
    const out = await exchange(0, arpRequest());
    expect(out).toHaveLength(1);
    expect(out[0].port).toBe(0);
    expect(Buffer.from(out[0].frame).toString("hex")).toBe(Buffer.from(arpReply()).toString("hex"));
  });

  it("refuses the management API without the token or with a wrong one", async () => {
    for (const headers of [{}, { authorization: "Bearer wrong" }, { authorization: `Basic ${TOKEN}` }] as Record<string, string>[]) {
      const r = await fetch(`${url}/v1/status`, { headers });
      expect(r.status).toBe(401);
      expect((await r.json()).error).toMatch(/bearer token/);
    }
    const r = await fetch(`${url}/v1/flash`, { method: "POST", body: JSON.stringify({ size: 10, sha256: "0".repeat(64) }) });
    expect(r.status).toBe(401);
    expect((await client.status()).flash).toBeNull();
  });

  it("names unknown endpoints and wrong methods", async () => {
    const h = { authorization: `Bearer ${TOKEN}` };
    expect((await fetch(`${url}/v1/nothing`, { headers: h })).status).toBe(404);
    const r = await fetch(`${url}/v1/status`, { method: "DELETE", headers: h });
    expect(r.status).toBe(405);
    expect((await r.json()).error).toMatch(/allowed: GET/);
  });
});

describe("flashing", () => {
  it("flashes an image into the inactive slot, swaps keeping connections, and boots it after a restart", async () => {
    // A connection spliced before the flash, its segments forwarded by the data plane.
    const conn = await openSplicedConnection(42000);
    expectSpliced(conn, await spliceSegments(conn));
    const r = await flashImage(client, new Uint8Array(readFileSync(images.good2)), { chunkSize: 1000 });
    expect(r.result).toBe("swapped");
    expect(r.slot).toBe("B");
    expect(r.kept_connections).toBe(true);
    // Kept: its next segments, both ways, are still spliced by the new image with the same rewrite,
    // and the CP sees none of them.
    const toCp = device.counters().chip.toCp;
    expectSpliced(conn, await spliceSegments(conn));
    expect(device.counters().chip.toCp).toBe(toCp);
    expect(r.self_test).toMatchObject({ failed: 0 });
    expect(r.self_test!.passed).toBeGreaterThan(100);
    const s = await client.status();
    expect(s.running.slot).toBe("B");
    expect(s.running.image!.sha256).toBe(sha256Hex(readFileSync(images.good2)));
    expect(slotBytes(join(work, "state"))).toEqual({ A: sha256Hex(readFileSync(images.good)), B: sha256Hex(readFileSync(images.good2)) });
    // Still forwarding, on the new image.
    expect(await exchange(0, arpRequest())).toHaveLength(1);
    // A restart boots slot B.
    await stopDevice();
    await startDevice(join(work, "state"));
    expect((await client.status()).running).toMatchObject({ slot: "B", image: { sha256: sha256Hex(readFileSync(images.good2)) } });
  }, 60_000);

  for (const [name, step] of [["tampered", "signature"], ["untrusted", "signature"], ["broken", "self-test"]] as const) {
    it(`refuses a ${name} image at step ${step}; the running image and both slots stay as they were`, async () => {
      const before = await client.status();
      const slots = slotBytes(join(work, "state"));
      const err = await flashImage(client, new Uint8Array(readFileSync(images[name]))).catch((e) => e);
      expect(err).toBeInstanceOf(DeviceError);
      expect(err.message).toContain(`at step ${step}`);
      const after = await client.status();
      expect(after.running).toEqual(before.running);
      expect(after.last_flash).toMatchObject({ result: "refused", step });
      expect(slotBytes(join(work, "state"))).toEqual(slots);
      expect(readdirSync(join(work, "state")).filter((f) => f.endsWith(".part"))).toEqual([]);
      expect(await exchange(0, arpRequest())).toHaveLength(1);
    }, 60_000);
  }

  it("rolls a trapping image back by itself: the previous slot runs again and is recorded active", async () => {
    const before = await client.status();
    const r = await flashImage(client, new Uint8Array(readFileSync(images.trapping)));
    expect(r.result).toBe("swapped");
    const flashedSlot = r.slot;
    expect(flashedSlot).not.toBe(before.running.slot);
    // A 1234-byte frame makes the new classify trap: the packet is dropped, the old image comes back.
    const big = packet().eth({ src: CLIENT_MAC, dst: PORT_MACS[0] }).ipv4({ src: "10.90.1.10", dst: "10.90.1.100" })
      .tcp({ sport: 40000, dport: 80, seq: 1, flags: "S" }).payload(new Uint8Array(1234 - 54)).build();
    expect(big.length).toBe(1234);
    await exchange(0, big, 300);
    let s = await client.status();
    for (let i = 0; i < 50 && s.rollbacks === before.rollbacks; i++) {
      await new Promise((res) => setTimeout(res, 20));
      s = await client.status();
    }
    expect(s.rollbacks).toBe(before.rollbacks + 1);
    expect(s.running).toEqual(before.running);
    expect(s.last_flash).toMatchObject({ result: "rolled_back" });
    expect(s.last_flash!.rolled_back).toMatch(/trapped/);
    expect(JSON.parse(readFileSync(join(work, "state", "active.json"), "utf8")).slot).toBe(before.running.slot);
    expect(logs.some((l) => l.startsWith("rollback:"))).toBe(true);
    const metrics = await client.metrics();
    expect(metrics).toMatch(/^npswitch_np_traps_total 1$/m);
    expect(metrics).toMatch(/^npswitch_flash_total\{result="rolled_back"\} 1$/m);
    expect(await exchange(0, arpRequest())).toHaveLength(1);
  }, 60_000);

  it("an upload stopped halfway leaves the running image untouched; an idle session expires and its part file goes", async () => {
    const before = await client.status();
    const slots = slotBytes(join(work, "state"));
    const bytes = new Uint8Array(readFileSync(images.good));
    const h = { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" };
    const open = await (await fetch(`${url}/v1/flash`, { method: "POST", headers: h, body: JSON.stringify({ size: bytes.length, sha256: sha256Hex(bytes) }) })).json();
    const half = bytes.subarray(0, 2000);
    const put = await fetch(`${url}/v1/flash/${open.session}/0`, { method: "PUT", headers: { authorization: `Bearer ${TOKEN}` }, body: half });
    expect((await put.json()).received).toBe(2000);
    // A second upload is refused while this one is open; a chunk at the wrong offset says where to resume.
    expect((await fetch(`${url}/v1/flash`, { method: "POST", headers: h, body: JSON.stringify({ size: 1, sha256: sha256Hex(bytes) }) })).status).toBe(409);
    const wrong = await fetch(`${url}/v1/flash/${open.session}/5`, { method: "PUT", headers: { authorization: `Bearer ${TOKEN}` }, body: half });
    expect(wrong.status).toBe(409);
    expect((await wrong.json()).received).toBe(2000);
    // Committing a partial upload is refused at step size.
    const commit = await fetch(`${url}/v1/flash/${open.session}/commit`, { method: "POST", headers: h, body: "{}" });
    expect(commit.status).toBe(422);
    expect((await commit.json()).step).toBe("size");
    // The next session is abandoned (the client goes away): it expires.
    const open2 = await (await fetch(`${url}/v1/flash`, { method: "POST", headers: h, body: JSON.stringify({ size: bytes.length, sha256: sha256Hex(bytes) }) })).json();
    await fetch(`${url}/v1/flash/${open2.session}/0`, { method: "PUT", headers: { authorization: `Bearer ${TOKEN}` }, body: half });
    expect(readdirSync(join(work, "state")).filter((f) => f.endsWith(".part"))).toHaveLength(1);
    await new Promise((r) => setTimeout(r, 900));
    expect(readdirSync(join(work, "state")).filter((f) => f.endsWith(".part"))).toEqual([]);
    expect((await fetch(`${url}/v1/flash/${open2.session}`, { headers: h })).status).toBe(404);
    expect(logs.some((l) => l.includes("expired"))).toBe(true);
    const after = await client.status();
    expect(after.running).toEqual(before.running);
    expect(after.flash).toBeNull();
    expect(slotBytes(join(work, "state"))).toEqual(slots);
  }, 30_000);

  it("swaps cold when the stages differ: tables cleared, a new control plane, still forwarding", async () => {
    const conn = await openSplicedConnection(42001);
    expectSpliced(conn, await spliceSegments(conn));
    const r = await flashImage(client, new Uint8Array(readFileSync(images.threeStage)));
    expect(r.result).toBe("swapped");
    expect(r.kept_connections).toBe(false);
    // Cleared: the connection's next segments are no longer spliced; none leaves towards the other side.
    const after = await spliceSegments(conn);
    expect(after.toServer.filter((o) => o.port === 1), "client segment forwarded to the server after a cold swap").toEqual([]);
    expect(after.toClient.filter((o) => o.port === 0 && decode(o.frame).tcp?.sport === 80 && decode(o.frame).payload.length > 0), "server data forwarded to the client after a cold swap").toEqual([]);
    const s = await client.status();
    expect(s.running.image!.images.map((i: { name: string }) => i.name)).toEqual(["classify", "splice", "tx"]);
    expect(logs.some((l) => l.startsWith("cold swap"))).toBe(true);
    const out = await exchange(0, arpRequest());
    expect(out).toHaveLength(1);
    expect(Buffer.from(out[0].frame).toString("hex")).toBe(Buffer.from(arpReply()).toString("hex"));
    expect(await client.metrics()).toMatch(/^npswitch_stage_packets_total\{stage="tx"\} 0$/m);
  }, 60_000);

  it("rolls back by request to the other slot", async () => {
    const before = await client.status();
    const r = await client.rollback();
    expect(r.slot).not.toBe(before.running.slot);
    expect((await client.status()).running.slot).toBe(r.slot);
  });
});

describe("pool, policy and metrics", () => {
  it("sets weights, drains, adds and removes servers, and names what is wrong", async () => {
    expect((await client.setServer("web1", { weight: 3 })).configuredWeight).toBe(3);
    expect((await client.drain("web2")).weight).toBe(0);
    const added = await client.addServer({ name: "web3", ip: "10.90.2.13", mac: "02:90:02:00:00:0d", port: 1, tcp_port: 80 });
    expect(added.name).toBe("web3");
    expect((await client.pool()).map((s: { name: string }) => s.name)).toEqual(["web1", "web2", "web3"]);
    expect(await client.removeServer("web3")).toEqual({ removed: true });
    const err = await client.setServer("nosuch", { weight: 1 }).catch((e) => e);
    expect(err).toBeInstanceOf(DeviceError);
    expect(err.message).toMatch(/nosuch/);
  });

  it("swaps the policy at run time and refuses bad parameters by name", async () => {
    expect(await client.setPolicy("least-connections")).toMatchObject({ name: "least-connections" });
    expect((await client.policy()).name).toBe("least-connections");
    const err = await client.setPolicy("service-partitioning", { rules: [{ path: "/x/", grup: "a" }] }).catch((e) => e);
    expect(err).toBeInstanceOf(DeviceError);
    expect(err.message).toMatch(/grup/);
    expect((await client.policy()).name).toBe("least-connections");
  });

  it("exports Prometheus text: HELP and TYPE for every family, counters ending in _total, valid sample lines", async () => {
    const text = await client.metrics();
    const lines = text.trimEnd().split("\n");
    const families = new Set<string>();
    for (const l of lines) {
      if (l.startsWith("# HELP ")) continue;
      const t = /^# TYPE (\w+) (counter|gauge)$/.exec(l);
      if (t) {
        families.add(t[1]);
        if (t[2] === "counter") expect(t[1]).toMatch(/_total$/);
        continue;
      }
      const m = /^([a-z_][a-z0-9_]*)(\{[a-z_][a-z0-9_]*="[^"]*"(,[a-z_][a-z0-9_]*="[^"]*")*\})? (-?\d+(\.\d+)?(e[-+]?\d+)?|NaN)$/.exec(l);
      expect(m, `bad sample line: ${l}`).not.toBeNull();
      expect(families.has(m![1]), `${m![1]} has no TYPE line`).toBe(true);
    }
    expect(text).toMatch(/^npswitch_port_rx_frames_total\{port="client"\} [1-9]\d*$/m);
    expect(text).toMatch(/^npswitch_server_up\{server="web1"\} 1$/m);
    expect(text).toMatch(/^npswitch_running_image_info\{slot="[AB]",sha256="[0-9a-f]{64}"\} 1$/m);
  });

  it("switch.check_tcp_checksum: on, classify drops a request segment with a bad TCP checksum; off (the default), the CP refuses it", async () => {
    for (const check of [true, undefined]) {
      await stopDevice();
      await startDevice(join(work, "state"), check === undefined ? "" : `, check_tcp_checksum: ${check}`);
      const client = () => packet().eth({ src: CLIENT_MAC, dst: PORT_MACS[0] }).ipv4({ src: "10.90.1.10", dst: "10.90.1.100" });
      const [synAck] = await exchange(0, client().tcp({ sport: 41000, dport: 80, seq: 5000, flags: "S", options: [{ kind: "mss", value: 1460 }] }).build());
      const isn = decode(synAck.frame).tcp!.seq;
      await exchange(0, client().tcp({ sport: 41000, dport: 80, seq: 5001, ack: isn + 1, flags: "A" }).build(), 100);
      const request = client().tcp({ sport: 41000, dport: 80, seq: 5001, ack: isn + 1, flags: "PA" })
        .payload(new TextEncoder().encode("GET /index.html HTTP/1.1\r\nHost: vip\r\n\r\n")).build();
      request[14 + 20 + 17] ^= 0x01; // TCP checksum, bytes 16-17 of the TCP header
      expect(await exchange(0, request, 300), String(check)).toEqual([]);
      const c = device.counters();
      expect(c.chip.drops.TCP_BAD_CHECKSUM ?? 0, String(check)).toBe(check ? 1 : 0);
      expect(c.cp.cp.badSegments, String(check)).toBe(check ? 0 : 1);
      expect(c.cp.cp.requests, String(check)).toBe(0);
    }
  }, 60_000);
});
