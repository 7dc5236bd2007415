// One integration check (`integration.verify`): the command run on one tip of the integration
// branch, in the run's integration worktree, as the leader of its own process group (in the
// sandbox of command tasks when the run has one), stoppable as a whole.
import fs from 'node:fs';
import type { SandboxSpec } from '../protocol/schemas.js';
import { git } from '../git/git.js';
import { ownWorktree } from '../git/own-worktree.js';
import { Sandbox } from '../worker/sandbox/sandbox.js';
import { runShell } from '../worker/shell.js';
import { killByEnvMarker } from '../util/process.js';
import { killRecordedGroup, recordCheckGroup, type GroupKill } from './check-group.js';
import { timerDelay } from '../util/timer.js';

/** The environment variable every process of an integration check carries: `<run-id>/<check>`. */
export const CHECK_MARKER = 'SWARM_INTEGRATION_CHECK';

/** How a check ended. */
export type CheckEnd =
  /** The command ran: exit 0 is `passed`, anything else (a signal, the timeout) `failed`. */
  | { kind: 'ran'; outcome: 'passed' | 'failed'; exitCode: number | null; durationMs: number; summary: string }
  /** The check could not be run (its worktree could not be made): no verdict on the tip. */
  | { kind: 'error'; message: string }
  /** Stopped by the coordinator (it is shutting down): to be run again by the next session. */
  | { kind: 'stopped' };

/** What running one check needs. */
export interface CheckSpec {
  repo: string;
  runId: string;
  /** The run directory (given to the command as SWARM_RUN_DIR). */
  runDir: string;
  /**
   * The integration worktree (created on first use, rebuilt when it is not a worktree of its own,
   * reset to `tip` before each check).
   */
  worktree: string;
  check: number;
  tip: string;
  command: string;
  /** The file the command's output is appended to. */
  logFile: string;
  /**
   * Where the check's process group is recorded while it runs (`integration/check-<n>.group.json`),
   * for a resumed coordinator to kill it ({@link killLeftoverCheck}); removed once the check ends.
   */
  groupFile: string;
  /** The check fails when it runs longer (ms). */
  timeoutMs: number;
  /** SIGTERM to SIGKILL when stopping it (ms). */
  killGraceMs: number;
  /** The sandbox of the run's command tasks. */
  sandbox: SandboxSpec;
  /** Called once the command's process exists (fault injection). */
  onSpawn?: () => void;
}

/** A check started by {@link startCheck}. */
export interface RunningCheck {
  readonly check: number;
  /** Set once the check has ended. */
  readonly end: CheckEnd | undefined;
  /** Stops the check's processes; resolves once they are gone. */
  stop(): Promise<void>;
}

/** What {@link killLeftoverCheck} killed. */
export interface LeftoverKill {
  /** The pids found by the check's environment marker, signalled. */
  marked: number[];
  /** The recorded process group: killed, or why not. */
  group: GroupKill;
}

/**
 * Kills whatever is left of check `check` of run `runId` (a coordinator killed while it ran):
 * the process group recorded in `groupFile` (when on this host and still the same group: this
 * finds processes that dropped the marker from their environment), and every process that carries
 * its marker (this finds those that left the group).
 */
export function killLeftoverCheck(runId: string, check: number, groupFile: string): LeftoverKill {
  const group = killRecordedGroup(groupFile);
  return { marked: killByEnvMarker(CHECK_MARKER, `${runId}/${check}`), group };
}

/** Starts a check; `onEnd` is called once it has ended (also when stopped). */
export function startCheck(spec: CheckSpec, onEnd: () => void): RunningCheck {
  const abort = new AbortController();
  let end: CheckEnd | undefined;
  const done = run(spec, abort.signal).then(
    (e) => (end = e),
    (e: unknown) => (end = { kind: 'error', message: (e as Error).message }),
  );
  void done.then(onEnd);
  return {
    check: spec.check,
    get end() {
      return end;
    },
    async stop() {
      abort.abort();
      await done;
    },
  };
}

