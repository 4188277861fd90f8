// ARP packet for Ethernet/IPv4 (RFC 826).

@inline export const ARP_HTYPE: usize = 0; // 0-1 hardware type
@inline export const ARP_PTYPE: usize = 2; // 2-3 protocol type
@inline export const ARP_HLEN: usize = 4; // 4 hardware address length
@inline export const ARP_PLEN: usize = 5; // 5 protocol address length
@inline export const ARP_OPER: usize = 6; // 6-7 operation
@inline export const ARP_SHA: usize = 8; // 8-13 sender hardware address
@inline export const ARP_SPA: usize = 14; // 14-17 sender protocol address
@inline export const ARP_THA: usize = 18; // 18-23 target hardware address
@inline export const ARP_TPA: usize = 24; // 24-27 target protocol address
@inline export const ARP_LEN: u32 = 28;

@inline export const ARP_HTYPE_ETHERNET: u32 = 1;
@inline export const ARP_OP_REQUEST: u32 = 1;
@inline export const ARP_OP_REPLY: u32 = 2;
