// Catalogue of the built-in content-aware policies, in listing order: each entry lives in its policy's file.
import type { PolicyEntry } from "./policy.js";
import { urlHashEntry } from "./url-hash.js";
import { servicePartitioningEntry } from "./service-partitioning.js";
import { cookieAffinityEntry } from "./cookie-affinity.js";
import { sitaEEntry } from "./sita-e.js";
import { capEntry } from "./cap.js";
import { lardEntry } from "./lard.js";
import { lardReplicationEntry } from "./lard-replication.js";

export const AWARE_POLICIES: PolicyEntry[] = [
  urlHashEntry,
  servicePartitioningEntry,
  cookieAffinityEntry,
  sitaEEntry,
  capEntry,
  lardEntry,
  lardReplicationEntry,
];
