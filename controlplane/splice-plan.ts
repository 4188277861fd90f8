// The two flow entries of a splice (TCP splicing, Maltz & Bhagwat / Cohen et al.): from the handshakes the
// CP completed on each side, the address rewrite and the deltas that make the client and the server see one
// connection: sequence and acknowledgement numbers (RFC 9293), timestamps (RFC 7323 3, PAWS) and window
// units (RFC 7323 2). SACK blocks are acknowledgement-space values and move with ACK_DELTA (RFC 2018).
import type { FlowDirection } from "../abi/flow-table.js";

export interface SpliceEndpoint {
  ip: number;
  port: number;
  mac: Uint8Array;
  /** Switch port it is reached on. */
  switchPort: number;
  /** Its initial sequence number. */
  isn: number;
}

export interface SplicePlanInput {
  client: SpliceEndpoint;
  /** The server, `port` its TCP port. */
  server: SpliceEndpoint;
  /** VIP and service port the client connected to. */
  vip: number;
  service: number;
  /** LOCAL_IP and the ephemeral port of the server-side connection. */
  localIp: number;
  localPort: number;
  /** The CP's ISNs: towards the client (the SYN cookie) and towards the server. */
  isnToClient: number;
  isnToServer: number;
  /**
   * Window units (shift counts) each side uses: the client's window fields are in 2^clientSends, the
   * server reads them in 2^serverReads; the server's are in 2^serverSends, the client reads them in
   * 2^clientReads. A side without window scaling uses 0.
   */
  windows: { clientSends: number; serverReads: number; serverSends: number; clientReads: number };
  /** Both sides negotiated SACK-permitted with the CP (per side). */
  sack: { client: boolean; server: boolean };
  /**
   * Timestamps negotiated on both sides: the newest TSval the CP sent the client, the server's TSval in its
   * SYN-ACK, and the offset of the CP's TSvals towards the server from the client's TSvals (the CP mirrors
   * the client's clock: 0).
   */
  timestamps: null | { lastTsValToClient: number; serverTsVal: number; toServerOffset: number };
}

/**
 * fwd: client -> VIP:service, rewritten LOCAL_IP:localPort -> server. rev: server -> LOCAL_IP:localPort,
 * rewritten VIP:service -> client.
 */
export function planSplice(p: SplicePlanInput): { fwd: FlowDirection; rev: FlowDirection } {
  // The client's sequence space maps onto the CP's towards the server, the server's onto the cookie's.
  const clientToServerSeq = (p.isnToServer - p.client.isn) >>> 0;
  const serverToClientSeq = (p.isnToClient - p.server.isn) >>> 0;
  const fwd: FlowDirection = {
    key: { saddr: p.client.ip, daddr: p.vip, sport: p.client.port, dport: p.service },
    rewrite: { saddr: p.localIp, daddr: p.server.ip, sport: p.localPort, dport: p.server.port },
    outPort: p.server.switchPort,
    nextHopMac: p.server.mac,
    seqDelta: clientToServerSeq,
    ackDelta: (-serverToClientSeq) >>> 0,
    winShift: clampShift(p.windows.clientSends - p.windows.serverReads),
    sack: p.sack.client,
  };
  const rev: FlowDirection = {
    key: { saddr: p.server.ip, daddr: p.localIp, sport: p.server.port, dport: p.localPort },
    rewrite: { saddr: p.vip, daddr: p.client.ip, sport: p.service, dport: p.client.port },
    outPort: p.client.switchPort,
    nextHopMac: p.client.mac,
    seqDelta: serverToClientSeq,
    ackDelta: (-clientToServerSeq) >>> 0,
    winShift: clampShift(p.windows.serverSends - p.windows.clientReads),
    sack: p.sack.client && p.sack.server,
  };
  if (p.timestamps) {
    // The client must see our clock continue without going back (PAWS): the server's TSvals are moved so
    // its SYN-ACK's TSval lands on the newest TSval we sent the client. Echoes move back the same way.
    const toClient = (p.timestamps.lastTsValToClient - p.timestamps.serverTsVal) >>> 0;
    const toServer = p.timestamps.toServerOffset >>> 0;
    fwd.timestamps = { tsvalDelta: toServer, tsecrDelta: (-toClient) >>> 0 };
    rev.timestamps = { tsvalDelta: toClient, tsecrDelta: (-toServer) >>> 0 };
  }
  return { fwd, rev };
}

const clampShift = (s: number) => Math.max(-16, Math.min(16, s));
