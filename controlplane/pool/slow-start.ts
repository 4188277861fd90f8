// Slow start of a server that comes (back) up: its effective weight ramps linearly from 1/16 of the
// configured weight to all of it over the slow-start period, in 16 steps, so a server with cold caches
// (or one that just recovered) is not flooded at once (the idea of nginx slow_start and HAProxy slowstart;
// the step count is our assumption).

/** Steps of the ramp: the weight moves in sixteenths of the configured weight. */
export const SLOW_START_STEPS = 16;

/**
 * The effective weight `elapsedPs` after the server came up. Never 0 for a positive configured weight (0
 * means quiesced), and the configured weight itself from `periodPs` on.
 */
export function slowStartWeight(configuredWeight: number, elapsedPs: number, periodPs: number): number {
  if (periodPs <= 0 || elapsedPs >= periodPs || configuredWeight <= 0) return configuredWeight;
  const step = Math.max(1, Math.ceil((SLOW_START_STEPS * Math.max(0, elapsedPs)) / periodPs));
  return (configuredWeight * Math.min(step, SLOW_START_STEPS)) / SLOW_START_STEPS;
}
