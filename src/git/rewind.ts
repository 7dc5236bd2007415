// Taking a merge off the integration branch without rewriting what was verified: the branch goes
// back to its last verified tip and the other merges made since are made again on it, in their
// order. Objects first, then one compare-and-swap of the ref, so a crash leaves the branch either
// as it was or rewound, never half-way. The merges made again carry the author, committer and dates of the merges they
// remake, so a rewind done again after a crash makes the very same commits, and finds the branch
// already moved to them.
import type { QueuedMerge } from '../protocol/schemas.js';
import { gitSync, gitTrySync } from './git.js';
import { identityOf, mergeCommit } from './merge.js';

/** A merge to make again: the attempt's commit and the message of its merge commit. */
export interface Remerge {
  task: string;
  attempt: number;
  commit: string;
  message: string;
  /** The commit this merge made on the branch before the rewind: the new one gets its author, committer and dates. */
  remakes: string;
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
 * a merge that conflicts is left out and reported. Deterministic: the same inputs make the same
 * commits (each dated as the commit it remakes).
 * @throws GitError when git fails for another reason than a conflict
 */
export function remakeMerges(repo: string, verified: string, merges: readonly Remerge[]): RewoundBranch {
  let tip = verified;
  const kept: QueuedMerge[] = [];
  const conflicted: RewoundBranch['conflicted'] = [];
  for (const m of merges) {
    const made = mergeCommit(repo, tip, m.commit, m.message, identityOf(repo, m.remakes));
    if (made.kind === 'conflicted') {
      conflicted.push({ task: m.task, attempt: m.attempt, files: made.files });
      continue;
    }
    tip = made.commit;
    kept.push({ task: m.task, attempt: m.attempt, commit: m.commit, tip });
  }
  return { tip, kept, conflicted };
}

/** How moving the branch went. */
export type BranchMove =
  /** The branch points at the new tip (also when it already did: a rewind done again). */
  | { kind: 'moved' }
  /** The branch is neither where it was expected nor at the new tip: left alone. Null: deleted. */
  | { kind: 'elsewhere'; actual: string | null };

/**
 * Points `refs/heads/<branch>` at `to` if it points at `expected` (compare-and-swap: `git
 * update-ref <ref> <to> <expected>`). `expected` must be the tip the caller knows of (the run's
 * log), never one read just before: a commit someone else put on the branch would be dropped.
 * @returns `moved` when the branch points at `to` (moved now, or already there); `elsewhere` with
 *   where it points when it was moved by someone else (or deleted): nothing is changed then
 * @throws GitError when git fails for another reason (a broken repository)
 */
export function moveBranch(repo: string, branch: string, to: string, expected: string): BranchMove {
  const ref = `refs/heads/${branch}`;
  if (to !== expected && gitTrySync(repo, ['update-ref', ref, to, expected]).exitCode === 0) return { kind: 'moved' };
  const now = gitTrySync(repo, ['rev-parse', '--verify', '-q', `${ref}^{commit}`]);
  const actual = now.exitCode === 0 ? now.stdout.trim() : null;
  if (actual === to) return { kind: 'moved' };
  if (actual !== expected) return { kind: 'elsewhere', actual };
  gitSync(repo, ['update-ref', ref, to, expected]); // where expected, yet the swap failed: git's error
  return { kind: 'moved' };
}
