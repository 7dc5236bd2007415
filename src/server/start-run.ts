// Starting a run for `POST /api/runs`: its own detached `swarm run` process (the server never hosts
// a coordinator, so the run goes on when the server stops), named by an id the server chooses.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { CLI_PATH } from '../util/cli-path.js';
import { placeOf } from './context.js';
import { sleep } from '../util/process.js';
import { lastLines } from '../util/tail.js';
import { err, ok, type Result } from '../util/result.js';

/** How long to wait for the run directory to appear, ms (a --repo run clones first). */
const START_TIMEOUT_MS = 5 * 60_000;

/** What the started `swarm run` is given. */
export interface StartInput {
  /** The config file (absolute, or relative to the repository). */
  config: string;
  plan?: string;
  goal?: string | undefined;
  workers?: number | undefined;
  /** `--repo`: work on a cached clone of this URL. */
  repoUrl?: string | undefined;
  /** `--issue`: the goal is this issue. */
  issue?: string | undefined;
  /** `--base` (with repoUrl or issue). */
  base?: string | undefined;
  /** `--publish`. */
  publish?: boolean | undefined;
}

/** A started run's process. */
export interface Started {
  /** Resolves with its exit code (null: killed by a signal) once it ends, which is after publishing. */
  exited: Promise<number | null>;
  /** Its output (stdout and stderr). */
  logFile: string;
}

/** Why a run did not start: the process's exit code (2: refused, e.g. a repository that is not there) and its last lines. */
export interface StartFailure {
  exit: number | null;
  message: string;
}

/**
 * Starts `swarm run <config> [goal] [--plan FILE] [--repo URL] [--issue REF] [--base B] [--publish]
 * --run-dir <runsDir>/<id> --run-id <id> --no-dashboard` in the repository, detached, its output
 * in `<runsDir>/.serve-logs/<id>.log`, and resolves once the run directory exists (under its
 * temporary name while it is created); or with the end of that log if the process exits first (a
 * check that only the real start can make: the lock, a clone that fails, a planner that cannot start).
 */
export async function startRun(
  server: { runsDir: string; repo: string },
  id: string,
  input: StartInput,
): Promise<Result<Started, StartFailure>> {
  const runDir = path.join(server.runsDir, id);
  const logs = path.join(server.runsDir, '.serve-logs');
  fs.mkdirSync(logs, { recursive: true });
  const logFile = path.join(logs, `${id}.log`);
  const log = fs.openSync(logFile, 'a');
  // Options as --name=value and the positional arguments after `--`: a goal or a value that starts
  // with a dash stays a value.
  const args = [CLI_PATH, 'run', `--run-dir=${runDir}`, `--run-id=${id}`, '--no-dashboard'];
  if (input.plan) args.push(`--plan=${input.plan}`);
  if (input.repoUrl) args.push(`--repo=${input.repoUrl}`);
  if (input.issue) args.push(`--issue=${input.issue}`);
  if (input.base) args.push(`--base=${input.base}`);
  if (input.publish) args.push('--publish');
  if (input.workers) args.push(`--workers=${input.workers}`);
  args.push('--', input.config);
  if (input.goal) args.push(input.goal);
  const child = spawn(process.execPath, args, { cwd: server.repo, detached: true, stdio: ['ignore', log, log] });
  fs.closeSync(log);
  let code: number | null | undefined;
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (c) => {
      code = c;
      resolve(c);
    }),
  );
  child.unref();
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (placeOf(server.runsDir, id).kind !== 'none') return ok({ exited, logFile }); // under its temporary name, or in place
    if (code !== undefined)
      return err({
        exit: code,
        message: `swarm run exited ${code} before creating the run: ${lastLines(logFile, 5).join(' / ')}`,
      });
    await sleep(50);
  }
  return err({
    exit: null,
    message: `the run directory did not appear within ${START_TIMEOUT_MS} ms (log: ${logFile})`,
  });
}

/**
 * Continues a stopped or crashed run: its own detached `swarm resume <dir> --no-dashboard`, its
 * output appended to `<runsDir>/.serve-logs/<id>.log`. Resolves once a coordinator holds the run
 * again (coordinator.json names a new session), or with the end of that log if it exits first.
 */
export async function resumeRunProcess(
  server: { runsDir: string; repo: string },
  id: string,
  runDir: string,
): Promise<Result<void, string>> {
  const logs = path.join(server.runsDir, '.serve-logs');
  fs.mkdirSync(logs, { recursive: true });
  const logFile = path.join(logs, `${id}.log`);
  const coordinatorJson = path.join(runDir, 'coordinator.json');
  const before = fs.existsSync(coordinatorJson) ? fs.readFileSync(coordinatorJson, 'utf8') : '';
  const log = fs.openSync(logFile, 'a');
  const child = spawn(process.execPath, [CLI_PATH, 'resume', runDir, '--no-dashboard'], {
    cwd: server.repo,
    detached: true,
    stdio: ['ignore', log, log],
  });
  fs.closeSync(log);
  let exited: number | null | undefined;
  child.once('exit', (code) => (exited = code));
  child.unref();
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    const now = fs.existsSync(coordinatorJson) ? fs.readFileSync(coordinatorJson, 'utf8') : '';
    if (now !== before && now !== '') return ok(undefined);
    if (exited !== undefined)
      return exited === 0 ? ok(undefined) : err(`swarm resume exited ${exited}: ${lastLines(logFile, 5).join(' / ')}`);
    await sleep(50);
  }
  return err(`no coordinator took the run within ${START_TIMEOUT_MS} ms (log: ${logFile})`);
}
