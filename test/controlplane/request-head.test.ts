// The CP's request gathering: the receive buffer (in order, out of order, retransmissions, capacity) and the
// HTTP/1.x request head (scan for garbage / too large / complete, parse fields, Host, Cookie, hashes).
import { describe, expect, it } from "vitest";
import { ReceiveBuffer } from "../../controlplane/tcp/receive-buffer.js";
import { parseRequestHead, scanRequestHead } from "../../controlplane/http/request.js";
import { refusalResponse } from "../../controlplane/http/responses.js";
import { crc32 } from "../../abi/hash.js";

const bytes = (s: string) => new TextEncoder().encode(s);
const str = (b: Uint8Array) => new TextDecoder().decode(b);

describe("receive buffer", () => {
  it("assembles in order, holds out-of-order pieces, trims retransmissions, across the sequence wrap", () => {
    const base = 0xffff_fffa;
    const rb = new ReceiveBuffer(base, 100);
    expect(rb.accept((base + 10) >>> 0, bytes("KLMNO"))).toBe("out_of_order");
    expect(rb.accept(base, bytes("ABCDE"))).toBe("new");
    expect(rb.accept(base, bytes("ABC"))).toBe("duplicate");
    expect(rb.accept((base + 3) >>> 0, bytes("DEFGHIJ"))).toBe("new"); // overlaps, fills the gap
    expect(str(rb.bytes())).toBe("ABCDEFGHIJKLMNO");
    expect(rb.next).toBe((base + 15) >>> 0);
    expect(rb.window).toBe(85);
  });

  it("keeps nothing past its capacity", () => {
    const rb = new ReceiveBuffer(1, 8);
    expect(rb.accept(1, bytes("0123456789"))).toBe("new");
    expect(str(rb.bytes())).toBe("01234567");
    expect(rb.accept(9, bytes("x"))).toBe("outside_window");
    expect(rb.window).toBe(0);
  });
});

describe("request head", () => {
  const req = "GET /a/b?c=d HTTP/1.1\r\nHost:  WWW.Example.COM \r\nCookie: a=1\r\ncookie: b=2\r\nConnection: close\r\n\r\nbody";

  it("finds the head's end and parses method, URL, version, Host, Cookie, fields", () => {
    const scan = scanRequestHead(bytes(req), 4096);
    expect(scan).toEqual({ kind: "complete", headEnd: req.indexOf("\r\n\r\n") + 4 });
    const r = parseRequestHead(bytes(req).subarray(0, req.indexOf("\r\n\r\n") + 4));
    if ("error" in r) throw new Error(r.error);
    expect(r).toMatchObject({ method: "GET", url: "/a/b?c=d", version: "HTTP/1.1", host: "www.example.com", cookie: "a=1; b=2", keepAlive: false });
    expect(r.headers.map((h) => h.name)).toEqual(["host", "cookie", "cookie", "connection"]);
    expect(r.urlHash).toBe(crc32(bytes("/a/b?c=d")));
    expect(r.hostHash).toBe(crc32(bytes("www.example.com")));
    expect(r.headerBytes).toBe(req.indexOf("\r\n\r\n") + 4);
  });

  it("takes the data plane's hashes when given", () => {
    const r = parseRequestHead(bytes("GET / HTTP/1.0\r\n\r\n"), { urlHash: 7, hostHash: 9 });
    expect(r).toMatchObject({ urlHash: 7, hostHash: 0, keepAlive: false, version: "HTTP/1.0" });
  });

  it("tells an incomplete request from garbage as early as it can", () => {
    for (const partial of ["", "G", "GET", "GET ", "GET /x", "GET /x HTTP/1.", "GET /x HTTP/1.1\r", "GET /x HTTP/1.1\r\nHost: a\r\n"]) {
      expect(scanRequestHead(bytes(partial), 4096), JSON.stringify(partial)).toEqual({ kind: "incomplete" });
    }
    for (const junk of ["\x16\x03\x01", "get / HTTP/1.1\r\n", " GET /", "GET\t/", "GET /x HTTP/2.0\r\n", "GET /x HTTP/1.1\n", "SSH-2.0-OpenSSH"]) {
      expect(scanRequestHead(bytes(junk), 4096).kind, JSON.stringify(junk)).toBe("garbage");
    }
  });

  it("calls a head too large when maxHeaderBytes hold no CRLF CRLF", () => {
    const head = `GET / HTTP/1.1\r\nX: ${"a".repeat(100)}`;
    expect(scanRequestHead(bytes(head), 64)).toEqual({ kind: "too_large" });
    expect(scanRequestHead(bytes(`${head}\r\n\r\n`), 64)).toEqual({ kind: "too_large" });
    expect(scanRequestHead(bytes(`${head}\r\n\r\n`), 4096).kind).toBe("complete");
  });

  it("answers 400-worthy heads with an error", () => {
    for (const bad of [
      "GET / HTTP/1.1\r\n\r\n", // no Host
      "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
      "GET / HTTP/1.1\r\nHost: a\r\n folded\r\n\r\n",
      "GET / HTTP/1.1\r\nHost a\r\n\r\n",
      "GET / HTTP/1.1\r\nBad Name: a\r\nHost: a\r\n\r\n",
    ]) {
      expect("error" in parseRequestHead(bytes(bad)), JSON.stringify(bad)).toBe(true);
    }
  });

  it("builds refusals that close the connection", () => {
    const r = str(refusalResponse(431));
    expect(r).toMatch(/^HTTP\/1\.1 431 Request Header Fields Too Large\r\n/);
    expect(r).toContain("Connection: close\r\n");
    const [head, body] = r.split("\r\n\r\n");
    expect(Number(/Content-Length: (\d+)/.exec(head)![1])).toBe(body.length);
  });
});
