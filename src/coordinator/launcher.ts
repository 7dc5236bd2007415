// How worker processes are started, watched and killed. The local process pool is the first
// launcher; a container or cluster launcher (DESIGN §9) would start the same `swarm worker`
// command elsewhere, and answer "is it alive" and "kill it" its own way.
import fs from 'node:fs';
import { spawn, type ChildProcess } from 'node:child_process';
import { known, readAttemptStatus } from '../protocol/attempt-files.js';
import { RunPaths } from '../protocol/paths.js';
import type { WorkerJson } from '../protocol/schemas.js';
import { CLI_PATH } from '../util/cli-path.js';
import { HOST, killByEnvMarker, pidAlive, signalGroup } from '../util/process.js';
import { spawnFailure } from '../util/exec-limits.js';

/** How a worker process ended. */
export interface WorkerExit {
  code: number | null;
  signal: string | null;
  /** Why the process could not be started at all (`spawn E2BIG`), when that is how it ended. */
  error?: string;
}

/**
 * Whether a worker's process is there, as far as its launcher can see: `unknown` when it cannot
 * look (a process on another host), and the caller goes by the heartbeat in worker.json.
 */
export type ProcessLiveness = 'alive' | 'gone' | 'unknown';

/** An attempt whose processes are to be killed. */
export interface AttemptProcesses {
  task: string;
  attempt: number;
  /** The variable every process of the attempt carries in its environment (assignment.json `env`). */
  marker: { name: string; value: string };
}

/** A worker, as much as its launcher knows of it and can do to it. */
export interface LaunchedWorker {
  id: string;
  /**
   * Resolves with how the worker process ended, when the launcher sees that (a local child);
   * never for a worker attached on resume, nor for a remote one.
   */
  exited: Promise<WorkerExit>;
  /** Is its process there? Judged from its worker.json. */
  liveness(info: WorkerJson): ProcessLiveness;
  /**
   * True while the launcher sees the worker still being started where it runs (a Kubernetes pod
   * that is Pending: scheduled, pulling its image), so the pool waits longer for its first
   * worker.json. Absent for launchers whose workers start at once (local, podman).
   */
  starting?(): boolean;
  /** Asks the process to stop now (SIGTERM); a worker then finishes its current attempt first. */
  terminate(): void;
  /** Kills the process at once (SIGKILL): for a worker that ignored a stop, or is dead or hung. */
  kill(): void;
  /**
   * Kills (SIGKILL) whatever it started for one attempt, which it will not finish (it is dead or
   * hung), so that the attempt can be dispatched again. Returns the pids found by the attempt's
   * marker (for the log).
   */
  killAttempt(attempt: AttemptProcesses): number[];
}

/** Starts workers for a run directory, or takes a handle on one an earlier session started. */
export interface Launcher {
  launch(options: { runDir: string; id: string; coordinator: string }): LaunchedWorker;
  /** A worker started by an earlier coordinator session (resume): this session has no child handle. */
  attach(options: { runDir: string; id: string }): LaunchedWorker;
  /**
   * At the end of a coordinator session, after its workers stopped: releases what the launcher
   * holds (a watch) and removes what its ended workers left (Kubernetes Jobs). Never throws.
   * @param finished ids of workers attached on resume whose attempt this session saw end (or that
   *   it found lost): they get no more work and exit on their own, so what they left is removed
   *   even if their process is not yet seen gone (a pod still deleting its clone)
   */
  close?(finished: readonly string[]): Promise<void>;
}

/**
 * Starts workers as local child processes of the coordinator: `node dist/src/cli.js worker ...`.
 * They are detached (their own process group) so a Ctrl-C in the terminal reaches only the
 * coordinator, which decides what happens to running attempts; and they hold no pipe to the
 * coordinator (they log to files, and stderr goes to logs/worker-<id>.stderr, where a crash before
 * the log opens, or a library's warning, can be read), so they outlive a coordinator killed with -9.
 */
export class LocalLauncher implements Launcher {
  launch(options: { runDir: string; id: string; coordinator: string }): LaunchedWorker {
    if (!fs.existsSync(CLI_PATH))
      throw new Error(`cannot start workers: ${CLI_PATH} is missing (run \`npm run build\`)`);
    const paths = new RunPaths(options.runDir);
    fs.mkdirSync(paths.logsDir, { recursive: true });
    // node:child_process rather than execa: nothing of execa's is needed for a detached child whose
    // output goes to a file, and loading it cost start-up about a hundred modules (bench/README.md).
    const stderrFile = paths.workerStderr(options.id);
    const stderr = fs.openSync(stderrFile, 'a');
    const args = [
      CLI_PATH,
      'worker',
      '--run-dir',
      options.runDir,
      '--id',
      options.id,
      '--coordinator',
      options.coordinator,
    ];
    // A copy: what the explanation of a failed spawn reads is what the spawn was given.
    const env = { ...process.env };
    let child: ChildProcess;
    try {
      child = spawn(process.execPath, args, { detached: true, env, stdio: ['ignore', 'ignore', stderr] });
    } catch (e) {
      // spawn throws for some failures (ENOMEM, E2BIG, EPERM): a worker that exited at once, as the
      // pool counts it (and a crash loop if it keeps happening), with the reason in its stderr file.
      const error = spawnFailure(e as Error, process.execPath, args, env);
      fs.writeSync(stderr, `could not start the worker: ${error}\n`);
      const exit = { code: null, signal: null, error };
      return { ...localWorker(paths, options.id), exited: Promise.resolve(exit) };
    } finally {
      fs.closeSync(stderr); // the child has its own copy
    }
    const exited = new Promise<WorkerExit>((resolve) => {
      // Not started (no pid): its end is now. Later errors (a kill that failed) are not an end.
      child.on('error', (e) => {
        if (child.pid !== undefined) return;
        const error = spawnFailure(e, process.execPath, args, env);
        fs.appendFileSync(stderrFile, `could not start the worker: ${error}\n`);
        resolve({ code: null, signal: null, error });
      });
      child.once('exit', (code, signal) => resolve({ code, signal }));
    });
    return {
      ...localWorker(paths, options.id),
      exited,
      terminate: () => void child.kill('SIGTERM'),
      kill: () => void child.kill('SIGKILL'),
    };
  }

  /**
   * Its liveness and its attempts' processes are judged as for a launched worker. It is never
   * signalled itself: this session has no child to signal, and a pid read from worker.json may
   * by now be another process's. It gets no new work, so it exits after its attempt.
   */
  attach(options: { runDir: string; id: string }): LaunchedWorker {
    return localWorker(new RunPaths(options.runDir), options.id);
  }
}

/** What a local worker is, without a child handle. */
function localWorker(paths: RunPaths, id: string): LaunchedWorker {
  return {
    id,
    exited: new Promise(() => {}),
    // A pid means something only on the host that owns it.
    liveness: (info) => (info.host !== HOST ? 'unknown' : pidAlive(info.pid) ? 'alive' : 'gone'),
    terminate: () => {},
    kill: () => {},
    killAttempt: ({ task, attempt, marker }) => {
      // The process group its status.json records, if it is on this host.
      const status = known(readAttemptStatus(paths, task, attempt));
      if (status && status.host !== HOST) return [];
      if (status?.pgid) signalGroup(status.pgid, 'SIGKILL');
      // The worker may have died between spawning and recording the group: find it by its marker.
      return killByEnvMarker(marker.name, marker.value);
    },
  };
}
