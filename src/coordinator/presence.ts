// coordinator.json: who coordinates the run (session, pid, host), with a heartbeat, so that workers,
// `swarm status` and the run lock can tell a live coordinator from a dead one.
import type { Logger } from 'pino';
import { writeJsonAtomicSync } from '../protocol/files.js';
import type { RunPaths } from '../protocol/paths.js';
import type { CoordinatorJson } from '../protocol/schemas.js';
import { HOST } from '../util/process.js';

export class Presence {
  readonly #paths: RunPaths;
  readonly #about: Pick<CoordinatorJson, 'session' | 'command'>;
  readonly #startedAt = new Date().toISOString();
  #timer: NodeJS.Timeout | undefined;

  constructor(paths: RunPaths, about: Pick<CoordinatorJson, 'session' | 'command'>) {
    this.#paths = paths;
    this.#about = about;
  }

  /**
   * Writes coordinator.json now (throws if it cannot), then again every `everyMs`; a failed
   * rewrite is logged and reported to `onError` (the run directory may be gone).
   */
  start(everyMs: number, logger: Logger, onError: () => void): void {
    this.#write();
    this.#timer = setInterval(() => {
      try {
        this.#write();
      } catch (e) {
        logger.warn({ err: e }, 'coordinator.json heartbeat failed');
        onError();
      }
    }, everyMs);
  }

  /** Stops the heartbeat. */
  stop(): void {
    clearInterval(this.#timer);
  }

  /** Writes coordinator.json a last time, with `stopped_at`. */
  writeStopped(): void {
    this.#write(true);
  }

  #write(stopped = false): void {
    const info: CoordinatorJson = {
      session: this.#about.session,
      pid: process.pid,
      host: HOST,
      command: this.#about.command,
      started_at: this.#startedAt,
      heartbeat_at: new Date().toISOString(),
      ...(stopped ? { stopped_at: new Date().toISOString() } : {}),
    };
    writeJsonAtomicSync(this.#paths.coordinatorJson, info);
  }
}
