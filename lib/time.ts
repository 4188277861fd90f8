// Time units: the simulator, the control plane and the device count time as integer picoseconds,
// so every clock in npswitch converts with these and only these.

/** A time or duration in picoseconds. */
export type Picos = number;
export const PS_PER_NS = 1_000;
export const PS_PER_US = 1_000_000;
export const PS_PER_MS = 1_000_000_000;
export const PS_PER_S = 1_000_000_000_000;
