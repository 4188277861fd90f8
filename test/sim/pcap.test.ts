// Capture (sim/capture/pcap.ts): the file format byte for byte, determinism (same seed, same
// bytes), and tshark's expert analysis of a simulated HTTP exchange.
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { Scheduler } from "../../sim/engine/scheduler.js";
import { PcapWriter } from "../../sim/capture/pcap.js";
import { HttpClient } from "../../sim/http/client.js";
import { HttpServer } from "../../sim/http/server.js";
import { PAIR_SERVER_IP, hostPair } from "../../sim/tcp/pair.js";
import { Workload } from "../../sim/workload/workload.js";

/** An HTTP run captured at the client's interface. */
function capturedRun(seed: number, lossRate = 0): { pcap: PcapWriter; ok: number } {
  const sched = new Scheduler();
  const { link, client, server } = hostPair(sched, { seed, link: { lossRate } });
  const pcap = new PcapWriter().captureEndpoint(link, 0);
  const workload = new Workload({ files: 50, zipfAlpha: 0.8, seed, maxBytes: 200_000, postFraction: 0.2 });
  new HttpServer(server, { files: workload.fileSet() });
  const http = new HttpClient(client, { server: PAIR_SERVER_IP });
  for (let i = 0; i < 4; i++) http.session(workload.nextSession(5));
  http.session([{ path: "/missing" }]);
  sched.run();
  return { pcap, ok: http.counters.ok };
}

const dir = mkdtempSync(join(tmpdir(), "npswitch-pcap-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The tshark command (NPSWITCH_TSHARK overrides it: a path that does not exist shows the skip). */
const TSHARK = process.env.NPSWITCH_TSHARK || "tshark";
const tsharkAvailable = spawnSync(TSHARK, ["--version"], { stdio: "ignore" }).status === 0;

/** tshark's expert summary of a capture, with TCP and IP checksum validation on. */
function expert(file: string): string {
  return execFileSync(TSHARK, ["-r", file, "-q", "-z", "expert", "-o", "tcp.check_checksum:TRUE", "-o", "ip.check_checksum:TRUE"], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}

const PROBLEMS = /malformed|bad checksum|checksum.*incorrect|previous segment.*not captured|acked unseen segment|ACKed segment that wasn't captured/i;

describe("pcap writer", () => {
  it("writes the nanosecond libpcap header and records with simulated time", () => {
    const w = new PcapWriter();
    w.add(1_500_000_123_456, Uint8Array.from([1, 2, 3]));
    const b = w.bytes();
    const dv = new DataView(b.buffer);
    expect(Array.from(b.subarray(0, 4))).toEqual([0x4d, 0x3c, 0xb2, 0xa1]); // 0xa1b23c4d little-endian
    expect([dv.getUint16(4, true), dv.getUint16(6, true), dv.getUint32(16, true), dv.getUint32(20, true)]).toEqual([2, 4, 262_144, 1]);
    // 1.500000123456 s: 1 s and 500000123 ns (picoseconds truncated).
    expect([dv.getUint32(24, true), dv.getUint32(28, true), dv.getUint32(32, true), dv.getUint32(36, true)]).toEqual([1, 500_000_123, 3, 3]);
    expect(Array.from(b.subarray(40))).toEqual([1, 2, 3]);
    expect(w.frames).toBe(1);
  });

  it("gives the same bytes for the same seed, and different bytes for another", () => {
    const a = capturedRun(21), b = capturedRun(21), c = capturedRun(22);
    expect(a.ok).toBe(21);
    expect(Buffer.from(b.pcap.bytes()).equals(Buffer.from(a.pcap.bytes()))).toBe(true);
    expect(Buffer.from(c.pcap.bytes()).equals(Buffer.from(a.pcap.bytes()))).toBe(false);
    expect(a.pcap.frames).toBeGreaterThan(100);
  });

  it("reads clean in tshark: no malformed frames, bad checksums or missing segments", (ctx) => {
    if (!tsharkAvailable) {
      // Under CI the check must run: a missing tshark fails it. Elsewhere the test is reported skipped.
      if (process.env.CI) throw new Error(`tshark is required in CI (apt-get install -y tshark): '${TSHARK} --version' failed`);
      console.warn("\n!!! SKIPPED: tshark is not installed; install it with `apt-get install -y tshark` to check captures !!!\n");
      ctx.skip("tshark is not installed");
    }
    const clean = join(dir, "clean.pcap");
    const { pcap, ok } = capturedRun(31);
    expect(ok).toBe(21);
    pcap.writeFile(clean);
    const report = expert(clean);
    expect(report).not.toMatch(PROBLEMS);
    expect(report).toMatch(/Connection establish request \(SYN\): server port 80/); // tshark saw the TCP/HTTP exchange
    expect(report).toMatch(/404 Not Found/);
    const frames = execFileSync(TSHARK, ["-r", clean, "-T", "fields", "-e", "frame.number"], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }).trim().split("\n");
    expect(frames.length).toBe(pcap.frames);

    // The same check flags what it must: a lossy run shows missing segments, a broken checksum is reported.
    const lossy = join(dir, "lossy.pcap");
    capturedRun(31, 0.05).pcap.writeFile(lossy);
    expect(expert(lossy)).toMatch(/previous segment.*not captured/i);
    const broken = join(dir, "broken.pcap");
    const bytes = pcap.bytes();
    const firstFrame = 24 + 16;
    bytes[firstFrame + 14 + 20 + 16] ^= 0xff; // the SYN's TCP checksum
    const w = new PcapWriter();
    w.add(0, bytes.subarray(firstFrame, firstFrame + new DataView(bytes.buffer).getUint32(24 + 8, true)));
    w.writeFile(broken);
    expect(expert(broken)).toMatch(/bad checksum|checksum.*incorrect/i);
  });
});
