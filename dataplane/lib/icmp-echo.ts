// ICMP echo responder (RFC 792; RFC 1122 3.2.2.6): the request becomes the reply in place, checksums updated per RFC 1624.
import {
  COUNTER_ICMP_REPLIES, DESC_BUF, DESC_IN_PORT, DESC_L3, DESC_L4, DESC_OUT_PORT, REASON_ICMP_BAD_CHECKSUM,
  REASON_ICMP_TRUNCATED, REASON_ICMP_UNSUPPORTED, VERDICT_FORWARD,
} from "./layout";
import { count, drop } from "./drop";
import { copyMac, load16be, store16be } from "./bytes";
import { checksumAdd, checksumFold, csumApply, csumDelta16 } from "./checksum";
import { portMac } from "./config";
import { ETH_DST, ETH_SRC } from "./eth";
import { ICMP_CHECK, ICMP_CODE, ICMP_ECHO_HLEN, ICMP_ECHO_REPLY, ICMP_ECHO_REQUEST, ICMP_TYPE } from "./icmp";
import { IP_CHECK, IP_DADDR, IP_DEFAULT_TTL, IP_MIN_HLEN, IP_SADDR, IP_TOTAL_LEN, IP_TTL } from "./ipv4";

/**
 * An ICMP message to one of our addresses (IPv4 header already checked): an echo request is turned
 * into the echo reply (type 0, addresses and MACs swapped, TTL reset to 64) and sent back on its port.
 */
export function replyIcmpEcho(desc: usize): i32 {
  const frame = <usize>load<u32>(desc, DESC_BUF);
  const ip = frame + <usize>load<u16>(desc, DESC_L3);
  const icmp = frame + <usize>load<u16>(desc, DESC_L4);
  const len = load16be(ip, IP_TOTAL_LEN) - IP_MIN_HLEN;
  if (len < ICMP_ECHO_HLEN) return drop(desc, REASON_ICMP_TRUNCATED);
  const typeCode = load16be(icmp, ICMP_TYPE); // 0-1 type, code
  if (typeCode != ICMP_ECHO_REQUEST << 8) return drop(desc, REASON_ICMP_UNSUPPORTED);
  if (checksumFold(checksumAdd(icmp, len, 0)) != 0) return drop(desc, REASON_ICMP_BAD_CHECKSUM);

  store<u8>(icmp + ICMP_TYPE, <u8>ICMP_ECHO_REPLY);
  store<u8>(icmp + ICMP_CODE, 0);
  store16be(icmp, csumApply(load16be(icmp, ICMP_CHECK), csumDelta16(0, typeCode, ICMP_ECHO_REPLY << 8)), ICMP_CHECK);

  // Swapping the addresses leaves the header sum unchanged; only the TTL word changes.
  const src = load<u32>(ip + IP_SADDR);
  store<u32>(ip + IP_SADDR, load<u32>(ip + IP_DADDR));
  store<u32>(ip + IP_DADDR, src);
  const ttlProto = load16be(ip, IP_TTL); // 8 TTL, 9 protocol
  const newTtlProto = (IP_DEFAULT_TTL << 8) | (ttlProto & 0xff);
  store16be(ip, newTtlProto, IP_TTL);
  store16be(ip, csumApply(load16be(ip, IP_CHECK), csumDelta16(0, ttlProto, newTtlProto)), IP_CHECK);

  const inPort = load<u8>(desc, DESC_IN_PORT);
  copyMac(frame + ETH_DST, frame + ETH_SRC);
  copyMac(frame + ETH_SRC, portMac(inPort));
  store<u8>(desc, inPort, DESC_OUT_PORT);
  count(COUNTER_ICMP_REPLIES);
  return VERDICT_FORWARD;
}
