// Control-processor cycle costs per operation: what the simulator's CP core charges when the control plane
// reports work through CpEnv.charge(op, units). Every number is an assumption for an XScale-class core
// (IXP2400's 600 MHz XScale: 32 KB I/D caches, no FPU, ~1 instruction per cycle on cache hits, SRAM/scratch
// reads ~100 cycles); none is measured yet. The point is relative weight, so the simulator can show where CP
// time goes (handshakes and parsing vs. splice installs) and how many connections per second one CP sustains.

export type CpOp =
  | "message"
  | "syn_cookie"
  | "handshake"
  | "parse_request_per_byte"
  | "policy_select"
  | "connect"
  | "install_splice"
  | "teardown"
  | "timer"
  | "tx_frame"
  | "wakeup";

export interface CpCost {
  /** Cycles per unit of the operation (one unit unless the op says "per ..."). */
  cycles: number;
  /** What the number covers and where it comes from. */
  source: string;
}

export const CP_COSTS: Readonly<Record<CpOp, CpCost>> = {
  message: {
    cycles: 300,
    source: "assumption: ring_get of a 32-byte message from scratch (~100 cycles latency) + decode and dispatch",
  },
  syn_cookie: {
    cycles: 1500,
    source: "assumption: one keyed hash over the 4-tuple, ISN and time slot (~100 B of input) plus option encoding",
  },
  handshake: {
    cycles: 800,
    source: "assumption: allocate and initialise per-connection state, start the request timer",
  },
  parse_request_per_byte: {
    cycles: 20,
    source: "assumption: byte-wise scan for CRLF/CRLFCRLF, header tokenising and hashing, per request byte",
  },
  policy_select: {
    cycles: 400,
    source: "assumption: round-robin style choice over a small pool; heavier policies charge more units",
  },
  connect: {
    cycles: 600,
    source: "assumption: ephemeral port allocation, server-side state, connect timer (the SYN itself is tx_frame)",
  },
  install_splice: {
    cycles: 1200,
    source: "assumption: two 64-byte flow entries written to SRAM (~30 writes) plus the bucket probes (~8 SRAM reads)",
  },
  teardown: {
    cycles: 500,
    source: "assumption: read both entries, clear them in SRAM, free the port and the connection state",
  },
  timer: {
    cycles: 150,
    source: "assumption: timer wheel expiry and callback dispatch",
  },
  wakeup: {
    cycles: 2500,
    source: "assumption: the CP is woken for ring work (interrupt entry/exit, context switch, cache refill); paid once per batch of messages (Aron et al., USENIX 2000: most dispatcher overhead is per communication, not per request)",
  },
  tx_frame: {
    cycles: 700,
    source: "assumption: build a TCP/IP frame with options and both checksums (~60 B header) and put it on the TX ring",
  },
};

/** Cycles of `units` of `op` by the table. */
export function cpCycles(op: CpOp, units = 1): number {
  return CP_COSTS[op].cycles * units;
}
