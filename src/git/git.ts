// Running git: one small wrapper so every call has the same error shape. fileswarm never runs a
// git command that changes the user's checked-out branch, index or working tree (DESIGN §1.4):
// only ref updates, object writes and worktrees of its own under .swarm/worktrees/.
import { execa, execaSync } from 'execa';

/** A git command that exited non-zero. */
export class GitError extends Error {
  constructor(
    readonly args: readonly string[],
    readonly exitCode: number | undefined,
    readonly stderr: string,
  ) {
    super(
      `git ${args.join(' ')} failed${exitCode === undefined ? '' : ` (exit ${exitCode})`}: ${stderr.trim().split('\n').slice(-3).join(' ')}`,
    );
    this.name = 'GitError';
  }
}

/** Output of a git command that may legitimately exit non-zero (merge-tree exits 1 on conflicts). */
export interface GitOutput {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/**
 * Environment for git: no pager, no prompts, no editor, C locale for parseable messages, and no
 * optional locks, so that read-only commands such as `git status` do not refresh (rewrite) the
 * user's index file.
 */
const GIT_ENV = {
  GIT_TERMINAL_PROMPT: '0',
  GIT_PAGER: 'cat',
  GIT_EDITOR: 'true',
  LC_ALL: 'C',
  GIT_OPTIONAL_LOCKS: '0',
};

/** Runs `git -C cwd args...` synchronously; returns stdout (trailing newline removed). @throws GitError */
export function gitSync(cwd: string, args: string[], env: Record<string, string> = {}): string {
  const r = gitTrySync(cwd, args, env);
  if (r.exitCode !== 0) throw new GitError(args, r.exitCode, r.stderr);
  return r.stdout;
}

/** Runs git synchronously and returns its exit code and output, whatever the exit code. */
export function gitTrySync(cwd: string, args: string[], env: Record<string, string> = {}): GitOutput {
  const r = execaSync('git', ['-C', cwd, ...args], {
    reject: false,
    env: { ...GIT_ENV, ...env },
    stripFinalNewline: true,
  });
  if (r.exitCode === undefined) throw new GitError(args, undefined, r.shortMessage ?? 'git could not be started');
  return { exitCode: r.exitCode, stdout: String(r.stdout), stderr: String(r.stderr) };
}

/** Asynchronous {@link gitSync}, for workers (which must keep heartbeating while git runs). */
export async function git(
  cwd: string,
  args: string[],
  options: { env?: Record<string, string> } = {},
): Promise<string> {
  const r = await execa('git', ['-C', cwd, ...args], {
    reject: false,
    env: { ...GIT_ENV, ...options.env },
    stripFinalNewline: true,
  });
  if (r.exitCode !== 0) throw new GitError(args, r.exitCode, String(r.stderr ?? r.shortMessage));
  return String(r.stdout);
}

/** Asynchronous {@link gitTrySync}: the exit code and both outputs, whatever the exit code. */
export async function gitTry(
  cwd: string,
  args: string[],
  options: { env?: Record<string, string> } = {},
): Promise<GitOutput> {
  const r = await execa('git', ['-C', cwd, ...args], { reject: false, env: { ...GIT_ENV, ...options.env } });
  return { exitCode: r.exitCode ?? -1, stdout: String(r.stdout), stderr: String(r.stderr) };
}
