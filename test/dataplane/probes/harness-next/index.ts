// Probe image for the harness tests: the second pipeline stage; forwards on the port in frame byte 2.
import { DESC_BUF, DESC_OUT_PORT, VERDICT_FORWARD } from "../../../../dataplane/lib/layout";

export function init(): void {}

export function process(desc: usize): i32 {
  const buf = <usize>load<u32>(desc, DESC_BUF);
  store<u8>(desc, load<u8>(buf, 2), DESC_OUT_PORT);
  return VERDICT_FORWARD;
}
