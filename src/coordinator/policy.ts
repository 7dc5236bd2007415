// What happens to a task after one of its attempts ends: a pure decision, kept apart from the
// coordinator's side effects so that every case can be tested alone.
import { MAX_CONFLICT_RETRIES, MAX_LOST_ATTEMPTS } from '../config/defaults.js';
import type { AttemptReason } from '../protocol/schemas.js';
import type { TaskSnapshot } from '../protocol/state.js';
import { backoffMs } from './scheduler.js';

/** How the attempt's merge went (git isolation); `merged` also when there was nothing to merge. */
export type MergeResult = 'merged' | 'conflicted' | 'failed';

/** The next step for a task. */
export type NextStep =
  | { kind: 'succeed' }
  | { kind: 'cancel' }
  /** Dispatch again after `delayMs` (0: at once). */
  | { kind: 'retry'; delayMs: number }
  | { kind: 'fail'; reason: AttemptReason };

/** The settings the decision reads. */
export interface PolicySettings {
  /** The task's retries (extra attempts after failures that count). */
  retries: number;
  backoffMs: number;
  backoffMaxMs: number;
  onConflict: 'retry' | 'fail' | 'resolve';
}

/**
 * Decides after an attempt, from the task's snapshot (its `last` attempt, counters already updated
 * by the attempt.finished and merge events) and, for a succeeded attempt, how its merge went:
 * - succeeded and merged → succeed; merge failed → fail (`merge-failed`);
 *   conflicted → retry at once (up to MAX_CONFLICT_RETRIES, with on_conflict: retry), else fail;
 * - cancelled by request, or a cancel was accepted for the task → cancel;
 * - interrupted (Ctrl-C twice, or taken back before it started) → retry at once, free;
 * - a conflict resolver's attempt that failed → retry at once (the task itself), free;
 * - worker-lost → retry at once, free, at most MAX_LOST_ATTEMPTS times, then fail;
 * - any other failure → retry after exponential backoff while `failures <= retries`, else fail.
 */
export function nextStep(s: TaskSnapshot, merge: MergeResult | undefined, p: PolicySettings): NextStep {
  const last = s.last;
  if (!last) throw new Error('nextStep: the task has no finished attempt');
  if (last.outcome === 'succeeded') {
    if (merge === 'failed') return { kind: 'fail', reason: 'merge-failed' };
    if (merge === 'conflicted') {
      if (s.cancel_requested) return { kind: 'cancel' }; // do not run again what the user cancelled
      return p.onConflict !== 'fail' && s.conflicts <= MAX_CONFLICT_RETRIES
        ? { kind: 'retry', delayMs: 0 }
        : { kind: 'fail', reason: 'merge-conflict' };
    }
    return { kind: 'succeed' };
  }
  if (last.reason === 'cancel-requested' || s.cancel_requested) return { kind: 'cancel' };
  if (last.reason === 'interrupted') return { kind: 'retry', delayMs: 0 };
  // A resolver that could not resolve a conflict: the task runs again as with on_conflict: retry.
  if (last.resolver) return { kind: 'retry', delayMs: 0 };
  if (last.reason === 'worker-lost')
    return s.lost <= MAX_LOST_ATTEMPTS ? { kind: 'retry', delayMs: 0 } : { kind: 'fail', reason: 'worker-lost' };
  if (s.failures <= p.retries) return { kind: 'retry', delayMs: backoffMs(s.failures, p.backoffMs, p.backoffMaxMs) };
  return { kind: 'fail', reason: last.reason };
}