async function run(spec: CheckSpec, stopped: AbortSignal): Promise<CheckEnd> {
  const started = Date.now();
  let rebuilt: string | null;
  try {
    rebuilt = await prepareWorktree(spec.repo, spec.worktree, spec.tip);
  } catch (e) {
    return {
      kind: 'error',
      message: `could not prepare the integration worktree ${spec.worktree}: ${(e as Error).message}`,
    };
  }
  if (stopped.aborted) return { kind: 'stopped' };
  if (rebuilt) fs.appendFileSync(spec.logFile, `(the integration worktree was added again: ${rebuilt})\n`);
  fs.appendFileSync(spec.logFile, `$ ${spec.command}    # check ${spec.check} on ${spec.tip}\n`);
  const added = { SWARM_RUN_DIR: spec.runDir, [CHECK_MARKER]: `${spec.runId}/${spec.check}` };
  const sandbox = Sandbox.forDirectory(spec.sandbox, { root: spec.worktree, repo: spec.repo, env: added });
  if (!sandbox.ok) return { kind: 'error', message: sandbox.error };
  const timeout = new AbortController();
  const timer = setTimeout(() => timeout.abort(), timerDelay(spec.timeoutMs));
  const signal = AbortSignal.any([stopped, timeout.signal]);
  try {
    const exit = await runShell({
      command: spec.command,
      cwd: spec.worktree,
      env: sandbox.value?.env() ?? { ...process.env, ...added },
      sandbox: sandbox.value,
      stdout: spec.logFile,
      stderr: spec.logFile,
      signal,
      killGraceMs: spec.killGraceMs,
      onSpawn: (pgid) => {
        // First of all, before a crash can come: a resumed coordinator kills the group by this.
        recordCheckGroup(spec.groupFile, pgid);
        spec.onSpawn?.();
      },
    });
    fs.rmSync(spec.groupFile, { force: true }); // runShell has stopped the group
    const durationMs = Date.now() - started;
    const what = `integration check \`${spec.command}\` on ${spec.tip.slice(0, 12)}`;
    switch (exit.kind) {
      case 'exited':
        return exit.exitCode === 0
          ? { kind: 'ran', outcome: 'passed', exitCode: 0, durationMs, summary: `${what} passed` }
          : {
              kind: 'ran',
              outcome: 'failed',
              exitCode: exit.exitCode,
              durationMs,
              summary: `${what} failed with exit code ${exit.exitCode}`,
            };
      case 'signaled':
        return {
          kind: 'ran',
          outcome: 'failed',
          exitCode: null,
          durationMs,
          summary: `${what} died of ${exit.signal}`,
        };
      case 'aborted':
        if (stopped.aborted) return { kind: 'stopped' };
        return {
          kind: 'ran',
          outcome: 'failed',
          exitCode: null,
          durationMs,
          summary: `${what} timed out after ${Math.round(spec.timeoutMs / 1000)} s`,
        };
      case 'spawn-failed':
        return { kind: 'error', message: `could not start the integration check: ${exit.message}` };
    }
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The integration worktree at `tip`, detached, with nothing left of the last check (untracked and
 * ignored files removed): the check sees exactly the tip. The worktree is first made sure to be
 * its own ({@link ownWorktree}: rebuilt if its `.git` is missing or points elsewhere), and git is
 * then told its git directory and work tree explicitly, so that no command meant for it can act
 * on the user's repository or on another worktree.
 * @returns why the worktree was added again, or null when it was reused
 */
async function prepareWorktree(repo: string, worktree: string, tip: string): Promise<string | null> {
  const own = await ownWorktree(repo, worktree, tip);
  const inIt = ['--git-dir', own.adminDir, '--work-tree', worktree];
  await git(worktree, [...inIt, 'checkout', '--detach', '--force', '--quiet', tip]);
  await git(worktree, [...inIt, 'clean', '-ffdxq']);
  return own.rebuilt;
}
