import { describe, expect, it } from 'vitest';
import { MAX_CONFLICT_RETRIES, MAX_LOST_ATTEMPTS } from '../../src/config/defaults.js';
import { nextStep, type PolicySettings } from '../../src/coordinator/policy.js';
import type { AttemptOutcome, AttemptReason } from '../../src/protocol/schemas.js';
import type { TaskSnapshot } from '../../src/protocol/state.js';

const settings: PolicySettings = { retries: 2, backoffMs: 1000, backoffMaxMs: 3000, onConflict: 'retry' };

/** A task whose last attempt ended with `outcome`/`reason`, with counters as given. */
function snap(outcome: AttemptOutcome, reason: AttemptReason, counters: Partial<TaskSnapshot> = {}): TaskSnapshot {
  return {
    state: 'running',
    attempts: 1,
    failures: 0,
    lost: 0,
    current: null,
    not_before: null,
    started_at: null,
    finished_at: null,
    last: { attempt: 1, outcome, reason, exit_code: null, duration_ms: null, summary: '' },
    skipped_because: null,
    conflicts: 0,
    merged_commit: null,
    cancel_requested: false,
    last_conflict: null,
    integration_failure: null,
    held_for: null,
    usage: { input_tokens: 0, output_tokens: 0, cache_read_tokens: 0, cache_write_tokens: 0, cost_usd: 0 },
    ...counters,
  };
}

describe('nextStep', () => {
  it('succeeds a task whose attempt succeeded and merged', () => {
    expect(nextStep(snap('succeeded', 'exit-zero'), 'merged', settings)).toEqual({ kind: 'succeed' });
    expect(nextStep(snap('succeeded', 'exit-zero'), undefined, settings)).toEqual({ kind: 'succeed' });
  });

  it('retries a conflicting merge at once, up to the limit, then fails it', () => {
    expect(nextStep(snap('succeeded', 'exit-zero', { conflicts: 1 }), 'conflicted', settings)).toEqual({
      kind: 'retry',
      delayMs: 0,
    });
    expect(
      nextStep(snap('succeeded', 'exit-zero', { conflicts: MAX_CONFLICT_RETRIES + 1 }), 'conflicted', settings),
    ).toEqual({ kind: 'fail', reason: 'merge-conflict' });
    expect(
      nextStep(snap('succeeded', 'exit-zero', { conflicts: 1 }), 'conflicted', { ...settings, onConflict: 'fail' }),
    ).toEqual({ kind: 'fail', reason: 'merge-conflict' });
  });

  it('fails a task whose merge failed for a reason other than a conflict', () => {
    expect(nextStep(snap('succeeded', 'exit-zero'), 'failed', settings)).toEqual({
      kind: 'fail',
      reason: 'merge-failed',
    });
  });

  it('retries failures with exponential backoff capped, while retries remain', () => {
    expect(nextStep(snap('failed', 'exit-non-zero', { failures: 1 }), undefined, settings)).toEqual({
      kind: 'retry',
      delayMs: 1000,
    });
    expect(nextStep(snap('timed-out', 'timed-out', { failures: 2 }), undefined, settings)).toEqual({
      kind: 'retry',
      delayMs: 2000,
    });
    expect(nextStep(snap('failed', 'exit-non-zero', { failures: 2 }), undefined, { ...settings, retries: 5 })).toEqual({
      kind: 'retry',
      delayMs: 2000,
    });
    expect(nextStep(snap('failed', 'exit-non-zero', { failures: 4 }), undefined, { ...settings, retries: 5 })).toEqual({
      kind: 'retry',
      delayMs: 3000,
    });
    expect(nextStep(snap('failed', 'verify-failed', { failures: 3 }), undefined, settings)).toEqual({
      kind: 'fail',
      reason: 'verify-failed',
    });
  });

  it('reruns lost and interrupted attempts at once without using retries, lost ones a bounded number of times', () => {
    const noRetries = { ...settings, retries: 0 };
    expect(nextStep(snap('failed', 'worker-lost', { lost: 1 }), undefined, noRetries)).toEqual({
      kind: 'retry',
      delayMs: 0,
    });
    expect(nextStep(snap('failed', 'worker-lost', { lost: MAX_LOST_ATTEMPTS }), undefined, noRetries)).toEqual({
      kind: 'retry',
      delayMs: 0,
    });
    expect(nextStep(snap('failed', 'worker-lost', { lost: MAX_LOST_ATTEMPTS + 1 }), undefined, noRetries)).toEqual({
      kind: 'fail',
      reason: 'worker-lost',
    });
    expect(nextStep(snap('cancelled', 'interrupted', { failures: 9 }), undefined, noRetries)).toEqual({
      kind: 'retry',
      delayMs: 0,
    });
  });

  it('cancels a task whose cancel was requested, even if its attempt was lost instead', () => {
    expect(nextStep(snap('cancelled', 'cancel-requested'), undefined, settings)).toEqual({ kind: 'cancel' });
    expect(nextStep(snap('failed', 'worker-lost', { lost: 1, cancel_requested: true }), undefined, settings)).toEqual({
      kind: 'cancel',
    });
    // ...or if its merge conflicts: it is not run again.
    expect(
      nextStep(snap('succeeded', 'exit-zero', { conflicts: 1, cancel_requested: true }), 'conflicted', settings),
    ).toEqual({ kind: 'cancel' });
    // A success that raced the cancel still counts.
    expect(nextStep(snap('succeeded', 'exit-zero', { cancel_requested: true }), 'merged', settings)).toEqual({
      kind: 'succeed',
    });
  });
});
