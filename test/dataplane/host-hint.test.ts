// The data plane's HOST_HASH as the control plane uses it (a hint that saves the CP a CRC): classify looks
// for "Host:" at the start of every line of a segment, the segment's first bytes included, because a
// continuation segment may start with a field line. It cannot know whether it does: a segment that starts
// in the middle of a field line ("X-Forwarded-" | "Host: ...") is reported as holding a Host field. The CP
// therefore takes the Host hint only from a segment that starts a line (controlplane/cp.ts
// takeClientSegment); without that check the hint and the parsed Host field disagree, and a policy that
// hashes hostHash dispatches on a value the request's Host field does not have (the second test).
import { describe, expect, it } from "vitest";
import { crc32 } from "../../abi/hash.js";
import { parseRequestHead, type HttpRequest } from "../../controlplane/http/request.js";
import type { Policy } from "../../controlplane/policies/policy.js";
import { loadDataplane } from "../../sim/np/load.js";
import { CLIENT_PORT, DEFAULT_CONFIG, DESCF } from "../../sim/testing/fixtures/fixture.js";
import { packet } from "../../packet/builder.js";
import { CLIENT as FX_CLIENT, CLIENT_ETH, CLIENT_TO_VIP } from "../../sim/testing/fixtures/fixture.js";
import { bench, fromClient, tsOf } from "../controlplane/switch-wire.js";

const enc = (s: string) => new TextEncoder().encode(s);
const CLIENT_ISN = 1000;
const FIRST = "GET / HTTP/1.1\r\nHost: good.example\r\nX-Forwarded-";
const SECOND = "Host: evil.example\r\n\r\n";

/** A policy that records what it was asked to dispatch and picks the first candidate. */
function recorder(seen: HttpRequest[]): Policy {
  return { name: "recorder", select: (req, candidates) => (seen.push(req), candidates[0] ?? null) };
}

describe("the Host hint across segments", () => {
  it("classify reports a Host field at the start of a continuation segment (it cannot tell a line start from the middle of a line)", async () => {
    const dp = await loadDataplane();
    dp.configure(DEFAULT_CONFIG);
    const r = dp.process(CLIENT_PORT, packet().eth(CLIENT_ETH).ipv4(CLIENT_TO_VIP)
      .tcp({ sport: FX_CLIENT.port, dport: 80, seq: 1001 + FIRST.length, ack: 5001, flags: "PA" }).payload(SECOND).build());
    expect(r.messages[0].flags & DESCF.HOST).toBe(DESCF.HOST);
    expect(r.messages[0].hostHash).toBe(crc32(enc("evil.example")));
  });

  it("a request split inside a field line: the policy gets the Host field's hash, not the hash of a header's tail", async () => {
    const seen: HttpRequest[] = [];
    const b = await bench({}, recorder(seen));
    b.deliver(0, fromClient({ seq: CLIENT_ISN, flags: "S", win: 64240, options: [{ kind: "mss", value: 1460 }, { kind: "ts", val: 100, ecr: 0 }] }));
    const synAck = b.take(0)[0];
    const cookie = synAck.tcp!.seq;
    const ts = (val: number) => [{ kind: "nop" as const }, { kind: "nop" as const }, { kind: "ts" as const, val, ecr: tsOf(synAck)!.val }];
    b.deliver(0, fromClient({ seq: CLIENT_ISN + 1, ack: cookie + 1, flags: "A", options: ts(101) }));
    b.deliver(0, fromClient({ seq: CLIENT_ISN + 1, ack: cookie + 1, flags: "PA", options: ts(102), payload: FIRST }));
    b.deliver(0, fromClient({ seq: CLIENT_ISN + 1 + FIRST.length, ack: cookie + 1, flags: "PA", options: ts(103), payload: SECOND }));
    expect(seen).toHaveLength(1);
    expect(seen[0].host).toBe("good.example");
    // Not crc32("evil.example"): the tail of the X-Forwarded-Host field, which classify hashed as a Host field.
    expect(seen[0].hostHash).toBe(crc32(enc("good.example")));
  });

  it("a Host value with non-ASCII bytes: the CP's own hash is the data plane's (ASCII letters lower-cased, other bytes as sent)", async () => {
    const value = Uint8Array.from([0xc9, ...enc("XAMPLE.Com")]); // latin1 "ÉXAMPLE.Com"
    const head = new Uint8Array([...enc("GET / HTTP/1.1\r\nHost: "), ...value, ...enc("\r\n\r\n")]);
    const dp = await loadDataplane();
    dp.configure(DEFAULT_CONFIG);
    const r = dp.process(CLIENT_PORT, packet().eth(CLIENT_ETH).ipv4(CLIENT_TO_VIP)
      .tcp({ sport: FX_CLIENT.port, dport: 80, seq: 1001, ack: 5001, flags: "PA" }).payload(head).build());
    expect(r.messages[0].flags & DESCF.HOST).toBe(DESCF.HOST);
    const expected = crc32(Uint8Array.from([0xc9, ...enc("xample.com")]));
    expect(r.messages[0].hostHash).toBe(expected);
    const parsed = parseRequestHead(head); // no hint: the CP hashes the value itself
    expect("error" in parsed).toBe(false);
    expect((parsed as HttpRequest).hostHash).toBe(expected);
  });
});
