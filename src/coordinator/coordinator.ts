// The coordinator: turns the plan and the run directory into dispatches, and workers' results
// into events. It is the only writer of events.jsonl, state.json and coordinator.json. This file
// is the loop, its decisions and the session's lifecycle; what it calls on has a file per concern:
// start-events.ts, attempt-ends.ts (results, lost and unanswered attempts), recovery.ts (resume,
// taking attempts back, killing them), assignment.ts, budget-ledger.ts, control-effects.ts,
// merge-step.ts, task-board.ts (the DAG), in-flight.ts, worker-pool.ts and launcher.ts.
import fs from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import { ulid } from 'ulid';
import type { RunConfig } from '../protocol/run-config.js';
import type { RunPaths } from '../protocol/paths.js';
import type { PlanJson, RunJson } from '../protocol/schemas.js';
import type { RunState } from '../protocol/state.js';
import { unreachable } from '../util/unreachable.js';
import { DirectoryWatcher } from '../util/watch.js';
import {
  buildAssignment,
  deliverAssignment,
  makeAttemptDir,
  startCommit,
  type AssignmentContext,
} from './assignment.js';
import { Alarm } from './alarm.js';
import { AttemptEnds, attemptFinished } from './attempt-ends.js';
import { BudgetLedger, reservation, type GrantedCaps } from './budget-ledger.js';
import { applyControlRequests, type ControlInbox, type ControlTarget, type Verdict } from './control-effects.js';
import { crashPoint } from './crash-point.js';
import type { EventLog } from './event-log.js';
import { InFlightAttempts, type CancelReason, type InFlight } from './in-flight.js';
import type { Launcher } from './launcher.js';
import { mergeAttempt, type MergeContext } from './merge-step.js';
import { MergeQueue } from './merge-queue.js';
import { nextStep } from './policy.js';
import { Presence } from './presence.js';
import { Recovery } from './recovery.js';
import type { SchedTask } from './scheduler.js';
import { resumeEvents, startEvents } from './start-events.js';
import { TaskBoard, type PlanTask } from './task-board.js';
import { WorkerPool } from './worker-pool.js';
import { isAgentBackend } from '../worker/backends/registry.js';
import { sandboxFor } from '../config/sandbox.js';

/** How a coordinator session ended. */
export type CoordinatorExit =
  /** Every task is terminal; `outcome` says whether all succeeded. */
  | { kind: 'finished'; outcome: 'succeeded' | 'failed' }
  /** The session cannot go on: the run directory was deleted, or workers die as they start. */
  | { kind: 'broken'; why: string }
  /** Ctrl-C or stop-run: dispatch stopped and running attempts drained or were cancelled; resumable. */
  | { kind: 'stopped'; why: 'interrupt' | 'stop-run' | 'budget' };

/** Everything a coordinator session needs. */
export interface CoordinatorOptions {
  paths: RunPaths;
  run: RunJson;
  plan: PlanJson;
  /** The events so far (empty for a new run), replayed into `log.state`. */
  log: EventLog;
  logger: Logger;
  launcher: Launcher;
  command: 'run' | 'resume';
  /** Resume only: put failed, cancelled and skipped tasks back to pending. */
  retryFailed?: boolean;
  /** Resume only: control requests the log says were applied already. */
  appliedRequests?: ReadonlySet<string>;
  /** Resume only: new run caps (`swarm resume --max-cost-usd / --max-tokens`). */
  budget?: { max_cost_usd?: number; max_tokens?: number };
}

/**
 * The session's own lifecycle. (The run's phase, from events, is another thing: a pause request
 * holds dispatch while the session goes on running.)
 *
 *   starting ──start/resume events, reconciliation, workers launched──▶ running
 *   running ──Ctrl-C, stop-run──▶ draining ──second Ctrl-C: running attempts cancelled──▶ cancelling
 *   running | draining | cancelling ──a tick finds the session's end──▶ shutting-down
 *   shutting-down ──watcher, workers, heartbeat and log closed──▶ done
 *
 * Draining and cancelling dispatch nothing and replace no lost worker; the session ends once
 * nothing is in flight: stopped for the drain's reason (`#stopWhy`), or finished if no task is left.
 * Running ends when every task is terminal, when the budget is spent and nothing can progress, or
 * broken (the run directory deleted, workers that die as they start).
 */
type Stage = 'starting' | 'running' | 'draining' | 'cancelling' | 'shutting-down' | 'done';

