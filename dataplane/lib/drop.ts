// Counted drops and event counters (Click-style: every drop names its Reason and bumps its counter).
import { COUNTERS_BASE, DESC_REASON, MAX_REASONS, VERDICT_DROP } from "./layout";

/** A stage's "not decided yet" result; any value >= 0 is a final Verdict. */
@inline export const CONTINUE: i32 = -1;

/** Drop the packet of `desc` for `reason`: record it, count it, return VERDICT_DROP. */
export function drop(desc: usize, reason: i32): i32 {
  store<u16>(desc, <u16>reason, DESC_REASON);
  const counter = COUNTERS_BASE + (<usize>reason << 2);
  store<u32>(counter, load<u32>(counter) + 1);
  return VERDICT_DROP;
}

/** Increment event counter `counter` (a COUNTER_* value). */
export function count(counter: i32): void {
  const at = COUNTERS_BASE + ((<usize>MAX_REASONS + <usize>counter) << 2);
  store<u32>(at, load<u32>(at) + 1);
}
