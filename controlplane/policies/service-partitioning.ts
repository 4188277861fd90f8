// Policy "service-partitioning": specialized server groups for types of request (Cardellini et al., "The
// State of the Art in Locally Distributed Web-server Systems", ACM Computing Surveys 2002, content-aware
// client-state-aware service partitioning); rule syntax in the spirit of HAProxy ACL + use_backend.
//
// Ordered rules match a request by path prefix, path regex, Host, header and method (all conditions of a
// rule must hold); the first matching rule names a group, no match means `defaultGroup`. A server is in
// group G when its name is G or its tag `groupTag` (comma-separated) lists G. Within the group: weighted
// least connections, counting this policy's dispatches not spliced yet (as the content-blind ones do). A group with no candidate left refuses (503) unless `fallback` says otherwise.
import type { HttpRequest } from "../http/request.js";
import type { Policy, PolicyContext, PolicyEntry, ServerView } from "./policy.js";
import { leastConnections, requestPath } from "./content-aware-common.js";
import { oneOf, paramError } from "./params.js";
import { InFlight } from "./connection-count.js";

const NAME = "service-partitioning";
export const PARTITION_FALLBACKS = ["refuse", "default", "any"] as const;
export type PartitionFallback = (typeof PARTITION_FALLBACKS)[number];

/** A rule as written in configuration. */
export interface PartitionRuleSpec {
  /** Path prefix (query excluded), e.g. "/images/". */
  path?: string;
  /** Regular expression tested on the path with its query, e.g. "\\.php($|\\?)". */
  pathRegex?: string;
  /** Host without port, case-insensitive; "*.example.com" matches any subdomain. */
  host?: string;
  /** A header field that must be present; with value, equal to it (case-sensitive); with regex, matching it. */
  header?: { name: string; value?: string; regex?: string };
  /** A method or a list of methods (upper case). */
  method?: string | string[];
  /** The group the request goes to: a server name or a `groupTag` value. */
  group: string;
}

interface Rule {
  group: string;
  test(req: HttpRequest, path: string, pathAndQuery: string): boolean;
}

export interface ServicePartitioningParams {
  rules: unknown;
  defaultGroup: string;
  groupTag: string;
  fallback: string;
}

const RULE_FIELDS = new Set(["path", "pathRegex", "host", "header", "method", "group"]);

function compile(spec: unknown, i: number): Rule {
  const at = `rules[${i}]`;
  const bad = (field: string, what: string) => paramError(NAME, field ? `${at}.${field}` : at, what);
  if (spec === null || typeof spec !== "object" || Array.isArray(spec)) throw bad("", "expected a mapping with group and conditions");
  const r = spec as Record<string, unknown>;
  for (const k of Object.keys(r)) if (!RULE_FIELDS.has(k)) throw bad(k, `unknown field (known: ${[...RULE_FIELDS].join(", ")})`);
  if (typeof r.group !== "string" || r.group === "") throw bad("group", `expected a group name, got ${JSON.stringify(r.group)}`);
  const regex = (field: string, src: unknown) => {
    if (typeof src !== "string" || src === "") throw bad(field, `expected a regular expression, got ${JSON.stringify(src)}`);
    try {
      return new RegExp(src);
    } catch (e) {
      throw bad(field, `bad regular expression: ${(e as Error).message}`);
    }
  };
  const tests: Array<(req: HttpRequest, path: string, pq: string) => boolean> = [];
  if ("path" in r) {
    const prefix = r.path;
    if (typeof prefix !== "string" || !prefix.startsWith("/")) throw bad("path", `expected a path prefix starting with '/', got ${JSON.stringify(prefix)}`);
    tests.push((_q, path) => path.startsWith(prefix));
  }
  if ("pathRegex" in r) {
    const re = regex("pathRegex", r.pathRegex);
    tests.push((_q, _p, pq) => re.test(pq));
  }
  if ("host" in r) {
    const h = r.host;
    if (typeof h !== "string" || h === "" || /[\s/:]/.test(h)) throw bad("host", `expected a host name (optionally '*.' before a domain), got ${JSON.stringify(h)}`);
    const want = h.toLowerCase();
    const suffix = want.startsWith("*.") ? want.slice(1) : null;
    tests.push((q) => {
      if (q.host === undefined) return false;
      const host = q.host.replace(/:\d*$/, "");
      return suffix ? host.endsWith(suffix) && host.length > suffix.length : host === want;
    });
  }
  if ("header" in r) {
    const hd = r.header as Record<string, unknown>;
    if (hd === null || typeof hd !== "object" || Array.isArray(hd)) throw bad("header", "expected a mapping {name, value?, regex?}");
    for (const k of Object.keys(hd)) if (!["name", "value", "regex"].includes(k)) throw bad(`header.${k}`, "unknown field (known: name, value, regex)");
    if (typeof hd.name !== "string" || !/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(hd.name)) throw bad("header.name", `expected a header field name, got ${JSON.stringify(hd.name)}`);
    if ("value" in hd && "regex" in hd) throw bad("header", "give value or regex, not both");
    if ("value" in hd && typeof hd.value !== "string") throw bad("header.value", `expected a string, got ${JSON.stringify(hd.value)}`);
    const name = hd.name.toLowerCase();
    const value = hd.value as string | undefined;
    const re = "regex" in hd ? regex("header.regex", hd.regex) : null;
    tests.push((q) => q.headers.some((f) => f.name === name && (re ? re.test(f.value) : value === undefined || f.value === value)));
  }
  if ("method" in r) {
    const m = r.method;
    const list = typeof m === "string" ? [m] : m;
    if (!Array.isArray(list) || list.length === 0 || !list.every((x) => typeof x === "string" && /^[A-Z]{1,16}$/.test(x))) {
      throw bad("method", `expected an upper-case method or a list of them, got ${JSON.stringify(m)}`);
    }
    const methods = new Set(list as string[]);
    tests.push((q) => methods.has(q.method));
  }
  if (tests.length === 0) throw bad("", "no condition (give path, pathRegex, host, header or method)");
  return { group: r.group, test: (q, p, pq) => tests.every((t) => t(q, p, pq)) };
}

