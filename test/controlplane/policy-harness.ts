// Scripted situations for policy tests: server views with defaults, a context with a seeded random
// source and a settable clock, and a tiny HTTP request maker.
import type { PolicyContext, ServerView } from "../../controlplane/policies/policy.js";
import type { HttpRequest } from "../../controlplane/http/request.js";
import { crc32 } from "../../abi/hash.js";
import { Random } from "../../lib/random.js";

export type MutableServer = { -readonly [K in keyof ServerView]: ServerView[K] };

export function server(index: number, over: Partial<MutableServer> = {}): MutableServer {
  return {
    index, name: `s${index}`, ip: `10.1.0.${index + 11}`, tcpPort: 80, weight: 1, configuredWeight: over.weight ?? 1, up: true,
    activeConnections: 0, totalConnections: 0, load: NaN, capacity: 1, responseTimePs: NaN, priority: 0,
    upperThreshold: 0, lowerThreshold: 0, tags: {}, ...over,
  };
}

export function pool(n: number, over: (i: number) => Partial<MutableServer> = () => ({})): MutableServer[] {
  return Array.from({ length: n }, (_, i) => server(i, over(i)));
}

export interface TestContext extends PolicyContext {
  time: number;
}

export function context(servers: readonly ServerView[], seed = 1): TestContext {
  const rng = new Random(seed);
  const ctx: TestContext = { time: 0, now: () => ctx.time, servers, random: () => rng.float() };
  return ctx;
}

const enc = new TextEncoder();

export function request(url: string, over: Partial<HttpRequest> = {}): HttpRequest {
  const host = over.host ?? "www.example.com";
  return {
    method: "GET", url, version: "HTTP/1.1", host, headers: [], headerBytes: 64, keepAlive: true,
    urlHash: crc32(enc.encode(url)), hostHash: crc32(enc.encode(host)), clientIp: 0xc0a8000a, ...over,
  };
}
