// Built-in content-aware policies (one file each beside this one).
import type { PolicyEntry, PolicyParam } from "./policy.js";
import { cap, CAP_DEFAULTS, CAP_CLASSES } from "./cap.js";
import { cookieAffinity } from "./cookie-affinity.js";
import { lard } from "./lard.js";
import { lardReplication } from "./lard-replication.js";
import { servicePartitioning, PARTITION_FALLBACKS } from "./service-partitioning.js";
import { sitaE } from "./sita-e.js";
import { urlHash } from "./url-hash.js";

const includeHost: PolicyParam = {
  name: "includeHost", type: "boolean", default: false,
  doc: "key targets by Host and URL (virtual hosts sharing paths) instead of the URL hash alone",
};
const maxTargets: PolicyParam = {
  name: "maxTargets", type: "integer", default: 100_000, min: 1,
  doc: "targets remembered; the least recently used is forgotten beyond this",
};
const lardThresholdParams: PolicyParam[] = [
  { name: "tLow", type: "number", default: 25, min: 0, doc: "T_low, active connections: a server below it is idle enough to take a target over" },
  { name: "tHigh", type: "number", default: 65, min: 1, doc: "T_high, active connections: above it (with a server below T_low), or at twice it, a target moves" },
];

export const AWARE_POLICIES: PolicyEntry[] = [
  {
    name: "url-hash", family: "content-aware",
    description: "cache affinity: the URL space split over the servers by weighted rendezvous hashing of the DP's URL hash",
    params: [includeHost],
    create: (p) => urlHash(p as any),
  },
  {
    name: "service-partitioning", family: "content-aware",
    description: "ordered rules (path, regex, host, header, method) send requests to server groups; least connections within a group",
    params: [
      {
        name: "rules", type: "object", default: [],
        doc: "ordered list of {path?, pathRegex?, host?, header?: {name, value?|regex?}, method?, group}: the first rule whose conditions all hold names the group",
      },
      { name: "defaultGroup", type: "string", default: "", doc: "group for requests no rule matches; empty = every server" },
      { name: "groupTag", type: "string", default: "partition", doc: "server tag listing the groups a server belongs to (comma-separated); a server's name is a group too" },
      { name: "fallback", type: "string", default: "refuse", doc: `when the group has no candidate left: ${PARTITION_FALLBACKS.join(" | ")} (503, the default group, any server)` },
    ],
    create: (p) => servicePartitioning(p as any),
  },
  {
    name: "cookie-affinity", family: "content-aware",
    description: "session affinity by a cookie naming the server (SERVERID, JSESSIONID.jvmRoute) or learned value -> server; least connections otherwise",
    params: [
      { name: "cookie", type: "string", default: "SERVERID", doc: "cookie whose value identifies the session (e.g. SERVERID, JSESSIONID)" },
      { name: "learn", type: "boolean", default: true, doc: "remember session values that name no server: value -> the server the connection was spliced to" },
      { name: "ttlSeconds", type: "number", default: 1800, min: 0, doc: "a learned session unused this long is forgotten" },
      { name: "maxSessions", type: "integer", default: 65536, min: 1, doc: "learned sessions kept; the least recently used is forgotten beyond this" },
    ],
    create: (p) => cookieAffinity(p as any),
  },
  {
    name: "sita-e", family: "content-aware",
    description: "size intervals with equal load: cut-offs from the (configured or learned) size distribution, small files to the first servers",
    params: [
      { name: "sizes", type: "object", default: {}, doc: "known response sizes: {path: bytes}; other URLs are learned from the done hook" },
      { name: "mss", type: "integer", default: 1460, min: 1, doc: "bytes per server segment when estimating a response size from the splice's packet count" },
      { name: "unknownSize", type: "number", default: 0, min: 0, doc: "size assumed for a URL never seen (0: the smallest interval)" },
      { name: "recomputeEvery", type: "integer", default: 1000, min: 1, doc: "completions between rebuilds of the size distribution and its cut-offs" },
      { name: "decay", type: "number", default: 0.5, min: 0, max: 1, doc: "weight of the previous histogram at a rebuild (0: the last window only)" },
      { name: "maxUrls", type: "integer", default: 100_000, min: 1, doc: "learned URL sizes kept; the least recently completed is forgotten beyond this" },
    ],
    create: (p) => sitaE(p as any),
  },
  {
    name: "cap", family: "content-aware",
    description: "client-aware policy: classify by URL (cpu-bound, disk-bound, dynamic, static), round robin within each class",
    params: [
      { name: "cpuBound", type: "string[]", default: CAP_DEFAULTS.cpuBound, doc: "extensions ('.x') or path prefixes ('/x') of CPU-bound requests (checked first)" },
      { name: "diskBound", type: "string[]", default: CAP_DEFAULTS.diskBound, doc: "extensions or path prefixes of disk-bound requests (checked second)" },
      { name: "dynamic", type: "string[]", default: CAP_DEFAULTS.dynamic, doc: "extensions or path prefixes of dynamic requests (checked third)" },
      { name: "static", type: "string[]", default: CAP_DEFAULTS.static, doc: "extensions or path prefixes of static requests (checked last)" },
      { name: "defaultClass", type: "string", default: "static", doc: `class of a request no pattern matches: ${CAP_CLASSES.join(" | ")}` },
      { name: "classTag", type: "string", default: "class", doc: "server tag listing the classes a server takes (comma-separated); untagged servers take all" },
    ],
    create: (p) => cap(p as any),
  },
  {
    name: "lard", family: "content-aware",
    description: "locality-aware request distribution: one server per URL, moved when its load passes T_high (Pai et al.)",
    params: [...lardThresholdParams, maxTargets, includeHost],
    create: (p) => lard(p as any),
  },
  {
    name: "lard-r", family: "content-aware",
    description: "LARD with replication: a server set per URL that grows under load and shrinks after K quiet seconds",
    params: [
      ...lardThresholdParams,
      { name: "shrinkAfterSeconds", type: "number", default: 20, min: 0, doc: "K: a set unchanged this long loses its most loaded member" },
      maxTargets, includeHost,
    ],
    create: (p) => lardReplication(p as any),
  },
];
