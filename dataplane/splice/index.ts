// Image "splice": TCP splicing of a matched segment: seq/ack (RFC 9293), timestamps and window scale (RFC 7323), SACK (RFC 2018), checksums by RFC 1624.
import * as np from "../lib/np";
import {
  COUNTER_SPLICED, COUNTER_TEARDOWNS, DESCF_HAS_PAYLOAD, DESC_BUF, DESC_FLAGS, DESC_FLOW, DESC_L3, DESC_L4, DESC_OUT_PORT, FLOWF_FIN_SEEN,
  FLOWF_RST_SEEN, FLOWF_SACK, FLOWF_TS, FLOW_ACK_DELTA, FLOW_FLAGS, FLOW_LAST_SEEN, FLOW_NEW_DADDR, FLOW_NEW_DMAC, FLOW_NEW_SADDR,
  FLOW_NEW_SPORT, FLOW_OUT_PORT, FLOW_PACKETS, FLOW_SEQ_DELTA, FLOW_STATE, FLOW_STATE_ACTIVE, FLOW_STATE_CLOSING,
  FLOW_TSECR_DELTA, FLOW_TSVAL_DELTA, FLOW_WIN_SHIFT, MAX_FLOWS, MSG_TYPE_FIN, MSG_TYPE_RST, REASON_IP_TTL_EXPIRED,
  REASON_TCP_CLOSED_FLOW, VERDICT_FORWARD,
} from "../lib/layout";
import { count, drop } from "../lib/drop";
import { copyMac, load16be, load32be, store16be, store32be } from "../lib/bytes";
import { csumApply, csumDelta16, csumDelta32, csumDelta32Odd } from "../lib/checksum";
import { portMac } from "../lib/config";
import { ETH_DST, ETH_SRC } from "../lib/eth";
import { IP_CHECK, IP_DADDR, IP_SADDR, IP_TTL } from "../lib/ipv4";
import {
  TCPOPT_SACK_BLOCKS, TCPOPT_SACK_BLOCK_LEN, TCPOPT_TS_ECR, TCPOPT_TS_VAL, TCP_ACK, TCP_ACK_FLAG, TCP_CHECK,
  TCP_DOFF, TCP_FIN, TCP_FLAGS, TCP_MAX_WINDOW, TCP_MIN_HLEN, TCP_PORTS, TCP_RST, TCP_SEQ, TCP_SYN, TCP_WINDOW,
} from "../lib/tcp";
import { optSack, optSackBlocks, optTimestamp, walkTcpOptions } from "../lib/tcp-options";
import { flowEntry } from "../lib/flow-table";
import { putCpMessage } from "../lib/cp-message";

/** TTL and protocol as one host-order word (IP bytes 8-9): below this the TTL is 0 or 1. */
@inline const TTL_2: u32 = 0x0200;
/** Largest useful window shift: any larger left shift of a non-zero window saturates, any larger right shift gives 0. */
@inline const MAX_SHIFT: i32 = 16;

export function init(): void {}

export function process(desc: usize): i32 {
  const index = load<u32>(desc, DESC_FLOW);
  if (index >= MAX_FLOWS) return drop(desc, REASON_TCP_CLOSED_FLOW);
  const flow = flowEntry(index);
  const state = <i32>load<u8>(flow + FLOW_STATE);
  if (state != FLOW_STATE_ACTIVE && state != FLOW_STATE_CLOSING) return drop(desc, REASON_TCP_CLOSED_FLOW);
  const frame = <usize>load<u32>(desc, DESC_BUF);
  const ip = frame + <usize>load<u16>(desc, DESC_L3);
  const tcp = frame + <usize>load<u16>(desc, DESC_L4);
  const ttlProto = load16be(ip, IP_TTL);
  if (ttlProto < TTL_2) return drop(desc, REASON_IP_TTL_EXPIRED);

  // IPv4: addresses and TTL. The address change is also the TCP pseudo-header's change.
  const addrDelta = csumDelta32(
    csumDelta32(0, load32be(ip, IP_SADDR), load32be(flow, FLOW_NEW_SADDR)),
    load32be(ip, IP_DADDR), load32be(flow, FLOW_NEW_DADDR),
  );
  store<u64>(ip + IP_SADDR, load<u64>(flow + FLOW_NEW_SADDR)); // NEW_SADDR, NEW_DADDR are adjacent, as in the header
  store16be(ip, ttlProto - 0x100, IP_TTL);
  store16be(ip, csumApply(load16be(ip, IP_CHECK), csumDelta16(addrDelta, ttlProto, ttlProto - 0x100)), IP_CHECK);

  // TCP: ports, sequence space, window, options.
  const tcpFlags = <u32>load<u8>(tcp + TCP_FLAGS);
  let d = csumDelta32(addrDelta, load32be(tcp, TCP_PORTS), load32be(flow, FLOW_NEW_SPORT));
  store<u32>(tcp + TCP_PORTS, load<u32>(flow + FLOW_NEW_SPORT));
  d = translate32(tcp + TCP_SEQ, load<u32>(flow + FLOW_SEQ_DELTA), d, false);
  if (tcpFlags & TCP_ACK_FLAG) d = translate32(tcp + TCP_ACK, load<u32>(flow + FLOW_ACK_DELTA), d, false);
  d = rescaleWindow(tcp, <i32>load<i8>(flow + FLOW_WIN_SHIFT), tcpFlags, d);
  const hlen = (<u32>load<u8>(tcp + TCP_DOFF) >> 4) << 2;
  const flowFlags = <u32>load<u8>(flow + FLOW_FLAGS);
  if (hlen > TCP_MIN_HLEN && (flowFlags & (FLOWF_TS | FLOWF_SACK))) d = translateOptions(tcp, hlen, flow, flowFlags, tcpFlags, d);
  store16be(tcp, csumApply(load16be(tcp, TCP_CHECK), d), TCP_CHECK);

  // Ethernet: next hop and the out port's own address.
  const outPort = load<u8>(flow + FLOW_OUT_PORT);
  copyMac(frame + ETH_DST, flow + FLOW_NEW_DMAC);
  copyMac(frame + ETH_SRC, portMac(outPort));

  if (tcpFlags & (TCP_FIN | TCP_RST)) reportTeardown(desc, flow, index, tcpFlags, flowFlags);
  if (load<u32>(desc, DESC_FLAGS) & DESCF_HAS_PAYLOAD) store<u32>(flow + FLOW_PACKETS, load<u32>(flow + FLOW_PACKETS) + 1);
  store<u32>(flow + FLOW_LAST_SEEN, np.timestamp());
  store<u8>(desc, outPort, DESC_OUT_PORT);
  count(COUNTER_SPLICED);
  return VERDICT_FORWARD;
}

