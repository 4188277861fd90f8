// A spliced connection for data-plane tests: the two flow entries of client <-> VIP <-> server, segments
// as each end sends them, and the same segments after the splice, computed here from the entries
// (independently of the images) and built from scratch with the packet builder.
import { packet, tcpFlagBits, TCP_FLAG, type TcpOption } from "../../sim/packet/builder.js";
import { ip4ToU32 } from "../../sim/packet/addr.js";
import { CAPACITIES } from "../../toolchain/abi/layout.js";
import { flowBucket, type FlowDirection } from "../../controlplane/tables/flow-table.js";
import {
  CLIENT, CLIENT_ETH, CLIENT_PORT, CLIENT_TO_VIP, LOCAL_IP, PORT_MACS, SERVER, SERVER_ETH, SERVER_PORT,
  SERVER_TO_LOCAL, VIP,
} from "./fixture.js";

export const u32 = (v: number) => v >>> 0;
export const macOf = (m: string) => Uint8Array.from(m.split(":"), (h) => parseInt(h, 16));

/** The switch's port towards the server for this connection. */
export const LOCAL_PORT = 50000;

// Sequence spaces: the client's, the CP's towards the client (its SYN-cookie ISN), the CP's towards
// the server, and the server's. Deltas map one onto the other, mod 2^32.
export const CLIENT_ISN = 1000;
export const CP_ISN_TO_CLIENT = 5000;
export const CP_ISN_TO_SERVER = 7_000_000;
export const SERVER_ISN = 9_123_457;
// Timestamp clocks (RFC 7323): what the client sends, what the CP sent each side, what the server sends.
export const TSVAL_DELTA_TO_SERVER = 0x0010_0000; // client clock -> the CP's clock towards the server
export const TSECR_DELTA_TO_SERVER = 0xfff0_0010; // the CP's clock towards the client -> server clock echoed

export interface Splice {
  fwd: FlowDirection;
  rev: FlowDirection;
}

export function splice(over: { fwd?: Partial<FlowDirection>; rev?: Partial<FlowDirection>; serverPort?: number } = {}): Splice {
  const outPort = over.serverPort ?? SERVER_PORT;
  return {
    fwd: {
      key: { saddr: ip4ToU32(CLIENT.ip), daddr: ip4ToU32(VIP), sport: CLIENT.port, dport: 80 },
      rewrite: { saddr: ip4ToU32(LOCAL_IP), daddr: ip4ToU32(SERVER.ip), sport: LOCAL_PORT, dport: SERVER.port },
      outPort, nextHopMac: macOf(SERVER.mac),
      seqDelta: u32(CP_ISN_TO_SERVER - CLIENT_ISN), ackDelta: u32(SERVER_ISN - CP_ISN_TO_CLIENT),
      timestamps: { tsvalDelta: TSVAL_DELTA_TO_SERVER, tsecrDelta: TSECR_DELTA_TO_SERVER }, sack: true,
      ...over.fwd,
    },
    rev: {
      key: { saddr: ip4ToU32(SERVER.ip), daddr: ip4ToU32(LOCAL_IP), sport: SERVER.port, dport: LOCAL_PORT },
      rewrite: { saddr: ip4ToU32(VIP), daddr: ip4ToU32(CLIENT.ip), sport: 80, dport: CLIENT.port },
      outPort: CLIENT_PORT, nextHopMac: macOf(CLIENT.mac),
      seqDelta: u32(CP_ISN_TO_CLIENT - SERVER_ISN), ackDelta: u32(CLIENT_ISN - CP_ISN_TO_SERVER),
      timestamps: { tsvalDelta: u32(-TSECR_DELTA_TO_SERVER), tsecrDelta: u32(-TSVAL_DELTA_TO_SERVER) }, sack: true,
      ...over.rev,
    },
  };
}

