// Dispatching policies are hook sets (DESIGN contract 6): the CP calls init once, parse and select per
// request, post with the outcome, shutdown at the end. Adding a policy adds a file here and a line in the
// registry (index.ts); nothing else changes.
import type { HttpRequest } from "../http/request.js";

/** A back-end server as policies see it. */
export interface ServerView {
  /** Position in CpConfig.servers (stable). */
  readonly index: number;
  readonly name: string;
  readonly ip: string;
  readonly tcpPort: number;
  readonly weight: number;
  /** False while the pool considers the server unusable. */
  readonly up: boolean;
  /** Spliced connections currently open to it. */
  readonly activeConnections: number;
  /** Connections ever spliced to it. */
  readonly totalConnections: number;
}

export interface PolicyContext {
  /** Simulated time in picoseconds. */
  now(): number;
  /** The whole pool (select receives the candidates only). */
  readonly servers: readonly ServerView[];
}

export type DispatchOutcome =
  | { outcome: "spliced" }
  /** The server did not answer the SYN, reset it, or the splice could not be installed. */
  | { outcome: "failed"; reason: "no_answer" | "reset" | "table_full" };

export interface Policy<Info = HttpRequest> {
  readonly name: string;
  init?(ctx: PolicyContext): void;
  /** What select needs from the request (default: the request itself). */
  parse?(req: HttpRequest): Info;
  /**
   * One of `candidates` (servers that are up and not yet tried for this request), or null to refuse the
   * request (503). Called again with the failed server removed when a connect fails.
   */
  select(info: Info, candidates: readonly ServerView[], ctx: PolicyContext): ServerView | null;
  post?(server: ServerView, req: HttpRequest, result: DispatchOutcome): void;
  shutdown?(): void;
}
