// A switch on a test bench: the real data-plane images (classify -> splice) and the ControlPlane on one NP
// memory, a virtual clock with timers, and a wire. Scripted clients and servers put frames on a port with
// deliver(); whatever leaves the switch (spliced by the data plane or sent by the CP) is taken per port.
import { loadDataplane, Rings, type Dataplane, type ProcessResult } from "../../sim/np/index.js";
import { decodeMessage, type RingMessage } from "../../abi/ring-message.js";
import { decodeStruct } from "../../abi/codec.js";
import { PACKET_DESC } from "../../abi/layout.js";
import { packet, type TcpOption } from "../../packet/builder.js";
import { decode, type DecodedFrame } from "../../packet/decode.js";
import { ip4ToU32 } from "../../packet/addr.js";
import { ControlPlane } from "../../controlplane/cp.js";
import { switchConfigOf, type CpConfig } from "../../controlplane/config.js";
import type { CpEnv } from "../../controlplane/env.js";
import type { CpOp } from "../../controlplane/costs.js";
import { type TablesAdapter } from "../../controlplane/tables/adapter.js";
import { SharedMemoryTables } from "../../controlplane/tables/shared-memory-tables.js";
import { createPolicy, type Policy } from "../../controlplane/policies/index.js";

export const MS = 1_000_000_000;
export const VIP = "10.0.0.100";
export const LOCAL_IP = "10.1.0.100";
/** Port 0 faces the clients, 1 and 2 the servers. */
export const PORT_MACS = ["02:00:00:00:00:10", "02:00:00:00:00:11", "02:00:00:00:00:12"];
export const CLIENT = { ip: "192.168.1.10", mac: "aa:bb:cc:00:00:01", port: 40000, switchPort: 0 };
export const SERVERS = [
  { name: "s1", ip: "10.1.0.11", mac: "aa:bb:cc:00:01:01", port: 1, tcpPort: 8080 },
  { name: "s2", ip: "10.1.0.12", mac: "aa:bb:cc:00:01:02", port: 2, tcpPort: 8080 },
];

export const BASE_CONFIG: CpConfig = {
  vip: VIP,
  localIp: LOCAL_IP,
  servicePorts: [80],
  portMacs: PORT_MACS,
  servers: SERVERS,
  synCookieSecret: "test secret of the switch",
  limits: { maxHeaderBytes: 4096, requestTimeoutPs: 5000 * MS, idleTimeoutPs: 60_000 * MS, lingerPs: 2000 * MS },
  checkTcpChecksum: true,
};

interface PendingTimer {
  at: number;
  order: number;
  fn: () => void;
  cancelled: boolean;
}

export interface Bench {
  dp: Dataplane;
  cp: ControlPlane;
  tables: TablesAdapter;
  /** Simulated time in picoseconds. */
  now: number;
  charges: Map<CpOp, number>;
  /** Put a frame on switch port `port` (as if it arrived there); the CP handles what the DP hands it. */
  deliver(port: number, frame: Uint8Array): ProcessResult;
  /** Frames that left the switch on `port` since the last take, decoded, oldest first. */
  take(port: number): DecodedFrame[];
  /** The raw bytes of the frames that left on `port` since the last take. */
  takeRaw(port: number): Uint8Array[];
  /** Let `ps` of simulated time pass, firing due timers in order. */
  advance(ps: number): void;
}

