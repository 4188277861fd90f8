// TCP header check (RFC 9293 3.1, 3.10.7): length, data offset, options, flag combinations, optional checksum.
import {
  CFG_CHECK_TCP_CSUM, CONFIG_BASE, DESCF_HAS_PAYLOAD, DESC_BUF, DESC_FLAGS, DESC_L3, DESC_L4, DESC_PAYLOAD,
  REASON_TCP_BAD_CHECKSUM, REASON_TCP_BAD_DOFF, REASON_TCP_BAD_FLAGS, REASON_TCP_BAD_OPTION, REASON_TCP_TRUNCATED,
} from "./layout";
import { CONTINUE, drop } from "./drop";
import { load16be } from "./bytes";
import { checksumAdd, checksumFold } from "./checksum";
import { IPPROTO_TCP, IP_MIN_HLEN, IP_SADDR, IP_TOTAL_LEN } from "./ipv4";
import { TCP_DOFF, TCP_FLAGS, TCP_MIN_HLEN } from "./tcp";
import { TCP_OPTIONS_BAD, walkTcpOptions } from "./tcp-options";

/** DESCF_* bits of the low five TCP flag bits (FIN SYN RST PSH ACK), indexed by those bits. */
const DESC_FLAGS_OF_TCP: usize = memory.data<u8>([
  0, 4, 1, 5, 8, 12, 9, 13, 16, 20, 17, 21, 24, 28, 25, 29,
  2, 6, 3, 7, 10, 14, 11, 15, 18, 22, 19, 23, 26, 30, 27, 31,
]);

/**
 * Bit i set: the low five flag bits i (FIN SYN RST PSH ACK) are impossible. SYN+FIN, SYN+RST, and
 * any segment without ACK that is neither a SYN nor an RST (no flags, FIN/PSH/URG alone, "Xmas").
 */
@inline const BAD_FLAG_COMBOS: u32 = 0xc8c8cbcb;

/** Checks the TCP header at DESC_L4 (IPv4 already checked); sets DESC_PAYLOAD and the TCP bits of DESC_FLAGS. */
export function checkTcpHeader(desc: usize): i32 {
  const frame = <usize>load<u32>(desc, DESC_BUF);
  const ip = frame + <usize>load<u16>(desc, DESC_L3);
  const tcp = frame + <usize>load<u16>(desc, DESC_L4);
  const segLen = load16be(ip, IP_TOTAL_LEN) - IP_MIN_HLEN;
  if (segLen < TCP_MIN_HLEN) return drop(desc, REASON_TCP_TRUNCATED);
  const hlen = (<u32>load<u8>(tcp + TCP_DOFF) >> 4) << 2;
  if (hlen < TCP_MIN_HLEN || hlen > segLen) return drop(desc, REASON_TCP_BAD_DOFF);
  if (walkTcpOptions(tcp, hlen) == TCP_OPTIONS_BAD) return drop(desc, REASON_TCP_BAD_OPTION);
  const flags = <u32>load<u8>(tcp + TCP_FLAGS) & 0x1f;
  if ((BAD_FLAG_COMBOS >> flags) & 1) return drop(desc, REASON_TCP_BAD_FLAGS);
  if (load<u8>(CONFIG_BASE + CFG_CHECK_TCP_CSUM) != 0) {
    // Pseudo-header (RFC 9293 3.1): both addresses, protocol, TCP length.
    const pseudo = checksumAdd(ip + IP_SADDR, 8, IPPROTO_TCP + segLen);
    if (checksumFold(checksumAdd(tcp, segLen, pseudo)) != 0) return drop(desc, REASON_TCP_BAD_CHECKSUM);
  }
  store<u16>(desc, <u16>(<u32>load<u16>(desc, DESC_L4) + hlen), DESC_PAYLOAD);
  let bits = <u32>load<u8>(DESC_FLAGS_OF_TCP + flags);
  if (segLen > hlen) bits |= DESCF_HAS_PAYLOAD;
  store<u32>(desc, load<u32>(desc, DESC_FLAGS) | bits, DESC_FLAGS);
  return CONTINUE;
}
