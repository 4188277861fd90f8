// Reads of the switch Config (abi/layout.ts CONFIG) the stages share: our addresses, services, port MACs.
import {
  CFG_LOCAL_IP, CFG_NUM_SERVICES, CFG_PORT_MAC0, CFG_SERVICE_PORT0, CFG_VIP, CONFIG_BASE, MAX_PORTS, MAX_SERVICES,
} from "./layout";
import { ETH_ALEN } from "./eth";

/** The VIP as a raw load of its network bytes (compare with raw packet loads). */
@inline export function vipRaw(): u32 {
  return load<u32>(CONFIG_BASE + CFG_VIP);
}

/** Whether a raw IPv4 address is the VIP or the switch's server-side address. */
@inline export function isOurAddress(addrRaw: u32): bool {
  return addrRaw == load<u32>(CONFIG_BASE + CFG_VIP) || addrRaw == load<u32>(CONFIG_BASE + CFG_LOCAL_IP);
}

/** Address of the MAC of switch port `port` (only the low bits are used, so any byte is safe). */
@inline export function portMac(port: u32): usize {
  return CONFIG_BASE + CFG_PORT_MAC0 + <usize>(port & (MAX_PORTS - 1)) * ETH_ALEN;
}

/** Whether a raw TCP port (network bytes) is one of the virtual services on the VIP. */
export function isServicePort(portRaw: u32): bool {
  let n = <u32>load<u8>(CONFIG_BASE + CFG_NUM_SERVICES);
  if (n > MAX_SERVICES) n = MAX_SERVICES;
  for (let i: u32 = 0; i < n; i++) {
    if (<u32>load<u16>(CONFIG_BASE + CFG_SERVICE_PORT0 + (<usize>i << 1)) == portRaw) return true;
  }
  return false;
}
