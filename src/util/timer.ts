// Delays as Node's timers take them.

/**
 * The longest delay a Node timer waits, ms: 2^31 - 1, about 24.8 days. A longer one makes
 * `setTimeout`/`setInterval` fire after 1 ms instead, with a TimeoutOverflowWarning (Node's docs,
 * timers: "When delay is larger than 2147483647 or less than 1, the delay will be set to 1").
 */
export const MAX_TIMER_DELAY_MS = 2 ** 31 - 1;

/**
 * A delay for `setTimeout`/`setInterval`, ms: `ms` capped at {@link MAX_TIMER_DELAY_MS}, so that a
 * longer one waits as long as a timer can instead of firing at once.
 */
export function timerDelay(ms: number): number {
  return Math.min(ms, MAX_TIMER_DELAY_MS);
}
