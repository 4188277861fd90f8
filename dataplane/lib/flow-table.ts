// Flow-table lookup: set-associative hash table of spliced TCP 4-tuples (layout: abi/layout.ts FLOW_ENTRY).
import * as np from "./np";
import {
  FLOWS_BASE, FLOW_KEY_DADDR, FLOW_KEY_SADDR, FLOW_KEY_SPORT, FLOW_SIZE, FLOW_STATE, FLOW_STATE_FREE, FLOW_WAYS,
  MAX_FLOWS, NO_FLOW,
} from "./layout";
import { IP_DADDR, IP_SADDR } from "./ipv4";
import { TCP_PORTS } from "./tcp";

/** Address of flow-table entry `index`. */
@inline export function flowEntry(index: u32): usize {
  return FLOWS_BASE + <usize>index * FLOW_SIZE;
}

/**
 * The entry matching the segment's 4-tuple (IPv4 header at `ip`, TCP header at `tcp`), or NO_FLOW.
 * Keys are compared as raw network bytes; the bucket hash uses the same raw little-endian words
 * as the host (abi/flow-table.ts).
 */
export function lookupFlow(ip: usize, tcp: usize): u32 {
  const saddr = load<u32>(ip + IP_SADDR);
  const daddr = load<u32>(ip + IP_DADDR);
  const ports = load<u32>(tcp + TCP_PORTS);
  const first = (np.hash(saddr, daddr, ports) & (MAX_FLOWS / FLOW_WAYS - 1)) * FLOW_WAYS;
  for (let i: u32 = first; i < first + FLOW_WAYS; i++) {
    const e = flowEntry(i);
    if (
      <i32>load<u8>(e + FLOW_STATE) != FLOW_STATE_FREE &&
      load<u32>(e + FLOW_KEY_SADDR) == saddr &&
      load<u32>(e + FLOW_KEY_DADDR) == daddr &&
      load<u32>(e + FLOW_KEY_SPORT) == ports
    ) return i;
  }
  return NO_FLOW;
}
