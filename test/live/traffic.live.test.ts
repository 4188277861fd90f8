// `npswitch device` on a live network (test/live/README.md): curl and wrk through the VIP to real nginx
// servers — GETs small and large with content hashes, POST bodies, content rules, 200 concurrent
// connections, a backend killed mid-run — and a client-side capture tshark finds clean.
import { randomBytes } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DeviceClient } from "../../device/client/client.js";
import { buildImage, killBackend, restartBackend, startDevice, testnetUp, type RunningDevice, type Testnet } from "./net.js";
import {
  curl, describeLive, failedTransfers, indexBodyMatches, readCapture, sha256, startCapture, useHome, tearDownLive, wrk, WIRE_PROBLEMS_FILTER,
  type Capture, type Transfer,
} from "./checks.js";

const PREFIX = "nplivet";
const UDP_BASE = 23000;
const FAIL_TIMEOUT_MS = 2000;
const TEST_TIMEOUT_MS = 120_000;
const MiB = 1 << 20;

describeLive("npswitch device on a live network: traffic through the VIP", ["wrk", "tshark"], () => {
  let dir = "";
  let restoreHome = () => {};
  let net: Testnet | undefined;
  let dev: RunningDevice | undefined;
  let client: DeviceClient;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "npswitch-live-traffic-"));
    restoreHome = useHome(join(dir, "home"));
    const image = await buildImage(join(dir, "fw.npfw"));
    net = await testnetUp({ prefix: PREFIX, udpBase: UDP_BASE });
    dev = await startDevice({ net, image, extra: { cp: { fail_timeout_ms: FAIL_TIMEOUT_MS } } });
    client = new DeviceClient(dev.managementUrl, dev.token);
  }, 300_000);

  afterAll(() => tearDownLive({ dev, net, restoreHome, dir }), 60_000);

  it("serves Prometheus metrics to the token holder only", async () => {
    const anonymous = await fetch(`${dev!.managementUrl}/metrics`);
    expect(anonymous.status).toBe(401);
    const text = await client.metrics();
    expect(text).toMatch(/^npswitch_np_rx_packets_total \d+$/m);
    expect(text).toContain('npswitch_server_up{server="web1"} 1');
  });

  describe("GETs and POSTs, captured on the client's wire", () => {
    let capture: Capture | undefined;
    const pcap = () => join(dir, "client.pcap");

    beforeAll(async () => {
      capture = await startCapture(net!, pcap());
    });
    afterAll(async () => {
      await capture?.stop();
    });

    it("GET /index.html answers 200 with the body of the server that answered", async () => {
      const ts = await curl(net!, [{ path: "/index.html" }]);
      expect(failedTransfers(ts)).toEqual([]);
      expect(indexBodyMatches(ts[0]), `body '${ts[0].body}' from '${ts[0].backend}'`).toBe(true);
    }, TEST_TIMEOUT_MS);

    it("GET /static/big.bin brings the 10 MiB intact", async () => {
      const [t] = await curl(net!, [{ path: "/static/big.bin" }]);
      expect(failedTransfers([t])).toEqual([]);
      expect(t.body.length).toBe(10 * MiB);
      expect(sha256(t.body)).toBe(net!.bigBinSha256);
    }, TEST_TIMEOUT_MS);

    it("keeps the connection alive across requests: big.bin, then /index.html, on one connection", async () => {
      const [big, small] = await curl(net!, [{ path: "/static/big.bin" }, { path: "/index.html" }]);
      expect(failedTransfers([big, small])).toEqual([]);
      expect([big.connects, small.connects]).toEqual([1, 0]);
      expect(sha256(big.body)).toBe(net!.bigBinSha256);
      // The connection is spliced to one server: both answers come from it.
      expect(small.backend).toBe(big.backend);
      expect(indexBodyMatches(small)).toBe(true);
    }, TEST_TIMEOUT_MS);

    it("POST bodies of 1 KiB and 3 MiB reach the server intact", async () => {
      const bodies = [1024, 3 * MiB].map((n, i) => {
        const bytes = randomBytes(n);
        const file = join(dir, `post-${i}.bin`);
        writeFileSync(file, bytes);
        return { file, length: n, sha256: sha256(bytes) };
      });
      const ts = await curl(net!, bodies.map((b) => ({ path: "/api/echo", postFile: b.file })));
      expect(failedTransfers(ts)).toEqual([]);
      ts.forEach((t, i) => {
        const echo = JSON.parse(t.body.toString("utf8")) as { backend: string; method: string; length: number; sha256: string };
        expect(echo).toMatchObject({ backend: t.backend, method: "POST", length: bodies[i].length, sha256: bodies[i].sha256 });
      });
    }, TEST_TIMEOUT_MS);

    it("the capture shows no bad checksum, no 'ACKed unseen segment', no 'previous segment not captured'", async () => {
      const { dropped } = await capture!.stop();
      capture = undefined;
      const r = await readCapture(pcap());
      console.log(
        `client capture: ${r.frames} frames, ${r.http200} HTTP 200 responses, ${r.problems.length} matching '${WIRE_PROBLEMS_FILTER}'` +
          ` (also ${r.outOfOrder} out-of-order segments, ${r.retransmissions} retransmissions; tshark dropped ${dropped ?? 0})`,
      );
      // Not empty: the GETs, the 10 MiB twice and the POSTs crossed this wire.
      expect(r.frames).toBeGreaterThan(2 * (10 * MiB) / 1448);
      expect(r.http200).toBeGreaterThan(0);
      expect(dropped ?? 0, "tshark dropped packets: the capture cannot judge the wire").toBe(0);
      expect(r.problems.slice(0, 10), `${r.problems.length} frames with wire problems (first 10 shown)`).toEqual([]);
    }, TEST_TIMEOUT_MS);
  });

  it("content rules send /static/ to web1 and /api/ to web2 and web3 (policy switched through the API)", async () => {
    const rules = { rules: [{ path: "/static/", group: "static" }, { path: "/api/", group: "api" }], groupTag: "group", defaultGroup: "static" };
    const before = await client.policy();
    await expect(client.setPolicy("service-partitioning", { ...rules, rules: [{ path: "/x/", group: "nosuch" }] })).rejects.toThrow(/400.*rules\[0\]\.group/);
    expect(await client.setPolicy("service-partitioning", rules)).toEqual({ name: "service-partitioning" });
    try {
      expect(await client.policy()).toEqual({ name: "service-partitioning" });
      // In parallel, each on its own connection: least connections within a group spreads them.
      const statics = await curl(net!, Array.from({ length: 20 }, () => ({ path: "/static/app.js" })), { parallel: 20 });
      const apis = await curl(net!, Array.from({ length: 20 }, () => ({ path: "/api/info" })), { parallel: 20 });
      // No rule matches: defaultGroup.
      const others = await curl(net!, Array.from({ length: 5 }, () => ({ path: "/index.html" })), { parallel: 5 });
      expect(failedTransfers([...statics, ...apis, ...others])).toEqual([]);
      expect(new Set(others.map((t) => t.backend))).toEqual(new Set(["web1"]));
      expect(new Set(statics.map((t) => t.backend))).toEqual(new Set(["web1"]));
      expect(statics.every((t) => t.body.toString("utf8").includes("hello from /static/app.js"))).toBe(true);
      expect(new Set(apis.map((t) => t.backend))).toEqual(new Set(["web2", "web3"]));
      expect(apis.every((t) => JSON.parse(t.body.toString("utf8")).server === t.backend)).toBe(true);
      console.log(`content rules: /static/app.js ${tally(statics)}; /api/info ${tally(apis)}; /index.html ${tally(others)}`);
    } finally {
      await client.setPolicy(before.name);
    }
    expect(await client.policy()).toEqual(before);
  }, TEST_TIMEOUT_MS);

  it("answers 200 concurrent connections, every one right", async () => {
    const ts = await curl(net!, Array.from({ length: 200 }, (_, i) => ({ path: `/index.html?n=${i}` })), { parallel: 200 });
    expect(failedTransfers(ts)).toEqual([]);
    expect(ts.filter((t) => !indexBodyMatches(t)).map((t) => `${t.backend}: '${t.body}'`)).toEqual([]);
    expect(ts.reduce((n, t) => n + t.connects, 0)).toBe(200);
    const w = await wrk(net!, "/index.html", { connections: 200, seconds: 4, threads: 2 });
    console.log(`200 concurrent: curl 200/200 right (${tally(ts)}); wrk -c200 4 s: ${JSON.stringify(w)}`);
    expect(w.requests).toBeGreaterThan(200);
    expect(w).toMatchObject({ connectErrors: 0, readErrors: 0, writeErrors: 0, timeouts: 0, badStatus: 0 });
  }, TEST_TIMEOUT_MS);

  it("fails over when web3 is killed mid-run, marks it down, and uses it again once it is back", async () => {
    const WORKERS = 4;
    const BEFORE_KILL = 100; // requests completed before web3 is killed
    const AFTER_KILL = 200; // requests started after the kill completed
    const MAX_REQUESTS = 1000;
    const runs: { start: number; end: number; t: Transfer }[] = [];
    let started = 0;
    let startedAfterKill = 0;
    let kill: { start: number; end: number } | undefined;
    let killing: Promise<void> | undefined;
    const worker = async () => {
      while (started < MAX_REQUESTS && startedAfterKill < AFTER_KILL) {
        started++;
        if (kill) startedAfterKill++;
        const start = performance.now();
        const [t] = await curl(net!, [{ path: "/index.html" }], { timeoutMs: 15_000 });
        runs.push({ start, end: performance.now(), t });
        if (runs.length === BEFORE_KILL && !killing) {
          killing = (async () => {
            const s = performance.now();
            await killBackend(net!.prefix, 3);
            kill = { start: s, end: performance.now() };
          })();
        }
      }
    };
    await Promise.all(Array.from({ length: WORKERS }, worker));
    await killing;
    expect(kill, "web3 was killed during the run").toBeDefined();
    const ok = (r: (typeof runs)[number]) => r.t.exit === 0 && r.t.status === 200 && indexBodyMatches(r.t);
    const before = runs.filter((r) => r.end < kill!.start);
    const across = runs.filter((r) => r.end >= kill!.start && r.start <= kill!.end);
    const after = runs.filter((r) => r.start > kill!.end);
    const failed = runs.filter((r) => !ok(r));
    // In flight to web3 at the kill: those across it not answered whole by web1 or web2.
    const toWeb3 = across.filter((r) => !(ok(r) && r.t.backend !== "web3"));
    console.log(
      `backend kill: ${runs.length} requests, ${WORKERS} in parallel, each a new connection; ${before.length} before the kill (${tally(before.map((r) => r.t))}),` +
        ` ${across.length} across the ${Math.round(kill!.end - kill!.start)} ms the kill took (${tally(across.map((r) => r.t))}; ${toWeb3.length} of them to web3), ${after.length} after it (${tally(after.map((r) => r.t))}); ${failed.length} failed` +
        (failed.length ? `: ${failedTransfers(failed.map((r) => r.t)).join("; ")}` : ""),
    );
    expect(failedTransfers(before.map((r) => r.t))).toEqual([]);
    expect(failedTransfers(after.map((r) => r.t))).toEqual([]);
    expect(after.filter((r) => !ok(r)).map((r) => `${r.t.backend}: '${r.t.body}'`)).toEqual([]);
    expect(failed.length).toBeLessThanOrEqual(toWeb3.length);
    expect(after.length).toBe(AFTER_KILL);

    // The pool says why web3 is down. Its hold ends every FAIL_TIMEOUT_MS and the next request tries it
    // again, so a few requests (web3's turn is among any three) come first; a bounded few rounds of them.
    type PoolEntry = { state?: string; downReason?: string; downCount?: number };
    let web3: PoolEntry | undefined;
    for (let round = 0; round < 5 && web3?.state !== "down"; round++) {
      const more = await curl(net!, Array.from({ length: 3 }, () => ({ path: "/index.html", headers: ["Connection: close"] })));
      expect(failedTransfers(more)).toEqual([]);
      web3 = (await client.pool()).find((s) => s.name === "web3") as PoolEntry | undefined;
    }
    expect(web3).toMatchObject({ state: "down", downReason: "connect_failed" });
    expect(web3!.downCount).toBeGreaterThanOrEqual(1);
    expect(await client.metrics()).toContain('npswitch_server_up{server="web3"} 0');

    // Back: after the fail timeout the device tries it again and it answers.
    await restartBackend(net!.prefix, 3);
    const backAt = performance.now();
    const seen: Transfer[] = [];
    for (let i = 0; i < 60 && !seen.some((t) => t.backend === "web3"); i++) {
      const [t] = await curl(net!, [{ path: "/index.html" }], { timeoutMs: 15_000 });
      seen.push(t);
      if (t.backend !== "web3") await new Promise((r) => setTimeout(r, 200));
    }
    console.log(`web3 restarted: answered again after ${Math.round(performance.now() - backAt)} ms and ${seen.length} requests (${tally(seen)})`);
    expect(failedTransfers(seen)).toEqual([]);
    expect(seen.some((t) => t.backend === "web3")).toBe(true);
    const back = (await client.pool()).find((s) => s.name === "web3") as { state?: string } | undefined;
    expect(["up", "slow_start"]).toContain(back?.state);
  }, TEST_TIMEOUT_MS);
});

/** "web1 7, web2 6, web3 7" */
function tally(ts: Transfer[]): string {
  const n = new Map<string, number>();
  for (const t of ts) n.set(t.backend || `(exit ${t.exit})`, (n.get(t.backend || `(exit ${t.exit})`) ?? 0) + 1);
  return [...n].sort().map(([k, v]) => `${k} ${v}`).join(", ") || "none";
}
