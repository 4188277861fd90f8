// Policy "cookie-affinity": session affinity by a cookie (Cardellini et al., "The State of the Art in Locally
// Distributed Web-server Systems", content-aware client affinity by session identifier; the cookie forms of
// HAProxy `cookie SERVERID` and Tomcat's `JSESSIONID=<id>.<jvmRoute>`).
//
// The value of cookie `cookie` picks the server, first match wins:
//   1. the value is a server's name (SERVERID=s2, set by the application to the server's own name);
//   2. the part after the last '.' is a server's name (JSESSIONID=8F3A...C1.s2, Tomcat jvmRoute);
//   3. the value is in the learned table (value -> server, forgotten after `ttlSeconds` without use).
// The session goes there when that server is a candidate, even while it is quiesced (weight 0: draining
// lets existing sessions finish, as HAProxy's drain) if it is offered; the CP offers no quiesced server
// (controlplane/README.md, weight 0 quiesces), so there a drained server's sessions go on as below. Otherwise
// (no cookie, unknown value, server down, drained or failed) weighted least connections (counting its
// dispatches not spliced yet) picks, and when the request carried a value, the table learns
// value -> the server the connection was spliced to.
//
// The switch never injects Set-Cookie: after the splice the response goes through the DPs without the CP,
// which cannot rewrite it. So the first connection with a session id the application just issued may land
// on another server than the issuer (the table learns from the second connection on); applications that
// need strict stickiness put the server's name in the cookie (forms 1 and 2), which needs no learning.
import type { HttpRequest } from "../http/request.js";
import type { DispatchOutcome, Policy, PolicyContext, PolicyEntry, ServerView } from "./policy.js";
import { leastConnections, LruMap } from "./content-aware-common.js";
import { paramError } from "./params.js";
import { InFlight } from "./connection-count.js";
import { PS_PER_S } from "../../lib/time.js";

const NAME = "cookie-affinity";

export interface CookieAffinityParams {
  cookie: string;
  learn: boolean;
  ttlSeconds: number;
  maxSessions: number;
}

/** The value of cookie `name` in a Cookie header value ("a=1; b=2"), DQUOTEs removed (RFC 6265 4.1.1). */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  if (header === undefined) return undefined;
  for (const pair of header.split(";")) {
    const eq = pair.indexOf("=");
    if (eq < 0 || pair.slice(0, eq).trim() !== name) continue;
    let v = pair.slice(eq + 1).trim();
    if (v.length >= 2 && v.startsWith('"') && v.endsWith('"')) v = v.slice(1, -1);
    return v === "" ? undefined : v;
  }
  return undefined;
}

export interface CookieAffinityPolicy extends Policy<string | undefined> {
  /** The learned session -> server name table, live entries only (for stats and tests). */
  sessions(): Map<string, string>;
}

export function cookieAffinity(params: Partial<CookieAffinityParams> = {}): CookieAffinityPolicy {
  const cookie = params.cookie ?? "SERVERID";
  if (!/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(cookie)) throw paramError(NAME, "cookie", `'${cookie}' is not a cookie name (RFC 6265 token)`);
  const learn = params.learn ?? true;
  const ttlPs = (params.ttlSeconds ?? 1800) * PS_PER_S;
  const table = new LruMap<string, { server: string; lastUsed: number }>(params.maxSessions ?? 65536);
  let ctx: PolicyContext | undefined;
  const now = () => ctx?.now() ?? 0;
  const inFlight = new InFlight();

  /** The server name the value stands for, or undefined. */
  const lookup = (value: string, candidates: readonly ServerView[]): ServerView | undefined => {
    const byName = (n: string) => candidates.find((s) => s.name === n);
    const direct = byName(value);
    if (direct) return direct;
    const dot = value.lastIndexOf(".");
    if (dot >= 0) {
      const routed = byName(value.slice(dot + 1));
      if (routed) return routed;
    }
    const e = table.get(value);
    if (!e) return undefined;
    if (now() - e.lastUsed > ttlPs) {
      table.delete(value);
      return undefined;
    }
    e.lastUsed = now();
    return byName(e.server);
  };

  return {
    name: NAME,
    init(c: PolicyContext) {
      ctx = c;
    },
    parse: (req: HttpRequest) => cookieValue(req.cookie, cookie),
    select(value: string | undefined, candidates: readonly ServerView[], c: PolicyContext): ServerView | null {
      ctx ??= c;
      const t = c.now();
      const pick = (value !== undefined ? lookup(value, candidates) : undefined) ?? leastConnections(candidates, (s) => inFlight.connections(s, t));
      if (pick) inFlight.add(pick, t);
      return pick;
    },
    post(server: ServerView, req: HttpRequest, result: DispatchOutcome) {
      inFlight.settle(server);
      if (!learn || result.outcome !== "spliced") return;
      const value = cookieValue(req.cookie, cookie);
      if (value === undefined) return;
      // A value naming a server needs no entry; for one that named a server now down, the table's entry wins.
      if (value === server.name || value.slice(value.lastIndexOf(".") + 1) === server.name) return;
      table.set(value, { server: server.name, lastUsed: now() });
    },
    sessions() {
      const out = new Map<string, string>();
      for (const [k, e] of table.entries()) if (now() - e.lastUsed <= ttlPs) out.set(k, e.server);
      return out;
    },
  };
}

export const cookieAffinityEntry: PolicyEntry = {
  name: NAME, family: "content-aware",
  description: "session affinity by a cookie naming the server (SERVERID, JSESSIONID.jvmRoute) or learned value -> server; least connections otherwise",
  params: [
    { name: "cookie", type: "string", default: "SERVERID", doc: "cookie whose value identifies the session (e.g. SERVERID, JSESSIONID)" },
    { name: "learn", type: "boolean", default: true, doc: "remember session values that name no server: value -> the server the connection was spliced to" },
    { name: "ttlSeconds", type: "number", default: 1800, min: 0, doc: "a learned session unused this long is forgotten" },
    { name: "maxSessions", type: "integer", default: 65536, min: 1, doc: "learned sessions kept; the least recently used is forgotten beyond this" },
  ],
  create: (p) => cookieAffinity(p as any),
};
