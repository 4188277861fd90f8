// Data-plane packet fixtures (Katran/PTF style): one input frame, the expected verdict, reason,
// port, output bytes (with a PTF mask of fields the device may rewrite) and ring message.
import type { Dataplane, ProcessResult, RingMessage, SwitchConfig, Verdict } from "../../sim/np/dataplane.js";
import { hexDump } from "../../sim/packet/hex.js";
import { compareFrames, type Mask } from "../../sim/packet/mask.js";
import { FLAGS } from "../../toolchain/abi/layout.js";

export { compareFrames, fieldAt, maskBytes, type Mask } from "../../sim/packet/mask.js";

export interface FixtureExpect {
  verdict: Verdict;
  /** Reason name (REASON members of toolchain/abi/layout.ts), e.g. 'IP_BAD_CHECKSUM'. */
  reason?: string;
  outPort?: number;
  output?: { bytes: Uint8Array; mask?: Mask };
  /** The packet's one ring message matches these fields (RingMessage: type, urlHash, flags, ...). */
  message?: Partial<RingMessage>;
  /** DescFlag bits that must be set / clear in the message (or the descriptor when no message). */
  flagsSet?: number;
  flagsClear?: number;
}

export interface Fixture {
  description: string;
  /** Config changes on top of DEFAULT_CONFIG (e.g. { checkTcpChecksum: true }). */
  config?: Partial<SwitchConfig>;
  /** Runs after configure, before the packet (install flows, fill tables). */
  setup?: (dp: Dataplane) => void;
  inPort: number;
  input: Uint8Array;
  expect: FixtureExpect;
}

// ---------------------------------------------------------------------------------------------
// The network the fixtures live in.

export const VIP = "10.0.0.100";
export const LOCAL_IP = "10.1.0.100";
export const SERVICE_PORT = 80;
/** Port 0 faces the clients, ports 1.. face the servers. */
export const PORT_MACS = ["02:00:00:00:00:10", "02:00:00:00:00:11", "02:00:00:00:00:12", "02:00:00:00:00:13"];
export const CLIENT_PORT = 0;
export const SERVER_PORT = 1;
export const CLIENT = { ip: "192.168.1.10", mac: "aa:bb:cc:00:00:01", port: 40000 };
export const CLIENT2 = { ip: "192.168.1.11", mac: "aa:bb:cc:00:00:02", port: 40001 };
export const SERVER = { ip: "10.1.0.11", mac: "aa:bb:cc:00:01:01", port: 8080 };
export const SERVER2 = { ip: "10.1.0.12", mac: "aa:bb:cc:00:01:02", port: 8080 };

/** Ethernet / IPv4 specs for the usual directions: client -> VIP on port 0, server -> LOCAL_IP on port 1. */
export const CLIENT_ETH = { src: CLIENT.mac, dst: PORT_MACS[CLIENT_PORT] };
export const CLIENT_TO_VIP = { src: CLIENT.ip, dst: VIP };
export const SERVER_ETH = { src: SERVER.mac, dst: PORT_MACS[SERVER_PORT] };
export const SERVER_TO_LOCAL = { src: SERVER.ip, dst: LOCAL_IP };

/** DescFlag bits by name (SYN, ACK, HAS_PAYLOAD, REQUEST_LINE, HOST, HEADERS_END, ...), from the declaration. */
export const DESCF: Record<string, number> = Object.fromEntries(
  FLAGS.find((f) => f.prefix === "DESCF_")!.bits.map((b, i) => [b.name, 1 << i]),
);

export const DEFAULT_CONFIG: SwitchConfig = {
  vip: VIP,
  localIp: LOCAL_IP,
  servicePorts: [SERVICE_PORT],
  portMacs: PORT_MACS,
  checkTcpChecksum: false,
};

// ---------------------------------------------------------------------------------------------
// Masks

// ---------------------------------------------------------------------------------------------
// Running

/** Every way `result` differs from `fx.expect`, as lines; empty when it matches. */
export function checkResult(fx: Fixture, r: ProcessResult, dropCountDelta?: number): string[] {
  const e = fx.expect;
  const problems: string[] = [];
  if (r.trap) problems.push(`image ${r.trap.image} trapped: ${r.trap.error}`);
  if (r.verdict !== e.verdict) problems.push(`verdict: expected ${e.verdict}, got ${r.verdict}${r.reason ? ` (${r.reason})` : ""}`);
  if (e.reason !== undefined && r.reason !== e.reason) problems.push(`reason: expected ${e.reason}, got ${r.reason ?? "none"}`);
  if (r.verdict === "DROP" && dropCountDelta !== undefined && dropCountDelta !== 1) problems.push(`counter of ${r.reason}: went up by ${dropCountDelta}, expected 1`);
  if (e.outPort !== undefined && r.outPort !== e.outPort) problems.push(`out port: expected ${e.outPort}, got ${r.outPort ?? "none"}`);
  if (e.output) {
    const diff = compareFrames(e.output.bytes, r.frame, e.output.mask);
    if (diff) problems.push(`output frame differs${e.output.mask?.length ? ` (masked: ${e.output.mask.join(", ")})` : ""}:\n${diff}`);
  }
  if (e.message) {
    const toCp = r.messages.filter((m) => m.ring === "TO_CP");
    if (toCp.length !== 1) problems.push(`message: expected one on TO_CP, got ${toCp.length}`);
    else {
      for (const [k, v] of Object.entries(e.message)) {
        const got = (toCp[0] as unknown as Record<string, unknown>)[k];
        if (got !== v) problems.push(`message.${k}: expected ${fmt(v)}, got ${fmt(got)}`);
      }
    }
  }
  if (e.flagsSet !== undefined || e.flagsClear !== undefined) {
    const flags = r.messages[0]?.flags ?? (r.desc.FLAGS as number);
    if (e.flagsSet !== undefined && (flags & e.flagsSet) !== e.flagsSet) problems.push(`flags: expected bits 0x${e.flagsSet.toString(16)} set, flags are 0x${flags.toString(16)}`);
    if (e.flagsClear !== undefined && (flags & e.flagsClear) !== 0) problems.push(`flags: expected bits 0x${e.flagsClear.toString(16)} clear, flags are 0x${flags.toString(16)}`);
  }
  return problems;
}

function fmt(v: unknown): string {
  return typeof v === "number" ? `${v} (0x${(v >>> 0).toString(16)})` : String(v);
}

/** Configure, set up, process the input, and throw one readable error listing every mismatch. */
export function runFixture(dp: Dataplane, fx: Fixture): ProcessResult {
  dp.configure({ ...DEFAULT_CONFIG, ...fx.config });
  fx.setup?.(dp);
  const before = dp.counters().reasons;
  const r = dp.process(fx.inPort, fx.input);
  const delta = r.reason !== undefined ? dp.counters().reasons[r.reason] - before[r.reason] : undefined;
  const problems = checkResult(fx, r, delta);
  if (problems.length) {
    throw new Error(
      `fixture "${fx.description}"\n` + problems.map((p) => `  - ${p}`).join("\n") + `\ninput (port ${fx.inPort}, ${fx.input.length} bytes):\n${hexDump(fx.input)}`,
    );
  }
  return r;
}
