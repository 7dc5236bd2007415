// The `command` backend: runs a task's `run:` with /bin/sh -c, in its own process group.
import fs from 'node:fs';
import { execa } from 'execa';
import { killGroup } from '../../util/process.js';
import type { AttemptContext, Backend, BackendOutcome, StopReason } from './backend.js';

/**
 * Runs `run:` in a shell. stdout and stderr go straight to the attempt's log files (appended).
 * The shell is spawned detached, so it leads a new process group, and stopping the attempt kills
 * the whole group (`kill -pgid`: SIGTERM, then SIGKILL after the grace period), because `sh` does
 * not forward signals to its children and execa does not kill grandchildren.
 */
export class CommandBackend implements Backend {
  async run(ctx: AttemptContext): Promise<BackendOutcome> {
    const { assignment, paths } = ctx;
    const command = assignment.task.run;
    if (command === null) {
      return { outcome: 'failed', reason: 'spawn-failed', exit_code: null, signal: null, summary: 'the task has no `run:` command' };
    }
    if (!fs.existsSync(assignment.workspace)) {
      return { outcome: 'failed', reason: 'spawn-failed', exit_code: null, signal: null, summary: `working directory ${assignment.workspace} does not exist` };
    }
    let stopping: Promise<void> | undefined;
    const child = execa(command, {
      shell: '/bin/sh',
      cwd: assignment.workspace,
      env: ctx.env,
      extendEnv: false,
      detached: true,
      stdin: 'ignore',
      stdout: { file: paths.stdout, append: true },
      stderr: { file: paths.stderr, append: true },
      reject: false,
    });
    const pgid = child.pid;
    if (pgid !== undefined) {
      ctx.onSpawn(pgid);
      ctx.emit({ type: 'log', text: `started /bin/sh -c (pgid ${pgid})` });
    }
    const stop = (): void => {
      if (pgid !== undefined) stopping ??= killGroup(pgid, assignment.kill_grace_ms);
    };
    if (ctx.signal.aborted) stop();
    ctx.signal.addEventListener('abort', stop, { once: true });
    const res = await child;
    ctx.signal.removeEventListener('abort', stop);
    // The shell may exit before its children: stop whatever it left in its group.
    if (pgid !== undefined) await (stopping ?? killGroup(pgid, assignment.kill_grace_ms));
    if (ctx.signal.aborted) {
      const why = ctx.signal.reason as StopReason;
      const outcome = why === 'timed-out' ? 'timed-out' : 'cancelled';
      const summary = why === 'timed-out' ? `timed out after ${assignment.timeout_ms} ms` : why === 'interrupted' ? 'interrupted (Ctrl-C)' : 'cancelled by request';
      return { outcome, reason: why, exit_code: res.exitCode ?? null, signal: res.signal ?? null, summary };
    }
    if (res.failed && res.exitCode === undefined && res.signal === undefined) {
      return { outcome: 'failed', reason: 'spawn-failed', exit_code: null, signal: null, summary: `could not start: ${res.shortMessage}` };
    }
    if (res.signal) {
      return { outcome: 'failed', reason: 'killed-by-signal', exit_code: null, signal: res.signal, summary: `killed by ${res.signal}` };
    }
    const code = res.exitCode ?? 0;
    ctx.emit({ type: 'log', text: `exited with code ${code}` });
    return code === 0
      ? { outcome: 'succeeded', reason: 'exit-zero', exit_code: 0, signal: null, summary: 'exited with code 0' }
      : { outcome: 'failed', reason: 'exit-non-zero', exit_code: code, signal: null, summary: `exited with code ${code}` };
  }
}
