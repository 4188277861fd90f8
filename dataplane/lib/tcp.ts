// TCP header and option kinds (RFC 9293; options: RFC 7323 timestamps/window scale, RFC 2018 SACK).

@inline export const TCP_SPORT: usize = 0; // 0-1 source port
@inline export const TCP_DPORT: usize = 2; // 2-3 destination port
@inline export const TCP_PORTS: usize = 0; // 0-3 both ports as one word
@inline export const TCP_SEQ: usize = 4; // 4-7 sequence number
@inline export const TCP_ACK: usize = 8; // 8-11 acknowledgement number
@inline export const TCP_DOFF: usize = 12; // 12 data offset in words (high nibble)
@inline export const TCP_FLAGS: usize = 13; // 13 flags
@inline export const TCP_WINDOW: usize = 14; // 14-15 window
@inline export const TCP_CHECK: usize = 16; // 16-17 checksum
@inline export const TCP_URG_PTR: usize = 18; // 18-19 urgent pointer
@inline export const TCP_MIN_HLEN: u32 = 20;
@inline export const TCP_MAX_HLEN: u32 = 60;

@inline export const TCP_FIN: u32 = 0x01;
@inline export const TCP_SYN: u32 = 0x02;
@inline export const TCP_RST: u32 = 0x04;
@inline export const TCP_PSH: u32 = 0x08;
@inline export const TCP_ACK_FLAG: u32 = 0x10;
@inline export const TCP_URG: u32 = 0x20;

@inline export const TCPOPT_EOL: u32 = 0;
@inline export const TCPOPT_NOP: u32 = 1;
@inline export const TCPOPT_MSS: u32 = 2; // length 4
@inline export const TCPOPT_WSCALE: u32 = 3; // length 3
@inline export const TCPOPT_SACK_PERMITTED: u32 = 4; // length 2
@inline export const TCPOPT_SACK: u32 = 5; // length 2 + 8 * blocks, 1-4 blocks
@inline export const TCPOPT_TS: u32 = 8; // length 10
@inline export const TCPOPT_TS_LEN: u32 = 10;
@inline export const TCPOPT_TS_VAL: usize = 2; // 2-5 TSval, from the option's kind byte
@inline export const TCPOPT_TS_ECR: usize = 6; // 6-9 TSecr
@inline export const TCPOPT_SACK_BLOCKS: usize = 2; // first block, from the option's kind byte
@inline export const TCPOPT_SACK_BLOCK_LEN: u32 = 8; // 0-3 left edge, 4-7 right edge
@inline export const TCPOPT_SACK_MAX_BLOCKS: u32 = 4;

/** Largest window the 16-bit field holds. */
@inline export const TCP_MAX_WINDOW: u32 = 65535;
