// Durations in swarm.yaml: a number of seconds, or a string such as "500ms", "90s", "5m", "1h".
import ms from 'ms';
import { z } from 'zod';
import { MAX_TIMER_DELAY_MS } from '../util/timer.js';

/**
 * The longest duration a field may hold, ms: the longest a Node timer waits (about 24.8 days). A
 * task with `timeout: 1y` used to time out at once. `timerDelay` (src/util/timer.ts) caps what
 * reaches a timer from elsewhere (a run.json or plan.json written before this limit, a sum).
 */
export const MAX_DURATION_MS = MAX_TIMER_DELAY_MS;

/** Parses a duration to milliseconds; returns undefined when the text is not a duration. */
export function parseDuration(value: number | string): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? Math.round(value * 1000) : undefined;
  if (value.trim() === '') return undefined;
  let out: number | undefined;
  try {
    out = ms(value.trim() as ms.StringValue);
  } catch {
    return undefined; // ms throws on some malformed strings
  }
  return typeof out === 'number' && Number.isFinite(out) && out >= 0 ? Math.round(out) : undefined;
}

/** Zod type of a duration field: accepts seconds or a string, outputs milliseconds. */
export const Duration = z
  .union([z.number(), z.string()])
  .transform((value, ctx) => {
    const out = parseDuration(value);
    if (out === undefined) {
      ctx.addIssue({
        code: 'custom',
        message: `expected a duration: a number of seconds or a string like "90s", "5m", "1h", got ${JSON.stringify(value)}`,
      });
      return z.NEVER;
    }
    if (out > MAX_DURATION_MS) {
      ctx.addIssue({
        code: 'custom',
        message: `${JSON.stringify(value)} is too long: a duration is at most about 24.8 days (${MAX_DURATION_MS} ms, the longest a timer can wait)`,
      });
      return z.NEVER;
    }
    return out;
  })
  .meta({ description: 'A duration: a number of seconds, or a string like "500ms", "90s", "5m", "1h".' });

/** A duration field's schema: outputs milliseconds (`Duration` or `Millis`). */
export type DurationType = typeof Duration | typeof Millis;

/**
 * A duration already resolved to milliseconds, as run.json's config snapshot holds it: a number is
 * milliseconds; a string (a default such as "15s") is parsed as in swarm.yaml.
 */
export const Millis = z.union([z.number(), z.string()]).transform((value, ctx) => {
  const out =
    typeof value === 'number' ? (Number.isFinite(value) && value >= 0 ? value : undefined) : parseDuration(value);
  if (out === undefined) {
    ctx.addIssue({ code: 'custom', message: `expected a duration in milliseconds, got ${JSON.stringify(value)}` });
    return z.NEVER;
  }
  return out;
});
