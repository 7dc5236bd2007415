// What an attempt leaves running after it ended: processes that left its process group (a command
// that calls `setsid`, a daemon that forks twice) escape the group kill at the attempt's end. They
// still carry the attempt's marker in their environment, so the worker finds them by it, in one
// scan of /proc for every attempt that ended within the last second.
import type { Logger } from 'pino';
import { ATTEMPT_MARKER } from '../protocol/attempt-marker.js';
import { killByEnvMarkers } from '../util/process.js';

/** How long after an attempt's end its leftovers are looked for (ms): scans are batched over it. */
export const SWEEP_DELAY_MS = 1000;
/** A marker is looked for again while a scan finds processes with it (one forking as it was killed), at most this often. */
const MAX_ROUNDS = 5;

/**
 * Kills the leftovers of ended attempts, by their marker (`SWARM_ATTEMPT_KEY`). `add` schedules a
 * scan at most {@link SWEEP_DELAY_MS} later, shared by every attempt that ends meanwhile, so a
 * worker running many short tasks scans /proc about once a second, not once a task. `sweep` scans
 * now (a worker calls it before it exits). Linux only (/proc); elsewhere it finds nothing.
 */
export class LeftoverSweeper {
  readonly #log: Logger;
  readonly #delayMs: number;
  /** Attempt keys (`<run>/<task>/<n>`) to look for, with the scans they have had. */
  readonly #pending = new Map<string, number>();
  #timer: NodeJS.Timeout | undefined;

  /**
   * @param log where kills and failed scans are logged (the worker's log)
   * @param delayMs how long after the first of a batch of ended attempts the scan runs (ms)
   */
  constructor(log: Logger, delayMs = SWEEP_DELAY_MS) {
    this.#log = log;
    this.#delayMs = delayMs;
  }

  /** An attempt ended: kill whatever still carries its marker, soon. */
  add(attemptKey: string): void {
    this.#pending.set(attemptKey, 0);
    this.#schedule();
  }

  /** Scans /proc for every pending marker now, and SIGKILLs what it finds. Never throws. */
  sweep(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#pending.size === 0) return;
    let found: Map<string, number[]>;
    try {
      found = killByEnvMarkers(ATTEMPT_MARKER, this.#pending.keys());
    } catch (e) {
      this.#log.warn({ err: e }, 'looking for what ended attempts left running failed');
      found = new Map();
    }
    for (const [key, rounds] of [...this.#pending]) {
      const pids = found.get(key);
      if (pids) this.#log.warn({ attempt: key, pids }, 'killed processes an ended attempt left running');
      if (!pids || rounds + 1 >= MAX_ROUNDS) this.#pending.delete(key);
      else this.#pending.set(key, rounds + 1);
    }
    if (this.#pending.size > 0) this.#schedule();
  }

  #schedule(): void {
    if (this.#timer) return;
    this.#timer = setTimeout(() => this.sweep(), this.#delayMs);
    // The worker's own loop decides when it exits, and sweeps once more then.
    this.#timer.unref();
  }
}
