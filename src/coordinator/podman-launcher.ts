// Workers in containers (`launcher.kind: podman`): each `swarm worker` runs in a Podman container
// of its own, with the repository and the run directory mounted at the same paths, so the
// protocol's absolute paths mean the same inside and out. The coordinator sees a worker through
// its heartbeat (worker.json: the container's host name), sees it die when its `podman run`
// exits, and stops or kills it with `podman stop` / `podman kill`. Every process of an attempt
// dies with its container.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { RunPaths } from '../protocol/paths.js';
import type { RunConfig } from '../protocol/run-config.js';
import { CLI_PATH } from '../util/cli-path.js';
import type { LaunchedWorker, Launcher, WorkerExit } from './launcher.js';

/** The `launcher:` settings of a run (run.json's snapshot of the config). */
export type LauncherSettings = RunConfig['launcher'];

/** What a container needs of the host: the repository, the run directory, and where node and fileswarm live. */
export interface PodmanPlaces {
  runId: string;
  repo: string;
}

/** The label every worker container of a run carries: `swarm.run=<run-id>`. */
export const RUN_LABEL = 'swarm.run';

/** The container of worker `id` of run `runId` (lower case: podman names are). */
export function containerName(runId: string, id: string): string {
  return `swarm-${runId.toLowerCase()}-${id}`;
}

/**
 * Whether podman can be used here: null if `podman --version` runs, else what to install.
 * (The runtime and ulimit settings are checked by the first container: a worker that cannot start
 * makes the run stop as "workers exit as soon as they start", with podman's message in its stderr file.)
 */
export function podmanProblem(): string | null {
  const r = spawnSync('podman', ['--version'], { encoding: 'utf8' });
  if (r.error || r.status !== 0)
    return 'launcher.kind is podman but podman does not run here: install it (apt-get install podman runc catatonit uidmap slirp4netns fuse-overlayfs), or use launcher.kind: local';
  return null;
}

/** Starts each worker as `podman run ... node cli.js worker ...`. */
export class PodmanLauncher implements Launcher {
  readonly #settings: LauncherSettings;
  readonly #places: PodmanPlaces;

  constructor(settings: LauncherSettings, places: PodmanPlaces) {
    this.#settings = settings;
    this.#places = places;
  }

  /** The `podman run` argv (without `podman`) of one worker. Pure; exported for the tests. */
  runArgs(options: { runDir: string; id: string; coordinator: string }): string[] {
    const s = this.#settings;
    const { runId, repo } = this.#places;
    const name = containerName(runId, options.id);
    const volumes = [`${repo}:${repo}`];
    if (!isInside(options.runDir, repo)) volumes.push(`${options.runDir}:${options.runDir}`);
    // An image of its own sees node and fileswarm at the host's paths, read-only.
    const programs = [path.dirname(path.dirname(process.execPath)), path.resolve(path.dirname(CLI_PATH), '..', '..')];
    if (s.image) for (const p of programs) volumes.push(`${p}:${p}:ro`);
    volumes.push(...s.mounts);
    return [
      '--runtime',
      s.runtime,
      'run',
      '--rm',
      '--init',
      '--name',
      name,
      '--label',
      `${RUN_LABEL}=${runId}`,
      '--label',
      `swarm.worker=${options.id}`,
      '--hostname',
      `${options.id}.${runId.toLowerCase().slice(-8)}`,
      '--network',
      s.network,
      ...s.ulimits.flatMap((u) => ['--ulimit', u]),
      ...(s.cpus !== undefined ? ['--cpus', String(s.cpus)] : []),
      ...(s.memory !== undefined ? ['--memory', s.memory] : []),
      ...volumes.flatMap((v) => ['-v', v]),
      // The worker gets the coordinator's environment (API keys for agent backends, PATH).
      '--env-host',
      '--workdir',
      repo,
      ...(s.image ? [s.image] : ['--rootfs', '/:O']),
      process.execPath,
      CLI_PATH,
      'worker',
      '--run-dir',
      options.runDir,
      '--id',
      options.id,
      '--coordinator',
      options.coordinator,
    ];
  }

  launch(options: { runDir: string; id: string; coordinator: string }): LaunchedWorker {
    const paths = new RunPaths(options.runDir);
    fs.mkdirSync(paths.logsDir, { recursive: true });
    const name = containerName(this.#places.runId, options.id);
    // A container of the same name left by a session that died before it: it is that worker's, gone.
    spawnSync('podman', ['rm', '--force', '--ignore', name], { stdio: 'ignore' });
    const child = execa('podman', this.runArgs(options), {
      detached: true,
      stdin: 'ignore',
      stdout: 'ignore',
      stderr: { file: paths.workerStderr(options.id), append: true },
      reject: false,
      cleanup: false,
    });
    let gone = false;
    const exited: Promise<WorkerExit> = child.then((r) => {
      gone = true;
      // podman run exits with the container's status: 137 for a worker killed with SIGKILL.
      return { code: r.exitCode ?? null, signal: r.signal ?? null };
    });
    return {
      ...this.#handle(options.id),
      exited,
      liveness: () => (gone ? 'gone' : 'alive'),
    };
  }

  /** A worker container started by an earlier session: judged by its heartbeat; stopped by name. */
  attach(options: { runDir: string; id: string }): LaunchedWorker {
    return { ...this.#handle(options.id), exited: new Promise(() => {}), liveness: () => 'unknown' };
  }

  /** What is done to a worker by its container's name. */
  #handle(id: string): Omit<LaunchedWorker, 'exited' | 'liveness'> {
    const name = containerName(this.#places.runId, id);
    const podman = (...args: string[]): void => {
      // In the background: podman takes a few hundred ms, and the coordinator's loop must not wait.
      void execa('podman', args, { reject: false, stdio: 'ignore' });
    };
    return {
      id,
      // The worker finishes its attempt first (it handles SIGTERM), as a local one does.
      terminate: () => podman('kill', '--signal', 'TERM', name),
      kill: () => podman('kill', name),
      // A worker that is dead or hung: its attempt's processes die with its container.
      killAttempt: () => {
        spawnSync('podman', ['kill', name], { stdio: 'ignore' });
        return [];
      },
    };
  }
}

/** Whether `p` is `dir` or inside it. */
function isInside(p: string, dir: string): boolean {
  const rel = path.relative(dir, p);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

/**
 * Removes every container of run `runId` (left by a coordinator killed with -9 whose run was not
 * resumed, or by a worker that would not stop). Returns how many there were.
 */
export function removeRunContainers(runId: string): number {
  const list = spawnSync('podman', ['ps', '--all', '--quiet', '--filter', `label=${RUN_LABEL}=${runId}`], {
    encoding: 'utf8',
  });
  const ids = (list.stdout ?? '').split('\n').filter(Boolean);
  if (ids.length > 0) spawnSync('podman', ['rm', '--force', ...ids], { stdio: 'ignore' });
  return ids.length;
}
