// Workers in Podman containers: each `swarm worker` runs as `podman run --rm` of its own container,
// named and labelled after its run, with the repository, the run directory and fileswarm's
// installation mounted at the same paths as on the host (so every path in the protocol means the
// same inside and out). The container is the attempt's confinement: its processes die with it.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa, execaSync } from 'execa';
import { SANDBOX_HIDDEN } from '../../config/defaults.js';
import type { LauncherSpec } from '../../config/launcher.js';
import { RunPaths } from '../../protocol/paths.js';
import { CLI_PATH } from '../../util/cli-path.js';
import { killByEnvMarker } from '../../util/process.js';
import type { LaunchedWorker, Launcher, ProcessLiveness, WorkerExit } from '../launcher.js';
import { podmanGlobals } from './podman-preflight.js';

/** The podman settings of `launcher:`. */
export type PodmanSettings = LauncherSpec['podman'];

/** The label every worker container of a run carries: `swarm.run=<run id>`. */
export const RUN_LABEL = 'swarm.run';

/** How long a cached `podman container inspect` answer is used, ms (reaps look every second or so). */
const INSPECT_CACHE_MS = 2_000;

/** The container name of a run's worker: `swarm-<run id>-<worker id>` (lower case: podman's names are). */
export function containerName(runId: string, worker: string): string {
  return `swarm-${runId}-${worker}`.toLowerCase();
}

/** The installation of fileswarm this process runs from (the directory holding dist/). */
export const INSTALL_ROOT = path.resolve(path.dirname(CLI_PATH), '..', '..');

/**
 * The arguments of `podman` that start one worker: `run --rm --name ... --label swarm.run=<id>
 * --label swarm.worker=<id> --hostname <worker> --network ... --ulimit ... [-v ...] (--rootfs /:O |
 * image) node cli.js worker ...`. Pure, for tests and the log.
 * @param mounts absolute host paths to mount read-write at the same path (repository, run directory)
 */
export function podmanRunArgs(
  settings: PodmanSettings,
  o: { runId: string; id: string; runDir: string; coordinator: string; mounts: string[] },
): string[] {
  const host = settings.image === 'host';
  const args = [
    ...podmanGlobals(settings),
    'run',
    '--rm',
    '--name',
    containerName(o.runId, o.id),
    '--label',
    `${RUN_LABEL}=${o.runId}`,
    '--label',
    `swarm.worker=${o.id}`,
    '--hostname',
    containerName(o.runId, o.id),
    '--network',
    settings.network,
    // The worker's environment is the coordinator's, as for a local worker (API keys, PATH).
    '--env-host',
    '--workdir',
    o.runDir,
  ];
  for (const u of settings.ulimits) args.push('--ulimit', u);
  if (settings.cpus !== undefined) args.push('--cpus', String(settings.cpus));
  if (settings.memory !== undefined) args.push('--memory', settings.memory);
  for (const m of unique(o.mounts)) args.push('-v', `${m}:${m}`);
  // fileswarm itself, read-only (its node_modules may be a link elsewhere: mount where it points too).
  args.push('-v', `${INSTALL_ROOT}:${INSTALL_ROOT}:ro`);
  const modules = path.join(INSTALL_ROOT, 'node_modules');
  const realModules = fs.existsSync(modules) ? fs.realpathSync(modules) : modules;
  if (!realModules.startsWith(INSTALL_ROOT + path.sep)) args.push('-v', `${realModules}:${realModules}:ro`);
  for (const m of settings.mounts) args.push('-v', mountArg(m));
  // The host's root is in view: hide the usual homes of credentials, as a sandbox does.
  if (host) for (const h of hiddenPaths()) args.push(...h);
  if (host) args.push('--rootfs', '/:O', process.execPath);
  else args.push(settings.image, 'node');
  args.push(CLI_PATH, 'worker', '--run-dir', o.runDir, '--id', o.id, '--coordinator', o.coordinator);
  return args;
}

