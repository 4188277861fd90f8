// The switch's Config struct (CONFIG in layout.ts): what the CP writes into the shared memory before
// traffic, and the host writer both the functional model and the chip model use.
import { CAPACITIES, CONFIG, region } from "./layout.js";
import { encodeStruct, type StructValue } from "./codec.js";
import { ip4ToU32, macBytes, type Ip4, type Mac } from "../packet/addr.js";

export interface SwitchConfig {
  vip: Ip4;
  localIp: Ip4;
  /** TCP ports of the virtual service on the VIP (at most MAX_SERVICES). */
  servicePorts: number[];
  /** One MAC per switch port, in port order (at most MAX_PORTS). */
  portMacs: Mac[];
  /** classify verifies the TCP checksum of every segment (CFG_CHECK_TCP_CSUM); off when absent. */
  checkTcpChecksum?: boolean;
}

export const CONFIG_BASE = region("CONFIG").base;

/** Write the switch's Config struct into the shared memory (the whole struct: fields not given are zero). Throws RangeError past a capacity. */
export function writeSwitchConfig(mem: Uint8Array, cfg: SwitchConfig): void {
  if (cfg.servicePorts.length > CAPACITIES.MAX_SERVICES.value) throw new RangeError(`configure: ${cfg.servicePorts.length} service ports, at most ${CAPACITIES.MAX_SERVICES.value}`);
  if (cfg.portMacs.length > CAPACITIES.MAX_PORTS.value) throw new RangeError(`configure: ${cfg.portMacs.length} port MACs, at most ${CAPACITIES.MAX_PORTS.value}`);
  mem.fill(0, CONFIG_BASE, CONFIG_BASE + CONFIG.size);
  const value: StructValue = {
    VIP: ip4ToU32(cfg.vip),
    LOCAL_IP: ip4ToU32(cfg.localIp),
    NUM_PORTS: cfg.portMacs.length,
    NUM_SERVICES: cfg.servicePorts.length,
    CHECK_TCP_CSUM: cfg.checkTcpChecksum ? 1 : 0,
  };
  cfg.servicePorts.forEach((p, i) => (value[`SERVICE_PORT${i}`] = p));
  cfg.portMacs.forEach((m, i) => (value[`PORT_MAC${i}`] = macBytes(m)));
  encodeStruct(CONFIG, mem, CONFIG_BASE, value);
}
