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

/** Tries of a `git worktree add/remove` before giving up (see withWorktreeRetries). */
const WORKTREE_TRIES = 6;

/**
 * Runs a `git worktree` command, again on failure. `git worktree add` and `remove` are not safe
 * against each other running at the same time in one repository: each lists the existing
 * worktrees and fails on one whose administrative files are half written or half removed ("fatal:
 * failed to read .git/worktrees/<x>/commondir", seen with three workers starting at once, and with
 * the coordinator removing a merged worktree meanwhile, on git 2.39). Workers and the coordinator
 * do exactly that, so a failure is retried with a growing, jittered wait (0.1 s … 1.6 s); a real
 * problem (a bad commit) still fails, after about 3 s. `before` runs before every retry.
 * @throws Error with git's message when every try failed.
 */
async function withWorktreeRetries(
  run: (attempt: number) => Promise<unknown>,
  before: () => void = () => {},
): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await run(attempt);
      return;
    } catch (e) {
      if (attempt >= WORKTREE_TRIES) throw e;
      await new Promise((r) => setTimeout(r, 50 * 2 ** attempt * (0.5 + Math.random())));
      before();
    }
  }
}

/**
 * Creates a detached worktree at `commit` (removing a leftover one at the same path first). A try
 * that failed may have made the directory or registered the path: the retry removes the one and
 * takes over the other with `--force`.
 * @throws Error with git's message when every try failed.
 */
export async function createWorktree(repo: string, worktree: string, commit: string): Promise<void> {
  if (fs.existsSync(worktree))
    await removeWorktree(repo, worktree).catch(() => fs.rmSync(worktree, { recursive: true, force: true }));
  fs.mkdirSync(path.dirname(worktree), { recursive: true });
  await withWorktreeRetries(
    (attempt) =>
      git(repo, ['worktree', 'add', '--detach', '--quiet', ...(attempt > 1 ? ['--force'] : []), worktree, commit]),
    () => fs.rmSync(worktree, { recursive: true, force: true }),
  );
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
export async function commitWorktree(
  repo: string,
  worktree: string,
  base: string,
  ref: string,
  message: string,
): Promise<AttemptCommit | undefined> {
  await git(worktree, ['add', '--all']);
  const staged = gitTrySync(worktree, ['diff', '--cached', '--quiet']);
  if (staged.exitCode === 0) return undefined;
  await git(worktree, [...identityArgs(repo), 'commit', '--quiet', '--no-verify', '-m', message]);
  const commit = await git(worktree, ['rev-parse', 'HEAD']);
  await git(repo, ['update-ref', ref, commit]);
  const files = (await git(repo, ['diff', '--name-only', base, commit])).split('\n').filter(Boolean);
  return { commit, files };
}

/**
 * Removes a worktree and its administrative files (the attempt's commit stays, by its ref),
 * retried like createWorktree's add. Done once the directory is gone.
 * @throws Error with git's message when every try failed.
 */
export async function removeWorktree(repo: string, worktree: string): Promise<void> {
  await withWorktreeRetries(async () => {
    if (!fs.existsSync(worktree)) return; // a try that failed late may still have removed it
    await git(repo, ['worktree', 'remove', '--force', worktree]);
  });
}
