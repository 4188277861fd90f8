// Shared layouts for the data plane. GENERATED from abi/layout.ts by
// `npm run gen:layout`; do not edit: change the declaration and regenerate.

@inline export const ABI_VERSION: u32 = 1; // abi/abi.ts
@inline export const MEMORY_PAGES: u32 = 128; // 8 MiB shared linear memory
@inline export const NO_FLOW: u32 = 0xffffffff; // no flow-table entry

// Capacities
@inline export const MAX_FLOWS: u32 = 32768; // flow-table entries (one per direction of a spliced connection); power of two; 2 MiB of SRAM
@inline export const FLOW_WAYS: u32 = 8; // entries per hash bucket (set-associative lookup, no chains): 8 ways keep a bucket overflow below one in 10^8 installs at 10% occupancy
@inline export const MAX_BUFFERS: u32 = 1024; // packet buffers in DRAM
@inline export const BUFFER_SIZE: u32 = 2048; // bytes per packet buffer (one Ethernet frame up to 1518 B plus headroom)
@inline export const MAX_PORTS: u32 = 8; // switch ports
@inline export const MAX_SERVICES: u32 = 8; // virtual services (TCP ports on the VIP)
@inline export const MAX_IMAGES: u32 = 8; // data-plane images in one firmware (one static-data slot each)
@inline export const IMAGE_SLOT_SIZE: u32 = 8192; // bytes of static data and scratch per image slot
@inline export const MAX_REASONS: u32 = 64; // drop-reason counter slots
@inline export const MAX_COUNTERS: u32 = 32; // event counter slots

// Memory map (np.memory)
@inline export const IMAGE_DATA_BASE: usize = 0x00010000; // local: per-image static data (lookup tables); image i starts at base + i * IMAGE_SLOT_SIZE
@inline export const IMAGE_DATA_BYTES: u32 = 0x00010000;
@inline export const CONFIG_BASE: usize = 0x00020000; // scratch: switch configuration written by the CP (Config struct)
@inline export const CONFIG_BYTES: u32 = 0x00001000;
@inline export const COUNTERS_BASE: usize = 0x00021000; // scratch: drop-reason counters (u32 each, by Reason) then event counters (by Counter)
@inline export const COUNTERS_BYTES: u32 = 0x00001000;
@inline export const SCRATCH_MSG_BASE: usize = 0x00022000; // scratch: per-image ring message staging: image i at base + i * 1024
@inline export const SCRATCH_MSG_BYTES: u32 = 0x00002000;
@inline export const DESCRIPTORS_BASE: usize = 0x00100000; // sram: packet descriptors (PacketDesc), one per buffer
@inline export const DESCRIPTORS_BYTES: u32 = 0x00008000;
@inline export const FLOWS_BASE: usize = 0x00200000; // sram: flow table (FlowEntry x MAX_FLOWS), bucket b holds entries [b*FLOW_WAYS, (b+1)*FLOW_WAYS)
@inline export const FLOWS_BYTES: u32 = 0x00200000;
@inline export const BUFFERS_BASE: usize = 0x00400000; // dram: packet buffers
@inline export const BUFFERS_BYTES: u32 = 0x00200000;
@inline export const SIM_TRACE_BASE: usize = 0x007f0000; // local: simulator only: the timing trace the simulator's instrumentation writes; images never use it
@inline export const SIM_TRACE_BYTES: u32 = 0x00010000;

// Packet descriptor in SRAM: the host fills buf/len/inPort, the stages fill the rest.
@inline export const DESC_SIZE: u32 = 32; // bytes
@inline export const DESC_BUF: usize = 0; // 0-3 u32 address of the frame's first byte (Ethernet header)
@inline export const DESC_LEN: usize = 4; // 4-5 u16 frame length in bytes
@inline export const DESC_IN_PORT: usize = 6; // 6-6 u8 port the frame arrived on
@inline export const DESC_OUT_PORT: usize = 7; // 7-7 u8 port to send on (FORWARD)
@inline export const DESC_L3: usize = 8; // 8-9 u16 offset of the IP header from BUF
@inline export const DESC_L4: usize = 10; // 10-11 u16 offset of the TCP/ICMP header from BUF
@inline export const DESC_PAYLOAD: usize = 12; // 12-13 u16 offset of the TCP payload from BUF
@inline export const DESC_REASON: usize = 14; // 14-15 u16 Reason of a DROP verdict (0 otherwise)
@inline export const DESC_FLOW: usize = 16; // 16-19 u32 flow-table index found by classify, or NO_FLOW
@inline export const DESC_URL_HASH: usize = 20; // 20-23 u32 CRC-32 of the request URL when the segment holds a complete request line, else 0
@inline export const DESC_HOST_HASH: usize = 24; // 24-27 u32 CRC-32 of the lower-cased Host header value when present in the segment, else 0
@inline export const DESC_FLAGS: usize = 28; // 28-31 u32 DescFlag bits

