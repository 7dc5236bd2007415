// How attempts in flight end, each recorded as one attempt.finished event (built here, and only
// here): from the worker's result.json; lost with a worker that died; taken back from a worker that
// never started them; killed when their worker did not answer a cancel. Then the coordinator
// decides what happens to the task.
import type { Logger } from 'pino';
import { readAttemptResult, readAttemptStatus } from '../protocol/attempt-files.js';
import type { NewEvent } from '../protocol/events.js';
import type { RunPaths } from '../protocol/paths.js';
import type { AttemptResult } from '../protocol/schemas.js';
import { unreachable } from '../util/unreachable.js';
import type { BudgetLedger } from './budget-ledger.js';
import { crashPoint } from './crash-point.js';
import type { EventLog } from './event-log.js';
import type { AttemptRef, InFlightAttempts } from './in-flight.js';
import type { Recovery } from './recovery.js';
import type { LostWorker, WorkerPool } from './worker-pool.js';

export type AttemptFinished = Extract<NewEvent, { type: 'attempt.finished' }>;

/** How an attempt ended: result.json itself, or the coordinator's account (no exit code, no duration). */
export type AttemptEnd = Pick<AttemptResult, 'outcome' | 'reason' | 'summary'> &
  Partial<Pick<AttemptResult, 'exit_code' | 'duration_ms' | 'usage'>>;

/**
 * The attempt.finished event of attempt `attempt` of `task`. `usage` is what the attempt spent: its
 * result's, or for an attempt without a result what its status.json last reported (paid for, so it
 * counts); null when unknown.
 */
export function attemptFinished(a: { task: string; attempt: number }, end: AttemptEnd): AttemptFinished {
  return {
    type: 'attempt.finished',
    task: a.task,
    attempt: a.attempt,
    outcome: end.outcome,
    reason: end.reason,
    exit_code: end.exit_code ?? null,
    duration_ms: end.duration_ms ?? null,
    summary: end.summary,
    usage: end.usage ?? null,
  };
}

/** What ending attempts needs. */
export interface EndsContext {
  paths: RunPaths;
  log: EventLog;
  logger: Logger;
  inFlight: InFlightAttempts;
  pool: WorkerPool;
  recovery: Recovery;
  budget: BudgetLedger;
  /** After an attempt.finished: what happens to the task (the coordinator's decision). */
  decide(task: string): void;
}

export class AttemptEnds {
  readonly #c: EndsContext;

  constructor(context: EndsContext) {
    this.#c = context;
  }

  /**
   * Reads result.json (and status.json for attempt.started) of every attempt in flight, or of those
   * whose worker `ofWorker` accepts (the workers a file-watcher event named).
   */
  collect(ofWorker: (worker: string) => boolean = () => true): void {
    const { log, paths, inFlight } = this.#c;
    for (const f of inFlight.list()) {
      if (!ofWorker(f.worker)) continue;
      if (this.fromResult(f)) continue;
      const s = log.state.tasks[f.task]!;
      if (s.current && s.current.started_at === null && readAttemptStatus(paths, f.task, f.attempt).kind === 'ok')
        log.append({ type: 'attempt.started', task: f.task, attempt: f.attempt, worker: f.worker });
    }
  }

