// A worker's git work for one attempt: a fresh worktree at the integration tip, and a commit of
// everything the attempt left in it, kept reachable by refs/swarm/<run-id>/<task>/<n>.
import fs from 'node:fs';
import path from 'node:path';
import { git, gitTrySync } from './git.js';

/** Identity for commits made by fileswarm, used only when the repository has none configured. */
function identityArgs(repo: string): string[] {
  const configured = gitTrySync(repo, ['config', 'user.email']).exitCode === 0;
  return configured ? [] : ['-c', 'user.name=fileswarm', '-c', 'user.email=fileswarm@localhost'];
}

/** Tries of `git worktree add` before giving up (see createWorktree). */
const WORKTREE_ADD_TRIES = 6;

/**
 * Creates a detached worktree at `commit` (removing a leftover one at the same path first).
 *
 * `git worktree add` is not safe against another one (or a `worktree remove`) running at the same
 * time in the same repository: it lists the existing worktrees and fails on one whose
 * administrative files are half written ("fatal: failed to read .git/worktrees/<x>/commondir",
 * seen with three workers starting at once on git 2.39). Workers start attempts concurrently, so a
 * failure is retried, with a growing, jittered wait; `--force` on a retry takes over the path if the
 * failed try registered it. A real problem (a bad commit) still fails, after about 3 s.
 * @throws Error with git's message when every try failed.
 */
export async function createWorktree(repo: string, worktree: string, commit: string): Promise<void> {
  if (fs.existsSync(worktree)) await git(repo, ['worktree', 'remove', '--force', worktree]).catch(() => fs.rmSync(worktree, { recursive: true, force: true }));
  fs.mkdirSync(path.dirname(worktree), { recursive: true });
  for (let attempt = 1; ; attempt++) {
    try {
      await git(repo, ['worktree', 'add', '--detach', '--quiet', ...(attempt > 1 ? ['--force'] : []), worktree, commit]);
      return;
    } catch (e) {
      if (attempt >= WORKTREE_ADD_TRIES) throw e;
      if (fs.existsSync(worktree)) fs.rmSync(worktree, { recursive: true, force: true });
      await new Promise((r) => setTimeout(r, 50 * 2 ** attempt * (0.5 + Math.random())));
    }
  }
}

/** The commit of an attempt's work and the files it changes relative to `base`. */
export interface AttemptCommit {
  commit: string;
  files: string[];
}

/**
 * Commits everything in the worktree (new, changed and deleted files; ignored ones excepted) and
 * points `ref` at the commit. Returns undefined when the attempt changed nothing.
 */
export async function commitWorktree(repo: string, worktree: string, base: string, ref: string, message: string): Promise<AttemptCommit | undefined> {
  await git(worktree, ['add', '--all']);
  const staged = gitTrySync(worktree, ['diff', '--cached', '--quiet']);
  if (staged.exitCode === 0) return undefined;
  await git(worktree, [...identityArgs(repo), 'commit', '--quiet', '--no-verify', '-m', message]);
  const commit = await git(worktree, ['rev-parse', 'HEAD']);
  await git(repo, ['update-ref', ref, commit]);
  const files = (await git(repo, ['diff', '--name-only', base, commit])).split('\n').filter(Boolean);
  return { commit, files };
}

/** Removes a worktree and its administrative files (the attempt's commit stays, by its ref). */
export async function removeWorktree(repo: string, worktree: string): Promise<void> {
  await git(repo, ['worktree', 'remove', '--force', worktree]);
}
