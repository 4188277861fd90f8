// Built-in content-blind and priority-pool policies (one file each beside this one).
import type { PolicyEntry } from "./policy.js";
// The error class lives in the registry, which imports this catalogue: used at create time only, after
// both modules have loaded, so the cycle is harmless as long as the registry is what gets imported.
import { PolicyConfigError } from "./policy.js";
import { roundRobin } from "./round-robin.js";
import { random } from "./random.js";
import { weightedRoundRobin } from "./weighted-round-robin.js";
import { dynamicWeightedRoundRobin } from "./dynamic-weighted-round-robin.js";
import { leastConnections } from "./least-connections.js";
import { weightedLeastConnections } from "./weighted-least-connections.js";
import { shortestExpectedDelayPolicy } from "./shortest-expected-delay.js";
import { neverQueue } from "./never-queue.js";
import { leastLoaded } from "./least-loaded.js";
import { fastestResponse } from "./fastest-response.js";
import { powerOfTwo } from "./power-of-two.js";
import { sourceHash } from "./source-hash.js";
import { isPrime, maglev } from "./maglev.js";
import { hprio } from "./hprio.js";
import { weightedFailover } from "./weighted-failover.js";
import { weightedOverflow } from "./weighted-overflow.js";
import { PS_PER_S } from "../../lib/time.js";

/** A string parameter that must be one of `values` (the registry checks only that it is a string). */
function oneOf<T extends string>(policy: string, params: Record<string, unknown>, name: string, values: readonly T[]): T {
  const v = params[name] as T;
  if (!values.includes(v)) throw new PolicyConfigError(`policy ${policy}: parameter ${name}: expected one of ${values.map((x) => `"${x}"`).join(", ")}, got ${JSON.stringify(v)}`);
  return v;
}

export const BLIND_POLICIES: PolicyEntry[] = [
  { name: "round-robin", family: "content-blind", description: "servers in turn, weights ignored", params: [], create: () => roundRobin() },
  {
    name: "random", family: "content-blind", description: "a server drawn at random (seeded), uniformly or by weight",
    params: [{ name: "weighted", type: "boolean", default: false, doc: "draw in proportion to weight instead of uniformly" }],
    create: (p) => random({ weighted: p.weighted as boolean }),
  },
  {
    name: "weighted-round-robin", family: "content-blind", description: "static weighted round robin, interleaved (nginx smooth WRR; weights 5,1,1 -> a a b a c a a)",
    params: [], create: () => weightedRoundRobin(),
  },
  {
    name: "dynamic-weighted-round-robin", family: "content-blind", description: "weighted round robin with weight * max(floor, 1 - reported load)",
    params: [
      { name: "floor", type: "number", default: 0.05, min: 0.01, max: 1, doc: "smallest fraction of its weight a saturated server keeps" },
      { name: "periodPs", type: "integer", default: 0, min: 0, max: 3600 * PS_PER_S, doc: "recompute load factors at most this often, ps (0: every select)" },
    ],
    create: (p) => dynamicWeightedRoundRobin({ floor: p.floor as number, periodPs: p.periodPs as number }),
  },
  {
    name: "least-connections", family: "content-blind", description: "fewest connections, dispatched-not-yet-spliced included (LVS lc)",
    params: [], create: () => leastConnections(),
  },
  {
    name: "weighted-least-connections", family: "content-blind", description: "lowest connections / weight (LVS wlc)",
    params: [], create: () => weightedLeastConnections(),
  },
  {
    name: "shortest-expected-delay", family: "content-blind", description: "lowest (connections + 1) / weight (LVS sed)",
    params: [], create: () => shortestExpectedDelayPolicy(),
  },
  {
    name: "never-queue", family: "content-blind", description: "an idle server if any, else shortest expected delay (LVS nq)",
    params: [], create: () => neverQueue(),
  },
  {
    name: "least-loaded", family: "content-blind", description: "lowest load index from alive signals; least connections until every server reported",
    params: [], create: () => leastLoaded(),
  },
  {
    name: "fastest-response", family: "content-blind", description: "lowest measured response time; unmeasured servers first",
    params: [], create: () => fastestResponse(),
  },
  {
    name: "power-of-two", family: "content-blind", description: "two random servers, fewer connections per weight wins (Mitzenmacher)",
    params: [], create: () => powerOfTwo(),
  },
  {
    name: "source-hash", family: "content-blind", description: "client affinity: hash of the client IP over a weighted bucket table (LVS sh, with fallback)",
    params: [{ name: "tableBits", type: "integer", default: 8, min: 1, max: 20, doc: "log2 of the number of buckets (LVS: 8)" }],
    create: (p) => sourceHash({ tableBits: p.tableBits as number }),
  },
  {
    name: "maglev", family: "content-blind", description: "Maglev consistent hashing of the client IP or the URL (Eisenbud et al., NSDI 2016)",
    params: [
      { name: "tableSize", type: "integer", default: 65537, min: 3, max: 16_777_259, doc: "lookup table size, a prime well above the number of servers" },
      { name: "key", type: "string", default: "source", doc: `what is hashed: "source" (client IP, affinity) or "url" (URL hash, cache locality)` },
    ],
    create: (p) => {
      const key = oneOf("maglev", p, "key", ["source", "url"] as const);
      if (!isPrime(p.tableSize as number)) throw new PolicyConfigError(`policy maglev: parameter tableSize: ${p.tableSize} is not a prime (e.g. 65537, 655373)`);
      return maglev({ tableSize: p.tableSize as number, key });
    },
  },
  {
    name: "hprio", family: "priority", description: "highest-priority pool not overloaded, in turn; atomic spillover to the next pool (LVS hprio)",
    params: [{ name: "rank", type: "string", default: "priority", doc: `what ranks the pools: "priority" or "weight" (as the LVS patch)` }],
    create: (p) => hprio({ rank: oneOf("hprio", p, "rank", ["priority", "weight"] as const) }),
  },
  {
    name: "weighted-failover", family: "priority", description: "all to the usable server with the highest weight, then the next (LVS fo)",
    params: [], create: () => weightedFailover(),
  },
  {
    name: "weighted-overflow", family: "priority", description: "fill servers by descending weight up to their upper threshold, overflow to the next (LVS ovf)",
    params: [], create: () => weightedOverflow(),
  },
];