  /**
   * Finishes an attempt in flight from its result.json if there is one. A result.json that exists
   * but does not parse (written by something else than a worker) ends the attempt as lost rather
   * than leaving it in flight forever. Returns false when there is no result yet.
   */
  fromResult(f: AttemptRef): boolean {
    const result = readAttemptResult(this.#c.paths, f.task, f.attempt);
    switch (result.kind) {
      case 'missing':
        return false;
      case 'unreadable':
        this.#c.logger.error({ err: result.error, task: f.task, attempt: f.attempt }, 'unreadable result.json');
        this.#lose(f, `its result.json is unreadable: ${result.error.message}`);
        return true;
      case 'ok':
        crashPoint('after-result', this.#c.logger);
        this.#finish(f, result.value);
        return true;
      default:
        return unreachable(result, 'file read');
    }
  }

  /**
   * The attempts of workers found dead: finished from their result.json, or given up. A worker
   * judged dead may only be stopped (SIGSTOP) or slow: make sure it cannot start the attempt
   * later, and that nothing of the attempt keeps running, before it is retried.
   */
  ofLostWorkers(lost: LostWorker[]): void {
    for (const w of lost) {
      if (!w.attempt) continue;
      const f = this.#c.inFlight.get(w.attempt.task, w.attempt.attempt);
      if (!f) continue;
      if (this.fromResult(f)) continue;
      this.abandon(f, w.why);
    }
  }

  /**
   * Gives up on an attempt whose worker is dead, hung, or will not run it. Taken back before it
   * started, it ends `interrupted`: not the task's fault, rerun for free. Otherwise whatever of it
   * ran has been killed, and it ends `worker-lost`.
   */
  abandon(f: AttemptRef, why: string): void {
    if (this.#c.recovery.takeAway(f) === 'killed') return this.#lose(f, why);
    this.#record(f, {
      outcome: 'cancelled',
      reason: 'interrupted',
      summary: `not started by worker ${f.worker}: ${why}`,
    });
    this.#c.decide(f.task);
  }

  /**
   * A worker that does not answer a cancel within `limitMs` is hung: kill the attempt's processes
   * from here, record the attempt cancelled, and retire the worker (it ignores its inbox, so it gets
   * no more work; with `replace`, another takes its place).
   */
  enforceCancelDeadlines(limitMs: number, replace: boolean): void {
    const { inFlight, recovery, budget, pool } = this.#c;
    for (const f of inFlight.list()) {
      if (!inFlight.cancelOverdue(f, limitMs)) continue;
      recovery.killAttempt(f);
      // Like a lost attempt, it counts what its status.json last reported.
      this.#record(f, {
        outcome: 'cancelled',
        reason: f.cancelSent,
        summary: `worker ${f.worker} did not answer the cancel; the attempt's processes were killed`,
        usage: budget.liveUsage(f.task, f.attempt),
      });
      pool.retire(f.worker, replace);
      this.#c.decide(f.task);
    }
  }

  /** Records a finished attempt and decides what happens to its task. */
  #finish(f: AttemptRef, result: AttemptResult): void {
    const { log, budget } = this.#c;
    const s = log.state.tasks[f.task]!;
    if (s.current === null || s.current.attempt !== f.attempt) return; // already recorded
    if (s.current.started_at === null)
      log.append({ type: 'attempt.started', task: f.task, attempt: f.attempt, worker: f.worker });
    this.#record(f, result);
    if (result.usage) budget.checkSoon(); // spend changed: check the warnings on this tick
    if (result.reason === 'budget-exhausted' && !log.state.budget.exhausted) {
      // The attempt used up the share of the run budget it was given: the budget is too tight for
      // this task. Stop dispatching agents (rather than retrying on ever smaller shares) until a
      // resume raises the cap; the task goes back to ready without using a retry.
      budget.exhaust();
    }
    this.#c.decide(f.task);
  }

  /** Records an attempt lost with its worker (no result.json) and decides what happens next. */
  #lose(f: AttemptRef, why: string): void {
    // What the lost attempt spent as far as its status.json last said: paid for, so it counts.
    const usage = this.#c.budget.liveUsage(f.task, f.attempt);
    this.#record(f, { outcome: 'failed', reason: 'worker-lost', summary: `worker ${f.worker} lost: ${why}`, usage });
    this.#c.decide(f.task);
  }

  /** Records attempt.finished for an attempt in flight, and stops tracking it (its worker is free). */
  #record(f: AttemptRef, end: AttemptEnd): void {
    this.#c.log.append(attemptFinished(f, end));
    if (this.#c.inFlight.untrack(f.task, f.attempt)) this.#c.pool.release(f.worker);
  }
}
