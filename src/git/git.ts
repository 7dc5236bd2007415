// Running git: one small wrapper so every call has the same error shape. fileswarm never runs a
// git command that changes the user's checked-out branch, index or working tree (DESIGN §1.4):
// only ref updates, object writes and worktrees of its own under .swarm/worktrees/.
import { execFile, spawnSync } from 'node:child_process';

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

/** Up to this much output of one git command is kept (a diff of a large change). */
const MAX_OUTPUT = 256 * 1024 * 1024;

/** The environment of every git command: the process's, with {@link GIT_ENV} and `env` on top. */
const gitEnv = (env: Record<string, string> = {}): NodeJS.ProcessEnv => ({ ...process.env, ...GIT_ENV, ...env });

const stripFinalNewline = (s: string): string => (s.endsWith('\n') ? s.slice(0, s.endsWith('\r\n') ? -2 : -1) : s);

/**
 * Runs git synchronously and returns its exit code and output, whatever the exit code.
 * node:child_process directly rather than execa: git runs on every attempt's hot path in the
 * worker and the coordinator, and execa's 106 modules were a fifth of a worker's start-up.
 * @throws GitError when git cannot be started at all
 */
export function gitTrySync(cwd: string, args: string[], env: Record<string, string> = {}): GitOutput {
  const r = spawnSync('git', ['-C', cwd, ...args], { env: gitEnv(env), encoding: 'utf8', maxBuffer: MAX_OUTPUT });
  if (r.error || r.status === null)
    throw new GitError(args, undefined, r.error?.message ?? `git was killed by ${r.signal ?? 'a signal'}`);
  return { exitCode: r.status, stdout: stripFinalNewline(r.stdout), stderr: stripFinalNewline(r.stderr) };
}

let foundVersion: string | undefined;
/** Why the last `git --version` failed, when something named git is there (not ENOENT). */
let startFailure: string | undefined;

/**
 * The output of `git --version` (e.g. `git version 2.39.5`), or undefined when no `git` can be
 * started (from the PATH, as every git call here does). A found git is remembered: start-up asks
 * several times (the run's checks, the repository's top level, the version), and spawns it once.
 */
export function gitVersionOutput(): string | undefined {
  if (foundVersion !== undefined) return foundVersion;
  const r = spawnSync('git', ['--version'], { env: gitEnv({}), encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  if (!r.error && r.status === 0) foundVersion = r.stdout.trim();
  const code = (r.error as NodeJS.ErrnoException | undefined)?.code;
  if (r.error) startFailure = code === 'ENOENT' ? undefined : r.error.message;
  else if (r.status !== 0)
    startFailure = r.signal ? `git --version was killed by ${r.signal}` : `git --version exited with code ${r.status}`;
  else startFailure = undefined;
  return foundVersion;
}

/**
 * Why `git` could not be started although something is there (`spawnSync git EACCES`, `E2BIG`,
 * `EAGAIN`, or `git --version exited with code 1`: a version manager's shim with no version set),
 * after {@link gitVersionOutput} found none; undefined when it is simply not on the PATH.
 */
export function gitStartFailure(): string | undefined {
  return startFailure;
}

/** Whether a `git` program can be started at all (see {@link gitVersionOutput}). */
export function gitInstalled(): boolean {
  return gitVersionOutput() !== undefined;
}

/** Asynchronous {@link gitSync}, for workers (which must keep heartbeating while git runs). */
export async function git(
  cwd: string,
  args: string[],
  options: { env?: Record<string, string> } = {},
): Promise<string> {
  const r = await gitTry(cwd, args, options);
  if (r.exitCode !== 0) throw new GitError(args, r.exitCode, r.stderr);
  return r.stdout;
}

/** Asynchronous {@link gitTrySync}: the exit code and both outputs, whatever the exit code (-1: could not start). */
export function gitTry(
  cwd: string,
  args: string[],
  options: { env?: Record<string, string> } = {},
): Promise<GitOutput> {
  return new Promise((resolve) => {
    execFile(
      'git',
      ['-C', cwd, ...args],
      { env: gitEnv(options.env), encoding: 'utf8', maxBuffer: MAX_OUTPUT },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
        resolve({
          exitCode: code,
          stdout: stripFinalNewline(stdout),
          stderr: stripFinalNewline(stderr || (code === -1 ? String(error?.message) : '')),
        });
      },
    );
  });
}
