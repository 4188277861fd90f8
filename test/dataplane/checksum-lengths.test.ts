// Every checksum the data plane computes or verifies, at every length from 0 up and at the largest frame,
// odd and even: the images' own Internet checksum code (dataplane/lib/checksum.ts, through the checksum
// probe) against published answers and the host's implementation, never reading the byte after odd data;
// then the images themselves: the TCP check (check_tcp_checksum on), the ICMP echo check and reply, the
// IPv4 header check, and the splice's incremental updates. Changing only the last byte must always be caught.
// NPSWITCH_DATAPLANE_DIR runs the image part on another copy of the data-plane sources.
import { beforeAll, describe, expect, it } from "vitest";
import { join } from "node:path";
import { compileImage, PROJECT_ROOT } from "../../toolchain/build/compile.js";
import { INTRINSICS } from "../../abi/abi.js";
import { CAPACITIES } from "../../abi/layout.js";
import { installSplice } from "../../abi/flow-table.js";
import { createNpMemory } from "../../sim/np/imports.js";
import { loadDataplane } from "../../sim/np/load.js";
import type { Dataplane } from "../../sim/np/dataplane.js";
import { foldComplement, internetChecksum, onesSum } from "../../packet/checksum.js";
import { fromHex } from "../../packet/hex.js";
import { packet } from "../../packet/builder.js";
import { Random } from "../../lib/random.js";
import { CLIENT, CLIENT_ETH, CLIENT_PORT, CLIENT_TO_VIP, DEFAULT_CONFIG, PORT_MACS, SERVER_PORT, VIP, compareFrames } from "../../sim/testing/fixtures/fixture.js";
import { SPLICE, fromClient, fromServer, toClient, toServer, type Segment } from "../../sim/testing/fixtures/splice-model.js";

const DATAPLANE_DIR = process.env.NPSWITCH_DATAPLANE_DIR || undefined;
const PROBES = join(PROJECT_ROOT, "test/dataplane/probes");
const BUFFER_SIZE = CAPACITIES.BUFFER_SIZE.value;
/** Payload bytes of the largest TCP frame (Ethernet, IPv4 and TCP headers of 54 bytes, no options). */
const MAX_PAYLOAD = BUFFER_SIZE - 54;
/** Lengths tried everywhere: 0..64, around 1500, and the largest that fit a buffer. */
const LENGTHS = [...Array.from({ length: 65 }, (_, i) => i), 1499, 1500, 1501, MAX_PAYLOAD - 1, MAX_PAYLOAD];
const enc = (s: string) => new TextEncoder().encode(s);
const payloadOf = (n: number) => Uint8Array.from({ length: n }, (_, i) => 0x21 + ((i * 13 + 7) % 90)); // never zero

describe("the images' Internet checksum code (dataplane/lib/checksum.ts) through the checksum probe", () => {
  let add: (ptr: number, len: number, sum: number) => number;
  let fold: (sum: number) => number;
  let mem: Uint8Array;
  const AT = 0x40_0000;

  beforeAll(async () => {
    const wasm = await compileImage("checksum", { slot: 0, dataplaneDir: PROBES });
    const memory = createNpMemory();
    const np: Record<string, unknown> = { memory };
    for (const i of INTRINSICS) np[i.name] = () => { throw new Error(`checksum probe called np.${i.name}`); };
    const instance = await WebAssembly.instantiate(await WebAssembly.compile(wasm as BufferSource), { np } as WebAssembly.Imports);
    const e = instance.exports as Record<string, (...a: number[]) => number>;
    add = (p, l, s) => e.add(p, l, s) >>> 0;
    fold = (s) => e.fold(s) >>> 0;
    mem = new Uint8Array(memory.buffer);
  });

  /** The probe's checksum of `bytes` placed at AT + `shift`, with 0xff bytes around them (never to be summed). */
  const wasmChecksum = (bytes: Uint8Array, shift = 0) => {
    mem.fill(0xff, AT, AT + bytes.length + 16);
    mem.set(bytes, AT + shift);
    return fold(add(AT + shift, bytes.length, 0));
  };

  it("gives RFC 1071's example (0x220d), Wikipedia's IPv4 header (0xb861) and a Windows ping's ICMP checksum (0x4d5a)", () => {
    expect(wasmChecksum(fromHex("0001f203f4f5f6f7"))).toBe(0x220d);
    expect(wasmChecksum(fromHex("450000730000400040110000c0a80001c0a800c7"))).toBe(0xb861);
    expect(wasmChecksum(Uint8Array.from([8, 0, 0, 0, 0, 1, 0, 1, ...enc("abcdefghijklmnopqrstuvwabcdefghi")]))).toBe(0x4d5a);
    expect(wasmChecksum(Uint8Array.of(0xab))).toBe(0x54ff);
  });

  it("equals the host's checksum at every length 0..130 and the largest payloads, at even and odd addresses, never reading the next byte", () => {
    const rnd = new Random(0x0dd_1e47);
    for (const n of [...Array.from({ length: 131 }, (_, i) => i), 1499, 1500, 1501, MAX_PAYLOAD - 1, MAX_PAYLOAD]) {
      const bytes = rnd.bytes(n);
      if (n > 0 && bytes[n - 1] === 0) bytes[n - 1] = 0x80;
      const want = internetChecksum(bytes);
      for (const shift of [0, 1]) expect(wasmChecksum(bytes, shift), `${n} bytes at offset ${shift}`).toBe(want);
      if (n > 0) {
        const changed = bytes.slice();
        changed[n - 1] ^= 0x01;
        expect(wasmChecksum(changed), `${n} bytes, last byte changed`).not.toBe(want);
      }
    }
  });

  it("continues a partial sum across calls of odd and even lengths, as the TCP check does with its pseudo-header", () => {
    const rnd = new Random(0x5e9_0001);
    for (let round = 0; round < 200; round++) {
      const a = rnd.bytes(rnd.int(0, 40) * 2); // the first part is even, as the pseudo-header (12 bytes) is
      const b = rnd.bytes(rnd.int(0, 41));
      mem.set(a, AT);
      mem.set(b, AT + 0x1000);
      mem[AT + 0x1000 + b.length] = 0xff;
      expect(fold(add(AT + 0x1000, b.length, add(AT, a.length, 0)))).toBe(foldComplement(onesSum(b, onesSum(a))));
    }
  });
});

