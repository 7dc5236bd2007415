// The merge queue's decisions (`integration.verify`), as pure functions of the run's state, so that
// a coordinator resumed after a crash at any step takes the same next step as the one that died.
//
// Merges land on the integration branch one after the other, as today; each merged task waits
// (`verifying`) until an integration check passes on a tip that includes it. The queue is the list
// of merges since the last verified tip, and each merge's `tip` is the branch right after it, so
// "the verified tip plus the first m merges" is a commit that already exists: bisection checks
// those commits, and never builds anything.
//
//   no check yet ──▶ check the base commit ──passed──▶ verified = base
//                                          ──failed──▶ the run cannot be verified (broken)
//   queue not empty, nothing running ──▶ batch check of the branch's tip (every queued merge)
//     passed ──▶ integration.verified (the whole queue)
//     failed ──▶ bisect {good: 0, bad: n}: check the tip after merge ⌊(good+bad)/2⌋, narrowing
//                until bad = good + 1: merge `bad` is the culprit; the first `good` merges are
//                verified, the culprit is taken off the branch (rewind) and its task sent back.
//
// A merge is blamed only on its own bisection's evidence: a check besides the batch's failed on
// its tip, and a check of this bisection passed on the tip before it. So, once bad = good + 1:
//   only the batch check failed on merge `bad`'s tip ──▶ check that tip again
//     passed ──▶ the check is flaky: the merges up to that tip are verified, nobody is blamed
//   good = 0 and the verified tip not checked again ──▶ check the verified tip again
//     failed ──▶ the check fails without any merge (a broken environment): the session ends as
//                broken, no task blamed; a resume checks the batch again
import type { IntegrationCheckKind, QueuedMerge } from '../protocol/schemas.js';
import type { IntegrationSnapshot, TaskSnapshot } from '../protocol/state.js';

/** The next thing the merge queue does. */
export type QueueStep =
  /** Nothing to check, or a check is running. */
  | { kind: 'idle' }
  /** Start a check of `tip`, which includes the first `merges` merges of the queue. */
  | { kind: 'check'; check: IntegrationCheckKind; tip: string; merges: number }
  /** A check passed on the tip after the first `merges` merges: they are verified. */
  | { kind: 'verify'; tip: string; check: number; merges: QueuedMerge[] }
  /**
   * Bisection is over: `culprit` breaks the check (`check` failed on the tip it made); the merges
   * before it passed (`verified`, by check `verifiedBy`; empty when the culprit is the first).
   */
  | { kind: 'culprit'; culprit: QueuedMerge; check: number; verified: QueuedMerge[]; verifiedBy: number | null }
  /** The culprit is marked; take it off the branch: reset to the verified tip, remake the others. */
  | { kind: 'rewind'; culprit: QueuedMerge }
  /** The base commit failed its check: no merge can ever be verified. */
  | { kind: 'base-failed'; summary: string }
  /**
   * Check `check` failed on the verified tip `tip` itself, checked again before blaming the first
   * merge of a failed batch: the failure is not a merge's (the environment broke). No task is
   * blamed; the session ends, and a resume checks the batch again.
   */
  | { kind: 'verified-failed'; tip: string; check: number; summary: string };

/**
 * What the queue does next, given its snapshot and the tasks' snapshots. A check that the
 * snapshot says is running (`q.check`) is the caller's to wait for or to run again after a crash;
 * this function is not asked then.
 * @param q the run's integration snapshot; null when no check ever started
 * @param base the commit the run started from
 */