/**
 * Starts each worker as a Podman container (see the file's head). The `podman run` client is a
 * detached child of the coordinator with its stderr in logs/worker-<id>.stderr; the container
 * outlives a coordinator killed with -9 (conmon holds it), so `swarm resume` can adopt its attempt.
 * Liveness: `podman container inspect` of the container by name; terminate: `podman stop -t
 * <grace>`; kill: `podman kill`; an attempt of a dead or hung worker is killed with its container.
 */
export class PodmanLauncher implements Launcher {
  readonly #settings: PodmanSettings;
  readonly #runId: string;
  readonly #repo: string;
  readonly #graceS: number;

  /**
   * @param runId the run's id (container names and the `swarm.run` label)
   * @param repo the repository the run works on (absolute; mounted read-write)
   * @param graceMs `scheduling.kill_grace`, ms: `podman stop -t` rounds it up to seconds
   */
  constructor(settings: PodmanSettings, runId: string, repo: string, graceMs: number) {
    this.#settings = settings;
    this.#runId = runId;
    this.#repo = repo;
    this.#graceS = Math.max(1, Math.ceil(graceMs / 1000));
  }

  launch(options: { runDir: string; id: string; coordinator: string }): LaunchedWorker {
    if (!fs.existsSync(CLI_PATH))
      throw new Error(`cannot start workers: ${CLI_PATH} is missing (run \`npm run build\`)`);
    const paths = new RunPaths(options.runDir);
    fs.mkdirSync(paths.logsDir, { recursive: true });
    const name = containerName(this.#runId, options.id);
    // A container of that name left by an earlier session (ids are never reused, but be sure).
    this.#podmanSync(['rm', '-f', name]);
    const args = podmanRunArgs(this.#settings, {
      runId: this.#runId,
      id: options.id,
      runDir: options.runDir,
      coordinator: options.coordinator,
      // The run directory is usually under the repository (.swarm/runs/<id>): one mount covers both.
      mounts: options.runDir.startsWith(this.#repo + path.sep) ? [this.#repo] : [this.#repo, options.runDir],
    });
    const child = execa('podman', args, {
      detached: true,
      stdin: 'ignore',
      stdout: 'ignore',
      stderr: { file: paths.workerStderr(options.id), append: true },
      reject: false,
      cleanup: false,
    });
    let exited = false;
    const ended = child.then((r): WorkerExit => {
      exited = true;
      // No exit code and no signal: podman itself could not be started (ENOENT, E2BIG).
      const error = r.exitCode === undefined && r.signal === undefined ? r.originalMessage : undefined;
      if (error) {
        try {
          fs.appendFileSync(paths.workerStderr(options.id), `could not start podman: ${error}\n`);
        } catch {
          // A full disk: the error still reaches the pool.
        }
      }
      return { code: r.exitCode ?? null, signal: r.signal ?? null, ...(error ? { error } : {}) };
    });
    return {
      ...this.#worker(paths, options.id),
      exited: ended,
      // The `podman run` client ends with its container: no need to ask podman (a hung worker is
      // caught by its heartbeat).
      liveness: () => (exited ? 'gone' : 'alive'),
      terminate: () => void this.#podman(['stop', '-t', String(this.#graceS), name]),
      kill: () => void this.#podman(['kill', name]),
    };
  }

  /**
   * A worker container an earlier session started (resume): seen through `podman container
   * inspect`; never stopped (it gets no new work and exits after its attempt, `--rm` removes it),
   * but killed with its attempt if that is given up.
   */
  attach(options: { runDir: string; id: string }): LaunchedWorker {
    return this.#worker(new RunPaths(options.runDir), options.id);
  }

  #worker(_paths: RunPaths, id: string): LaunchedWorker {
    const name = containerName(this.#runId, id);
    let cached: { at: number; value: ProcessLiveness } | undefined;
    return {
      id,
      exited: new Promise(() => {}),
      liveness: () => {
        if (cached && Date.now() - cached.at < INSPECT_CACHE_MS) return cached.value;
        cached = { at: Date.now(), value: this.containerLiveness(name) };
        return cached.value;
      },
      terminate: () => {},
      kill: () => void this.#podman(['kill', name]),
      killAttempt: ({ marker }) => {
        // The attempt's processes are in the worker's container: they die with it.
        this.#podmanSync(['kill', name]);
        // Any that escaped it (none should): by the attempt's marker, seen from the host's /proc.
        return killByEnvMarker(marker.name, marker.value);
      },
    };
  }

  /** `alive` if the container runs, `gone` if it is not there or stopped, `unknown` if podman cannot say. */
  containerLiveness(name: string): ProcessLiveness {
    const r = this.#podmanSync(['container', 'inspect', '--format', '{{.State.Running}}', name]);
    if (r.exitCode === 0) return r.stdout.trim() === 'true' ? 'alive' : 'gone';
    if (/no such container/i.test(r.stderr)) return 'gone';
    return 'unknown';
  }

  /**
   * Removes every container of the run (`podman rm -f` of those labelled `swarm.run=<id>`), for
   * the end of a run and `swarm clean`. Returns their names.
   */
  removeAll(): string[] {
    return removeRunContainers(this.#settings, this.#runId);
  }

  #podman(args: string[]): Promise<unknown> {
    return execa('podman', [...podmanGlobals(this.#settings), ...args], { reject: false, stdin: 'ignore' });
  }

  #podmanSync(args: string[]) {
    return execaSync('podman', [...podmanGlobals(this.#settings), ...args], {
      reject: false,
      stdin: 'ignore',
      timeout: 30_000,
    });
  }
}

/** The names of a run's containers, running or not (`podman ps -a --filter label=swarm.run=<id>`). */
export function runContainers(settings: PodmanSettings, runId: string): string[] {
  const r = execaSync(
    'podman',
    [...podmanGlobals(settings), 'ps', '-a', '--filter', `label=${RUN_LABEL}=${runId}`, '--format', '{{.Names}}'],
    { reject: false, stdin: 'ignore', timeout: 30_000 },
  );
  return r.exitCode === 0 ? r.stdout.split('\n').filter(Boolean) : [];
}

/** Force-removes a run's containers; returns the names removed. */
export function removeRunContainers(settings: PodmanSettings, runId: string): string[] {
  const names = runContainers(settings, runId);
  if (names.length > 0)
    execaSync('podman', [...podmanGlobals(settings), 'rm', '-f', ...names], { reject: false, stdin: 'ignore' });
  return names;
}

/**
 * `--tmpfs ...:notmpcopyup` (directories: podman's default copies the directory's files into the
 * tmpfs) and `/dev/null` mounts (files) over each path of {@link SANDBOX_HIDDEN}
 * that exists: a container of the host's root would otherwise read `~/.ssh`, `~/.aws`, ...
 */
function hiddenPaths(): string[][] {
  const out: string[][] = [];
  for (const p of SANDBOX_HIDDEN) {
    const abs = p.startsWith('~/') ? path.join(os.homedir(), p.slice(2)) : p;
    let stat: fs.Stats;
    try {
      stat = fs.statSync(abs);
    } catch {
      continue;
    }
    out.push(stat.isDirectory() ? ['--tmpfs', `${abs}:notmpcopyup`] : ['-v', `/dev/null:${abs}:ro`]);
  }
  return out;
}

/**
 * A `launcher.podman.mounts` entry as `-v` takes it: `/p` and `/p:ro` are mounted at the same path
 * (`/p:/p`, `/p:/p:ro`); `/p:/q[:ro]` is as written.
 */
export function mountArg(m: string): string {
  const parts = m.split(':');
  if (parts.length === 1 || (parts.length === 2 && (parts[1] === 'ro' || parts[1] === 'rw')))
    return [parts[0], ...parts].join(':');
  return m;
}

const unique = (xs: string[]): string[] => [...new Set(xs)];