// One direction of a spliced connection: match on the arriving 4-tuple, rewrite to the outgoing one.
@inline export const FLOW_SIZE: u32 = 64; // bytes
@inline export const FLOW_KEY_SADDR: usize = 0; // 0-3 be32 match: IPv4 source address
@inline export const FLOW_KEY_DADDR: usize = 4; // 4-7 be32 match: IPv4 destination address
@inline export const FLOW_KEY_SPORT: usize = 8; // 8-9 be16 match: TCP source port
@inline export const FLOW_KEY_DPORT: usize = 10; // 10-11 be16 match: TCP destination port
@inline export const FLOW_STATE: usize = 12; // 12-12 u8 FlowState
@inline export const FLOW_FLAGS: usize = 13; // 13-13 u8 FlowFlag bits
@inline export const FLOW_OUT_PORT: usize = 14; // 14-14 u8 port to forward on
@inline export const FLOW_WIN_SHIFT: usize = 15; // 15-15 u8 window rescale as i8: window' = shift >= 0 ? window << shift : window >> -shift (clamped to 65535)
@inline export const FLOW_NEW_SADDR: usize = 16; // 16-19 be32 rewrite: IPv4 source address
@inline export const FLOW_NEW_DADDR: usize = 20; // 20-23 be32 rewrite: IPv4 destination address
@inline export const FLOW_NEW_SPORT: usize = 24; // 24-25 be16 rewrite: TCP source port
@inline export const FLOW_NEW_DPORT: usize = 26; // 26-27 be16 rewrite: TCP destination port
@inline export const FLOW_SEQ_DELTA: usize = 28; // 28-31 u32 added (mod 2^32) to the sequence number
@inline export const FLOW_ACK_DELTA: usize = 32; // 32-35 u32 added (mod 2^32) to the acknowledgement number and to SACK block edges
@inline export const FLOW_TSVAL_DELTA: usize = 36; // 36-39 u32 added (mod 2^32) to the timestamp option's TSval
@inline export const FLOW_TSECR_DELTA: usize = 40; // 40-43 u32 added (mod 2^32) to the timestamp option's TSecr
@inline export const FLOW_NEW_DMAC: usize = 44; // 44-49 mac rewrite: Ethernet destination (next hop); the source is the out port's MAC
@inline export const FLOW_PEER: usize = 52; // 52-55 u32 index of the entry for the other direction
@inline export const FLOW_PACKETS: usize = 56; // 56-59 u32 segments with payload forwarded by this entry (0 on the server side: no response byte yet)
@inline export const FLOW_LAST_SEEN: usize = 60; // 60-63 u32 np timestamp() of the last packet

// Message on a scratch ring between data plane and control plane.
@inline export const MSG_SIZE: u32 = 32; // bytes
@inline export const MSG_TYPE: usize = 0; // 0-0 u8 MsgType
@inline export const MSG_IN_PORT: usize = 1; // 1-1 u8 port the packet arrived on
@inline export const MSG_REASON: usize = 2; // 2-3 u16 why the DP sent it (Reason or 0)
@inline export const MSG_DESC: usize = 4; // 4-7 u32 descriptor address of the packet (the CP owns the buffer until it frees it)
@inline export const MSG_LEN: usize = 8; // 8-9 u16 frame length
@inline export const MSG_PAYLOAD: usize = 10; // 10-11 u16 offset of the TCP payload in the frame
@inline export const MSG_FLOW: usize = 12; // 12-15 u32 flow index, or NO_FLOW
@inline export const MSG_URL_HASH: usize = 16; // 16-19 u32 CRC-32 of the request URL (complete request line in the segment), else 0
@inline export const MSG_HOST_HASH: usize = 20; // 20-23 u32 CRC-32 of the lower-cased Host value, else 0
@inline export const MSG_FLAGS: usize = 24; // 24-27 u32 DescFlag bits of the packet
@inline export const MSG_TIME: usize = 28; // 28-31 u32 np timestamp() when sent