/**
 * Add `delta` (mod 2^32) to the big-endian 32-bit field at `p`; returns the checksum delta
 * accumulated with the change. `odd`: the field sits at an odd offset from the TCP header.
 */
function translate32(p: usize, delta: u32, csum: u32, odd: bool): u32 {
  const old = load32be(p);
  const now = old + delta;
  store32be(p, now);
  return odd ? csumDelta32Odd(csum, old, now) : csumDelta32(csum, old, now);
}

/** Window field times 2^shift (shift < 0 divides), clamped to 65535; a SYN's window is never scaled (RFC 7323 2.2). */
function rescaleWindow(tcp: usize, shift: i32, tcpFlags: u32, csum: u32): u32 {
  if (shift == 0 || (tcpFlags & TCP_SYN)) return csum;
  const win = load16be(tcp, TCP_WINDOW);
  let now: u32;
  if (shift > 0) {
    now = win << <u32>min(shift, MAX_SHIFT);
    if (now > TCP_MAX_WINDOW) now = TCP_MAX_WINDOW;
  } else {
    now = win >> <u32>min(-shift, MAX_SHIFT);
  }
  store16be(tcp, now, TCP_WINDOW);
  return csumDelta16(csum, win, now);
}

/** Timestamps (TSval; TSecr only on an ACK, RFC 7323 3.2) and SACK block edges, as the flow negotiated them. */
function translateOptions(tcp: usize, hlen: u32, flow: usize, flowFlags: u32, tcpFlags: u32, csum: u32): u32 {
  const walk = walkTcpOptions(tcp, hlen);
  if (walk < 0) return csum; // classify rejected malformed options already
  const ts = <usize>optTimestamp(walk);
  if (ts != 0 && (flowFlags & FLOWF_TS)) {
    const odd = (ts & 1) != 0;
    csum = translate32(tcp + ts + TCPOPT_TS_VAL, load<u32>(flow + FLOW_TSVAL_DELTA), csum, odd);
    if (tcpFlags & TCP_ACK_FLAG) csum = translate32(tcp + ts + TCPOPT_TS_ECR, load<u32>(flow + FLOW_TSECR_DELTA), csum, odd);
  }
  const sack = <usize>optSack(walk);
  if (sack != 0 && (flowFlags & FLOWF_SACK)) {
    const odd = (sack & 1) != 0;
    const delta = load<u32>(flow + FLOW_ACK_DELTA);
    const end = tcp + sack + TCPOPT_SACK_BLOCKS + <usize>optSackBlocks(walk) * TCPOPT_SACK_BLOCK_LEN;
    for (let edge = tcp + sack + TCPOPT_SACK_BLOCKS; edge < end; edge += 4) csum = translate32(edge, delta, csum, odd);
  }
  return csum;
}

/**
 * FIN/RST: the flow is closing; tell the CP once per flag and direction (again on a retransmission
 * if the ring was full the first time). The segment is forwarded either way.
 */
function reportTeardown(desc: usize, flow: usize, index: u32, tcpFlags: u32, flowFlags: u32): void {
  store<u8>(flow + FLOW_STATE, <u8>FLOW_STATE_CLOSING);
  const seen = (tcpFlags & TCP_FIN ? FLOWF_FIN_SEEN : 0) | (tcpFlags & TCP_RST ? FLOWF_RST_SEEN : 0);
  if ((seen & ~flowFlags) == 0) return;
  if (!putCpMessage(desc, tcpFlags & TCP_RST ? MSG_TYPE_RST : MSG_TYPE_FIN, index)) return;
  store<u8>(flow + FLOW_FLAGS, <u8>(flowFlags | seen));
  count(COUNTER_TEARDOWNS);
}
