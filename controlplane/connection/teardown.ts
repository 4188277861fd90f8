// Tearing a splice down: FIN/RST reports from the data plane, the linger before the entries go, their
// removal with the policy's done hook, and the idle scan that removes splices whose counters stopped moving.
import type { RingMessage } from "../../abi/ring-message.js";
import type { CpTimer } from "../env.js";
import type { ConnectionResult, Policy } from "../policies/policy.js";
import type { CpContext } from "./context.js";
import type { Connection } from "./record.js";
import { noteAnswer } from "./replay.js";

/** What teardown asks of the rest of the control plane (controlplane/cp.ts). */
export interface TeardownOps {
  forget(conn: Connection): void;
  /** The policy dispatching now: only it hears done for the splices it placed. */
  currentPolicy(): Policy<any>;
}

export class SpliceTeardown {
  private idleTimer?: CpTimer;

  constructor(private readonly core: CpContext, private readonly ops: TeardownOps) {}

  /** A FIN or RST report from the data plane on a spliced flow: after both FINs or an RST the entries linger, then go. */
  onReport(msg: RingMessage): void {
    const conn = this.core.conns.byEntry.get(msg.flow);
    if (!conn || (conn.phase !== "spliced" && conn.phase !== "closing")) return;
    if (msg.type === "RST") conn.reset = true;
    else if (msg.flow === conn.fwd) conn.finFwd = true;
    else conn.finRev = true;
    if (!((conn.finFwd && conn.finRev) || conn.reset) || conn.lingerTimer) return;
    conn.phase = "closing";
    this.endActive(conn); // LVS: a finished connection is inactive while its entries linger
    conn.lingerTimer = this.core.env.setTimer(this.core.cfg.limits.lingerPs, () => {
      this.core.env.charge("timer");
      conn.lingerTimer = undefined;
      this.remove(conn, false);
    });
  }

  /** Remove the splice (its entries) and forget the connection; `idle`: counted as an idle teardown too. */
  remove(conn: Connection, idle: boolean): void {
    if (conn.phase === "closed") return;
    this.core.env.charge("teardown");
    this.unsplice(conn);
    this.core.counters.teardowns++;
    if (idle) this.core.counters.idleTeardowns++;
    this.ops.forget(conn);
  }

  /**
   * Remove both entries of the splice and tell the policy that placed it (done hook) what the flow table
   * counted: the server -> client entry's PACKETS (segments with payload) and the splice's lifetime.
   */
  unsplice(conn: Connection): void {
    if (conn.fwd === undefined) return;
    const rev = this.core.env.tables.read(conn.rev!);
    this.core.env.tables.remove(conn.fwd);
    this.core.conns.removeEntries(conn);
    conn.replay?.timer?.cancel();
    conn.replay = undefined;
    const leg = conn.leg;
    if (!leg) return;
    const view = this.core.servers[leg.server.index];
    this.endActive(conn);
    const result: ConnectionResult = { responsePackets: rev?.packets ?? 0, durationPs: this.core.env.now() - conn.splicedAtPs };
    if (leg.policy === this.ops.currentPolicy() && conn.request) leg.policy.done?.(view, conn.request, result);
  }

  /** The connection no longer counts in its server's activeConnections (at FINs/RST, or removal). */
  private endActive(conn: Connection): void {
    if (!conn.countedActive || !conn.leg) return;
    conn.countedActive = false;
    this.core.servers[conn.leg.server.index].activeConnections--;
  }

  /** Keep an idle scan armed while any connection is spliced. */
  armIdleScan(): void {
    if (this.idleTimer || this.core.conns.spliced.size === 0) return;
    this.idleTimer = this.core.env.setTimer(this.core.cfg.tcp.idleScanPs, () => {
      this.core.env.charge("timer");
      this.idleTimer = undefined;
      this.scanIdle();
      this.armIdleScan();
    });
  }

  /**
   * Idle check. LAST_SEEN is the microengines' 32-bit timestamp counter (it wraps within seconds at ME
   * clock rates, and its unit is the chip's), so the CP compares it with its own earlier reading instead of
   * with a clock: a connection whose PACKETS/LAST_SEEN have not moved for idleTimeoutPs is idle.
   */
  private scanIdle(): void {
    const now = this.core.env.now();
    for (const conn of [...this.core.conns.spliced]) {
      if (conn.phase !== "spliced" && conn.phase !== "closing") continue;
      const f = this.core.env.tables.read(conn.fwd!);
      const r = this.core.env.tables.read(conn.rev!);
      if (!f || !r) {
        this.ops.forget(conn); // someone else removed the entries
        continue;
      }
      noteAnswer(conn, r);
      const sig = `${f.packets},${f.lastSeen},${r.packets},${r.lastSeen}`;
      if (sig !== conn.activity.sig) conn.activity = { sig, sincePs: now };
      else if (now - conn.activity.sincePs >= this.core.cfg.limits.idleTimeoutPs) this.remove(conn, true);
    }
  }

  /** Stop the idle scan. */
  close(): void {
    this.idleTimer?.cancel();
    this.idleTimer = undefined;
  }
}
