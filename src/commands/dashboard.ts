// `swarm dashboard [run-dir]`: the blessed dashboard on a run directory, live or finished. Without
// an argument it picks the newest run under .swarm/runs/ of the repository (or the current
// directory). With the hidden `--attached` it is the dashboard of a `swarm run` or `swarm resume`
// that started it (src/dashboard/attach.ts): Ctrl-C then goes to that coordinator, over the IPC
// channel, and the dashboard quits when its parent is gone.
import fs from 'node:fs';
import path from 'node:path';
import { DEFAULTS } from '../config/defaults.js';
import { repoTopLevel } from '../git/repo.js';
import type { Dashboard } from '../dashboard/app.js';
import { ProtocolFileError } from '../protocol/files.js';
import { RunPaths } from '../protocol/paths.js';
import type { Output } from '../presenter/console.js';
import { EXIT } from '../run/exit-codes.js';

/** Options of `swarm dashboard`. */
export interface DashboardCommandOptions {
  /** Started by `swarm run`/`swarm resume` with an IPC channel (internal). */
  attached?: boolean;
}

/**
 * The newest run directory under `<repo>/.swarm/runs/` (run ids are ULIDs, so the greatest name
 * is the newest), where `<repo>` is the git top level of `cwd`, else `cwd`.
 * @returns the directory, or an error message.
 */
export function newestRun(cwd: string): { dir: string } | { error: string } {
  const runs = path.join(repoTopLevel(cwd) ?? cwd, DEFAULTS.runDir);
  let names: string[] = [];
  try {
    // Not a run still under its temporary name (`.<id>.creating`), even a complete one.
    names = fs
      .readdirSync(runs)
      .filter((n) => !n.startsWith('.') && fs.existsSync(new RunPaths(path.join(runs, n)).runJson));
  } catch {
    // no runs directory
  }
  if (names.length === 0)
    return { error: `${runs}: no run here (start one with \`swarm run\`, or name a run directory)` };
  names.sort();
  return { dir: path.join(runs, names.at(-1)!) };
}

/** Checks the directory before the terminal is touched; returns an error message or undefined. */
function checkRunDir(dir: string): string | undefined {
  const paths = new RunPaths(dir);
  if (!fs.existsSync(paths.root)) return `${paths.root}: no such directory`;
  if (!fs.statSync(paths.root).isDirectory()) return `${paths.root}: not a directory`;
  if (!fs.existsSync(paths.runJson)) return `${paths.root}: not a run directory (no run.json)`;
  return undefined;
}

/** `swarm dashboard`: runs until the user quits (exit 0), or refuses (exit 2). */
export async function dashboardCommand(
  runDir: string | undefined,
  options: DashboardCommandOptions,
  out: Output,
  err: Output,
): Promise<number> {
  let dir = runDir;
  if (dir === undefined) {
    const found = newestRun(process.cwd());
    if ('error' in found) {
      err.write(`swarm: ${found.error}\n`);
      return EXIT.cannotStart;
    }
    dir = found.dir;
  }
  const bad = checkRunDir(dir);
  if (bad) {
    err.write(`swarm: ${bad}\n`);
    return EXIT.cannotStart;
  }
  if (!process.stdout.isTTY || !process.stdin.isTTY) {
    err.write(
      `swarm: the dashboard needs a terminal (stdin and stdout); without one use \`swarm status ${path.resolve(dir)} --follow\`\n`,
    );
    return EXIT.cannotStart;
  }

  const attached = options.attached === true && typeof process.send === 'function';
  // Loaded here, not at the top: blessed is needed by this command only (workers start faster).
  const { Dashboard } = await import('../dashboard/app.js');
  const trace = process.env.SWARM_DASHBOARD_TRACE;
  const openedAt = performance.now();
  let dashboard: Dashboard;
  try {
    dashboard = Dashboard.open({
      runDir: dir,
      colors: !process.env.NO_COLOR,
      ...(attached ? { onInterrupt: () => process.send?.({ type: 'interrupt' }) } : {}),
      ...(trace ? { onFirstFrame: (d: Dashboard) => writeTrace(trace, d, openedAt) } : {}),
    });
  } catch (e) {
    if (!isRunError(e)) throw e;
    err.write(`swarm: ${(e as Error).message}\n`);
    return EXIT.cannotStart;
  }
  const quit = (): void => dashboard.quit();
  // A Ctrl-C that reaches this process as a signal (not as a key) belongs to the coordinator when
  // attached (it gets the same signal); otherwise it quits, as SIGTERM and SIGHUP do.
  const onSigint = (): void => (attached ? undefined : quit());
  process.on('SIGINT', onSigint);
  process.on('SIGTERM', quit);
  process.on('SIGHUP', quit);
  if (attached) {
    process.on('disconnect', quit); // the coordinator's process is gone
  }
  await dashboard.closed;
  // The terminal is back: leave the one command the user may need where they can copy it.
  const resume = dashboard.source.model.header(Date.now()).resumeCommand;
  if (resume && !attached)
    out.write(`the run is not finished and no coordinator is running it; continue with:\n  ${resume}\n`);
  process.off('SIGINT', onSigint);
  process.off('SIGTERM', quit);
  process.off('SIGHUP', quit);
  return 0;
}

/** Whether an error from opening a run is about the directory (a message, exit 2) rather than a bug. */
function isRunError(e: unknown): boolean {
  return (
    e instanceof ProtocolFileError ||
    (e instanceof Error &&
      (e.name === 'NotARunError' || e instanceof SyntaxError || /event log gap|names unknown task/.test(e.message)))
  );
}

/**
 * The benchmark's start-up record ($SWARM_DASHBOARD_TRACE): ms from the process's start to the
 * command (node start-up and module loading) and to the first full frame.
 */
function writeTrace(file: string, dashboard: Dashboard, openedAt: number): void {
  const record = {
    command_ms: openedAt,
    first_frame_ms: performance.now(),
    open: dashboard.source.openStats,
    tasks: dashboard.source.model.plan.tasks.length,
  };
  fs.writeFileSync(file, JSON.stringify(record) + '\n');
}