/** Validate and compile the rules parameter; errors name the rule index and field. */
export function compileRules(rules: unknown): Rule[] {
  if (!Array.isArray(rules)) throw paramError(NAME, "rules", "expected a list of rules");
  return rules.map(compile);
}

export interface PartitionInfo {
  group: string;
  /** Index of the rule that matched, -1 for the default group. */
  rule: number;
}

export function servicePartitioning(params: Partial<ServicePartitioningParams> = {}): Policy<PartitionInfo> {
  const rules = compileRules(params.rules ?? []);
  const defaultGroup = params.defaultGroup ?? "";
  const groupTag = params.groupTag ?? "partition";
  const fallback = oneOf(NAME, "fallback", params.fallback ?? "refuse", PARTITION_FALLBACKS);
  const inFlight = new InFlight();
  const inGroup = (s: ServerView, g: string) =>
    g === "" || s.name === g || (s.tags[groupTag] ?? "").split(",").some((t) => t.trim() === g);
  return {
    name: NAME,
    init(ctx: PolicyContext) {
      // A group no server of the pool belongs to is a configuration mistake, not a run-time 503.
      rules.forEach((r, i) => {
        if (!ctx.servers.some((s) => inGroup(s, r.group))) throw paramError(NAME, `rules[${i}].group`, `'${r.group}' names no server (by name or tags.${groupTag})`);
      });
      if (defaultGroup !== "" && !ctx.servers.some((s) => inGroup(s, defaultGroup))) throw paramError(NAME, "defaultGroup", `'${defaultGroup}' names no server (by name or tags.${groupTag})`);
    },
    parse(req: HttpRequest): PartitionInfo {
      const path = requestPath(req.url);
      const q = req.url.indexOf("?");
      const pathAndQuery = q < 0 ? path : path + req.url.slice(q).replace(/#.*$/, "");
      for (let i = 0; i < rules.length; i++) if (rules[i].test(req, path, pathAndQuery)) return { group: rules[i].group, rule: i };
      return { group: defaultGroup, rule: -1 };
    },
    select(info: PartitionInfo, candidates: readonly ServerView[], ctx: PolicyContext): ServerView | null {
      const now = ctx.now();
      const least = (group: string | null) =>
        leastConnections(group === null ? candidates : candidates.filter((s) => inGroup(s, group)), (s) => inFlight.connections(s, now));
      let pick = least(info.group);
      if (!pick && fallback === "default" && info.group !== defaultGroup) pick = least(defaultGroup);
      if (!pick && fallback === "any") pick = least(null);
      if (pick) inFlight.add(pick, now);
      return pick;
    },
    post(server: ServerView) {
      inFlight.settle(server);
    },
  };
}

export const servicePartitioningEntry: PolicyEntry = {
  name: NAME, family: "content-aware",
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
};