// Switch configuration in scratch, written by the CP before traffic and on changes.
@inline export const CFG_SIZE: u32 = 128; // bytes
@inline export const CFG_VIP: usize = 0; // 0-3 be32 the virtual IP address clients connect to
@inline export const CFG_LOCAL_IP: usize = 4; // 4-7 be32 the switch's address on the server side (source of spliced server-bound packets)
@inline export const CFG_NUM_PORTS: usize = 8; // 8-8 u8 ports in use (<= MAX_PORTS)
@inline export const CFG_NUM_SERVICES: usize = 9; // 9-9 u8 entries used in SERVICE_PORTS
@inline export const CFG_CHECK_TCP_CSUM: usize = 10; // 10-10 u8 1: verify the TCP checksum of arriving segments
@inline export const CFG_PAD0: usize = 11; // 11-11 u8 reserved
@inline export const CFG_SERVICE_PORT0: usize = 12; // 12-13 be16 virtual service ports 0..7 (TCP port on the VIP)
@inline export const CFG_SERVICE_PORT1: usize = 14; // 14-15 be16
@inline export const CFG_SERVICE_PORT2: usize = 16; // 16-17 be16
@inline export const CFG_SERVICE_PORT3: usize = 18; // 18-19 be16
@inline export const CFG_SERVICE_PORT4: usize = 20; // 20-21 be16
@inline export const CFG_SERVICE_PORT5: usize = 22; // 22-23 be16
@inline export const CFG_SERVICE_PORT6: usize = 24; // 24-25 be16
@inline export const CFG_SERVICE_PORT7: usize = 26; // 26-27 be16
@inline export const CFG_PORT_MAC0: usize = 28; // 28-33 mac MAC address of ports 0..7
@inline export const CFG_PORT_MAC1: usize = 34; // 34-39 mac
@inline export const CFG_PORT_MAC2: usize = 40; // 40-45 mac
@inline export const CFG_PORT_MAC3: usize = 46; // 46-51 mac
@inline export const CFG_PORT_MAC4: usize = 52; // 52-57 mac
@inline export const CFG_PORT_MAC5: usize = 58; // 58-63 mac
@inline export const CFG_PORT_MAC6: usize = 64; // 64-69 mac
@inline export const CFG_PORT_MAC7: usize = 70; // 70-75 mac

// What process() returns. Inside an image a stage returns CONTINUE (-1) or one of these.
@inline export const VERDICT_DROP: i32 = 0; // dropped; DESC_REASON says why
@inline export const VERDICT_FORWARD: i32 = 1; // send the (rewritten) frame on DESC_OUT_PORT
@inline export const VERDICT_TO_CP: i32 = 2; // a message was put on the exception ring; the CP owns the buffer
@inline export const VERDICT_NEXT: i32 = 3; // hand the descriptor to the next pipeline stage (classify -> splice)
@inline export const VERDICT_COUNT: i32 = 4;

// Why a packet was dropped (or sent to the CP). One counter per reason in COUNTERS.
@inline export const REASON_NONE: i32 = 0; // no reason
@inline export const REASON_ETH_TRUNCATED: i32 = 1; // frame shorter than an Ethernet header
@inline export const REASON_ETH_UNSUPPORTED: i32 = 2; // EtherType neither IPv4 nor ARP
@inline export const REASON_ARP_TRUNCATED: i32 = 3; // ARP packet too short
@inline export const REASON_ARP_UNSUPPORTED: i32 = 4; // ARP not Ethernet/IPv4 or not a request
@inline export const REASON_ARP_NOT_FOR_US: i32 = 5; // ARP request for another address
@inline export const REASON_IP_TRUNCATED: i32 = 6; // frame shorter than the IPv4 header
@inline export const REASON_IP_BAD_VERSION: i32 = 7; // IP version is not 4
@inline export const REASON_IP_BAD_HLEN: i32 = 8; // IPv4 header length (IHL) below 5
@inline export const REASON_IP_BAD_TOTAL_LEN: i32 = 9; // IPv4 total length shorter than the header or past the frame
@inline export const REASON_IP_OPTIONS: i32 = 10; // IPv4 options present (not handled on the fast path)
@inline export const REASON_IP_FRAGMENT: i32 = 11; // IPv4 fragment
@inline export const REASON_IP_BAD_CHECKSUM: i32 = 12; // IPv4 header checksum wrong
@inline export const REASON_IP_TTL_EXPIRED: i32 = 13; // TTL would reach zero
@inline export const REASON_IP_NOT_FOR_US: i32 = 14; // destination is neither the VIP nor a spliced flow
@inline export const REASON_IP_UNSUPPORTED_PROTO: i32 = 15; // IP protocol neither TCP nor ICMP
@inline export const REASON_ICMP_TRUNCATED: i32 = 16; // ICMP message too short
@inline export const REASON_ICMP_BAD_CHECKSUM: i32 = 17; // ICMP checksum wrong
@inline export const REASON_ICMP_UNSUPPORTED: i32 = 18; // ICMP type other than echo request
@inline export const REASON_TCP_TRUNCATED: i32 = 19; // segment shorter than the TCP header
@inline export const REASON_TCP_BAD_DOFF: i32 = 20; // TCP data offset below 5 or past the segment
@inline export const REASON_TCP_BAD_OPTION: i32 = 21; // TCP option with length 0/1 or running past the header
@inline export const REASON_TCP_BAD_CHECKSUM: i32 = 22; // TCP checksum wrong
@inline export const REASON_TCP_BAD_FLAGS: i32 = 23; // impossible TCP flag set (SYN+FIN, SYN+RST, no flags, ...)
@inline export const REASON_TCP_NO_SERVICE: i32 = 24; // TCP to the VIP on a port that is not a virtual service
@inline export const REASON_TCP_CLOSED_FLOW: i32 = 25; // segment for a flow that is closed
@inline export const REASON_RING_FULL: i32 = 26; // exception ring to the CP full
@inline export const REASON_TRAP: i32 = 27; // the image trapped on this packet (counted by the host)
@inline export const REASON_COUNT: i32 = 28;

