// Running a shell command as the leader of its own process group, stoppable as a whole.
import fs from 'node:fs';
import { execa } from 'execa';
import { killGroup } from '../util/process.js';

/** How a shell command ended. */
export type ShellExit =
  | { kind: 'exited'; exitCode: number }
  /** Died of a signal nobody in fileswarm sent. */
  | { kind: 'signaled'; signal: string }
  /** Stopped because `signal` was aborted; its process group was killed. */
  | { kind: 'aborted'; exitCode: number | null; signal: string | null }
  | { kind: 'spawn-failed'; message: string };

/** What {@link runShell} needs. */
export interface ShellOptions {
  command: string;
  cwd: string;
  env: Record<string, string | undefined>;
  /** Files that receive stdout and stderr (appended; may be the same file). */
  stdout: string;
  stderr: string;
  /** Aborting stops the command's whole process group: SIGTERM, then SIGKILL after `killGraceMs`. */
  signal: AbortSignal;
  killGraceMs: number;
  /** Called with the process group id once the shell exists. */
  onSpawn?(pgid: number): void;
}

/**
 * Runs `command` with /bin/sh -c, detached so it leads a new process group: stopping it kills the
 * group (`kill -pgid`), because sh does not forward signals to its children and execa does not kill
 * grandchildren. Output goes straight to files, so no pipe is held open by a grandchild. When the
 * shell exits, whatever it left running in its group is stopped too.
 */
export async function runShell(o: ShellOptions): Promise<ShellExit> {
  if (!fs.existsSync(o.cwd)) return { kind: 'spawn-failed', message: `working directory ${o.cwd} does not exist` };
  const child = execa(o.command, {
    shell: '/bin/sh',
    cwd: o.cwd,
    env: o.env,
    extendEnv: false,
    detached: true,
    stdin: 'ignore',
    stdout: { file: o.stdout, append: true },
    stderr: { file: o.stderr, append: true },
    reject: false,
  });
  const pgid = child.pid;
  let stopping: Promise<void> | undefined;
  const stop = (): void => {
    if (pgid !== undefined) stopping ??= killGroup(pgid, o.killGraceMs);
  };
  if (pgid !== undefined) o.onSpawn?.(pgid);
  if (o.signal.aborted) stop();
  o.signal.addEventListener('abort', stop, { once: true });
  const res = await child;
  o.signal.removeEventListener('abort', stop);
  if (pgid !== undefined) await (stopping ?? killGroup(pgid, o.killGraceMs));
  if (o.signal.aborted) return { kind: 'aborted', exitCode: res.exitCode ?? null, signal: res.signal ?? null };
  if (res.signal) return { kind: 'signaled', signal: res.signal };
  if (res.exitCode === undefined) return { kind: 'spawn-failed', message: res.shortMessage ?? 'the shell could not be started' };
  return { kind: 'exited', exitCode: res.exitCode };
}
