// The git side of starting a run (DESIGN §7): check the repository, record the base commit, create
// the integration branch as a ref, and keep .swarm/ out of git. Nothing here touches the user's
// checked-out branch, index, working tree, untracked files or stashes.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { err, ok, type Result } from '../util/result.js';
import { git, gitInstalled, gitStartFailure, gitSync, gitTrySync, gitVersionOutput } from './git.js';
import { integrationBranch } from './layout.js';

/** Oldest git with `git merge-tree --write-tree` (added in 2.38.0). */
export const MIN_GIT = [2, 38] as const;

/** The git facts of a run, recorded in run.json. */
export interface GitRun {
  /** Top level of the repository. */
  repo: string;
  /** The commit the integration branch starts at. */
  base: string;
  /** `swarm/<run-id>`. */
  branch: string;
}

/** What the user should be told before the run starts (not errors). */
export type GitWarning = string;

/**
 * What to say when no `git` can be started: not installed, or installed but refused by the system
 * (the reason {@link gitStartFailure} gives), after {@link gitInstalled} said false.
 */
export function gitMissing(): string {
  const failure = gitStartFailure();
  const needs = `fileswarm needs git ${MIN_GIT.join('.')} or newer for its worktrees and merges (or set git.isolation: none to run tasks in place)`;
  return failure
    ? `git could not be started (${failure}): ${needs}`
    : `git is not installed (no \`git\` on the PATH): ${needs}`;
}

/**
 * The top level of the git repository containing `dir`, or undefined if it is not in one (or no
 * `git` can be started: see {@link gitInstalled}).
 */
export function repoTopLevel(dir: string): string | undefined {
  if (!fs.existsSync(dir) || !gitInstalled()) return undefined;
  const r = gitTrySync(dir, ['rev-parse', '--show-toplevel']);
  return r.exitCode === 0 ? r.stdout.trim() : undefined;
}

/** Parses `git --version` and checks it is at least {@link MIN_GIT}. */
export function checkGitVersion(): Result<string, string> {
  const version = gitVersionOutput();
  if (version === undefined) return err(gitMissing());
  const m = /git version (\d+)\.(\d+)/.exec(version);
  if (!m) return err(`git is not installed or did not run (\`git --version\` said: ${version})`);
  const [major, minor] = [Number(m[1]), Number(m[2])];
  if (major < MIN_GIT[0] || (major === MIN_GIT[0] && minor < MIN_GIT[1])) {
    return err(
      `git ${major}.${minor} is too old: fileswarm merges with \`git merge-tree --write-tree\`, which needs git ${MIN_GIT.join('.')} or newer`,
    );
  }
  return ok(`${major}.${minor}`);
}

/** Options of {@link prepareGitRun}, from the config's `git:` section. */
export interface GitOptions {
  base?: string;
  includeUncommitted: boolean;
}

/**
 * Checks everything first (git version, a base commit, a free branch name), then records the
 * base and creates `refs/heads/swarm/<run-id>` at it. (`swarm run` has added `.swarm/` to
 * info/exclude before it created anything: {@link excludeSwarmDir}.)
 * @returns the run's git facts and warnings (uncommitted changes the workers will not see), or a
 *   message for an error that must stop the run before any work (exit 2).
 */