describe("the images' checksums on packets of every length", () => {
  let dp: Dataplane;
  beforeAll(async () => {
    dp = await loadDataplane({ dataplaneDir: DATAPLANE_DIR });
  });
  const lastChanged = (f: Uint8Array, end = f.length) => { const g = f.slice(); g[end - 1] ^= 0x5a; return g; };
  /** One frame through the images; a TO_CP packet's buffer is handed back at once (the CP's part). */
  const send = (port: number, frame: Uint8Array) => {
    const r = dp.process(port, frame);
    if (r.verdict === "TO_CP") dp.freeBuffer(r.descAddr);
    return r;
  };

  it("TCP check on: every payload length is accepted when valid, refused when only its last byte changed, and Ethernet padding is never summed", () => {
    dp.configure({ ...DEFAULT_CONFIG, checkTcpChecksum: true });
    for (const n of LENGTHS) {
      const f = packet().eth(CLIENT_ETH).ipv4(CLIENT_TO_VIP).tcp({ sport: CLIENT.port, dport: 80, seq: 1001, ack: 1, flags: n ? "PA" : "A" }).payload(payloadOf(n)).build();
      const ok = send(CLIENT_PORT, f);
      expect([ok.verdict, ok.reason], `${n} bytes, valid`).toEqual(["TO_CP", undefined]);
      if (n > 0) {
        const bad = send(CLIENT_PORT, lastChanged(f));
        expect([bad.verdict, bad.reason], `${n} bytes, last byte changed`).toEqual(["DROP", "TCP_BAD_CHECKSUM"]);
      }
      if (f.length < BUFFER_SIZE) {
        const padded = send(CLIENT_PORT, Uint8Array.from([...f, 0xff]));
        expect([padded.verdict, padded.reason], `${n} bytes and a 0xff padding byte`).toEqual(["TO_CP", undefined]);
      }
    }
    for (const r of [dp.counters().reasons]) expect(r.TRAP).toBe(0);
  });

  it("TCP check on: a checksum field of 0x0000 and its one's complement twin 0xffff are both accepted for a segment whose sum is zero", () => {
    dp.configure({ ...DEFAULT_CONFIG, checkTcpChecksum: true });
    // Find a 2-byte payload making the checksum 0x0000; then 0xffff (negative zero) must verify as well.
    const base = (p: Uint8Array) => packet().eth(CLIENT_ETH).ipv4(CLIENT_TO_VIP).tcp({ sport: CLIENT.port, dport: 80, seq: 7, ack: 1, flags: "PA" }).payload(p).build();
    const probe = base(Uint8Array.of(0, 0));
    const c = (probe[50] << 8) | probe[51];
    const fix = Uint8Array.of(c >> 8, c & 0xff); // adding the old checksum's value to the payload makes the new one 0
    const f = base(fix);
    expect((f[50] << 8) | f[51]).toBe(0);
    expect(send(CLIENT_PORT, f).verdict).toBe("TO_CP");
    const twin = f.slice();
    twin[50] = 0xff;
    twin[51] = 0xff;
    expect(send(CLIENT_PORT, twin).verdict).toBe("TO_CP");
  });

  it("ICMP echo: every data length answered exactly when valid, refused when only its last byte changed, padding left alone", () => {
    dp.configure(DEFAULT_CONFIG);
    for (const n of LENGTHS.filter((x) => x + 42 <= BUFFER_SIZE)) {
      const data = payloadOf(n);
      const req = packet().eth(CLIENT_ETH).ipv4({ ...CLIENT_TO_VIP, id: n }).icmp({ type: 8, id: 0x77, seq: n, data }).build();
      const reply = packet().eth({ src: PORT_MACS[CLIENT_PORT], dst: CLIENT.mac }).ipv4({ src: VIP, dst: CLIENT.ip, ttl: 64, id: n }).icmp({ type: 0, id: 0x77, seq: n, data }).build();
      const r = send(CLIENT_PORT, req);
      expect(r.verdict, `${n} bytes of data`).toBe("FORWARD");
      expect(compareFrames(reply, r.frame), `${n} bytes of data: the reply`).toBeUndefined();
      const bad = send(CLIENT_PORT, lastChanged(req));
      expect([bad.verdict, bad.reason], `${n} bytes of data, last byte changed`).toEqual(["DROP", "ICMP_BAD_CHECKSUM"]); // with no data, the last byte is the sequence number's
      if (req.length + 2 <= BUFFER_SIZE) {
        const padded = send(CLIENT_PORT, Uint8Array.from([...req, 0xff, 0x01]));
        expect(compareFrames(Uint8Array.from([...reply, 0xff, 0x01]), padded.frame), `${n} bytes of data and padding`).toBeUndefined();
      }
    }
  });

  it("IPv4 header: changing any one byte the earlier checks let through (odd and even offsets, the last one too) is refused", () => {
    dp.configure(DEFAULT_CONFIG);
    const f = packet().eth(CLIENT_ETH).ipv4({ ...CLIENT_TO_VIP, id: 0x1234, ttl: 33 }).tcp({ sport: CLIENT.port, dport: 80, seq: 1, flags: "S" }).build();
    expect(send(CLIENT_PORT, f).verdict).toBe("TO_CP");
    // Not 0 (version, IHL), 2-3 (total length) or 7 (fragment offset): other checks come first there. Byte 6: DF.
    for (const at of [1, 4, 5, 6, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19]) {
      const g = f.slice();
      g[14 + at] ^= at === 6 ? 0x40 : 0x01;
      const r = send(CLIENT_PORT, g);
      expect([r.verdict, r.reason], `header byte ${at} changed`).toEqual(["DROP", "IP_BAD_CHECKSUM"]);
    }
  });

  it("splice: the incremental updates are exact for every payload length, both directions, with and without the TCP check", () => {
    for (const check of [false, true]) {
      dp.configure({ ...DEFAULT_CONFIG, checkTcpChecksum: check });
      dp.memoryBytes().fill(0, 0x20_0000, 0x20_0000 + CAPACITIES.MAX_FLOWS.value * 64);
      installSplice(dp.memoryBytes(), SPLICE);
      for (const n of LENGTHS.filter((x) => x <= MAX_PAYLOAD - 12)) {
        const payload = new TextDecoder().decode(payloadOf(n));
        const opts = n % 3 === 0 ? [{ kind: "nop" as const }, { kind: "ts" as const, val: n * 1000, ecr: 0xffff_ff00 + n }, { kind: "nop" as const }]
          : [{ kind: "nop" as const }, { kind: "nop" as const }, { kind: "ts" as const, val: n, ecr: n * 3 }];
        const c: Segment = { flags: n ? "PA" : "A", seq: 1000 + n, ack: 5001, payload: payload || undefined, options: opts, id: n };
        const r = send(CLIENT_PORT, fromClient(c));
        expect(compareFrames(toServer(c), r.frame), `client -> server, ${n} bytes, check ${check}`).toBeUndefined();
        const s: Segment = { ...c, seq: 9_123_458 + n, ack: 7_000_001 };
        const q = send(SERVER_PORT, fromServer(s));
        expect(compareFrames(toClient(s), q.frame), `server -> client, ${n} bytes, check ${check}`).toBeUndefined();
        if (n > 0) {
          const bad = send(CLIENT_PORT, lastChanged(fromClient(c)));
          if (check) expect([bad.verdict, bad.reason], `${n} bytes, last byte changed, check on`).toEqual(["DROP", "TCP_BAD_CHECKSUM"]);
          else expect(compareFrames(lastChanged(toServer(c)), bad.frame), `${n} bytes, last byte changed, check off: still wrong by as much`).toBeUndefined();
        }
      }
    }
  });
});