// Event counters in COUNTERS, after the reason counters.
@inline export const COUNTER_RX: i32 = 0; // frames processed by classify
@inline export const COUNTER_TO_CP: i32 = 1; // messages sent to the CP
@inline export const COUNTER_SPLICED: i32 = 2; // segments forwarded by splice
@inline export const COUNTER_ARP_REPLIES: i32 = 3; // ARP replies sent
@inline export const COUNTER_ICMP_REPLIES: i32 = 4; // ICMP echo replies sent
@inline export const COUNTER_TEARDOWNS: i32 = 5; // FIN/RST reports sent to the CP
@inline export const COUNTER_COUNT: i32 = 6;

// Type of a ring message.
@inline export const MSG_TYPE_NONE: i32 = 0; // empty
@inline export const MSG_TYPE_SYN: i32 = 1; // SYN to a virtual service (the CP answers with a SYN cookie)
@inline export const MSG_TYPE_SEGMENT: i32 = 2; // segment of a connection not yet spliced (handshake ACK, request bytes)
@inline export const MSG_TYPE_FIN: i32 = 3; // FIN on a spliced flow (forwarded too)
@inline export const MSG_TYPE_RST: i32 = 4; // RST on a spliced flow (forwarded too)
@inline export const MSG_TYPE_UNKNOWN: i32 = 5; // anything else the CP should see
@inline export const MSG_TYPE_COUNT: i32 = 6;

// State of a flow-table entry.
@inline export const FLOW_STATE_FREE: i32 = 0; // unused
@inline export const FLOW_STATE_ACTIVE: i32 = 1; // spliced, forwarding
@inline export const FLOW_STATE_CLOSING: i32 = 2; // FIN or RST seen; forwarding until the CP removes it
@inline export const FLOW_STATE_CLOSED: i32 = 3; // closed: segments are dropped
@inline export const FLOW_STATE_COUNT: i32 = 4;

// Scratch rings.
@inline export const RING_TO_CP: i32 = 0; // exception ring, data plane -> control plane
@inline export const RING_FROM_CP: i32 = 1; // control plane -> data plane (frames to send)
@inline export const RING_CLASSIFY_TO_SPLICE: i32 = 2; // pipeline ring between the classify and splice stages
@inline export const RING_COUNT: i32 = 3;

// FlowEntry FLAGS bits
@inline export const FLOWF_FIN_SEEN: u32 = 0x00000001; // a FIN went through this direction
@inline export const FLOWF_RST_SEEN: u32 = 0x00000002; // an RST went through this direction
@inline export const FLOWF_TS: u32 = 0x00000004; // timestamps negotiated: translate TSval/TSecr
@inline export const FLOWF_SACK: u32 = 0x00000008; // SACK permitted: translate SACK blocks

// PacketDesc / ring message FLAGS bits
@inline export const DESCF_SYN: u32 = 0x00000001; // TCP SYN
@inline export const DESCF_ACK: u32 = 0x00000002; // TCP ACK
@inline export const DESCF_FIN: u32 = 0x00000004; // TCP FIN
@inline export const DESCF_RST: u32 = 0x00000008; // TCP RST
@inline export const DESCF_PSH: u32 = 0x00000010; // TCP PSH
@inline export const DESCF_HAS_PAYLOAD: u32 = 0x00000020; // the segment carries data
@inline export const DESCF_REQUEST_LINE: u32 = 0x00000040; // a complete HTTP request line is in the segment (URL_HASH valid)
@inline export const DESCF_HOST: u32 = 0x00000080; // a Host header is in the segment (HOST_HASH valid)
@inline export const DESCF_HEADERS_END: u32 = 0x00000100; // the segment holds the end of the HTTP header block (CRLF CRLF)
