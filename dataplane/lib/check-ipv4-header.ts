// IPv4 header check (RFC 791, RFC 1812 5.2.2): the fast path takes whole, option-less, unfragmented datagrams.
import {
  DESC_BUF, DESC_L3, DESC_L4, DESC_LEN, REASON_IP_BAD_CHECKSUM, REASON_IP_BAD_HLEN, REASON_IP_BAD_TOTAL_LEN,
  REASON_IP_BAD_VERSION, REASON_IP_FRAGMENT, REASON_IP_OPTIONS, REASON_IP_TRUNCATED,
} from "./layout";
import { CONTINUE, drop } from "./drop";
import { load16be } from "./bytes";
import { checksumAdd, checksumFold } from "./checksum";
import { ETH_HLEN } from "./eth";
import { IP_FRAG, IP_MF_OFFSET_MASK, IP_MIN_HLEN, IP_TOTAL_LEN, IP_VERSION_4, IP_VER_IHL } from "./ipv4";

/** Checks the IPv4 header after the Ethernet header; on success sets DESC_L3 and DESC_L4. */
export function checkIpv4Header(desc: usize): i32 {
  const frameLen = <u32>load<u16>(desc, DESC_LEN);
  if (frameLen < ETH_HLEN + IP_MIN_HLEN) return drop(desc, REASON_IP_TRUNCATED);
  const ip = <usize>load<u32>(desc, DESC_BUF) + ETH_HLEN;
  const verIhl = <u32>load<u8>(ip + IP_VER_IHL);
  if (verIhl >> 4 != IP_VERSION_4) return drop(desc, REASON_IP_BAD_VERSION);
  const hlen = (verIhl & 0xf) << 2;
  if (hlen < IP_MIN_HLEN) return drop(desc, REASON_IP_BAD_HLEN);
  const total = load16be(ip, IP_TOTAL_LEN);
  if (total < hlen || total > frameLen - ETH_HLEN) return drop(desc, REASON_IP_BAD_TOTAL_LEN);
  if (hlen != IP_MIN_HLEN) return drop(desc, REASON_IP_OPTIONS);
  if (load16be(ip, IP_FRAG) & IP_MF_OFFSET_MASK) return drop(desc, REASON_IP_FRAGMENT);
  if (checksumFold(checksumAdd(ip, IP_MIN_HLEN, 0)) != 0) return drop(desc, REASON_IP_BAD_CHECKSUM);
  store<u16>(desc, <u16>ETH_HLEN, DESC_L3);
  store<u16>(desc, <u16>(ETH_HLEN + IP_MIN_HLEN), DESC_L4);
  return CONTINUE;
}
