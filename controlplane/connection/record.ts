// The control plane's record of one client connection and its server leg, from the client's SYN-cookie
// ACK until the CP forgets it, and the table that finds a record by client tuple, server tuple or flow entry.
import type { Policy } from "../policies/policy.js";
import type { HttpRequest } from "../http/request.js";
import type { ReceiveBuffer } from "../tcp/receive-buffer.js";
import type { CpTimer } from "../env.js";
import type { ResolvedServer } from "../config.js";

/**
 * request: gathering the request head; connecting: SYN sent to a server; spliced: both flow entries
 * installed; closing: both FINs or an RST seen, entries linger; refused: answered with an error and our FIN;
 * resetting: its server went down after response bytes reached the client, waiting for an ACK to reset it;
 * closed: forgotten.
 */
export type Phase = "request" | "connecting" | "spliced" | "closing" | "refused" | "resetting" | "closed";

/** RFC 9110 9.2.2: methods whose effect is the same however often the request is repeated. */
export const IDEMPOTENT = new Set(["GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE"]);

/** The CP's connection to a server for one client connection. */
export interface ServerLeg {
  server: ResolvedServer;
  localPort: number;
  /** Our ISN towards the server: the client's ISN, so client -> server sequence numbers need no translation. */
  isn: number;
  synTries: number;
  /** When the first SYN left (the response-time sample is taken only for an answer to it: Karn). */
  synSentPs: number;
  /** The policy that chose this server: its post and done hooks hear about the leg (unless swapped out). */
  policy: Policy<any>;
  timer?: CpTimer;
}

/** Where the client is: its address, port, the service port it connected to, its MAC and our switch port towards it. */
export interface ClientEnd {
  ip: number;
  port: number;
  service: number;
  mac: Uint8Array;
  switchPort: number;
}

export interface Connection {
  phase: Phase;
  clientKey: string;
  client: ClientEnd;
  clientIsn: number;
  /** Our ISN towards the client: the SYN cookie. */
  isnToClient: number;
  /** Our next sequence number towards the client. */
  sndNxt: number;
  /** The client's MSS class from the cookie. */
  mss: number;
  ts: boolean;
  /** The client's window shift when scaling is in effect with the client (we then advertised cfg.tcp.wscale). */
  clientWscale: number | null;
  sack: boolean;
  rx: ReceiveBuffer;
  /** Request bytes already scanned for CRLF CRLF (parse cost is charged once per byte). */
  scanned: number;
  /** Newest TSval from the client (what we echo) and newest TSval we sent it. */
  tsRecent: number;
  lastTsToClient: number;
  /** Newest window field from the client. */
  clientWin: number;
  clientFin: boolean;
  hints: { urlHash: number; hostHash: number };
  request?: HttpRequest;
  info?: unknown;
  /** The policy `info` was parsed for. */
  policy?: Policy<any>;
  /** The buffered request was let go (a response byte was seen): it can no longer be replayed elsewhere. */
  requestReleased: boolean;
  /** When the splice was installed. */
  splicedAtPs: number;
  tried: Set<number>;
  leg?: ServerLeg;
  requestTimer?: CpTimer;
  lingerTimer?: CpTimer;
  replay?: { segments: Uint8Array[]; port: number; tries: number; timer?: CpTimer };
  /** Phase resetting: ACK probes sent so far and the next one. */
  probe?: { tries: number; timer?: CpTimer };
  fwd?: number;
  rev?: number;
  finFwd: boolean;
  finRev: boolean;
  /** Counted in its server's activeConnections (from the splice to both FINs, an RST or removal). */
  countedActive?: boolean;
  reset: boolean;
  /** Counters of both entries at the last idle scan and since when they are unchanged. */
  activity: { sig: string; sincePs: number };
}

export const clientKey = (s: { saddr: number; sport: number; dport: number }): string => `${s.saddr}:${s.sport}:${s.dport}`;
export const serverKey = (ip: number, port: number, localPort: number): string => `${ip}:${port}:${localPort}`;
export const legKey = (leg: ServerLeg): string => serverKey(leg.server.ipU32, leg.server.tcpPort, leg.localPort);

/** The CP's connections, found by client tuple (every live one), server tuple (those with a leg) or flow-table entry (spliced ones). */
export class ConnectionTable {
  readonly byClient = new Map<string, Connection>();
  readonly byServer = new Map<string, Connection>();
  readonly byEntry = new Map<number, Connection>();
  /** Connections with installed entries (what the idle scan reads). */
  readonly spliced = new Set<Connection>();

  /** Whether any connection has a leg to server `index`. */
  hasLegTo(index: number): boolean {
    for (const c of this.byClient.values()) if (c.leg?.server.index === index) return true;
    return false;
  }

  /** The connection is spliced through entries `fwd` and `rev`. */
  addEntries(conn: Connection, fwd: number, rev: number): void {
    conn.fwd = fwd;
    conn.rev = rev;
    this.byEntry.set(fwd, conn);
    this.byEntry.set(rev, conn);
    this.spliced.add(conn);
  }

  /** The connection's entries are gone from the flow table. */
  removeEntries(conn: Connection): void {
    if (conn.fwd !== undefined) this.byEntry.delete(conn.fwd);
    if (conn.rev !== undefined) this.byEntry.delete(conn.rev);
    this.spliced.delete(conn);
    conn.fwd = undefined;
    conn.rev = undefined;
  }

  /** Every trace of the connection in the table (its leg's server tuple included). */
  remove(conn: Connection): void {
    if (conn.leg) this.byServer.delete(legKey(conn.leg));
    if (conn.fwd !== undefined) this.byEntry.delete(conn.fwd);
    if (conn.rev !== undefined) this.byEntry.delete(conn.rev);
    this.spliced.delete(conn);
    this.byClient.delete(conn.clientKey);
  }
}
