// Probe image for the harness tests: the first frame byte selects what it does, so the host model
// (sim/np) can be tested without the real classify image.
import { ring_put, hash, crc32, timestamp } from "../../../../dataplane/lib/np";
import {
  DESC_BUF, DESC_LEN, DESC_IN_PORT, DESC_OUT_PORT, DESC_REASON, DESC_URL_HASH, DESC_HOST_HASH, DESC_FLAGS,
  COUNTERS_BASE, SCRATCH_MSG_BASE, MSG_SIZE, MSG_TYPE, MSG_IN_PORT, MSG_DESC, MSG_LEN,
  VERDICT_DROP, VERDICT_FORWARD, VERDICT_TO_CP, VERDICT_NEXT, REASON_RING_FULL, RING_TO_CP,
} from "../../../../dataplane/lib/layout";

@inline const CMD = 0; // 0 command
@inline const ARG = 1; // 1 argument

function drop(desc: usize, reason: u32): i32 {
  store<u16>(desc, <u16>reason, DESC_REASON);
  const c = COUNTERS_BASE + 4 * <usize>reason;
  store<u32>(c, load<u32>(c) + 1);
  return VERDICT_DROP;
}

export function init(): void {}

export function process(desc: usize): i32 {
  const buf = <usize>load<u32>(desc, DESC_BUF);
  const len = <u32>load<u16>(desc, DESC_LEN);
  const cmd = load<u8>(buf, CMD);
  const arg = load<u8>(buf, ARG);
  if (cmd == 0) return drop(desc, arg);
  if (cmd == 1) {
    store<u8>(desc, arg, DESC_OUT_PORT);
    store<u8>(buf + 2, 0xee); // a visible rewrite
    return VERDICT_FORWARD;
  }
  if (cmd == 2) {
    const msg = SCRATCH_MSG_BASE;
    for (let i: usize = 0; i < MSG_SIZE; i += 4) store<u32>(msg + i, 0);
    store<u8>(msg, arg, MSG_TYPE);
    store<u8>(msg, load<u8>(desc, DESC_IN_PORT), MSG_IN_PORT);
    store<u32>(msg, <u32>desc, MSG_DESC);
    store<u16>(msg, <u16>len, MSG_LEN);
    if (!ring_put(RING_TO_CP, msg, MSG_SIZE)) return drop(desc, REASON_RING_FULL);
    return VERDICT_TO_CP;
  }
  if (cmd == 3) return VERDICT_NEXT;
  if (cmd == 4) unreachable();
  if (cmd == 5) return <i32>load<u32>(0xfffffff0);
  if (cmd == 6) {
    store<u32>(desc, crc32(buf + 2, len - 2, 0), DESC_URL_HASH);
    store<u32>(desc, hash(1, 2, 3), DESC_HOST_HASH);
    store<u32>(desc, timestamp(), DESC_FLAGS);
    return VERDICT_FORWARD;
  }
  return 9; // not a verdict
}
