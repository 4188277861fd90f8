// Dispatching policies: the registry by name and the round-robin hook set; the CP's configuration checks.
import { describe, expect, it } from "vitest";
import { createPolicy, policyNames, registerPolicy, type ServerView } from "../../controlplane/policies/index.js";
import { resolveCpConfig } from "../../controlplane/config.js";
import { BASE_CONFIG } from "./switch-wire.js";
import { context, pool } from "./policy-harness.js";

const servers: ServerView[] = pool(3);
const ctx = context(servers);

describe("policies", () => {
  it("round-robin takes servers in turn and skips the ones not offered", () => {
    const rr = createPolicy("round-robin");
    expect([0, 1, 2, 3].map(() => rr.select(null, servers, ctx)!.name)).toEqual(["s0", "s1", "s2", "s0"]);
    expect(rr.select(null, [servers[0], servers[2]], ctx)!.name).toBe("s2"); // turn was s1, not offered
    expect(rr.select(null, [servers[0], servers[2]], ctx)!.name).toBe("s0");
    expect(rr.select(null, [], ctx)).toBeNull();
  });

  it("the registry creates fresh instances by name and names what it has", () => {
    expect(policyNames()).toContain("round-robin");
    const a = createPolicy("round-robin");
    const b = createPolicy("round-robin");
    a.select(null, servers, ctx);
    expect(b.select(null, servers, ctx)!.name).toBe("s0");
    expect(() => createPolicy("nope")).toThrow(/unknown policy 'nope' \(have: .*round-robin/);
    registerPolicy("first", () => ({ name: "first", select: (_i, c) => c[0] ?? null }));
    expect(createPolicy("first").select(null, servers.slice(1), ctx)!.name).toBe("s1");
    expect(() => registerPolicy("first", () => createPolicy("round-robin"))).toThrow(/already registered/);
  });
});

describe("control-plane configuration", () => {
  it("fills TCP defaults and derives the idle scan period", () => {
    const c = resolveCpConfig(BASE_CONFIG);
    expect(c.tcp).toMatchObject({ mss: 1460, wscale: 7, maxSynRetries: 2, idleScanPs: BASE_CONFIG.limits.idleTimeoutPs / 4 });
    expect(c.servers[1]).toMatchObject({ index: 1, weight: 1, ipU32: 0x0a01_000c });
  });

  it("names the field that is wrong", () => {
    const bad = (over: object) => () => resolveCpConfig({ ...BASE_CONFIG, ...over });
    expect(bad({ vip: "10.0.0" })).toThrow(/cp config: vip '10\.0\.0' is not an IPv4 address/);
    expect(bad({ servers: [{ ...BASE_CONFIG.servers[0], mac: "zz" }] })).toThrow(/servers\[0\]\.mac/);
    expect(bad({ servers: [{ ...BASE_CONFIG.servers[0], port: 9 }] })).toThrow(/servers\[0\]\.port = 9/);
    expect(bad({ servers: [] })).toThrow(/servers is empty/);
    expect(bad({ synCookieSecret: "x" })).toThrow(/synCookieSecret/);
    expect(bad({ tcp: { receiveBufferBytes: 10 } })).toThrow(/tcp\.receiveBufferBytes/);
    expect(bad({ tcp: { ephemeralPorts: [40000, 30000] } })).toThrow(/tcp\.ephemeralPorts\[1\]/);
  });
});
