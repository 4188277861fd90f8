// ICMP echo header (RFC 792).

@inline export const ICMP_TYPE: usize = 0; // 0 type
@inline export const ICMP_CODE: usize = 1; // 1 code
@inline export const ICMP_CHECK: usize = 2; // 2-3 checksum
@inline export const ICMP_ID: usize = 4; // 4-5 identifier
@inline export const ICMP_SEQ: usize = 6; // 6-7 sequence number
@inline export const ICMP_ECHO_HLEN: u32 = 8;

@inline export const ICMP_ECHO_REPLY: u32 = 0;
@inline export const ICMP_ECHO_REQUEST: u32 = 8;
