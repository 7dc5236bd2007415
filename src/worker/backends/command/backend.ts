// The `command` backend's implementation: runs a task's `run:` with /bin/sh -c, in its own process
// group. What the rest of fileswarm knows of it is ./descriptor.ts.
import { unreachable } from '../../../util/unreachable.js';
import { runShell } from '../../shell.js';
import { stoppedOutcome, type AttemptContext, type Backend, type BackendOutcome, type StopReason } from '../backend.js';

/** Runs `run:` in a shell (see runShell); stdout and stderr go to the attempt's log files. */
export class CommandBackend implements Backend {
  async run(ctx: AttemptContext): Promise<BackendOutcome> {
    const { assignment, paths } = ctx;
    const command = assignment.task.run;
    if (command === null) {
      return {
        outcome: 'failed',
        reason: 'spawn-failed',
        exit_code: null,
        signal: null,
        summary: 'the task has no `run:` command',
      };
    }
    const exit = await runShell({
      command,
      cwd: ctx.workspace,
      env: ctx.sandbox?.env() ?? ctx.env,
      sandbox: ctx.sandbox,
      stdout: paths.stdout,
      stderr: paths.stderr,
      signal: ctx.signal,
      killGraceMs: assignment.kill_grace_ms,
      onSpawn: (pgid) => {
        ctx.onSpawn(pgid);
        ctx.emit({ type: 'log', text: `started /bin/sh -c (pgid ${pgid}${ctx.sandbox ? ', in a sandbox' : ''})` });
      },
    });
    switch (exit.kind) {
      case 'aborted':
        return {
          ...stoppedOutcome(ctx.signal.reason as StopReason, assignment.timeout_ms),
          exit_code: exit.exitCode,
          signal: exit.signal,
        };
      case 'spawn-failed':
        return {
          outcome: 'failed',
          reason: 'spawn-failed',
          exit_code: null,
          signal: null,
          summary: `could not start: ${exit.message}`,
        };
      case 'signaled':
        return {
          outcome: 'failed',
          reason: 'killed-by-signal',
          exit_code: null,
          signal: exit.signal,
          summary: `killed by ${exit.signal}`,
        };
      case 'exited':
        ctx.emit({ type: 'log', text: `exited with code ${exit.exitCode}` });
        return exit.exitCode === 0
          ? { outcome: 'succeeded', reason: 'exit-zero', exit_code: 0, signal: null, summary: 'exited with code 0' }
          : {
              outcome: 'failed',
              reason: 'exit-non-zero',
              exit_code: exit.exitCode,
              signal: null,
              summary: `exited with code ${exit.exitCode}`,
            };
      default:
        return unreachable(exit, 'shell exit');
    }
  }
}
