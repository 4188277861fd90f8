// What the control plane counts: every SYN, cookie, connection, request, splice, refusal (by reason),
// retry, failover, teardown and timeout, the pool's signals and markings, and what a server crash cost,
// so the CLI and reports show them by name.

/** Why a connection was refused, with what the client gets. */
export const REFUSAL = {
  header_too_large: "request head longer than limits.maxHeaderBytes: 431 and close",
  bad_request: "not an HTTP/1.x request (garbage, bad request line or fields): 400 and close",
  no_server: "the policy chose no server or every server failed: 503 and close",
  table_full: "no room in the flow table for the splice: RST",
  timeout: "no complete request head within limits.requestTimeoutPs: RST",
  client_closed: "client closed or reset before a complete request head: RST (after a FIN) or nothing",
} as const;

export type RefusalReason = keyof typeof REFUSAL;

/** A server marked down or back up, with when and why (the most recent POOL_EVENTS_KEPT are kept). */
export interface PoolEvent {
  atPs: number;
  server: string;
  event: "down" | "up";
  reason?: "missed_alive" | "connect_failed" | "manual";
}

export const POOL_EVENTS_KEPT = 64;

export interface CpStats {
  /** Ring messages handled. */
  messages: number;
  syns: number;
  cookiesSent: number;
  cookiesRejected: number;
  /** Handshakes completed (valid cookie). */
  connections: number;
  /** Complete request heads parsed. */
  requests: number;
  /** Splices installed. */
  spliced: number;
  refusals: Record<RefusalReason, number>;
  serverSynRetries: number;
  failovers: number;
  /** Replay retransmissions sent. */
  replayRetransmits: number;
  /** Spliced connections removed (after FINs/RST or idle). */
  teardowns: number;
  /** New SYNs on the 4-tuple of a finished connection whose entries still lingered (the client reused its port). */
  reusedTuples: number;
  /** Of the teardowns, those for idleness. */
  idleTeardowns: number;
  /** Request timeouts. */
  timeouts: number;
  /** Installs refused for lack of room (also counted as refusals.table_full). */
  tableFull: number;
  /** Segments with bad checksums or lengths, dropped. */
  badSegments: number;
  /** Server segments to LOCAL_IP for no connection (answered with RST). */
  straySegments: number;
  /** Client SYN offered timestamps but the server did not: timestamps pass untranslated (see README). */
  timestampMismatches: number;
  /** The server's MSS is below what the client was told: client segments may exceed it. */
  mssMismatches: number;
  /** Alive signals taken from servers (controlplane/pool). */
  aliveSignals: number;
  /** Registrations or alive signals from an address that is not in the pool (ignored). */
  unknownPoolSignals: number;
  /** Times a server was marked down (missed alive signals, failed connect, or by hand). */
  serversMarkedDown: number;
  /** Times a server came back up (then in slow start). */
  serversBackUp: number;
  /** Connections to a server that went down, with no response byte yet, dispatched to another server. */
  redispatched: number;
  /**
   * Connections to a server that went down that could not be dispatched again (response bytes had
   * reached the client, the client had sent bytes through the splice, or the method is not idempotent):
   * reset towards the client.
   */
  crashResets: number;
  /** Of crashResets, those kept from another server only because the method is not idempotent (RFC 9110 9.2.2). */
  crashResetsUnsafeMethod: number;
  /** The latest servers marked down or back up (at most POOL_EVENTS_KEPT). */
  poolEvents: PoolEvent[];
  /** Connections in the CP's table now (before the splice, spliced, lingering). */
  activeConnections: number;
}

export function emptyStats(): CpStats {
  return {
    messages: 0, syns: 0, cookiesSent: 0, cookiesRejected: 0, connections: 0, requests: 0, spliced: 0,
    refusals: Object.fromEntries(Object.keys(REFUSAL).map((k) => [k, 0])) as Record<RefusalReason, number>,
    serverSynRetries: 0, failovers: 0, replayRetransmits: 0, teardowns: 0, reusedTuples: 0, idleTeardowns: 0, timeouts: 0,
    tableFull: 0, badSegments: 0, straySegments: 0, timestampMismatches: 0, mssMismatches: 0,
    aliveSignals: 0, unknownPoolSignals: 0, serversMarkedDown: 0, serversBackUp: 0, redispatched: 0, crashResets: 0, crashResetsUnsafeMethod: 0,
    poolEvents: [], activeConnections: 0,
  };
}
