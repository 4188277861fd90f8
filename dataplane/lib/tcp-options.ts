// Bounded walk over TCP options (RFC 9293 3.2; RFC 7323 timestamps, RFC 2018 SACK).
import {
  TCPOPT_EOL, TCPOPT_NOP, TCPOPT_SACK, TCPOPT_SACK_BLOCK_LEN, TCPOPT_SACK_BLOCKS, TCPOPT_SACK_MAX_BLOCKS,
  TCPOPT_TS, TCPOPT_TS_LEN, TCP_MIN_HLEN,
} from "./tcp";

/** walkTcpOptions result for a malformed option list (length 0/1, or an option running past the header). */
@inline export const TCP_OPTIONS_BAD: i32 = -1;

/** Offset of the timestamp option's kind byte from the TCP header, or 0 when absent. */
@inline export function optTimestamp(walk: i32): u32 { return <u32>walk & 0xff; }
/** Offset of the SACK option's kind byte from the TCP header, or 0 when absent. */
@inline export function optSack(walk: i32): u32 { return (<u32>walk >>> 8) & 0xff; }
/** Number of SACK blocks (1-4), 0 when absent. */
@inline export function optSackBlocks(walk: i32): u32 { return <u32>walk >>> 16; }

/**
 * Walk the options of the TCP header at `tcp` whose length is `hlen` bytes (already checked to lie
 * within the segment). Returns TCP_OPTIONS_BAD, or where the options the splice translates are:
 * timestamp offset | SACK offset << 8 | SACK blocks << 16. Options of a known kind but an unexpected
 * length are skipped like unknown ones (not translated); only what cannot be walked is rejected.
 */
export function walkTcpOptions(tcp: usize, hlen: u32): i32 {
  let found: u32 = 0;
  let at: u32 = TCP_MIN_HLEN;
  while (at < hlen) {
    const kind = <u32>load<u8>(tcp + at);
    if (kind == TCPOPT_EOL) break;
    if (kind == TCPOPT_NOP) { at++; continue; }
    if (at + 1 >= hlen) return TCP_OPTIONS_BAD;
    const len = <u32>load<u8>(tcp + at + 1);
    if (len < 2 || at + len > hlen) return TCP_OPTIONS_BAD;
    if (kind == TCPOPT_TS && len == TCPOPT_TS_LEN) {
      found = (found & ~0xff) | at;
    } else if (kind == TCPOPT_SACK) {
      const blocks = (len - <u32>TCPOPT_SACK_BLOCKS) / TCPOPT_SACK_BLOCK_LEN;
      const exact = blocks * TCPOPT_SACK_BLOCK_LEN + <u32>TCPOPT_SACK_BLOCKS == len;
      if (exact && blocks >= 1 && blocks <= TCPOPT_SACK_MAX_BLOCKS) found = (found & 0xff) | (at << 8) | (blocks << 16);
    }
    at += len;
  }
  return <i32>found;
}
