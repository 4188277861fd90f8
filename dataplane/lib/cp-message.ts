// Exception-ring messages to the control plane (layout: abi/layout.ts RING_MSG).
import * as np from "./np";
import {
  DESC_FLAGS, DESC_HOST_HASH, DESC_IN_PORT, DESC_LEN, DESC_PAYLOAD, DESC_URL_HASH, MSG_DESC, MSG_FLAGS, MSG_FLOW,
  MSG_HOST_HASH, MSG_IN_PORT, MSG_LEN, MSG_PAYLOAD, MSG_REASON, MSG_SIZE, MSG_TIME, MSG_TYPE, MSG_URL_HASH, RING_TO_CP,
} from "./layout";

/** Staging buffer of this image's messages (static data in the image's slot). */
const STAGING: usize = memory.data(MSG_SIZE, 4);

/**
 * Put a message of `type` about the packet of `desc` (and flow-table entry `flow`, or NO_FLOW) on
 * the exception ring. Returns false when the ring is full; the caller decides what that costs.
 */
export function putCpMessage(desc: usize, type: i32, flow: u32): bool {
  store<u8>(STAGING, <u8>type, MSG_TYPE);
  store<u8>(STAGING, load<u8>(desc, DESC_IN_PORT), MSG_IN_PORT);
  store<u16>(STAGING, 0, MSG_REASON);
  store<u32>(STAGING, <u32>desc, MSG_DESC);
  store<u16>(STAGING, load<u16>(desc, DESC_LEN), MSG_LEN);
  store<u16>(STAGING, load<u16>(desc, DESC_PAYLOAD), MSG_PAYLOAD);
  store<u32>(STAGING, flow, MSG_FLOW);
  store<u32>(STAGING, load<u32>(desc, DESC_URL_HASH), MSG_URL_HASH);
  store<u32>(STAGING, load<u32>(desc, DESC_HOST_HASH), MSG_HOST_HASH);
  store<u32>(STAGING, load<u32>(desc, DESC_FLAGS), MSG_FLAGS);
  store<u32>(STAGING, np.timestamp(), MSG_TIME);
  return np.ring_put(RING_TO_CP, STAGING, MSG_SIZE) != 0;
}
