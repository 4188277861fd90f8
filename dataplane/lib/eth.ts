// Ethernet II header (IEEE 802.3 clause 3, DIX framing).

@inline export const ETH_DST: usize = 0; // 0-5 destination MAC
@inline export const ETH_SRC: usize = 6; // 6-11 source MAC
@inline export const ETH_TYPE: usize = 12; // 12-13 EtherType
@inline export const ETH_HLEN: u32 = 14;
@inline export const ETH_ALEN: u32 = 6;

@inline export const ETHERTYPE_IPV4: u32 = 0x0800;
@inline export const ETHERTYPE_ARP: u32 = 0x0806;
