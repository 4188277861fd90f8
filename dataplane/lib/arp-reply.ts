// ARP responder (RFC 826): answers requests for the VIP or LOCAL_IP in place, with the in-port's MAC.
import {
  COUNTER_ARP_REPLIES, DESC_BUF, DESC_IN_PORT, DESC_LEN, DESC_OUT_PORT, REASON_ARP_NOT_FOR_US, REASON_ARP_TRUNCATED,
  REASON_ARP_UNSUPPORTED, VERDICT_FORWARD,
} from "./layout";
import { count, drop } from "./drop";
import { copyMac, load16be, store16be } from "./bytes";
import { isOurAddress, portMac } from "./config";
import { ETHERTYPE_IPV4, ETH_ALEN, ETH_DST, ETH_HLEN, ETH_SRC } from "./eth";
import {
  ARP_HLEN, ARP_HTYPE, ARP_HTYPE_ETHERNET, ARP_LEN, ARP_OPER, ARP_OP_REPLY, ARP_OP_REQUEST, ARP_PLEN, ARP_PTYPE,
  ARP_SHA, ARP_SPA, ARP_THA, ARP_TPA,
} from "./arp";

/** The ARP packet after the Ethernet header of `desc`: a request for us becomes our reply. */
export function replyArp(desc: usize): i32 {
  if (<u32>load<u16>(desc, DESC_LEN) < ETH_HLEN + ARP_LEN) return drop(desc, REASON_ARP_TRUNCATED);
  const frame = <usize>load<u32>(desc, DESC_BUF);
  const arp = frame + ETH_HLEN;
  if (
    load16be(arp, ARP_HTYPE) != ARP_HTYPE_ETHERNET || load16be(arp, ARP_PTYPE) != ETHERTYPE_IPV4 ||
    <u32>load<u8>(arp + ARP_HLEN) != ETH_ALEN || <u32>load<u8>(arp + ARP_PLEN) != 4 ||
    load16be(arp, ARP_OPER) != ARP_OP_REQUEST
  ) return drop(desc, REASON_ARP_UNSUPPORTED);
  const target = load<u32>(arp + ARP_TPA);
  if (!isOurAddress(target)) return drop(desc, REASON_ARP_NOT_FOR_US);
  const inPort = load<u8>(desc, DESC_IN_PORT);
  const mac = portMac(inPort);
  copyMac(frame + ETH_DST, frame + ETH_SRC);
  copyMac(frame + ETH_SRC, mac);
  store16be(arp, ARP_OP_REPLY, ARP_OPER);
  copyMac(arp + ARP_THA, arp + ARP_SHA);
  store<u32>(arp + ARP_TPA, load<u32>(arp + ARP_SPA));
  copyMac(arp + ARP_SHA, mac);
  store<u32>(arp + ARP_SPA, target);
  store<u8>(desc, inPort, DESC_OUT_PORT);
  count(COUNTER_ARP_REPLIES);
  return VERDICT_FORWARD;
}
