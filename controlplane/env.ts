// What the control-plane program needs from the machine it runs on (the simulator's CP core, the device,
// or a test): a clock, frame transmit, the data-plane tables (docs/ARCHITECTURE.md, "The tables adapter"), timers, cycle accounting,
// and access to the packet buffers the exception-ring messages refer to.
import type { RingMessage } from "../abi/ring-message.js";
import type { CpOp } from "./costs.js";
import type { TablesAdapter } from "./tables/adapter.js";

export interface CpTimer {
  cancel(): void;
}

export interface CpEnv {
  /** Simulated time in picoseconds (monotonic). */
  now(): number;
  /** Transmit a frame the CP built on switch port `port` (Ethernet header included, checksums final). */
  send(port: number, frame: Uint8Array): void;
  /** The data plane's flow table. */
  tables: TablesAdapter;
  /** Call `fn` once after `delayPs` picoseconds of simulated time. */
  setTimer(delayPs: number, fn: () => void): CpTimer;
  /** CP cycle accounting: `units` of operation `op` (costs: controlplane/costs.ts). */
  charge(op: CpOp, units?: number): void;
  /** The bytes of the frame a ring message refers to (valid until freeBuffer of its descriptor). */
  frame(msg: RingMessage): Uint8Array;
  /**
   * Give the packet buffer of a message back to the data plane. The CP calls it exactly once for every
   * message whose packet the data plane handed over (MSG FLOW = NO_FLOW: SYN, SEGMENT, UNKNOWN), after it
   * has copied what it needs; FIN/RST reports on spliced flows refer to packets the data plane forwarded
   * itself, and are never freed by the CP.
   */
  freeBuffer(desc: number): void;
}
