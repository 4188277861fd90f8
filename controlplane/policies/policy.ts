// Dispatching policies are hook sets (docs/ARCHITECTURE.md, "Policies are hook sets"): the CP calls init once, parse and select per
// request, post with the outcome, shutdown at the end. Adding a policy adds a file here, exporting the
// policy and its PolicyEntry, and an import line in a catalogue (catalog-*.ts); nothing else changes.
import type { HttpRequest } from "../http/request.js";

/** A back-end server as policies see it. */
export interface ServerView {
  /** Position in CpConfig.servers (stable). */
  readonly index: number;
  readonly name: string;
  readonly ip: string;
  readonly tcpPort: number;
  /** Effective weight now: the configured weight, 0 while quiesced (drained), ramping during slow start. */
  readonly weight: number;
  /** The weight from configuration or the last set-weight. */
  readonly configuredWeight: number;
  /** False while the pool considers the server unusable (down: missed alive signals, or removed). */
  readonly up: boolean;
  /** Spliced connections currently open to it. */
  readonly activeConnections: number;
  /** Connections ever spliced to it. */
  readonly totalConnections: number;
  /** Load index from the server's last alive signal, 0 (idle) to 1 (saturated); NaN before the first. */
  readonly load: number;
  /** Capacity the server registered with (requests per second it can serve); 1 when it gave none. */
  readonly capacity: number;
  /** Smoothed response time the CP measured (its SYN to the server's SYN-ACK), in ps; NaN before the first. */
  readonly responseTimePs: number;
  /** Priority pool: higher is preferred (LVS hprio); 0 by default. */
  readonly priority: number;
  /** LVS connection thresholds: at upperThreshold active connections the server is overloaded until it falls below lowerThreshold; 0 = no limit. */
  readonly upperThreshold: number;
  readonly lowerThreshold: number;
  /** Free-form labels from configuration (e.g. class: static for CAP, partition names for service partitioning). */
  readonly tags: Readonly<Record<string, string>>;
}

export interface PolicyContext {
  /** Simulated time in picoseconds. */
  now(): number;
  /** The whole pool (select receives the candidates only). */
  readonly servers: readonly ServerView[];
  /** Uniform in [0, 1), seeded from the CP's configuration: policies never use Math.random. */
  random(): number;
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
  /** A spliced connection to `server` ended (teardown): what the flow table counted for it. */
  done?(server: ServerView, req: HttpRequest, result: ConnectionResult): void;
  shutdown?(): void;
}

export interface ConnectionResult {
  /** Segments the server sent through the splice (the server -> client entry's packet counter). */
  responsePackets: number;
  /** From the splice's installation to its teardown, ps. */
  durationPs: number;
}

/** One tunable of a policy, for validation of configuration files and `npswitch policies`. */
export interface PolicyParam {
  name: string;
  type: "number" | "integer" | "string" | "boolean" | "string[]" | "number[]" | "object";
  default: unknown;
  doc: string;
  min?: number;
  max?: number;
}

/** A built-in policy as the registry lists it. */
export interface PolicyEntry {
  name: string;
  family: "content-blind" | "priority" | "content-aware";
  description: string;
  params: PolicyParam[];
  /** A fresh instance; params are already validated against `params` and have their defaults filled in. */
  create(params: Record<string, unknown>): Policy<any>;
}

/** A policy's configuration is wrong: the message names the policy, the parameter and what was expected. */
export class PolicyConfigError extends Error {}
