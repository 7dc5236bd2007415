// Attempts whose worker is gone or will not finish them: resume's reconciliation of the attempts an
// earlier coordinator left in flight (DESIGN §5), taking an assignment back from a worker that has
// not claimed it, and killing what is left of an attempt.
import type { Logger } from 'pino';
import { listClaimed, revoke } from '../protocol/maildir.js';
import type { RunPaths } from '../protocol/paths.js';
import type { RunState } from '../protocol/state.js';
import { ATTEMPT_MARKER, attemptKey } from '../protocol/attempt-marker.js';
import type { AttemptRef } from './in-flight.js';
import type { WorkerPool } from './worker-pool.js';

/** What the coordinator does with each attempt reconciliation finds in flight. */
export interface Reconciled {
  /** attempt.finished was recorded, the task's next event was not: decide what comes next. */
  decide(task: string): void;
  /** Finishes the attempt from its result.json; false if it has none yet. */
  finishFromResult(f: AttemptRef): boolean;
  /** Its worker is alive and runs it (the pool adopted the worker): track the attempt again. */
  adopted(f: AttemptRef): void;
  /** Its worker is dead, or alive but not running it: give it up (see {@link Recovery.takeAway}). */
  abandon(f: AttemptRef, why: string): void;
}

export class Recovery {
  readonly #paths: RunPaths;
  readonly #pool: WorkerPool;
  readonly #runId: string;
  readonly #logger: Logger;

  constructor(paths: RunPaths, pool: WorkerPool, runId: string, logger: Logger) {
    this.#paths = paths;
    this.#pool = pool;
    this.#runId = runId;
    this.#logger = logger;
  }

  /**
   * Resume: reconciles the attempts that were in flight when the last coordinator died. An attempt
   * with result.json is finished from it (never run again); one whose worker is alive and runs it
   * (or has just claimed it) is adopted; any other is given up and retried.
   */
  reconcile(state: RunState, staleAfterMs: number, on: Reconciled): void {
    for (const [id, t] of Object.entries(state.tasks)) {
      if (t.state !== 'running') continue;
      if (!t.current) {
        // attempt.finished was recorded, the task's next event was not.
        on.decide(id);
        continue;
      }
      const f = { task: id, attempt: t.current.attempt, worker: t.current.worker };
      if (on.finishFromResult(f)) continue;
      // An earlier session's worker: its process, where its launcher can see it, else its heartbeat.
      const info = this.#pool.info(f.worker);
      const seen = info && this.#pool.liveness(f.worker, info);
      const alive =
        info !== undefined &&
        (seen === 'unknown' ? Date.now() - Date.parse(info.heartbeat_at) < staleAfterMs : seen === 'alive');
      // The worker is running the attempt (or has just claimed it): let it finish, if it is alive.
      if (alive && ((info.current?.task === id && info.current.attempt === f.attempt) || this.#claimed(f))) {
        this.#logger.info(f, 'adopting an attempt whose worker is alive');
        this.#pool.adopt(f.worker, { task: id, attempt: f.attempt });
        on.adopted(f);
        continue;
      }
      on.abandon(f, alive ? 'its worker had not started it' : 'its worker died before writing a result');
    }
  }

  /**
   * Takes an attempt away from a worker that is dead, hung, or will not run it. If its assignment
   * was never claimed, it is taken back (so it can never start later): 'taken-back', the attempt
   * did not start. Otherwise whatever of it runs is killed: 'killed', the attempt is lost.
   */
  takeAway(f: AttemptRef): 'taken-back' | 'killed' {
    if (this.#revokeAssignment(f) || !this.#claimed(f)) return 'taken-back';
    this.#logger.warn(f, 'attempt lost with its worker');
    this.killAttempt(f);
    return 'killed';
  }

  /**
   * Kills what runs of an attempt (its worker's launcher knows how): its worker is dead or hung,
   * so nobody else will, and the task may be dispatched again right after this.
   */
  killAttempt(f: AttemptRef): void {
    const { task, attempt } = f;
    const marker = { name: ATTEMPT_MARKER, value: attemptKey(this.#runId, task, attempt) };
    const killed = this.#pool.killAttempt(f.worker, { task, attempt, marker });
    if (killed.length > 0)
      this.#logger.warn({ task, attempt, killed }, 'killed processes of a lost attempt by their marker');
  }

  /** True if the attempt's assignment message is in its worker's cur/ (claimed). */
  #claimed(f: AttemptRef): boolean {
    return listClaimed(this.#paths.inbox(f.worker)).some(
      ({ message: m }) => m.kind === 'assign' && m.task === f.task && m.attempt === f.attempt,
    );
  }

  /** Takes an attempt's assignment back from its worker's inbox if the worker has not claimed it. */
  #revokeAssignment(f: AttemptRef): boolean {
    return revoke(
      this.#paths.inbox(f.worker),
      (m) => m.kind === 'assign' && m.task === f.task && m.attempt === f.attempt,
    );
  }
}
