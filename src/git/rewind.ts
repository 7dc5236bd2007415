// Taking a merge off the integration branch without rewriting what was verified: the branch goes
// back to its last verified tip and the other merges made since are made again on it, in their
// order. Objects first, then one compare-and-swap of the ref, so a crash leaves the branch either
// as it was or rewound, never half-way.
import type { QueuedMerge } from '../protocol/schemas.js';
import { gitSync } from './git.js';
import { mergeCommit } from './merge.js';

/** A merge to make again: the attempt's commit and the message of its merge commit. */
export interface Remerge {
  task: string;
  attempt: number;
  commit: string;
  message: string;
}

/** The branch after a rewind, as objects: not yet where the ref points. */
export interface RewoundBranch {
  /** The new tip (the verified tip itself when nothing was kept). */
  tip: string;
  /** The merges made again, with the branch's tip after each. */
  kept: QueuedMerge[];
  /** Merges that no longer apply without the culprit, with the conflicting files. */
  conflicted: { task: string; attempt: number; files: string[] }[];
}

/**
 * Makes the merges of `merges` again on `verified`, in order, as objects only (no ref moves);
 * a merge that conflicts is left out and reported.
 * @throws GitError when git fails for another reason than a conflict
 */
export function remakeMerges(repo: string, verified: string, merges: readonly Remerge[]): RewoundBranch {
  let tip = verified;
  const kept: QueuedMerge[] = [];
  const conflicted: RewoundBranch['conflicted'] = [];
  for (const m of merges) {
    const made = mergeCommit(repo, tip, m.commit, m.message);
    if (made.kind === 'conflicted') {
      conflicted.push({ task: m.task, attempt: m.attempt, files: made.files });
      continue;
    }
    tip = made.commit;
    kept.push({ task: m.task, attempt: m.attempt, commit: m.commit, tip });
  }
  return { tip, kept, conflicted };
}

/**
 * Points `refs/heads/<branch>` at `to` if it still points at `from` (compare-and-swap).
 * @throws GitError if the branch moved meanwhile or is gone
 */
export function moveBranch(repo: string, branch: string, to: string, from: string): void {
  if (to !== from) gitSync(repo, ['update-ref', `refs/heads/${branch}`, to, from]);
}

/** Where `refs/heads/<branch>` points now. @throws GitError if it is gone */
export function branchTip(repo: string, branch: string): string {
  return gitSync(repo, ['rev-parse', '--verify', `refs/heads/${branch}`]);
}
