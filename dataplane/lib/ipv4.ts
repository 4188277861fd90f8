// IPv4 header (RFC 791).

@inline export const IP_VER_IHL: usize = 0; // 0 version (high nibble), header length in words (low nibble)
@inline export const IP_TOS: usize = 1; // 1 type of service
@inline export const IP_TOTAL_LEN: usize = 2; // 2-3 total length
@inline export const IP_ID: usize = 4; // 4-5 identification
@inline export const IP_FRAG: usize = 6; // 6-7 flags (3 bits) and fragment offset (13 bits)
@inline export const IP_TTL: usize = 8; // 8 time to live
@inline export const IP_PROTO: usize = 9; // 9 protocol
@inline export const IP_CHECK: usize = 10; // 10-11 header checksum
@inline export const IP_SADDR: usize = 12; // 12-15 source address
@inline export const IP_DADDR: usize = 16; // 16-19 destination address
@inline export const IP_MIN_HLEN: u32 = 20;

@inline export const IP_VERSION_4: u32 = 4;
/** MF flag and fragment offset bits of IP_FRAG (host order); DF (0x4000) is allowed. */
@inline export const IP_MF_OFFSET_MASK: u32 = 0x3fff;

@inline export const IPPROTO_ICMP: u32 = 1;
@inline export const IPPROTO_TCP: u32 = 6;

/** TTL of packets the switch originates (echo replies). */
@inline export const IP_DEFAULT_TTL: u32 = 64;
