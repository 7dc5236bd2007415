// Run directories for the dashboard's tests, recorded from real runs of the CLI (`npm test` builds
// dist/ first), then copied and altered the way real runs end up: a coordinator that died, a log
// whose state.json lags behind. The 10,000-task run is written by the protocol's own writers
// (bench/synthetic-run.ts). Nothing here is hand-typed JSON that could drift from the protocol.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { writeSyntheticRun } from '../bench/synthetic-run.js';
import { readJson, runCli, startCli, waitFor, type CliProcess, type World } from './helpers.js';

/** A DAG with a success, a retry, a failure and a skip: `fetch` → `flaky` (fails once), `bounded` → `report`; `fail` → `after-fail`. */
export const FINISHED_CONFIG = {
  version: 1,
  workers: 2,
  goal: 'dashboard fixture',
  scheduling: { retries: 1, backoff: 0.05 },
  git: { isolation: 'none' },
  tasks: [
    { id: 'fetch', title: 'Fetch the inputs', run: 'echo fetching; sleep 0.2' },
    { id: 'flaky', deps: ['fetch'], run: 'echo "try $SWARM_ATTEMPT"; test "$SWARM_ATTEMPT" -ge 2' },
    { id: 'bounded', deps: ['fetch'], description: 'Bounded work.\nIt has a second line.', run: 'sleep 0.3' },
    { id: 'report', deps: ['flaky', 'bounded'], run: 'echo report done' },
    { id: 'fail', run: 'echo oops >&2; exit 3' },
    { id: 'after-fail', deps: ['fail'], run: 'true' },
  ],
};

/** Runs {@link FINISHED_CONFIG} to the end in `<world>/<name>`; returns the run directory. */
export async function recordFinishedRun(world: World, name = 'finished'): Promise<string> {
  world.write(`${name}.yaml`, FINISHED_CONFIG);
  const res = await runCli(['run', `${name}.yaml`, '--run-dir', name], { cwd: world.dir });
  if (res.code !== 1) throw new Error(`fixture run exited ${res.code}: ${res.stderr}`);
  return world.path(name);
}

/** A live run: `wait` runs until the file `<world>/release` exists; `quick` has finished; `after-wait` waits on it. */
export interface LiveRun {
  dir: string;
  cli: CliProcess;
  /** Lets `wait` finish, and waits for the run to end. */
  finish(): Promise<void>;
}

/** Starts a run that stays live (one task running, its status.json written) until `finish()`. */
export async function startLiveRun(world: World, name = 'live'): Promise<LiveRun> {
  const release = world.path('release');
  world.write(`${name}.yaml`, {
    version: 1,
    workers: 2,
    goal: 'a live run',
    git: { isolation: 'none' },
    tasks: [
      { id: 'quick', run: 'echo quick' },
      {
        id: 'wait',
        deps: ['quick'],
        run: `echo "waiting for release"; while [ ! -f ${release} ]; do sleep 0.05; done; echo released`,
      },
      { id: 'after-wait', deps: ['wait'], run: 'true' },
    ],
  });
  const dir = world.path(name);
  const cli = startCli(['run', `${name}.yaml`, '--run-dir', name], { cwd: world.dir });
  await waitFor(
    () => {
      try {
        return (
          readJson<{ activity: string | null }>(path.join(dir, 'tasks/wait/1/status.json')).activity ===
          'waiting for release'
        );
      } catch {
        return false;
      }
    },
    60_000,
    'the wait task to run and report its activity',
  );
  // state.json is throttled (200 ms): wait until it shows the running task too.
  await waitFor(
    () => {
      try {
        return (
          readJson<{ tasks: Record<string, { state: string }> }>(path.join(dir, 'state.json')).tasks.wait?.state ===
          'running'
        );
      } catch {
        return false;
      }
    },
    60_000,
    'state.json to show wait running',
  );
  return {
    dir,
    cli,
    finish: async () => {
      fs.writeFileSync(release, '');
      await cli.done;
    },
  };
}

/** A pid that belonged to a process that has exited. */
export function deadPid(): number {
  const r = spawnSync('true');
  return r.pid!;
}

/**
 * Copies a run directory (a live one: a snapshot mid-run) and makes its coordinator dead, as
 * after a `kill -9`: coordinator.json names a pid that is gone and has no `stopped_at`.
 */
export function copyWithDeadCoordinator(from: string, to: string): string {
  // `from` may be a live run: its files are replaced (write-file-atomic's temporary `<name>.<n>`
  // files come and go) and inbox messages move while the copy lists and reads them. Temporary
  // files are left out, and a file that vanished mid-copy means copying again.
  for (let tries = 1; ; tries++) {
    try {
      fs.cpSync(from, to, { recursive: true, filter: (src) => !/\.json\.\d+$/.test(src) });
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT' || tries === 5) throw e;
      fs.rmSync(to, { recursive: true, force: true });
    }
  }
  const file = path.join(to, 'coordinator.json');
  const c = readJson<Record<string, unknown>>(file);
  delete c.stopped_at;
  c.pid = deadPid();
  fs.writeFileSync(file, JSON.stringify(c, null, 2) + '\n');
  return to;
}

/** A 10,000-task run directory (6,000 finished, some failed, 8 running), by the protocol's writers. */
export async function writeLargeRun(dir: string, tasks = 10_000): Promise<string> {
  await writeSyntheticRun(dir, { tasks, finished: Math.floor(tasks * 0.6), running: 8, failEvery: 40 });
  return dir;
}

/**
 * A finished run with git isolation in a new repository `<world>/<name>-repo`: `greet` adds
 * greeting.txt (its commit is merged), `noop` changes nothing. Returns the run directory.
 */
export async function recordGitRun(world: World, name = 'git'): Promise<string> {
  const repo = world.path(`${name}-repo`);
  fs.mkdirSync(repo);
  const git = (...args: string[]): void =>
    void spawnSync('git', ['-c', 'user.name=Test', '-c', 'user.email=test@example.com', ...args], { cwd: repo });
  git('init', '-q', '-b', 'main');
  fs.writeFileSync(path.join(repo, 'README.md'), '# demo\n');
  git('add', '-A');
  git('commit', '-qm', 'first');
  world.write(`${name}-repo/swarm.yaml`, {
    version: 1,
    workers: 1,
    tasks: [
      { id: 'greet', run: 'echo hello from the swarm > greeting.txt' },
      { id: 'noop', deps: ['greet'], run: 'true' },
    ],
  });
  git('add', '-A');
  git('commit', '-qm', 'config');
  const runDir = world.path(`${name}-run`);
  const res = await runCli(['run', 'swarm.yaml', '--run-dir', runDir], { cwd: repo });
  if (res.code !== 0) throw new Error(`git fixture run exited ${res.code}: ${res.stderr}`);
  return runDir;
}
