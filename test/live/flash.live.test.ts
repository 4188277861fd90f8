// `npswitch device` flashed on a live network (device/README.md, "Flashing"): a second image swapped
// in while wrk and 10 MiB downloads run, with no failed request; a tampered image refused; an upload
// abandoned halfway leaving the running image as it was.
import { readFileSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { DeviceClient, DeviceError } from "../../device/client/client.js";
import { flashImage } from "../../device/client/flash.js";
import { decodeFirmware } from "../../toolchain/image/format.js";
import { buildImage, startDevice, testnetUp, type RunningDevice, type Testnet } from "./net.js";
import { curl, describeLive, failedTransfers, indexBodyMatches, sha256, useHome, tearDownLive, wrk, type Transfer, type WrkSummary } from "./checks.js";

const PREFIX = "nplivef";
const UDP_BASE = 23010;
const TEST_TIMEOUT_MS = 120_000;
const TRAFFIC_S = 8;
/** The flash starts this long into the traffic. */
const FLASH_AFTER_MS = 2000;

describeLive("npswitch device on a live network: flashing", ["wrk"], () => {
  let dir = "";
  let restoreHome = () => {};
  let net: Testnet | undefined;
  let dev: RunningDevice | undefined;
  let client: DeviceClient;
  let firstImage = "";
  let secondImage = "";

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "npswitch-live-flash-"));
    restoreHome = useHome(join(dir, "home"));
    firstImage = await buildImage(join(dir, "first.npfw"));
    // The same source again: a re-flash still goes through verify, self-test, the inactive slot and the swap.
    secondImage = await buildImage(join(dir, "second.npfw"));
    net = await testnetUp({ prefix: PREFIX, udpBase: UDP_BASE });
    dev = await startDevice({ net, image: firstImage });
    client = new DeviceClient(dev.managementUrl, dev.token);
  }, 300_000);

  afterAll(() => tearDownLive({ dev, net, restoreHome, dir }), 60_000);

  it("flashes a second image during traffic with no failed request", async () => {
    expect((await client.status()).running.slot).toBe("A");
    const bytes = readFileSync(secondImage);
    const t0 = performance.now();
    const ms = () => Math.round(performance.now() - t0);

    let wrkEnd = Infinity;
    const load: Promise<WrkSummary> = wrk(net!, "/index.html", { connections: 8, seconds: TRAFFIC_S }).finally(() => (wrkEnd = ms()));
    const downloads: { start: number; end: number; t: Transfer }[] = [];
    const downloading = (async () => {
      for (let i = 0; i < 40 && wrkEnd === Infinity; i++) {
        const start = ms();
        const [t] = await curl(net!, [{ path: "/static/big.bin" }]);
        downloads.push({ start, end: ms(), t });
      }
    })();

    await new Promise((r) => setTimeout(r, FLASH_AFTER_MS));
    const flashStart = ms();
    let flashEnd = Infinity;
    const flashing = flashImage(client, bytes).finally(() => (flashEnd = ms()));
    await Promise.allSettled([flashing, load, downloading]);
    const result = await flashing;
    const w = await load;
    const across = downloads.filter((d) => d.start < flashEnd && d.end > flashStart);
    const bad = downloads.filter((d) => d.t.exit !== 0 || d.t.status !== 200 || sha256(d.t.body) !== net!.bigBinSha256);
    console.log(
      `flash during traffic: flashed ${flashStart}-${flashEnd} ms, traffic 0-${wrkEnd} ms; wrk ${JSON.stringify(w)};` +
        ` ${downloads.length} big.bin downloads (${across.length} across the flash), ${bad.length} bad; result ${JSON.stringify({ ...result, image: undefined })}`,
    );

    expect(result).toMatchObject({ result: "swapped", slot: "B", kept_connections: true, self_test: { failed: 0 } });
    expect(result.self_test.passed).toBeGreaterThan(0);
    expect(flashEnd, "the flash finished while the traffic ran").toBeLessThan(wrkEnd);
    expect(w.requests).toBeGreaterThan(0);
    expect(w).toMatchObject({ connectErrors: 0, readErrors: 0, writeErrors: 0, timeouts: 0, badStatus: 0 });
    expect(across.length).toBeGreaterThan(0);
    expect(bad.map((d) => `${d.start}-${d.end} ms: ${failedTransfers([d.t]).join("") || `sha256 ${sha256(d.t.body)} of ${d.t.body.length} bytes`}`)).toEqual([]);

    const status = await client.status();
    expect(status.running.slot).toBe("B");
    expect(status.running.image.sha256).toBe(sha256(bytes));
    expect(status.last_flash).toMatchObject({ result: "swapped", slot: "B" });
    expect(status.rollbacks).toBe(0);
    expect(await client.metrics()).toMatch(/^npswitch_flash_total\{result="swapped"\} 1$/m);
  }, TEST_TIMEOUT_MS);

  it("refuses a tampered image and keeps running the one it ran", async () => {
    const before = await client.status();
    const bytes = Buffer.from(readFileSync(firstImage));
    // One bit flipped in the middle of the first image's Wasm payload (the payloads end the signed body).
    const fw = decodeFirmware(bytes);
    const payloadsStart = fw.body.length - fw.manifest.images.reduce((n, img) => n + img.bytes, 0);
    const img = fw.manifest.images[0];
    bytes[payloadsStart + img.offset + Math.floor(img.bytes / 2)] ^= 0x01;

    const err = await flashImage(client, bytes).then(() => null, (e: unknown) => e);
    expect(err).toBeInstanceOf(DeviceError);
    const refused = err as DeviceError;
    console.log(`tampered image: ${refused.message}`);
    expect(refused.message).toMatch(/refused the image at step (signature|hash)/);
    expect(["signature", "hash"]).toContain(refused.info.body?.step);

    const after = await client.status();
    expect(after.running).toEqual(before.running);
    expect(after.slots).toEqual(before.slots);
    expect(after.flash).toBeNull();
    expect(after.last_flash).toMatchObject({ result: "refused", step: refused.info.body?.step });
    const metrics = await client.metrics();
    expect(metrics).toMatch(/^npswitch_flash_total\{result="refused"\} 1$/m);
    expect(metrics).toMatch(/^npswitch_flash_total\{result="swapped"\} 1$/m);
    const ts = await curl(net!, [{ path: "/index.html" }]);
    expect(failedTransfers(ts)).toEqual([]);
    expect(indexBodyMatches(ts[0])).toBe(true);
  }, TEST_TIMEOUT_MS);

  it("leaves the running image untouched when an upload stops halfway, and flashes after it", async () => {
    const before = await client.status();
    const bytes = readFileSync(firstImage);
    const CHUNK = 1024;
    const half = Math.floor(Math.ceil(bytes.length / CHUNK) / 2) * CHUNK;
    const { session } = await client.openFlash(bytes.length, sha256(bytes));
    for (let at = 0; at < half; at += CHUNK) await client.putChunk(session, at, bytes.subarray(at, at + CHUNK));

    const mid = await client.status();
    expect(mid.flash).toMatchObject({ session, size: bytes.length, received: half });
    expect(mid.running).toEqual(before.running);
    await expect(client.openFlash(bytes.length, sha256(bytes)), "one upload at a time").rejects.toThrow(/409/);
    await client.abortFlash(session);

    const after = await client.status();
    expect(after.flash).toBeNull();
    expect(after.running).toEqual(before.running);
    expect(after.slots).toEqual(before.slots);
    await expect(client.flashSession(session)).rejects.toThrow(/404/);
    const ts = await curl(net!, [{ path: "/index.html" }]);
    expect(failedTransfers(ts)).toEqual([]);

    const result = await flashImage(client, bytes);
    const other = before.running.slot === "A" ? "B" : "A";
    expect(result).toMatchObject({ result: "swapped", slot: other, kept_connections: true });
    const status = await client.status();
    expect(status.running.slot).toBe(other);
    expect(status.running.image.sha256).toBe(sha256(bytes));
    const again = await curl(net!, [{ path: "/static/big.bin" }]);
    expect(failedTransfers(again)).toEqual([]);
    expect(sha256(again[0].body)).toBe(net!.bigBinSha256);
  }, TEST_TIMEOUT_MS);
});
