// How worker processes are started. The local process pool is the first launcher; a cluster
// launcher (DESIGN §9) would start the same `swarm worker` command elsewhere.
import fs from 'node:fs';
import { execa } from 'execa';
import { RunPaths } from '../protocol/paths.js';
import { CLI_PATH } from '../util/cli-path.js';

/** A started worker, as much as the launcher knows of it. */
export interface LaunchedWorker {
  id: string;
  /** Resolves with how the worker process ended (local launcher only; never for remote ones). */
  exited: Promise<{ code: number | null; signal: string | null }>;
  /** Asks the process to stop now (SIGTERM); a worker then finishes its current attempt first. */
  terminate(): void;
  /** Kills the process at once (SIGKILL): for a worker that ignored a stop. */
  kill(): void;
}

/** Starts workers for a run directory. */
export interface Launcher {
  launch(options: { runDir: string; id: string; coordinator: string }): LaunchedWorker;
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
    const child = execa(
      process.execPath,
      [CLI_PATH, 'worker', '--run-dir', options.runDir, '--id', options.id, '--coordinator', options.coordinator],
      {
        detached: true,
        stdin: 'ignore',
        stdout: 'ignore',
        stderr: { file: paths.workerStderr(options.id), append: true },
        reject: false,
        cleanup: false,
      },
    );
    const exited = child.then((r) => ({ code: r.exitCode ?? null, signal: r.signal ?? null }));
    return {
      id: options.id,
      exited,
      terminate: () => child.kill('SIGTERM'),
      kill: () => child.kill('SIGKILL'),
    };
  }
}
