// Merging an attempt's commit into the integration branch without a checkout (DESIGN §7):
// `git merge-tree --write-tree`, `git commit-tree`, `git update-ref` with the expected old tip.
import { gitSync, gitTrySync } from './git.js';

/** How a merge went. */
export type MergeOutcome =
  /** The branch now includes the commit; `tip` is its new commit. */
  | { kind: 'merged'; tip: string; files: string[] }
  /** The commit conflicts with the branch at `tip` in `files`; the branch is unchanged. */
  | { kind: 'conflicted'; tip: string; files: string[] };

function identityArgs(repo: string): string[] {
  return gitTrySync(repo, ['config', 'user.email']).exitCode === 0
    ? []
    : ['-c', 'user.name=fileswarm', '-c', 'user.email=fileswarm@localhost'];
}

/**
 * Merges `commit` into `refs/heads/<branch>`. Idempotent: a commit the branch already contains is
 * reported merged at the current tip (so resume can merge again safely). Fast-forwards when the
 * branch has not moved since the attempt started.
 * @throws GitError for anything but a conflict (a missing commit, a ref changed under us).
 */
export function mergeIntoBranch(repo: string, branch: string, commit: string, message: string): MergeOutcome {
  const ref = `refs/heads/${branch}`;
  const tip = gitSync(repo, ['rev-parse', '--verify', ref]);
  const files = (base: string, to: string): string[] =>
    gitSync(repo, ['diff', '--name-only', base, to]).split('\n').filter(Boolean);
  if (gitTrySync(repo, ['merge-base', '--is-ancestor', commit, tip]).exitCode === 0)
    return { kind: 'merged', tip, files: [] };
  if (gitTrySync(repo, ['merge-base', '--is-ancestor', tip, commit]).exitCode === 0) {
    gitSync(repo, ['update-ref', ref, commit, tip]);
    return { kind: 'merged', tip: commit, files: files(tip, commit) };
  }
  const r = gitTrySync(repo, ['merge-tree', '--write-tree', '--name-only', '--no-messages', tip, commit]);
  const lines = r.stdout.split('\n');
  if (r.exitCode === 1) return { kind: 'conflicted', tip, files: lines.slice(1).filter(Boolean) };
  if (r.exitCode !== 0) gitSync(repo, ['merge-tree', '--write-tree', tip, commit]); // throws with git's message
  const tree = lines[0]!.trim();
  const merged = gitSync(repo, [...identityArgs(repo), 'commit-tree', tree, '-p', tip, '-p', commit, '-m', message]);
  gitSync(repo, ['update-ref', ref, merged, tip]);
  return { kind: 'merged', tip: merged, files: files(tip, merged) };
}

/** The diff an attempt made (`git diff base commit`), cut to `maxChars`. */
export function attemptDiff(repo: string, base: string, commit: string, maxChars = 65_536): string {
  const diff = gitTrySync(repo, ['diff', base, commit]).stdout;
  return diff.length > maxChars ? `${diff.slice(0, maxChars)}\n[diff truncated at ${maxChars} characters]\n` : diff;
}