export function prepareGitRun(
  repo: string,
  runId: string,
  options: GitOptions,
): Result<{ git: GitRun; warnings: GitWarning[] }, string> {
  const version = checkGitVersion();
  if (!version.ok) return version;
  const warnings: GitWarning[] = [];
  let base: string;
  if (options.base !== undefined) {
    const r = gitTrySync(repo, ['rev-parse', '--verify', '--quiet', `${options.base}^{commit}`]);
    if (r.exitCode !== 0) return err(`git.base "${options.base}" is not a commit in ${repo}`);
    base = r.stdout.trim();
  } else {
    if (gitTrySync(repo, ['rev-parse', '--verify', '--quiet', 'HEAD^{commit}']).exitCode !== 0) {
      return err(`${repo} has no commits yet: commit something first, or set git.isolation: none`);
    }
    if (gitTrySync(repo, ['symbolic-ref', '--quiet', 'HEAD']).exitCode !== 0) {
      return err(`HEAD is detached in ${repo}: check out a branch, or set git.base to the commit to start from`);
    }
    base = gitSync(repo, ['rev-parse', 'HEAD']);
  }
  const dirty = gitSync(repo, ['status', '--porcelain', '--untracked-files=no']) !== '';
  if (dirty && options.includeUncommitted) {
    // `git stash create` makes a commit of the working tree and index without changing either's
    // content, but it refreshes the index file's stat data: give it a copy of the index.
    const index = path.resolve(repo, gitSync(repo, ['rev-parse', '--git-path', 'index']));
    const copy = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'fileswarm-index-')), 'index');
    try {
      fs.copyFileSync(index, copy);
      const snapshot = gitSync(repo, ['stash', 'create', `fileswarm ${runId}: uncommitted changes`], {
        GIT_INDEX_FILE: copy,
      });
      if (snapshot) base = snapshot;
    } finally {
      fs.rmSync(path.dirname(copy), { recursive: true, force: true });
    }
  } else if (dirty) {
    warnings.push(
      `${repo} has uncommitted changes: workers start from ${base.slice(0, 12)} and will not see them (set git.include_uncommitted: true to include them)`,
    );
  }
  const branch = integrationBranch(runId);
  if (gitTrySync(repo, ['show-ref', '--verify', '--quiet', `refs/heads/${branch}`]).exitCode === 0) {
    return err(`the branch ${branch} already exists in ${repo}`);
  }
  // Create the branch only if it does not exist (the empty old value makes update-ref check that).
  gitSync(repo, ['update-ref', `refs/heads/${branch}`, base, '']);
  return ok({ git: { repo, base, branch }, warnings });
}

/** Adds `/.swarm/` to the repository's info/exclude (shared by all its worktrees), once. */
export function excludeSwarmDir(repo: string): void {
  const common = path.resolve(repo, gitSync(repo, ['rev-parse', '--git-common-dir']));
  const exclude = path.join(common, 'info', 'exclude');
  const text = fs.existsSync(exclude) ? fs.readFileSync(exclude, 'utf8') : '';
  if (text.split('\n').some((l) => l.trim() === '/.swarm/' || l.trim() === '.swarm/')) return;
  fs.mkdirSync(path.dirname(exclude), { recursive: true });
  fs.appendFileSync(exclude, `${text && !text.endsWith('\n') ? '\n' : ''}# fileswarm's runs and worktrees\n/.swarm/\n`);
}

/** `git diff --stat base tip` for the end-of-run summary (empty when nothing changed). */
export function diffStat(repo: string, base: string, tip: string): string {
  return gitTrySync(repo, ['diff', '--stat', base, tip]).stdout;
}

/** One file of a diff: lines added and deleted (null for a binary file). */
export interface FileDiffStat {
  path: string;
  added: number | null;
  deleted: number | null;
}

/**
 * `git diff --numstat base tip`: the files changed between two commits with their line counts.
 * A renamed file is named by its new path. @throws GitError (a commit that is not there)
 */
export async function diffNumstat(repo: string, base: string, tip: string): Promise<FileDiffStat[]> {
  const out = await git(repo, ['diff', '--numstat', '-z', '--no-renames', base, tip]);
  // -z: `added\tdeleted\tpath\0` per file, so paths with tabs or newlines stay whole.
  return out
    .split('\0')
    .filter((r) => r !== '')
    .map((r) => {
      const [added, deleted, ...rest] = r.split('\t');
      const count = (s: string | undefined): number | null => (s === undefined || s === '-' ? null : Number(s));
      return { path: rest.join('\t'), added: count(added), deleted: count(deleted) };
    });
}
