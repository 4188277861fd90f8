// LVS connection thresholds (ip_vs_bind_dest / ip_vs_unbind_dest, IP_VS_DEST_F_OVERLOAD): a server is
// overloaded from the moment it holds upperThreshold connections until it falls below lowerThreshold
// (3/4 of the upper one when no lower is set). The hysteresis is per server and lives in the policy.
import type { ServerView } from "./policy.js";

export class OverloadTracker {
  private readonly over = new Set<number>();

  /** Whether `s`, holding `conns` connections now, is overloaded (updates its state). */
  overloaded(s: ServerView, conns: number): boolean {
    if (s.upperThreshold <= 0) {
      this.over.delete(s.index);
      return false;
    }
    if (conns >= s.upperThreshold) {
      this.over.add(s.index);
      return true;
    }
    if (!this.over.has(s.index)) return false;
    const below = s.lowerThreshold > 0 ? conns < s.lowerThreshold : conns * 4 < s.upperThreshold * 3;
    if (below) this.over.delete(s.index);
    return !below;
  }
}