export function nextQueueStep(
  q: IntegrationSnapshot | null,
  base: string,
  tasks: Readonly<Record<string, TaskSnapshot>>,
): QueueStep {
  if (!q) return { kind: 'check', check: 'base', tip: base, merges: 0 };
  if (q.check) return { kind: 'idle' };
  if (!q.verified) {
    // The base check ended and did not pass (a passed one sets `verified`), or never ran.
    if (q.last?.kind === 'base') return { kind: 'base-failed', summary: q.last.summary };
    return { kind: 'check', check: 'base', tip: base, merges: 0 };
  }
  // A culprit marked but still on the branch: the rewind did not happen (a crash came first).
  const marked = q.queue.find((m) => tasks[m.task]?.integration_failure?.attempt === m.attempt);
  if (marked) return { kind: 'rewind', culprit: marked };
  if (q.bisect) {
    const { good, bad, good_check, bad_check, batch_check } = q.bisect;
    if (bad <= good)
      return { kind: 'verified-failed', tip: q.verified.tip, check: bad_check, summary: q.last?.summary ?? '' };
    if (bad === good + 1) {
      const culprit = q.queue[bad - 1];
      if (!culprit) throw new Error(`bisection names merge ${bad} of a queue of ${q.queue.length}`);
      // Its tip failed only in the batch check: check it again (a pass says the check is flaky).
      if (bad_check === batch_check) return { kind: 'check', check: 'bisect', tip: culprit.tip, merges: bad };
      // Nothing of this bisection passed before it: check the verified tip again (a failure there
      // is the environment's, not the first merge's).
      if (good_check === null) return { kind: 'check', check: 'bisect', tip: q.verified.tip, merges: 0 };
      return { kind: 'culprit', culprit, check: bad_check, verified: q.queue.slice(0, good), verifiedBy: good_check };
    }
    const mid = Math.floor((good + bad) / 2);
    return { kind: 'check', check: 'bisect', tip: q.queue[mid - 1]!.tip, merges: mid };
  }
  // The last check passed on a tip still in the queue: verify the merges up to it.
  const last = q.last;
  if (last?.outcome === 'passed') {
    const upTo = q.queue.findIndex((m) => m.tip === last.tip);
    if (upTo >= 0) return { kind: 'verify', tip: last.tip, check: last.check, merges: q.queue.slice(0, upTo + 1) };
  }
  if (q.queue.length === 0) return { kind: 'idle' };
  return { kind: 'check', check: 'batch', tip: q.queue[q.queue.length - 1]!.tip, merges: q.queue.length };
}

/** What becomes of a task in `verifying` that is no longer in the queue. */
export type Settlement =
  /** Its merge is verified. */
  | 'succeed'
  /** Bisection named it: its next attempt runs with the check's output. */
  | 'culprit'
  /** Its merge could not be made again after a rewind: it runs again like a conflicted task. */
  | 'conflicted'
  /** Still queued: wait. */
  | 'wait';

/**
 * Whether a task the queue sent back (its merge broke the check, or conflicted) must wait before
 * its next attempt: until the last merge that was queued when it was sent back (`held_for`) has
 * left the queue, verified or taken off. The attempt then starts from a verified tip with every
 * merge it could have met; merges queued after it was sent back do not hold it, so a busy queue
 * cannot starve it.
 */
export function heldBack(t: TaskSnapshot, q: IntegrationSnapshot | null): boolean {
  if (!q || !t.held_for || (!t.integration_failure && !t.last_conflict)) return false;
  const { task, attempt } = t.held_for;
  return q.queue.some((m) => m.task === task && m.attempt === attempt);
}

/**
 * Decides for a task in `verifying`: still in the queue (wait), taken off the branch as the
 * culprit or as a merge that no longer applies (sent back), or verified (succeed). Pure, so that
 * a resume settles tasks left between an integration event and their own task event.
 */
export function settle(id: string, t: TaskSnapshot, q: IntegrationSnapshot): Settlement {
  const attempt = t.last?.attempt;
  if (q.queue.some((m) => m.task === id && m.attempt === attempt)) return 'wait';
  if (t.integration_failure && t.integration_failure.attempt === attempt) return 'culprit';
  if (t.last_conflict && t.last_conflict.attempt === attempt) return 'conflicted';
  return 'succeed';
}
