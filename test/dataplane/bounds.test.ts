// The data plane's length limits swept across their whole neighbourhood on the real images (the fixtures in
// sim/testing/fixtures/bounds.fixtures.ts hold limit - 1, limit and limit + 1 of each): Host values of 0..300
// bytes, methods of 1..20 letters, URLs up to the largest frame, data offsets against segment lengths,
// option lengths against the header, where CR LF CR LF ends, TTLs, window shifts; the limits the fixtures
// name still being the sources' values; and the host's own bounds (BUFFER_SIZE, window shifts).
// NPSWITCH_DATAPLANE_DIR runs the image part on another copy of the data-plane sources.
import { beforeAll, describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { loadDataplane } from "../../sim/np/load.js";
import type { Dataplane } from "../../sim/np/dataplane.js";
import { DATAPLANE_DIR as SOURCES } from "../../toolchain/build/compile.js";
import { crc32 } from "../../abi/hash.js";
import { CAPACITIES } from "../../abi/layout.js";
import { installSplice } from "../../abi/flow-table.js";
import { packet } from "../../packet/builder.js";
import { CLIENT, CLIENT_ETH, CLIENT_PORT, CLIENT_TO_VIP, DEFAULT_CONFIG, DESCF, compareFrames } from "../../sim/testing/fixtures/fixture.js";
import { HOST_MAX, MAX_METHOD, MAX_SHIFT, TCP_MAX_HLEN } from "../../sim/testing/fixtures/bounds.fixtures.js";
import { fromClient, splice, toServer } from "../../sim/testing/fixtures/splice-model.js";

const DATAPLANE_DIR = process.env.NPSWITCH_DATAPLANE_DIR || undefined;
const BUFFER_SIZE = CAPACITIES.BUFFER_SIZE.value;
const enc = (s: string) => new TextEncoder().encode(s);
const C = { sport: CLIENT.port, dport: 80 };
const client = () => packet().eth(CLIENT_ETH).ipv4(CLIENT_TO_VIP);
const request = (payload: string | Uint8Array) => client().tcp({ ...C, seq: 1001, ack: 5001, flags: "PA" }).payload(payload).build();

/** The value of `@inline const NAME: type = value;` in a data-plane source file. */
function constantIn(file: string, name: string): number {
  const src = readFileSync(join(SOURCES, file), "utf8");
  const m = new RegExp(`@inline (?:export )?const ${name}: \\w+ = (\\d+);`).exec(src);
  if (!m) throw new Error(`no constant ${name} in dataplane/${file}`);
  return Number(m[1]);
}

describe("the limits the bound fixtures name are the sources' own", () => {
  it.each([
    ["lib/http-request.ts", "HOST_MAX", HOST_MAX],
    ["lib/http-request.ts", "MAX_METHOD", MAX_METHOD],
    ["lib/tcp.ts", "TCP_MAX_HLEN", TCP_MAX_HLEN],
    ["splice/index.ts", "MAX_SHIFT", MAX_SHIFT],
  ])("dataplane/%s %s = %d", (file, name, value) => {
    expect(constantIn(file, name)).toBe(value);
  });

  it("HOST_BUF (where the Host value is copied) holds HOST_MAX bytes: the bound guards the copy", () => {
    const src = readFileSync(join(SOURCES, "lib/http-request.ts"), "utf8");
    expect(src).toMatch(/const HOST_BUF: usize = memory\.data\(<i32>HOST_MAX \+ 1\);/);
    expect(src).toMatch(/if \(len > HOST_MAX\) return false;/);
  });
});

describe("the images around every limit", () => {
  let dp: Dataplane;
  beforeAll(async () => {
    dp = await loadDataplane({ dataplaneDir: DATAPLANE_DIR });
  });
  /** Process `f`; the CP's buffers are handed back at once. */
  const run = (f: Uint8Array) => {
    const r = dp.process(CLIENT_PORT, f);
    if (r.verdict === "TO_CP") dp.freeBuffer(r.descAddr);
    return r;
  };
  const message = (f: Uint8Array) => {
    const r = run(f);
    expect(r.verdict).toBe("TO_CP");
    return r.messages[0];
  };

  it(`Host values of 1..300 bytes: hashed (lower-cased) up to HOST_MAX = ${HOST_MAX}, not reported above`, () => {
    dp.configure(DEFAULT_CONFIG);
    for (let n = 1; n <= 300; n++) {
      const v = Array.from({ length: n }, (_, i) => "QwErTy.0-9"[i % 10]).join("");
      const m = message(request(`GET /h HTTP/1.1\r\nHost: ${v}\r\n\r\n`));
      const hashed = n <= HOST_MAX;
      expect(m.hostHash, `Host value of ${n} bytes`).toBe(hashed ? crc32(enc(v.toLowerCase())) : 0);
      expect((m.flags & DESCF.HOST) !== 0, `Host flag, ${n} bytes`).toBe(hashed);
      expect(m.urlHash, `the URL is hashed either way (${n})`).toBe(crc32(enc("/h")));
    }
    expect(dp.counters().reasons.TRAP).toBe(0);
  });

  it("a Host value past HOST_MAX is not reported even where it would fill the largest frame, and the image's static data is left intact", () => {
    dp.configure(DEFAULT_CONFIG);
    const v = "h".repeat(BUFFER_SIZE - 54 - "GET / HTTP/1.1\r\nHost: \r\n\r\n".length);
    const f = request(`GET / HTTP/1.1\r\nHost: ${v}\r\n\r\n`);
    expect(f.length).toBe(BUFFER_SIZE);
    expect(message(f).hostHash).toBe(0);
    // What a copy past HOST_BUF would trample (the images' static data) still works: a normal request after it.
    const after = message(request("GET /after HTTP/1.1\r\nHost: ok.example\r\n\r\n"));
    expect([after.urlHash, after.hostHash]).toEqual([crc32(enc("/after")), crc32(enc("ok.example"))]);
    const syn = dp.process(CLIENT_PORT, client().tcp({ ...C, seq: 1, flags: "S" }).build());
    expect(syn.messages[0].flags).toBe(DESCF.SYN);
  });

  it(`methods of 1..20 letters: a request line up to MAX_METHOD = ${MAX_METHOD}`, () => {
    dp.configure(DEFAULT_CONFIG);
    for (let n = 1; n <= 20; n++) {
      const m = message(request(`${"GETPOSTPUTDELETEOPTIONS".slice(0, n)} /m HTTP/1.1\r\n\r\n`));
      expect((m.flags & DESCF.REQUEST_LINE) !== 0, `method of ${n} letters`).toBe(n <= MAX_METHOD);
      expect(m.urlHash).toBe(n <= MAX_METHOD ? crc32(enc("/m")) : 0);
    }
  });

  it("URLs of 1..2000 bytes (up to the largest frame) are hashed whole", () => {
    dp.configure(DEFAULT_CONFIG);
    const room = BUFFER_SIZE - 54 - "GET  HTTP/1.1\r\n".length;
    for (const n of [1, 2, 3, 254, 255, 256, 257, 1000, 1499, 1500, 1501, room - 1, room]) {
      const url = "/" + "p".repeat(n - 1);
      const f = request(`GET ${url} HTTP/1.1\r\n`);
      expect(f.length).toBeLessThanOrEqual(BUFFER_SIZE);
      const m = message(f);
      expect(m.urlHash, `URL of ${n} bytes`).toBe(crc32(enc(url)));
    }
  });

  it("a request line is complete only with its LF inside the payload, whatever follows the datagram", () => {
    dp.configure(DEFAULT_CONFIG);
    const line = "GET /x HTTP/1.1\r\n";
    for (let cut = 0; cut <= line.length; cut++) {
      for (const pad of [[], [0x0a], [0x0d, 0x0a]]) {
        const m = message(Uint8Array.from([...request(line.slice(0, cut) || "G"), ...pad]));
        expect((m.flags & DESCF.REQUEST_LINE) !== 0, `${cut} bytes of the line, padding ${pad.length}`).toBe(cut === line.length);
      }
    }
  });

  it("CR LF CR LF ends the header block only inside the payload: every cut of the final CR LF CR LF, with padding that would complete it", () => {
    dp.configure(DEFAULT_CONFIG);
    const head = "GET / HTTP/1.1\r\nHost: a\r\n\r\n";
    for (let cut = 0; cut <= 3; cut++) {
      const payload = head.slice(0, head.length - cut);
      const pad = [0x0d, 0x0a, 0x0d, 0x0a].slice(4 - cut);
      const m = message(Uint8Array.from([...request(payload), ...pad]));
      expect((m.flags & DESCF.HEADERS_END) !== 0, `final CR LF CR LF cut by ${cut}`).toBe(cut === 0);
    }
  });

  it(`data offsets 5..15 against segments of 20..64 bytes: accepted when the header fits (up to TCP_MAX_HLEN = ${TCP_MAX_HLEN})`, () => {
    dp.configure(DEFAULT_CONFIG);
    for (let seg = 20; seg <= 64; seg++) {
      for (let doff = 5; doff <= 15; doff++) {
        // Whole words of NOP options as far as the segment goes, then NOP bytes as payload (the builder pads options to words).
        const opts = new Uint8Array(((Math.min(4 * doff, seg) - 20) >> 2) << 2).fill(1);
        const rest = seg - 20 - opts.length;
        const f = client().tcp({ ...C, seq: 1, ack: 1, flags: "A", dataOffset: doff, options: [{ kind: "raw", bytes: opts }] }).payload(new Uint8Array(rest).fill(1)).build();
        expect(f.length).toBe(34 + seg);
        const r = run(f);
        const fits = 4 * doff <= seg;
        expect([r.verdict, r.reason], `data offset ${doff}, segment ${seg}`).toEqual(fits ? ["TO_CP", undefined] : ["DROP", "TCP_BAD_DOFF"]);
        if (fits) expect((r.messages[0].flags & DESCF.HAS_PAYLOAD) !== 0, `payload flag, offset ${doff}, segment ${seg}`).toBe(seg > 4 * doff);
      }
    }
  });

  it("option lengths 0..44 at every offset of a 40-byte option area: accepted when 2 <= length and the option ends inside the header", () => {
    dp.configure(DEFAULT_CONFIG);
    for (let at = 0; at < 40; at++) {
      for (let len = 0; len <= 44; len++) {
        const opts = new Uint8Array(40).fill(1); // NOPs before and after
        opts[at] = 0xfd; // an unknown kind
        if (at + 1 < 40) opts[at + 1] = len;
        const f = client().tcp({ ...C, seq: 1, flags: "S", options: [{ kind: "raw", bytes: opts }] }).payload(Uint8Array.of(len, 1, 1, 1)).build();
        const r = run(f);
        // After an option of length L the walk continues at at + L: the NOPs there are fine.
        const ok = at + 1 < 40 && len >= 2 && at + len <= 40;
        expect([r.verdict, r.reason], `option at ${at} of length ${len}`).toEqual(ok ? ["TO_CP", undefined] : ["DROP", "TCP_BAD_OPTION"]);
      }
    }
  });

  it("TTL 0, 1 dropped on a spliced flow; 2, 3, 254, 255 forwarded one lower", () => {
    dp.configure(DEFAULT_CONFIG);
    dp.memoryBytes().fill(0, 0x20_0000, 0x20_0000 + CAPACITIES.MAX_FLOWS.value * 64);
    const sp = splice();
    installSplice(dp.memoryBytes(), sp);
    for (const ttl of [0, 1, 2, 3, 254, 255]) {
      const seg = { flags: "A", seq: 2000, ack: 6000, ttl };
      const r = dp.process(CLIENT_PORT, fromClient(seg));
      if (ttl < 2) expect([r.verdict, r.reason], `TTL ${ttl}`).toEqual(["DROP", "IP_TTL_EXPIRED"]);
      else expect(compareFrames(toServer(seg, sp), r.frame), `TTL ${ttl}`).toBeUndefined();
    }
  });

  it(`window shifts -${MAX_SHIFT}..${MAX_SHIFT} on windows at the edges: scaled, clamped at 65535, never wrapped`, () => {
    dp.configure(DEFAULT_CONFIG);
    for (let shift = -MAX_SHIFT; shift <= MAX_SHIFT; shift++) {
      dp.memoryBytes().fill(0, 0x20_0000, 0x20_0000 + CAPACITIES.MAX_FLOWS.value * 64);
      const sp = splice({ fwd: { winShift: shift } });
      installSplice(dp.memoryBytes(), sp);
      for (const win of [0, 1, 2, 255, 256, 32767, 32768, 65534, 65535]) {
        const seg = { flags: "A", seq: 2000, ack: 6000, win };
        const r = dp.process(CLIENT_PORT, fromClient(seg));
        expect(compareFrames(toServer(seg, sp), r.frame), `window ${win}, shift ${shift}`).toBeUndefined();
      }
    }
  });
});

describe("the host's bounds around the data plane", () => {
  it(`a frame of BUFFER_SIZE (${BUFFER_SIZE}) bytes is processed; one byte more is refused before any image runs`, async () => {
    const dp = await loadDataplane({ dataplaneDir: DATAPLANE_DIR });
    dp.configure(DEFAULT_CONFIG);
    const pad = (n: number) => Uint8Array.from({ length: n }, (_, i) => (i < 60 ? client().tcp({ ...C, seq: 1, flags: "S" }).build()[i] ?? 0 : 0));
    const r = dp.process(CLIENT_PORT, pad(BUFFER_SIZE));
    expect(r.verdict).toBe("TO_CP");
    expect(r.messages[0].len).toBe(BUFFER_SIZE);
    expect(() => dp.process(CLIENT_PORT, pad(BUFFER_SIZE + 1))).toThrow(RangeError);
    expect(dp.counters().events.RX).toBe(1);
  });

  it(`window shifts past ±${MAX_SHIFT} are refused when a splice is installed`, async () => {
    const mem = new Uint8Array(128 * 65536);
    for (const winShift of [-(MAX_SHIFT + 1), MAX_SHIFT + 1]) expect(() => installSplice(mem, splice({ fwd: { winShift } }))).toThrow(/winShift/);
    for (const winShift of [-MAX_SHIFT, MAX_SHIFT]) expect(() => installSplice(mem.fill(0), splice({ fwd: { winShift } }))).not.toThrow();
  });
});
