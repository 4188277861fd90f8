// Catalogue of the built-in content-blind and priority-pool policies, in listing order: each entry lives in its policy's file.
import type { PolicyEntry } from "./policy.js";
import { roundRobinEntry } from "./round-robin.js";
import { randomEntry } from "./random.js";
import { weightedRoundRobinEntry } from "./weighted-round-robin.js";
import { dynamicWeightedRoundRobinEntry } from "./dynamic-weighted-round-robin.js";
import { leastConnectionsEntry } from "./least-connections.js";
import { weightedLeastConnectionsEntry } from "./weighted-least-connections.js";
import { shortestExpectedDelayEntry } from "./shortest-expected-delay.js";
import { neverQueueEntry } from "./never-queue.js";
import { leastLoadedEntry } from "./least-loaded.js";
import { fastestResponseEntry } from "./fastest-response.js";
import { powerOfTwoEntry } from "./power-of-two.js";
import { sourceHashEntry } from "./source-hash.js";
import { maglevEntry } from "./maglev.js";
import { hprioEntry } from "./hprio.js";
import { weightedFailoverEntry } from "./weighted-failover.js";
import { weightedOverflowEntry } from "./weighted-overflow.js";

export const BLIND_POLICIES: PolicyEntry[] = [
  roundRobinEntry,
  randomEntry,
  weightedRoundRobinEntry,
  dynamicWeightedRoundRobinEntry,
  leastConnectionsEntry,
  weightedLeastConnectionsEntry,
  shortestExpectedDelayEntry,
  neverQueueEntry,
  leastLoadedEntry,
  fastestResponseEntry,
  powerOfTwoEntry,
  sourceHashEntry,
  maglevEntry,
  hprioEntry,
  weightedFailoverEntry,
  weightedOverflowEntry,
];
