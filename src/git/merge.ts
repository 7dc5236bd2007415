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

/** A merge made as objects only, no ref moved: the new commit and the files it changed, or a conflict. */
export type MergeCommit = { kind: 'merged'; commit: string; files: string[] } | { kind: 'conflicted'; files: string[] };

/**
 * Who made a commit and when, as git's environment sets it for a new one (GIT_AUTHOR_NAME,
 * GIT_AUTHOR_EMAIL, GIT_AUTHOR_DATE, GIT_COMMITTER_NAME, GIT_COMMITTER_EMAIL, GIT_COMMITTER_DATE;
 * dates in git's raw format, `<unix seconds> <+hhmm>`).
 */
export type CommitIdentity = Record<
  | 'GIT_AUTHOR_NAME'
  | 'GIT_AUTHOR_EMAIL'
  | 'GIT_AUTHOR_DATE'
  | 'GIT_COMMITTER_NAME'
  | 'GIT_COMMITTER_EMAIL'
  | 'GIT_COMMITTER_DATE',
  string
>;

/**
 * The identity of an existing commit (see {@link CommitIdentity}), read with signatures not shown
 * (a `log.showSignature` setting would add their lines).
 * @throws GitError if it is not a commit
 */
export function identityOf(repo: string, commit: string): CommitIdentity {
  const fields = gitSync(repo, [
    '-c',
    'log.showSignature=false',
    'show',
    '-s',
    '--format=%an%n%ae%n%ad%n%cn%n%ce%n%cd',
    '--date=raw',
    commit,
  ]).split('\n');
  const [an, ae, ad, cn, ce, cd] = fields;
  return {
    GIT_AUTHOR_NAME: an ?? '',
    GIT_AUTHOR_EMAIL: ae ?? '',
    GIT_AUTHOR_DATE: ad ?? '',
    GIT_COMMITTER_NAME: cn ?? '',
    GIT_COMMITTER_EMAIL: ce ?? '',
    GIT_COMMITTER_DATE: cd ?? '',
  };
}

/**
 * Makes the commit that merges `commit` into `onto` without moving any ref: `onto` itself when it
 * contains `commit` already, `commit` when it contains `onto` (a fast-forward), else a merge
 * commit (`git merge-tree --write-tree`, `git commit-tree`) with `message`, made now by the
 * configured user or, given `identity`, by that identity at that time (the same inputs then make
 * the same commit, whenever and by whomever it is made).
 * @throws GitError for anything but a conflict (a missing commit, a broken repository).
 */
export function mergeCommit(
  repo: string,
  onto: string,
  commit: string,
  message: string,
  identity?: CommitIdentity,
): MergeCommit {
  const files = (to: string): string[] => gitSync(repo, ['diff', '--name-only', onto, to]).split('\n').filter(Boolean);
  // One `git merge-base` answers both questions: X is an ancestor of Y exactly when X is their
  // best common ancestor. (Exit 1: no common ancestor; merge-tree then says why it cannot merge.)
  // It prints a full object name, so both are compared as full names.
  [onto, commit] = [fullName(repo, onto), fullName(repo, commit)];
  const base = gitTrySync(repo, ['merge-base', onto, commit]);
  if (base.exitCode === 0 && base.stdout === commit) return { kind: 'merged', commit: onto, files: [] };
  if (base.exitCode === 0 && base.stdout === onto) return { kind: 'merged', commit, files: files(commit) };
  const r = gitTrySync(repo, ['merge-tree', '--write-tree', '--name-only', '--no-messages', onto, commit]);
  const lines = r.stdout.split('\n');
  if (r.exitCode === 1) return { kind: 'conflicted', files: lines.slice(1).filter(Boolean) };
  if (r.exitCode !== 0) gitSync(repo, ['merge-tree', '--write-tree', onto, commit]); // throws with git's message
  const tree = lines[0]!.trim();
  const env: Record<string, string> = identity ?? {};
  const merged = gitSync(
    repo,
    [...identityArgs(repo), 'commit-tree', tree, '-p', onto, '-p', commit, '-m', message],
    env,
  );
  return { kind: 'merged', commit: merged, files: files(merged) };
}

/**
 * `rev` as a full commit id: as it is when it looks like one (40 or 64 hex digits: what every
 * caller passes, ids read from git), else resolved with `rev-parse`. A tag's id, or an abbreviated
 * id of 40 digits in a SHA-256 repository, would be taken as it is: callers pass commit ids.
 */
function fullName(repo: string, rev: string): string {
  return /^([0-9a-f]{40}|[0-9a-f]{64})$/.test(rev) ? rev : gitSync(repo, ['rev-parse', '--verify', `${rev}^{commit}`]);
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
  const made = mergeCommit(repo, tip, commit, message);
  if (made.kind === 'conflicted') return { kind: 'conflicted', tip, files: made.files };
  if (made.commit !== tip) gitSync(repo, ['update-ref', ref, made.commit, tip]);
  return { kind: 'merged', tip: made.commit, files: made.files };
}

/** The diff an attempt made (`git diff base commit`), cut to `maxChars`. */
export function attemptDiff(repo: string, base: string, commit: string, maxChars = 65_536): string {
  const diff = gitTrySync(repo, ['diff', base, commit]).stdout;
  return diff.length > maxChars ? `${diff.slice(0, maxChars)}\n[diff truncated at ${maxChars} characters]\n` : diff;
}
