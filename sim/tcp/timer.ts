// A re-armable deadline on the scheduler that does not schedule an event per re-arm: moving
// the deadline later (the common case, e.g. the RTO restarted by every ACK) leaves the
// pending event in place, and the event re-schedules itself when it fires early.
import type { Scheduler, Timer } from "../engine/scheduler.js";
import type { Picos } from "../../lib/time.js";

export class LazyTimer {
  private deadline: Picos = Infinity;
  private pending: Timer | undefined;
  private readonly fire: () => void;

  constructor(private readonly sched: Scheduler, private readonly onExpire: () => void) {
    this.fire = () => this.fired();
  }

  get armed(): boolean {
    return this.deadline !== Infinity;
  }

  get expiresAt(): Picos {
    return this.deadline;
  }

  /** Expire at `deadline` (replacing any earlier or later deadline). */
  arm(deadline: Picos): void {
    this.deadline = deadline;
    if (this.pending && this.pending.at <= deadline) return;
    this.pending?.cancel();
    this.pending = this.sched.at(deadline, this.fire);
  }

  /** Arm only if not armed already. */
  armIfIdle(deadline: Picos): void {
    if (this.deadline === Infinity) this.arm(deadline);
  }

  disarm(): void {
    this.deadline = Infinity;
  }

  private fired(): void {
    this.pending = undefined;
    if (this.deadline === Infinity) return;
    if (this.sched.now < this.deadline) {
      this.pending = this.sched.at(this.deadline, this.fire);
      return;
    }
    this.deadline = Infinity;
    this.onExpire();
  }
}
