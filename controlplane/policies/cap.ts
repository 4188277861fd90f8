// Policy "cap": Client-Aware Policy (Casalicchio & Colajanni, "A Client-Aware Dispatching Algorithm for Web
// Clusters Providing Multiple Services", WWW10, 2001): classify each request by the resource it will stress
// and round-robin every class separately, so each server receives a balanced mix of every class instead of
// whatever one global turn happens to hand it.
//
// Classes, the first that matches wins: cpu-bound, disk-bound, dynamic, static; no match -> `defaultClass`.
// A pattern starting with '.' is a file extension (case-insensitive, on the path without query), one starting
// with '/' a path prefix. Within a class: smooth weighted round robin (nginx) over the accepting candidates
// in pool order; equal weights give plain round robin. A server whose tag `classTag` lists classes
// (comma-separated) only takes those; untagged servers take all; a class no candidate is tagged for goes to all.
import type { HttpRequest } from "../http/request.js";
import type { Policy, PolicyEntry, ServerView } from "./policy.js";
import { acceptingInPoolOrder, requestPath } from "./content-aware-common.js";
import { paramError } from "./params.js";

const NAME = "cap";
export const CAP_CLASSES = ["cpu-bound", "disk-bound", "dynamic", "static"] as const;
export type CapClass = (typeof CAP_CLASSES)[number];

export const CAP_DEFAULTS = {
  cpuBound: ["/search", "/query", "/report"],
  diskBound: ["/download", "/archive", ".iso", ".zip", ".tar", ".gz", ".mp4", ".mkv", ".avi"],
  dynamic: ["/cgi-bin/", "/api/", ".php", ".asp", ".aspx", ".jsp", ".cgi", ".pl", ".py"],
  static: [".html", ".htm", ".css", ".js", ".jpg", ".jpeg", ".png", ".gif", ".svg", ".ico", ".txt", ".pdf", "/static/", "/images/"],
};

export interface CapParams {
  cpuBound: string[];
  diskBound: string[];
  dynamic: string[];
  static: string[];
  defaultClass: string;
  classTag: string;
}

type Matcher = (pathLower: string, path: string) => boolean;

function compilePatterns(field: string, list: readonly string[]): Matcher[] {
  return list.map((p, i) => {
    if (p.startsWith(".") && p.length > 1 && !p.includes("/")) {
      const ext = p.toLowerCase();
      return (lower) => lower.endsWith(ext);
    }
    if (p.startsWith("/")) return (_l, path) => path.startsWith(p);
    throw paramError(NAME, `${field}[${i}]`, `'${p}' is neither an extension ('.php') nor a path prefix ('/cgi-bin/')`);
  });
}

export interface CapPolicy extends Policy<CapClass> {
  classify(req: HttpRequest): CapClass;
}

export function cap(params: Partial<CapParams> = {}): CapPolicy {
  const table: Array<[CapClass, Matcher[]]> = [
    ["cpu-bound", compilePatterns("cpuBound", params.cpuBound ?? CAP_DEFAULTS.cpuBound)],
    ["disk-bound", compilePatterns("diskBound", params.diskBound ?? CAP_DEFAULTS.diskBound)],
    ["dynamic", compilePatterns("dynamic", params.dynamic ?? CAP_DEFAULTS.dynamic)],
    ["static", compilePatterns("static", params.static ?? CAP_DEFAULTS.static)],
  ];
  const defaultClass = params.defaultClass ?? "static";
  if (!CAP_CLASSES.includes(defaultClass as CapClass)) throw paramError(NAME, "defaultClass", `expected one of ${CAP_CLASSES.join(", ")}, got ${JSON.stringify(defaultClass)}`);
  const classTag = params.classTag ?? "class";
  // Smooth weighted round robin state per class: current weight by server index.
  const current = new Map<CapClass, Map<number, number>>(CAP_CLASSES.map((c) => [c, new Map()]));

  const classify = (req: HttpRequest): CapClass => {
    const path = requestPath(req.url);
    const lower = path.toLowerCase();
    for (const [cls, matchers] of table) if (matchers.some((m) => m(lower, path))) return cls;
    return defaultClass as CapClass;
  };
  const takes = (s: ServerView, cls: CapClass) => {
    const tag = s.tags[classTag];
    return tag === undefined || tag.split(",").some((t) => t.trim() === cls);
  };

  return {
    name: NAME,
    parse: classify,
    classify,
    select(cls: CapClass, candidates: readonly ServerView[]): ServerView | null {
      const accepting = acceptingInPoolOrder(candidates);
      let pool = accepting.filter((s) => takes(s, cls));
      if (pool.length === 0) pool = accepting;
      if (pool.length === 0) return null;
      const cw = current.get(cls)!;
      let total = 0;
      let best: ServerView | null = null;
      for (const s of pool) {
        const w = (cw.get(s.index) ?? 0) + s.weight;
        cw.set(s.index, w);
        total += s.weight;
        if (!best || w > cw.get(best.index)!) best = s;
      }
      cw.set(best!.index, cw.get(best!.index)! - total);
      return best;
    },
  };
}

export const capEntry: PolicyEntry = {
  name: NAME, family: "content-aware",
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
};
