// Ethernet II header check (IEEE 802.3 DIX framing): the frame must hold a whole header.
import { DESC_LEN, REASON_ETH_TRUNCATED } from "./layout";
import { CONTINUE, drop } from "./drop";
import { ETH_HLEN } from "./eth";

export function checkEthernet(desc: usize): i32 {
  if (<u32>load<u16>(desc, DESC_LEN) < ETH_HLEN) return drop(desc, REASON_ETH_TRUNCATED);
  return CONTINUE;
}
