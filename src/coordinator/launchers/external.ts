// Workers that someone else runs: the launcher starts nothing, and sees a worker only through its
// worker.json heartbeat. Used by the simulated-workers benchmark (bench/simulated-workers.ts), whose
// harness plays the worker side of the protocol for many workers in one process; chosen with
// SWARM_BENCH_EXTERNAL_WORKERS=1 (launchers/select.ts), never by a config.
import type { LaunchedWorker, Launcher, WorkerExit } from '../launcher.js';

/** See the file's head. */
export class ExternalLauncher implements Launcher {
  launch(options: { runDir: string; id: string; coordinator: string }): LaunchedWorker {
    return this.attach(options);
  }

  attach(options: { runDir: string; id: string }): LaunchedWorker {
    let gone!: (exit: WorkerExit) => void;
    const exited = new Promise<WorkerExit>((resolve) => (gone = resolve));
    return {
      id: options.id,
      exited,
      // Its process is not ours to see: the heartbeat in worker.json is the judge.
      liveness: () => 'unknown',
      terminate: () => {},
      // Given up on: the pool stops waiting for it.
      kill: () => gone({ code: null, signal: 'SIGKILL' }),
      killAttempt: () => [],
    };
  }
}
