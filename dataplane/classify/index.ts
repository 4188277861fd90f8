// Image "classify": every frame first; ARP (RFC 826) and ICMP echo (RFC 792) answered, TCP (RFC 9293) checked and sent to splice (spliced flow) or the CP.
import {
  COUNTER_RX, COUNTER_TO_CP, DESCF_ACK, DESCF_FIN, DESCF_HAS_PAYLOAD, DESCF_RST, DESCF_SYN, DESC_BUF, DESC_FLAGS, DESC_FLOW, DESC_HOST_HASH,
  DESC_L3, DESC_L4, DESC_OUT_PORT, DESC_PAYLOAD, DESC_REASON, DESC_URL_HASH, FLOW_STATE, FLOW_STATE_CLOSED,
  MSG_TYPE_SEGMENT, MSG_TYPE_SYN, NO_FLOW, FLOW_STATE_CLOSING, REASON_ETH_UNSUPPORTED, REASON_IP_NOT_FOR_US, REASON_IP_UNSUPPORTED_PROTO,
  REASON_RING_FULL, REASON_TCP_CLOSED_FLOW, REASON_TCP_NO_SERVICE, VERDICT_NEXT, VERDICT_TO_CP,
} from "../lib/layout";
import { count, drop } from "../lib/drop";
import { load16be } from "../lib/bytes";
import { isOurAddress, isServicePort, vipRaw } from "../lib/config";
import { ETHERTYPE_ARP, ETHERTYPE_IPV4, ETH_TYPE } from "../lib/eth";
import { IPPROTO_ICMP, IPPROTO_TCP, IP_DADDR, IP_PROTO } from "../lib/ipv4";
import { TCP_DPORT } from "../lib/tcp";
import { flowEntry, lookupFlow } from "../lib/flow-table";
import { putCpMessage } from "../lib/cp-message";
import { checkEthernet } from "../lib/check-ethernet";
import { checkIpv4Header } from "../lib/check-ipv4-header";
import { checkTcpHeader } from "../lib/check-tcp-header";
import { parseHttpRequest } from "../lib/http-request";
import { replyArp } from "../lib/arp-reply";
import { replyIcmpEcho } from "../lib/icmp-echo";

export function init(): void {}

export function process(desc: usize): i32 {
  count(COUNTER_RX);
  clearResults(desc);
  let v = checkEthernet(desc);
  if (v >= 0) return v;
  const frame = <usize>load<u32>(desc, DESC_BUF);
  const type = load16be(frame, ETH_TYPE);
  if (type == ETHERTYPE_ARP) return replyArp(desc);
  if (type != ETHERTYPE_IPV4) return drop(desc, REASON_ETH_UNSUPPORTED);
  v = checkIpv4Header(desc);
  if (v >= 0) return v;
  const ip = frame + <usize>load<u16>(desc, DESC_L3);
  if (!isOurAddress(load<u32>(ip + IP_DADDR))) return drop(desc, REASON_IP_NOT_FOR_US);
  const proto = <u32>load<u8>(ip + IP_PROTO);
  if (proto == IPPROTO_ICMP) return replyIcmpEcho(desc);
  if (proto != IPPROTO_TCP) return drop(desc, REASON_IP_UNSUPPORTED_PROTO);
  v = checkTcpHeader(desc);
  if (v >= 0) return v;
  return classifyTcp(desc, ip, frame + <usize>load<u16>(desc, DESC_L4));
}

/** The stages' results start empty: the host may reuse descriptors. */
function clearResults(desc: usize): void {
  store<u8>(desc, 0, DESC_OUT_PORT);
  store<u16>(desc, 0, DESC_L3);
  store<u16>(desc, 0, DESC_L4);
  store<u16>(desc, 0, DESC_PAYLOAD);
  store<u16>(desc, 0, DESC_REASON);
  store<u32>(desc, NO_FLOW, DESC_FLOW);
  store<u32>(desc, 0, DESC_URL_HASH);
  store<u32>(desc, 0, DESC_HOST_HASH);
  store<u32>(desc, 0, DESC_FLAGS);
}

/** SYN without ACK, FIN or RST: the only segment that opens a connection. */
@inline function isPureSyn(flags: u32): bool {
  return (flags & (DESCF_SYN | DESCF_ACK | DESCF_FIN | DESCF_RST)) == DESCF_SYN;
}

/** A checked TCP segment to one of our addresses: spliced flow -> splice, else -> control plane. */
function classifyTcp(desc: usize, ip: usize, tcp: usize): i32 {
  const flow = lookupFlow(ip, tcp);
  if (flow != NO_FLOW) {
    const state = <i32>load<u8>(flowEntry(flow) + FLOW_STATE);
    if (state == FLOW_STATE_CLOSED) return drop(desc, REASON_TCP_CLOSED_FLOW);
    // A pure SYN on a closing flow's 4-tuple is a client reusing its port while the old entries
    // linger (RFC 9293 3.10.7.4): a new connection, the CP's. Anything else stays spliced.
    if (state != FLOW_STATE_CLOSING || !isPureSyn(load<u32>(desc, DESC_FLAGS))) {
      store<u32>(desc, flow, DESC_FLOW);
      return VERDICT_NEXT;
    }
  }
  const flags = load<u32>(desc, DESC_FLAGS);
  if (load<u32>(ip + IP_DADDR) == vipRaw()) {
    if (!isServicePort(<u32>load<u16>(tcp + TCP_DPORT))) return drop(desc, REASON_TCP_NO_SERVICE);
    if (flags & DESCF_HAS_PAYLOAD) parseHttpRequest(desc);
  }
  // Anything not yet spliced (to a service on the VIP, or to LOCAL_IP from a server) is the CP's.
  const msgType = isPureSyn(flags) ? MSG_TYPE_SYN : MSG_TYPE_SEGMENT; // only a pure SYN opens
  if (!putCpMessage(desc, msgType, NO_FLOW)) return drop(desc, REASON_RING_FULL);
  count(COUNTER_TO_CP);
  return VERDICT_TO_CP;
}