export class Coordinator {
  readonly #o: CoordinatorOptions;
  readonly #config: RunConfig;
  readonly #session = ulid();
  readonly #board: TaskBoard;
  readonly #inFlight = new InFlightAttempts();
  readonly #budget: BudgetLedger;
  readonly #presence: Presence;
  readonly #merge: MergeContext;
  readonly #assignment: AssignmentContext;
  readonly #pool: WorkerPool;
  readonly #recovery: Recovery;
  readonly #ends: AttemptEnds;
  readonly #control: { inbox: ControlInbox; target: ControlTarget };
  /** Integration checks (`integration.verify`, git isolation only); undefined without them. */
  readonly #queue: MergeQueue | undefined;
  #watcher!: DirectoryWatcher;
  #stage: Stage = 'starting';
  /** Why the session drains: set on entering `draining`. */
  #stopWhy: 'interrupt' | 'stop-run' | undefined;
  #interrupts = 0;
  /** Resolves the loop's wait for something to happen (replaced at each pass). */
  #wakeLoop: () => void = () => {};
  /**
   * Whether the next pass reads every attempt in flight for its result, or only those of the
   * workers in #touched: a file-watcher event names the worker directories that changed (a worker
   * rewrites its worker.json after each result.json), so with a thousand workers a result does not
   * cost a thousand reads. Every other wake (a timer, the rescan, a control request, an exit)
   * reads them all.
   */
  #collectAll = true;
  readonly #touched = new Set<string>();
  /** Wakes the loop for anything but a file-watcher event: the next pass reads every attempt in flight. */
  readonly #wake = (): void => {
    this.#collectAll = true;
    this.#wakeLoop();
  };
  readonly #backoff = new Alarm(() => this.#wake());

  constructor(options: CoordinatorOptions) {
    const { run, paths, log, logger } = options;
    this.#o = options;
    this.#config = run.config;
    this.#board = new TaskBoard(options.plan, log);
    const [workers, width] = [run.config.workers, this.#board.widthBound];
    if (width < workers) logger.info({ workers, width_bound: width }, 'fewer workers: the DAG is narrower');
    this.#budget = new BudgetLedger(log, paths, this.#inFlight);
    this.#presence = new Presence(paths, { session: this.#session, command: options.command });
    this.#merge = { run, paths, log, logger, notice: (text) => this.#notice(text) };
    this.#assignment = { run, config: run.config, paths, state: log.state };
    // A worker rewrites its worker.json right after each result.json and each claim, so watching
    // the (few, fixed) worker directories notices every attempt's start and end; the 1 s rescan
    // is the safety net. (Watching each attempt's directory instead made the watcher's own
    // bookkeeping grow with every attempt.)
    this.#pool = new WorkerPool(paths, options.launcher, this.#session, logger, {
      onWorker: (id) => this.#watcher.add(paths.workerDir(id)),
      onExit: () => this.#wake(),
    });
    this.#recovery = new Recovery(paths, this.#pool, run.id, logger);
    const [inFlight, pool, recovery, budget] = [this.#inFlight, this.#pool, this.#recovery, this.#budget];
    this.#ends = new AttemptEnds({
      paths,
      log,
      logger,
      inFlight,
      pool,
      recovery,
      budget,
      decide: (id) => this.#decide(id),
    });
    const verify = run.config.integration.verify;
    if (verify && run.integration_branch)
      this.#queue = new MergeQueue({
        run,
        paths,
        log,
        logger,
        board: this.#board,
        command: verify,
        timeoutMs: run.config.integration.timeout,
        killGraceMs: run.config.scheduling.kill_grace,
        sandbox: sandboxFor(run.config, { role: null, backend: 'command' }, { repo: run.repo }),
        onConflict: run.config.merge.on_conflict,
        wake: () => this.#wake(),
      });
    this.#control = {
      inbox: { paths, logger, applied: options.appliedRequests, notice: (text) => this.#notice(text) },
      target: {
        log,
        board: this.#board,
        inFlight,
        cancel: (f) => this.#sendCancel(f, 'cancel-requested'),
        stopRun: () => this.#stopRun(),
      },
    };
  }

  get #state(): RunState {
    return this.#o.log.state;
  }

  /** The coordinator's session id (a ULID), which its workers carry. */
  get session(): string {
    return this.#session;
  }

  /** Ctrl-C: the first stops dispatch and drains; the second cancels running attempts. */
  interrupt(): void {
    this.#interrupts++;
    if (this.#interrupts === 1) {
      const phase = this.#state.phase;
      if (phase !== 'finished' && phase !== 'stopping' && this.#stage !== 'done')
        this.#o.log.append({ type: 'run.paused', reason: 'interrupt' });
      this.#drain('interrupt');
      if (this.#inFlight.size > 0) {
        this.#notice(
          `stopping: waiting for ${this.#inFlight.size} running attempt(s) to finish; press Ctrl-C again to cancel them`,
        );
      }
    } else if (this.#interrupts === 2) {
      this.#notice(`cancelling ${this.#inFlight.size} running attempt(s)`);
      for (const f of this.#inFlight.list()) this.#sendCancel(f, 'interrupted');
      if (this.#stage === 'draining') this.#stage = 'cancelling';
    }
    this.#wake();
  }

  /** Runs the session until the run finishes or stops. */
  async run(): Promise<CoordinatorExit> {
    const { paths, logger, log, run, plan } = this.#o;
    for (const dir of [paths.controlDir, paths.workersDir, paths.tasksDir, paths.logsDir])
      fs.mkdirSync(dir, { recursive: true });
    // A failed heartbeat wakes the loop: the next tick finds out whether the run directory is gone.
    this.#presence.start(this.#config.liveness.heartbeat, logger, () => this.#wake());
    this.#watcher = new DirectoryWatcher([paths.controlDir], (changed) => this.#changed(changed), 1000);
    if (this.#state.last_seq === 0) startEvents(log, run, plan);
    else resumeEvents(log, plan, { retryFailed: this.#o.retryFailed, budget: this.#o.budget });
    this.#board.rebuild();
    if (this.#o.command === 'resume')
      this.#recovery.reconcile(this.#state, this.#config.liveness.stale_after, {
        decide: (id) => this.#decide(id),
        finishFromResult: (f) => this.#ends.fromResult(f),
        adopted: (f) => this.#inFlight.track({ ...f, reserved: this.#budget.reservationOf(f.task, f.attempt) }),
        abandon: (f, why) => this.#ends.abandon(f, why),
      });
    for (const t of this.#board.tasks()) this.#board.promoteOrSkip(t.id);
    crashPoint('after-plan', logger);
    this.#growPool();
    if (this.#stage === 'starting') this.#stage = 'running';

    let exit: CoordinatorExit | undefined;
    while (!exit) {
      const woken = new Promise<void>((r) => (this.#wakeLoop = r));
      exit = this.#tick();
      if (exit) break;
      await woken;
    }
    await this.#shutdown();
    return exit;
  }

  /** A watcher event: worker directories note their worker for the next pass; anything else reads all. */
  #changed(changed: ReadonlySet<string> | 'all'): void {
    if (changed === 'all') this.#collectAll = true;
    else
      for (const dir of changed) {
        if (path.dirname(dir) === this.#o.paths.workersDir) this.#touched.add(path.basename(dir));
        else this.#collectAll = true;
      }
    this.#wakeLoop();
  }

  /**
   * One pass over everything that may have changed. Returns how the session ends, once it does.
   * Results come before dispatch so that a freed slot is refilled in the same tick; control comes
   * before dispatch so that a pause or a cancel takes effect before new work starts.
   */
  #tick(): CoordinatorExit | undefined {
    if (!fs.existsSync(this.#o.paths.runJson))
      return { kind: 'broken', why: `the run directory ${this.#o.paths.root} was deleted` };
    if (this.#pool.crashLooping) return { kind: 'broken', why: this.#pool.crashLoopWhy() };
    if (this.#collectAll) this.#ends.collect();
    else this.#ends.collect((worker) => this.#touched.has(worker));
    this.#collectAll = false;
    this.#touched.clear();
    applyControlRequests(this.#control.inbox, this.#control.target);
    const queued = this.#queue?.advance();
    if (queued?.kind === 'broken') return { kind: 'broken', why: queued.why };
    // Dead workers (looked for every heartbeat interval, or at once when a process exits).
    const { stale_after, heartbeat } = this.#config.liveness;
    const replace = this.#state.phase !== 'finished' && this.#takesWork();
    this.#ends.ofLostWorkers(this.#pool.reap(stale_after, replace, Math.min(1000, heartbeat)));
    this.#ends.enforceCancelDeadlines(this.#config.scheduling.kill_grace + 5000, this.#takesWork());
    this.#budget.warn();
    this.#dispatch();
    return this.#checkEnd();
  }

  /**
   * After an attempt: succeed the task (after merging its work), cancel it, retry it (after a
   * backoff), or fail it and skip its dependents.
   */
  #decide(id: string): void {
    const s = this.#state.tasks[id]!;
    const task = this.#board.task(id);
    const merge = s.last?.outcome === 'succeeded' ? mergeAttempt(this.#merge, id, s.last.attempt) : undefined;
    const step = nextStep(s, merge, {
      retries: task.retries,
      backoffMs: this.#config.scheduling.backoff,
      backoffMaxMs: this.#config.scheduling.backoff_max,
      onConflict: this.#config.merge.on_conflict,
    });
    switch (step.kind) {
      case 'succeed':
        // With integration checks, a merged change waits for one to pass (merge-queue.ts).
        if (!this.#queue?.waitsForCheck(id)) this.#board.finish({ type: 'task.succeeded', task: id });
        break;
      case 'retry':
        this.#board.retry(id, step.delayMs);
        break;
      case 'cancel':
      case 'fail':
        this.#board.finish(
          step.kind === 'cancel'
            ? { type: 'task.cancelled', task: id }
            : { type: 'task.failed', task: id, reason: step.reason },
        );
        break;
      default:
        unreachable(step, 'next step');
    }
  }

  /**
   * Launches workers up to what the board can use ({@link TaskBoard.usefulWorkers}): a one-task run
   * or a chain starts one worker, which then boots without three others competing for the CPU
   * (bench/README.md, start-up). A lost worker is replaced by the pool's reap.
   */
  #growPool(): void {
    if (this.#takesWork()) this.#pool.grow(this.#board.usefulWorkers(this.#config.workers, this.#inFlight.size));
  }

  /** Starts ready tasks on idle workers, best upward rank first, within the wave barrier. */
  #dispatch(): void {
    if (this.#state.phase !== 'running') return;
    this.#growPool();
    const idle = this.#pool.idle();
    const slots = Math.min(idle.length, this.#config.workers - this.#inFlight.size);
    if (slots <= 0) return;
    const now = Date.now();
    const ready = this.#board.ready;
    // Tasks that declare the same `files` are not run at the same time (they would conflict).
    const busy = new Set<string>();
    for (const f of this.#inFlight.list()) for (const file of this.#board.task(f.task).files) busy.add(file);
    const budgeted = this.#state.budget.max_cost_usd !== null || this.#state.budget.max_tokens !== null;
    // The budget left is shared among the agent attempts that can start now.
    const budget = this.#budget.forDispatch(
      budgeted ? ready.countReady(now, slots, (t) => isAgentBackend(this.#backendOf(t.id))) : 1,
    );
    const granted = new Map<string, GrantedCaps>();
    const canStart = (t: SchedTask): boolean => {
      const task = this.#board.task(t.id);
      if (task.files.some((file) => busy.has(file))) return false;
      if (this.#queue?.holds(t.id)) return false;
      const resolver = this.#resolverOf(t.id);
      if (isAgentBackend(this.#backendOf(t.id))) {
        // An agent attempt starts only with caps the budget can cover (budget.ts).
        const caps = budget.grant(this.#config.roles[resolver ?? task.role!]!);
        if (!caps) return false;
        granted.set(t.id, caps);
      }
      for (const file of task.files) busy.add(file);
      return true;
    };
    const { tasks, wakeAt } = ready.take(slots, now, this.#board.barrier(this.#config.scheduling.mode), canStart);
    tasks.forEach((t, i) => this.#assign(t.id, idle[i]!.id, granted.get(t.id)));
    if (budget.blocked && !this.#state.budget.exhausted && !this.#inFlight.anyReserved()) {
      // Nothing running can give budget back: the run stops here, resumable with higher caps.
      this.#budget.exhaust();
    }
    if (wakeAt !== undefined) this.#backoff.set(wakeAt, now);
  }

  /**
   * The role whose agent resolves the task's conflict in its next attempt (`merge.on_conflict:
   * resolve`): when its last attempt's merge conflicted. After a resolver's attempt that failed, or
   * without a `resolver` role, null: the task itself runs again.
   */
  #resolverOf(id: string): string | null {
    const { on_conflict, resolver } = this.#config.merge;
    if (on_conflict !== 'resolve' || !resolver || !this.#o.run.integration_branch) return null;
    const t = this.#state.tasks[id]!;
    return t.last_conflict !== null && t.last_conflict.attempt === t.attempts ? resolver : null;
  }

  /** The backend the task's next attempt runs: the resolver's for a conflict being resolved, else its own. */
  #backendOf(id: string): PlanTask['backend'] {
    const resolver = this.#resolverOf(id);
    return resolver ? this.#config.roles[resolver]!.backend : this.#board.task(id).backend;
  }

  /** Assigns the next attempt of a task to a worker: event, assignment.json, inbox message. */
  #assign(id: string, worker: string, caps: GrantedCaps | undefined): void {
    const { paths, log, run, logger } = this.#o;
    const attempt = this.#state.tasks[id]!.attempts + 1;
    const resolver = this.#resolverOf(id);
    // The event comes first: a crash after it leaves an attempt that resume finds undelivered.
    log.append({ type: 'attempt.assigned', task: id, attempt, worker, ...(resolver ? { resolver } : {}) });
    crashPoint('after-assign', logger);
    makeAttemptDir(paths, id, attempt);
    const start = startCommit(run);
    if (start.kind === 'branch-missing') {
      // The integration branch is gone: nothing can be started on it. The attempt fails at once.
      this.#notice(`cannot start ${id}: the integration branch ${run.integration_branch} is missing in ${run.repo}`);
      const summary = `the integration branch ${run.integration_branch} is missing`;
      log.append(attemptFinished({ task: id, attempt }, { outcome: 'failed', reason: 'workspace-failed', summary }));
      this.#board.finish({ type: 'task.failed', task: id, reason: 'workspace-failed' });
      return;
    }
    // With integration checks, attempts start on the last verified tip rather than the branch's.
    const base = start.kind === 'tip' ? (this.#queue?.startCommit() ?? start.commit) : null;
    const assignment = buildAssignment(this.#assignment, {
      task: this.#board.task(id),
      attempt,
      worker,
      base,
      caps,
      resolver: resolver ? { role: resolver, taskOf: (o) => this.#board.task(o) } : null,
    });
    deliverAssignment(paths, this.#pool, assignment);
    this.#inFlight.track({ task: id, attempt, worker, reserved: reservation(assignment.agent) });
  }

  #sendCancel(f: InFlight, reason: CancelReason): void {
    if (this.#inFlight.markCancel(f, reason))
      this.#pool.send(f.worker, { kind: 'cancel', task: f.task, attempt: f.attempt, reason });
  }

  /** The session ends when every task is terminal, or when stopping and nothing runs. */
  #checkEnd(): CoordinatorExit | undefined {
    if (this.#inFlight.size > 0) return undefined;
    const c = this.#state.counts;
    if (c.pending + c.ready + c.running + c.verifying > 0 || this.#queue?.busy) {
      if (!this.#takesWork()) return { kind: 'stopped', why: this.#stopWhy ?? 'interrupt' };
      // Budget spent: stop once nothing can progress (a command task waiting out a retry can).
      const commandWaiting =
        this.#board.ready.countReady(Infinity, 1, (t) => !isAgentBackend(this.#board.task(t.id).backend)) > 0;
      // Merges waiting for an integration check are not stopped by the budget: checks cost none.
      if (this.#queue?.busy) return undefined;
      return this.#state.budget.exhausted && !commandWaiting ? { kind: 'stopped', why: 'budget' } : undefined;
    }
    const outcome = c.failed + c.skipped + c.cancelled === 0 ? 'succeeded' : 'failed';
    if (this.#state.phase !== 'finished') this.#o.log.append({ type: 'run.finished', outcome });
    return { kind: 'finished', outcome };
  }

  /** Whether the session still takes on work: dispatches (as the run's phase allows) and replaces lost workers. */
  #takesWork(): boolean {
    switch (this.#stage) {
      case 'starting':
      case 'running':
        return true;
      case 'draining':
      case 'cancelling':
      case 'shutting-down':
      case 'done':
        return false;
      default:
        return unreachable(this.#stage, 'coordinator stage');
    }
  }

  /** Ctrl-C or stop-run: from now on the session takes on no work, and ends once nothing runs. */
  #drain(why: 'interrupt' | 'stop-run'): void {
    if (!this.#takesWork()) return; // draining already, or over
    this.#stage = 'draining';
    this.#stopWhy = why;
  }

  /** The stop-run control request. */
  #stopRun(): Verdict {
    if (!this.#takesWork()) return { accepted: false, message: 'the run is already stopping' };
    this.#o.log.append({ type: 'run.paused', reason: 'stop-run' });
    this.#drain('stop-run');
    return { accepted: true, message: `stopping after ${this.#inFlight.size} running attempt(s) finish` };
  }

  /** Tells every reader of the log something that is no fact of the state (a `notice` event). */
  #notice(text: string): void {
    if (this.#stage !== 'done') this.#o.log.append({ type: 'notice', text });
  }

  async #shutdown(): Promise<void> {
    this.#stage = 'shutting-down';
    this.#backoff.clear();
    await this.#queue?.stop();
    await this.#watcher.close();
    await this.#pool.shutdown(this.#config.scheduling.kill_grace + 2000);
    this.#presence.stop();
    try {
      await this.#o.log.close();
      this.#presence.writeStopped();
    } catch (e) {
      if (fs.existsSync(this.#o.paths.root)) throw e; // else: the run directory was deleted under us
    } finally {
      this.#stage = 'done';
    }
  }
}
