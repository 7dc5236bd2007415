// The dashboard of `swarm run` and `swarm resume` in a terminal. It runs as a child process,
// `swarm dashboard <run-dir> --attached`, sharing the terminal: drawing never delays the
// coordinator's loop, a dashboard that breaks cannot break the run, and it reads the run
// directory exactly as any other dashboard does (the coordinator's notices too: they are `notice`
// events). An IPC channel carries the one thing that is not in the run directory: the user's
// Ctrl-C (a key in the dashboard's raw terminal, so no SIGINT reaches the coordinator) goes up.
//
// While it is open the coordinator prints nothing. When the user quits it (q) while the run goes
// on, the coordinator goes back to printing one line per event; when the run ends first, the
// dashboard stays up showing the outcome until the user quits, and then the coordinator prints
// its summary and exits with the run's exit code.
import { spawn, type ChildProcess } from 'node:child_process';
import { CLI_PATH } from '../util/cli-path.js';

/** Messages from the dashboard to its coordinator. */
export type ChildMessage = { type: 'interrupt' };
/** Messages from the coordinator to its dashboard. */

/** A dashboard child process attached to this coordinator's terminal. */
export class AttachedDashboard {
  readonly #child: ChildProcess;
  #open = true;
  /** Settles when the dashboard process has exited (and given the terminal back). */
  readonly closed: Promise<{ code: number | null; signal: NodeJS.Signals | null; error?: string }>;

  /**
   * Starts the dashboard on `runDir`. `onInterrupt` is called for each Ctrl-C pressed in it while
   * the run is live.
   */
  constructor(runDir: string, onInterrupt: () => void) {
    this.#child = spawn(process.execPath, [CLI_PATH, 'dashboard', runDir, '--attached'], {
      stdio: ['inherit', 'inherit', 'inherit', 'ipc'],
    });
    this.#child.on('message', (m: ChildMessage) => {
      if (m?.type === 'interrupt') onInterrupt();
    });
    this.closed = new Promise((resolve) => {
      this.#child.on('error', (e) => {
        this.#open = false;
        resolve({ code: null, signal: null, error: e.message });
      });
      this.#child.on('exit', (code, signal) => {
        this.#open = false;
        resolve({ code, signal });
      });
    });
  }

  /** True until the dashboard process exits. */
  get open(): boolean {
    return this.#open;
  }

  /** Asks the dashboard to quit now (SIGTERM: it restores the terminal first). */
  stop(): void {
    if (this.#open) this.#child.kill('SIGTERM');
  }
}