export async function bench(over: Partial<CpConfig> = {}, policy: Policy<any> = createPolicy("round-robin")): Promise<Bench> {
  const cfg: CpConfig = { ...BASE_CONFIG, ...over, limits: { ...BASE_CONFIG.limits, ...over.limits } };
  let now = 0;
  const dp = await loadDataplane({ drainToCp: false, clock: () => Math.floor(now / 1000) >>> 0 });
  dp.configure(switchConfigOf(cfg));
  const tables = new SharedMemoryTables(dp.memory);
  const out = new Map<number, Uint8Array[]>();
  const timers: PendingTimer[] = [];
  let order = 0;
  const charges = new Map<CpOp, number>();
  const emit = (port: number, frame: Uint8Array) => {
    if (!out.has(port)) out.set(port, []);
    out.get(port)!.push(frame);
  };
  const env: CpEnv = {
    now: () => now,
    send: emit,
    tables,
    setTimer(delayPs, fn) {
      const t: PendingTimer = { at: now + delayPs, order: order++, fn, cancelled: false };
      timers.push(t);
      return { cancel: () => void (t.cancelled = true) };
    },
    charge: (op, units = 1) => void charges.set(op, (charges.get(op) ?? 0) + units),
    frame(msg: RingMessage) {
      const mem = dp.memoryBytes();
      const d = decodeStruct(PACKET_DESC, mem, msg.desc);
      return mem.slice(d.BUF as number, (d.BUF as number) + (d.LEN as number));
    },
    freeBuffer: (desc) => dp.freeBuffer(desc),
  };
  const cp = new ControlPlane(cfg, env, policy);
  const toCp = Rings.id("TO_CP");
  const b: Bench = {
    dp, cp, tables, charges,
    get now() { return now; },
    set now(v: number) { now = v; },
    deliver(port, frame) {
      const r = dp.process(port, frame);
      if (r.verdict === "FORWARD") emit(r.outPort!, r.frame);
      for (const bytes of dp.rings.drain(toCp)) cp.onMessage(decodeMessage(toCp, bytes));
      return r;
    },
    takeRaw(port) {
      const frames = out.get(port) ?? [];
      out.set(port, []);
      return frames;
    },
    take(port) {
      return b.takeRaw(port).map(decode);
    },
    advance(ps) {
      const end = now + ps;
      for (;;) {
        const due = timers.filter((t) => !t.cancelled && t.at <= end).sort((x, y) => x.at - y.at || x.order - y.order)[0];
        if (!due) break;
        timers.splice(timers.indexOf(due), 1);
        now = Math.max(now, due.at);
        due.fn();
      }
      now = end;
    },
  };
  return b;
}

// ---------------------------------------------------------------------------------------------------------
// Scripted endpoints

export interface Seg {
  seq: number;
  ack?: number;
  flags: string;
  win?: number;
  options?: TcpOption[];
  payload?: string | Uint8Array;
}

/** A segment from the client (CLIENT, or another source port) to VIP:80, as it arrives on port 0. */
export function fromClient(s: Seg, sport = CLIENT.port): Uint8Array {
  const b = packet().eth({ src: CLIENT.mac, dst: PORT_MACS[0] }).ipv4({ src: CLIENT.ip, dst: VIP, flags: "DF", id: 0x4242 })
    .tcp({ sport, dport: 80, seq: s.seq >>> 0, ack: (s.ack ?? 0) >>> 0, flags: s.flags, win: s.win ?? 502, options: s.options });
  return (s.payload !== undefined ? b.payload(s.payload) : b).build();
}

/** A segment from server `i` to LOCAL_IP:localPort, as it arrives on its port. */
export function fromServer(i: number, localPort: number, s: Seg): Uint8Array {
  const sv = SERVERS[i];
  const b = packet().eth({ src: sv.mac, dst: PORT_MACS[sv.port] }).ipv4({ src: sv.ip, dst: LOCAL_IP, flags: "DF", id: 0x0707 })
    .tcp({ sport: sv.tcpPort, dport: localPort, seq: s.seq >>> 0, ack: (s.ack ?? 0) >>> 0, flags: s.flags, win: s.win ?? 65535, options: s.options });
  return (s.payload !== undefined ? b.payload(s.payload) : b).build();
}

export const tsOf = (f: DecodedFrame) => {
  const o = f.tcp?.options.find((x) => x.kind === "ts");
  return o && o.kind === "ts" ? o : undefined;
};
export const optionKinds = (f: DecodedFrame) => f.tcp!.options.map((o) => o.kind).filter((k) => k !== "nop" && k !== "eol");
export const text = (b: Uint8Array) => new TextDecoder("latin1").decode(b);
export const u32 = (v: number) => v >>> 0;
export const addr = ip4ToU32;