export const SPLICE = splice();
export const WAYS = CAPACITIES.FLOW_WAYS.value;
/** Where installSplice puts the two directions on an empty table (the first free way of each bucket). */
export const FWD_INDEX = flowBucket(SPLICE.fwd.key) * WAYS;
export const REV_INDEX = flowBucket(SPLICE.rev.key) * WAYS + (flowBucket(SPLICE.rev.key) === flowBucket(SPLICE.fwd.key) ? 1 : 0);

export interface Segment {
  flags: string;
  seq: number;
  ack?: number;
  win?: number;
  options?: TcpOption[];
  payload?: string;
  ttl?: number;
  id?: number;
}

export const hasAck = (s: Segment) => (tcpFlagBits(s.flags) & TCP_FLAG.A) !== 0;

/** A segment as the client sends it to VIP:80 on the client port. */
export function fromClient(s: Segment): Uint8Array {
  const b = packet().eth(CLIENT_ETH).ipv4({ ...CLIENT_TO_VIP, ttl: s.ttl ?? 64, id: s.id ?? 0x4242, flags: "DF" })
    .tcp({ sport: CLIENT.port, dport: 80, seq: s.seq, ack: s.ack, flags: s.flags, win: s.win ?? 502, options: s.options });
  return (s.payload ? b.payload(s.payload) : b).build();
}

/** A segment as the server sends it to LOCAL_IP:LOCAL_PORT on the server port. */
export function fromServer(s: Segment): Uint8Array {
  const b = packet().eth(SERVER_ETH).ipv4({ ...SERVER_TO_LOCAL, ttl: s.ttl ?? 64, id: s.id ?? 0x0707, flags: "DF" })
    .tcp({ sport: SERVER.port, dport: LOCAL_PORT, seq: s.seq, ack: s.ack, flags: s.flags, win: s.win ?? 65535, options: s.options });
  return (s.payload ? b.payload(s.payload) : b).build();
}

/** The segment after the splice of direction `d`, computed here from the segment and the entry. */
export function translated(s: Segment, d: FlowDirection, ipId: number): Uint8Array {
  const ack = hasAck(s);
  const shift = d.winShift ?? 0;
  const win0 = s.win ?? 0;
  const syn = (tcpFlagBits(s.flags) & TCP_FLAG.S) !== 0;
  const win = syn || shift === 0 ? win0 : shift > 0 ? Math.min(win0 * 2 ** shift, 65535) : Math.floor(win0 / 2 ** -shift);
  const options = s.options?.map((o): TcpOption => {
    if (o.kind === "ts" && d.timestamps) return { kind: "ts", val: u32(o.val + d.timestamps.tsvalDelta), ecr: ack ? u32(o.ecr + d.timestamps.tsecrDelta) : o.ecr };
    if (o.kind === "sack" && d.sack) return { kind: "sack", blocks: o.blocks.map(([l, r]) => [u32(l + d.ackDelta), u32(r + d.ackDelta)]) };
    return o;
  });
  const ip = (v: number) => [v >>> 24, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff].join(".");
  const b = packet().eth({ src: PORT_MACS[d.outPort], dst: [...d.nextHopMac].map((x) => x.toString(16).padStart(2, "0")).join(":") })
    .ipv4({ src: ip(d.rewrite.saddr), dst: ip(d.rewrite.daddr), ttl: (s.ttl ?? 64) - 1, id: ipId, flags: "DF" })
    .tcp({
      sport: d.rewrite.sport, dport: d.rewrite.dport, seq: u32(s.seq + d.seqDelta), ack: ack ? u32((s.ack ?? 0) + d.ackDelta) : s.ack,
      flags: s.flags, win, options,
    });
  return (s.payload ? b.payload(s.payload) : b).build();
}

export const toServer = (s: Segment, sp: Splice = SPLICE) => translated({ ...s, win: s.win ?? 502 }, sp.fwd, s.id ?? 0x4242);
export const toClient = (s: Segment, sp: Splice = SPLICE) => translated({ ...s, win: s.win ?? 65535 }, sp.rev, s.id ?? 0x0707);

