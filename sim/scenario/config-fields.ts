// Fields that scenario files (sim/scenario) and device configurations (device) both have, written
// once: value types with the messages users see, and the control plane's limits block with its
// conversion to the CP's CpLimits (only the defaults differ: a simulated LAN against a real one).
import { z } from "zod";
import { DEFAULT_CHECK_TCP_CHECKSUM, type CpLimits } from "../../controlplane/config.js";
import { PS_PER_MS } from "../../lib/time.js";

export const positiveInt = z.number().int().positive();
export const ipv4 = z.string().regex(/^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/, "an IPv4 address like 10.0.0.1");

/** `switch.check_tcp_checksum`: classify verifies TCP checksums (the default is the CP's, in one place). */
export const checkTcpChecksumField = z.boolean().default(DEFAULT_CHECK_TCP_CHECKSUM);

/** The defaults that differ between a scenario's `cp` block and a device's. */
export interface CpLimitDefaults {
  requestTimeoutMs: number;
  idleTimeoutMs: number;
  lingerMs: number;
}

/** The `cp` block's limit fields and dispatcher batching, to spread into its z.strictObject. */
export function cpLimitFields(d: CpLimitDefaults) {
  return {
    max_header_bytes: positiveInt.default(8192),
    request_timeout_ms: z.number().positive().default(d.requestTimeoutMs),
    idle_timeout_ms: z.number().positive().default(d.idleTimeoutMs),
    /** Entries stay this long after both FINs or an RST, for the last ACK and retransmissions. */
    linger_ms: z.number().nonnegative().default(d.lingerMs),
    /** Dispatcher batching (Aron et al.): messages that queued while the CP worked are taken in one wake-up. */
    batching: z.boolean().default(true),
  };
}

/** The values of cpLimitFields for a block left out entirely (zod wants the whole default object). */
export function cpLimitValues(d: CpLimitDefaults) {
  return { max_header_bytes: 8192, request_timeout_ms: d.requestTimeoutMs, idle_timeout_ms: d.idleTimeoutMs, linger_ms: d.lingerMs, batching: true };
}

/** A validated `cp` block's limits as the control plane takes them. */
export function cpLimitsOf(cp: { max_header_bytes: number; request_timeout_ms: number; idle_timeout_ms: number; linger_ms: number }): CpLimits {
  return {
    maxHeaderBytes: cp.max_header_bytes, requestTimeoutPs: cp.request_timeout_ms * PS_PER_MS,
    idleTimeoutPs: cp.idle_timeout_ms * PS_PER_MS, lingerPs: cp.linger_ms * PS_PER_MS,
  };
}
