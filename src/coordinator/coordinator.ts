// The coordinator: turns the plan and the run directory into dispatches, and workers' results
// into events. It is the only writer of events.jsonl, state.json and coordinator.json.
import fs from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import { ulid } from 'ulid';
import type { RunConfig } from '../protocol/run-config.js';
import { readJsonFile, writeJsonAtomicSync } from '../protocol/files.js';
import type { RunPaths } from '../protocol/paths.js';
import {
  AssignmentSchema,
  AttemptStatusSchema,
  AttemptResultSchema,
  PROTOCOL_VERSION,
  type Assignment,
  type CoordinatorJson,
  type PlanJson,
  type PreviousAttempt,
  type ResolvedTask,
  type AttemptResult,
  type RunJson,
  type Usage,
} from '../protocol/schemas.js';
import { gitTrySync } from '../git/git.js';
import { attemptDiff, mergeIntoBranch } from '../git/merge.js';
import { removeWorktree } from '../git/worktree.js';
import { TERMINAL, type RunState } from '../protocol/state.js';
import { HOST, killByEnvMarker, pidAlive, signalGroup } from '../util/process.js';
import { unreachable } from '../util/unreachable.js';
import { DirectoryWatcher } from '../util/watch.js';
import { archiveRequest, pendingRequests } from '../protocol/control.js';
import { listClaimed, revoke } from '../protocol/maildir.js';
import type { EventLog } from './event-log.js';
import { descendants } from '../plan/graph.js';
import type { Launcher } from './launcher.js';
import { nextStep } from './policy.js';
import { agentSpecFor } from './agent-spec.js';
import { newWarnings, nextAttemptCaps, type Caps, type CapSources, type Spend } from './budget.js';
import { totalTokens } from '../protocol/usage.js';
import { ReadyQueue, waveBarrier, type SchedTask } from './scheduler.js';
import { WorkerPool } from './worker-pool.js';

/**
 * Environment variable that marks every process of an attempt with `<run-id>/<task>/<n>`, so the
 * coordinator can find and kill them when their worker is lost.
 */
export const ATTEMPT_MARKER = 'SWARM_ATTEMPT_KEY';
const attemptKey = (run: string, task: string, attempt: number): string => `${run}/${task}/${attempt}`;

/** How a coordinator session ended. */
export type CoordinatorExit =
  /** Every task is terminal; `outcome` says whether all succeeded. */
  | { kind: 'finished'; outcome: 'succeeded' | 'failed' }
  /** The session cannot go on: the run directory was deleted, or workers die as they start. */
  | { kind: 'broken'; why: string }
  /** Ctrl-C or stop-run: dispatch stopped and running attempts drained or were cancelled; resumable. */
  | { kind: 'stopped'; why: 'interrupt' | 'stop-run' | 'budget' };

/** Messages for the user that are not events (the presenter prints them). */
export interface Notices {
  notice(text: string): void;
}

/** Everything a coordinator session needs. */
export interface CoordinatorOptions {
  paths: RunPaths;
  run: RunJson;
  plan: PlanJson;
  /** The events so far (empty for a new run), replayed into `log.state`. */
  log: EventLog;
  logger: Logger;
  launcher: Launcher;
  notices: Notices;
  command: 'run' | 'resume';
  /** Resume only: put failed, cancelled and skipped tasks back to pending. */
  retryFailed?: boolean;
  /** Resume only: control requests the log says were applied already. */
  appliedRequests?: ReadonlySet<string>;
  /** Resume only: new run caps (`swarm resume --max-cost-usd / --max-tokens`). */
  budget?: { max_cost_usd?: number; max_tokens?: number };
}

/** An attempt in flight, as the coordinator tracks it. */
interface InFlight {
  task: string;
  attempt: number;
  worker: string;
  /** Set when a cancel was sent: the result is then expected to be `cancelled`. */
  cancelSent?: 'cancel-requested' | 'interrupted';
  cancelSentAt?: number;
  /** Agent attempts: the caps it was given, which the budget counts as spent until it finishes. */
  reserved?: Spend;
}

/**
 * Points where the coordinator kills itself with SIGKILL when $SWARM_TEST_CRASH_AT names them:
 * the crash tests use them to stop at exact moments no outside signal could hit reliably.
 */
type CrashPoint = 'after-plan' | 'after-assign' | 'after-result' | 'before-merge';

export class Coordinator {
  readonly #o: CoordinatorOptions;
  readonly #config: RunConfig;
  readonly #tasks: Map<string, ResolvedTask & { index: number }>;
  readonly #dependents: Map<string, string[]>;
  readonly #unfinishedPerWave: number[];
  readonly #ready = new ReadyQueue();
  readonly #inFlight = new Map<string, InFlight>();
  readonly #session = ulid();
  readonly #startedAt = new Date().toISOString();
  #pool!: WorkerPool;
  #watcher!: DirectoryWatcher;
  #heartbeat: NodeJS.Timeout | undefined;
  #backoffTimer: NodeJS.Timeout | undefined;
  #backoffAt: number | undefined;
  #lastReap = 0;
  #workerExited = false;
  #interrupts = 0;
  #wake: () => void = () => {};
  #lastBudgetCheck = 0;
  /** Caps computed for the tasks being dispatched, consumed by #assign. */
  readonly #caps = new Map<string, { caps: Caps; source: CapSources }>();
  #stopAfterDrain: 'interrupt' | 'stop-run' | undefined;

  constructor(options: CoordinatorOptions) {
    this.#o = options;
    this.#config = options.run.config;
    this.#tasks = new Map(options.plan.tasks.map((t, index) => [t.id, { ...t, index }]));
    this.#dependents = new Map(options.plan.tasks.map((t) => [t.id, []]));
    for (const t of options.plan.tasks) for (const d of t.deps) this.#dependents.get(d)!.push(t.id);
    this.#unfinishedPerWave = new Array<number>(options.plan.waves).fill(0);
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
      if (this.#state.phase !== 'finished' && this.#state.phase !== 'stopping')
        this.#o.log.append({ type: 'run.paused', reason: 'interrupt' });
      this.#stopAfterDrain ??= 'interrupt';
      if (this.#inFlight.size > 0) {
        this.#o.notices.notice(
          `stopping: waiting for ${this.#inFlight.size} running attempt(s) to finish; press Ctrl-C again to cancel them`,
        );
      }
    } else if (this.#interrupts === 2) {
      this.#o.notices.notice(`cancelling ${this.#inFlight.size} running attempt(s)`);
      for (const f of this.#inFlight.values()) this.#sendCancel(f, 'interrupted');
    }
    this.#wake();
  }

  /** Runs the session until the run finishes or stops. */
  async run(): Promise<CoordinatorExit> {
    const { paths, logger } = this.#o;
    for (const dir of [paths.controlDir, paths.workersDir, paths.tasksDir, paths.logsDir])
      fs.mkdirSync(dir, { recursive: true });
    this.#writeCoordinatorJson();
    this.#heartbeat = setInterval(() => {
      try {
        this.#writeCoordinatorJson();
      } catch (e) {
        this.#o.logger.warn({ err: e }, 'coordinator.json heartbeat failed');
        this.#wake(); // the next tick finds out whether the run directory is gone
      }
    }, this.#config.liveness.heartbeat);
    this.#watcher = new DirectoryWatcher([paths.controlDir], () => this.#wake(), 1000);
    // A worker rewrites its worker.json right after each result.json and each claim, so watching
    // the (few, fixed) worker directories notices every attempt's start and end; the 1 s rescan
    // is the safety net. (Watching each attempt's directory instead made the watcher's own
    // bookkeeping grow with every attempt.)
    this.#pool = new WorkerPool(paths, this.#o.launcher, this.#session, logger, {
      onWorker: (id) => this.#watcher.add(paths.workerDir(id)),
      onExit: () => {
        this.#workerExited = true;
        this.#wake();
      },
    });

    if (this.#state.last_seq === 0) this.#startEvents();
    else this.#resumeEvents();
    this.#rebuildQueues();
    if (this.#o.command === 'resume') this.#reconcile();
    for (const t of this.#tasks.values()) this.#settle(t.id);
    this.#crashPoint('after-plan');
    this.#pool.start(this.#config.workers);

    let exit: CoordinatorExit | undefined;
    while (!exit) {
      const woken = new Promise<void>((r) => (this.#wake = r));
      exit = this.#tick();
      if (exit) break;
      await woken;
    }
    await this.#shutdown();
    return exit;
  }

  /** Events of a new run: run.started, plan.created, and the first ready tasks. */
  #startEvents(): void {
    const { run, plan, log } = this.#o;
    const budget = {
      max_cost_usd: this.#config.budget.max_cost_usd ?? null,
      max_tokens: this.#config.budget.max_tokens ?? null,
    };
    log.append({
      type: 'run.started',
      run_id: run.id,
      goal: run.goal,
      pid: process.pid,
      host: HOST,
      base_commit: run.base_commit,
      integration_branch: run.integration_branch,
      budget,
      planner_usage: plan.planner?.usage ?? null,
    });
    log.append({
      type: 'plan.created',
      tasks: plan.tasks.map((t) => t.id),
      waves: plan.waves,
      critical_path: plan.critical_path,
    });
  }

  /** Events of a resumed run: run.resumed, the plan if a crash came before it, resets for --retry-failed. */
  #resumeEvents(): void {
    const { log, plan } = this.#o;
    log.append({ type: 'run.resumed', pid: process.pid, host: HOST, retry_failed: Boolean(this.#o.retryFailed) });
    const raise = this.#o.budget;
    if (raise && (raise.max_cost_usd !== undefined || raise.max_tokens !== undefined)) {
      const b = this.#state.budget;
      log.append({
        type: 'budget.changed',
        max_cost_usd: raise.max_cost_usd ?? b.max_cost_usd,
        max_tokens: raise.max_tokens ?? b.max_tokens,
      });
    }
    if (Object.keys(this.#state.tasks).length === 0) {
      // The crash came between run.started and plan.created.
      log.append({
        type: 'plan.created',
        tasks: plan.tasks.map((t) => t.id),
        waves: plan.waves,
        critical_path: plan.critical_path,
      });
    }
    if (this.#o.retryFailed) {
      for (const [id, t] of Object.entries(this.#state.tasks))
        if (t.state === 'failed' || t.state === 'cancelled' || t.state === 'skipped')
          log.append({ type: 'task.reset', task: id });
    }
  }

  /**
   * Resume (DESIGN §5): reconcile attempts that were in flight when the last coordinator died.
   * An attempt with result.json is finished from it (never run again); one whose worker is alive
   * is adopted; any other is `worker-lost` (its process group killed if it survived) and retried.
   */
  #reconcile(): void {
    const { paths, logger } = this.#o;
    for (const [id, t] of Object.entries(this.#state.tasks)) {
      if (t.state !== 'running') continue;
      if (!t.current) {
        // attempt.finished was recorded, the task's next event was not.
        this.#decide(id);
        continue;
      }
      const f = { task: id, attempt: t.current.attempt, worker: t.current.worker };
      if (this.#settleFromResult(f)) continue;
      const info = WorkerPool.info(paths, f.worker);
      const alive =
        info !== undefined &&
        (info.host === HOST
          ? pidAlive(info.pid)
          : Date.now() - Date.parse(info.heartbeat_at) < this.#config.liveness.stale_after);
      // The worker is running the attempt (or has just claimed it): let it finish, if it is alive.
      if (alive && ((info.current?.task === id && info.current.attempt === f.attempt) || this.#claimed(f))) {
        logger.info(f, 'adopting an attempt whose worker is alive');
        this.#pool.adopt(f.worker, { task: id, attempt: f.attempt });
        this.#track({ ...f, reserved: this.#reservationOf(id, f.attempt) });
        continue;
      }
      this.#abandon(f, alive ? 'its worker had not started it' : 'its worker died before writing a result');
    }
  }

  /** True if the attempt's assignment message is in its worker's cur/ (claimed). */
  #claimed(f: Pick<InFlight, 'task' | 'attempt' | 'worker'>): boolean {
    return listClaimed(this.#o.paths.inbox(f.worker)).some(
      ({ message: m }) => m.kind === 'assign' && m.task === f.task && m.attempt === f.attempt,
    );
  }

  /**
   * Gives up on an attempt whose worker is dead, hung, or will not run it. If its assignment was
   * never claimed, it is taken back (so it can never start later) and the attempt ends
   * `interrupted`: not the task's fault, rerun for free. Otherwise whatever of it runs is killed
   * and it ends `worker-lost`.
   */
  #abandon(f: Pick<InFlight, 'task' | 'attempt' | 'worker'>, why: string): void {
    if (this.#revokeAssignment(f) || !this.#claimed(f)) {
      this.#o.log.append({
        type: 'attempt.finished',
        task: f.task,
        attempt: f.attempt,
        outcome: 'cancelled',
        reason: 'interrupted',
        exit_code: null,
        duration_ms: null,
        summary: `not started by worker ${f.worker}: ${why}`,
        usage: null,
      });
      this.#untrack(f.task, f.attempt, f.worker);
      this.#decide(f.task);
      return;
    }
    this.#o.logger.warn(f, 'attempt lost with its worker');
    this.#killAttemptGroup(f.task, f.attempt);
    this.#lose(f, why);
  }

  /** Takes an attempt's assignment back from its worker's inbox if the worker has not claimed it. */
  #revokeAssignment(f: Pick<InFlight, 'task' | 'attempt' | 'worker'>): boolean {
    return revoke(
      this.#o.paths.inbox(f.worker),
      (m) => m.kind === 'assign' && m.task === f.task && m.attempt === f.attempt,
    );
  }

  /** Rebuilds the ready queue and the unfinished-task count of each wave from the state. */
  #rebuildQueues(): void {
    for (const t of this.#tasks.values()) {
      const s = this.#state.tasks[t.id]!;
      if (!TERMINAL.has(s.state)) this.#unfinishedPerWave[t.wave]!++;
      if (s.state === 'ready') this.#ready.add(t, s.not_before ? Date.parse(s.not_before) : 0);
    }
  }

  /** Moves a pending task to ready (all deps succeeded) or skipped (a dep will never succeed). */
  #settle(id: string): void {
    const s = this.#state.tasks[id]!;
    if (s.state !== 'pending') return;
    const task = this.#tasks.get(id)!;
    let allSucceeded = true;
    for (const d of task.deps) {
      const ds = this.#state.tasks[d]!.state;
      if (ds === 'failed' || ds === 'skipped' || ds === 'cancelled') {
        this.#skipFrom(ds === 'skipped' ? this.#state.tasks[d]!.skipped_because! : d, [id]);
        return;
      }
      if (ds !== 'succeeded') allSucceeded = false;
    }
    if (allSucceeded) {
      this.#o.log.append({ type: 'task.ready', task: id, not_before: null });
      this.#ready.add(task);
    }
  }

  /** One pass over everything that may have changed. Returns how the session ends, once it does. */
  #tick(): CoordinatorExit | undefined {
    if (!fs.existsSync(this.#o.paths.runJson))
      return { kind: 'broken', why: `the run directory ${this.#o.paths.root} was deleted` };
    if (this.#pool.crashLooping)
      return {
        kind: 'broken',
        why: `workers exit as soon as they start; see ${this.#o.paths.logsDir}/worker-*.log and worker-*.stderr`,
      };
    this.#collectResults();
    this.#applyControl();
    this.#reapWorkers();
    this.#enforceCancelDeadlines();
    this.#checkBudget();
    this.#dispatch();
    return this.#checkEnd();
  }

  /** Reads result.json (and status.json for attempt.started) of every attempt in flight. */
  #collectResults(): void {
    for (const f of [...this.#inFlight.values()]) {
      if (this.#settleFromResult(f)) continue;
      const s = this.#state.tasks[f.task]!;
      if (s.current && s.current.started_at === null) {
        let status;
        try {
          status = readJsonFile(this.#o.paths.attempt(f.task, f.attempt).status, AttemptStatusSchema);
        } catch {
          status = undefined;
        }
        if (status) this.#o.log.append({ type: 'attempt.started', task: f.task, attempt: f.attempt, worker: f.worker });
      }
    }
  }

  /** An attempt's result.json, or undefined if it is missing or unreadable (see #settleFromResult). */
  #readResult(task: string, attempt: number): AttemptResult | undefined {
    try {
      return readJsonFile(this.#o.paths.attempt(task, attempt).result, AttemptResultSchema);
    } catch {
      return undefined;
    }
  }

  /**
   * Finishes an attempt in flight from its result.json if there is one. A result.json that exists
   * but does not parse (written by something else than a worker) ends the attempt as lost rather
   * than leaving it in flight forever. Returns false when there is no result yet.
   */
  #settleFromResult(f: Pick<InFlight, 'task' | 'attempt' | 'worker'>): boolean {
    let result: AttemptResult | undefined;
    try {
      result = readJsonFile(this.#o.paths.attempt(f.task, f.attempt).result, AttemptResultSchema);
    } catch (e) {
      this.#o.logger.error({ err: e, task: f.task, attempt: f.attempt }, 'unreadable result.json');
      this.#lose(f, `its result.json is unreadable: ${(e as Error).message}`);
      return true;
    }
    if (!result) return false;
    this.#crashPoint('after-result');
    this.#finishAttempt(f, result);
    return true;
  }

  /** Records a finished attempt and decides what happens to its task. */
  #finishAttempt(f: Pick<InFlight, 'task' | 'attempt' | 'worker'>, result: AttemptResult): void {
    const s = this.#state.tasks[f.task]!;
    if (s.current === null || s.current.attempt !== f.attempt) return; // already recorded
    if (s.current.started_at === null)
      this.#o.log.append({ type: 'attempt.started', task: f.task, attempt: f.attempt, worker: f.worker });
    this.#o.log.append({
      type: 'attempt.finished',
      task: f.task,
      attempt: f.attempt,
      outcome: result.outcome,
      reason: result.reason,
      exit_code: result.exit_code,
      duration_ms: result.duration_ms,
      summary: result.summary,
      usage: result.usage,
    });
    this.#untrack(f.task, f.attempt, f.worker);
    if (result.usage) this.#lastBudgetCheck = 0; // spend changed: check the warnings on this tick
    if (result.reason === 'budget-exhausted' && !this.#state.budget.exhausted) {
      // The attempt used up the share of the run budget it was given: the budget is too tight for
      // this task. Stop dispatching agents (rather than retrying on ever smaller shares) until a
      // resume raises the cap; the task goes back to ready without using a retry.
      this.#appendExhausted();
    }
    this.#decide(f.task);
  }

  /** Records budget.exhausted with the spend so far. */
  #appendExhausted(): void {
    const b = this.#state.budget;
    const spent = this.#state.usage;
    this.#o.log.append({
      type: 'budget.exhausted',
      cost_usd: spent.cost_usd,
      tokens: totalTokens(spent),
      max_cost_usd: b.max_cost_usd,
      max_tokens: b.max_tokens,
    });
  }

  /** Records an attempt lost with its worker (no result.json) and decides what happens next. */
  #lose(f: Pick<InFlight, 'task' | 'attempt' | 'worker'>, why: string): void {
    // What the lost attempt spent as far as its status.json last said: paid for, so it counts.
    const usage = this.#liveUsage(f.task, f.attempt) ?? null;
    this.#o.log.append({
      type: 'attempt.finished',
      task: f.task,
      attempt: f.attempt,
      outcome: 'failed',
      reason: 'worker-lost',
      exit_code: null,
      duration_ms: null,
      summary: `worker ${f.worker} lost: ${why}`,
      usage,
    });
    this.#untrack(f.task, f.attempt, f.worker);
    this.#decide(f.task);
  }

  /**
   * After an attempt: succeed the task, cancel it, retry it (after a backoff), or fail it and skip
   * its dependents.
   */
  #decide(id: string): void {
    const { log } = this.#o;
    const s = this.#state.tasks[id]!;
    const task = this.#tasks.get(id)!;
    const merge = s.last?.outcome === 'succeeded' ? this.#merge(id, s.last.attempt) : undefined;
    const step = nextStep(s, merge, {
      retries: task.retries,
      backoffMs: this.#config.scheduling.backoff,
      backoffMaxMs: this.#config.scheduling.backoff_max,
      onConflict: this.#config.merge.on_conflict,
    });
    switch (step.kind) {
      case 'succeed':
        log.append({ type: 'task.succeeded', task: id });
        this.#terminal(id);
        for (const c of this.#dependents.get(id)!) this.#settle(c);
        break;
      case 'retry': {
        const at = step.delayMs > 0 ? Date.now() + step.delayMs : 0;
        log.append({ type: 'task.ready', task: id, not_before: at ? new Date(at).toISOString() : null });
        this.#ready.add(task, at);
        break;
      }
      case 'cancel':
      case 'fail':
        log.append(
          step.kind === 'cancel'
            ? { type: 'task.cancelled', task: id }
            : { type: 'task.failed', task: id, reason: step.reason },
        );
        this.#terminal(id);
        this.#skipFrom(id, descendants(id, this.#dependents));
        break;
      default:
        unreachable(step, 'next step');
    }
  }

  /**
   * Git isolation: merges a succeeded attempt's commit into the integration branch (one merge at
   * a time: the coordinator is the only process that moves the branch) and records the outcome.
   * Returns 'merged' also when there is nothing to merge (no git, or the attempt changed nothing).
   */
  #merge(id: string, attempt: number): 'merged' | 'conflicted' | 'failed' {
    const { run, log, logger } = this.#o;
    if (!run.integration_branch) return 'merged';
    const result = this.#readResult(id, attempt);
    const worktree = this.#worktreeOf(id, attempt);
    if (!result?.commit) {
      void this.#removeWorktree(worktree);
      return 'merged';
    }
    // Resume after a crash that came after merge.conflicted: do not merge (and count) it again.
    if (this.#state.tasks[id]!.last_conflict?.attempt === attempt) return 'conflicted';
    this.#crashPoint('before-merge');
    let outcome;
    try {
      outcome = mergeIntoBranch(
        run.repo,
        run.integration_branch,
        result.commit,
        `swarm ${run.id}: merge ${id} (attempt ${attempt})`,
      );
    } catch (e) {
      // Not a conflict: the branch or the commit is gone, the repository is broken. Fail the task.
      logger.error({ err: e, task: id, attempt }, 'merge failed');
      this.#o.notices.notice(`merge of ${id} failed: ${(e as Error).message}`);
      return 'failed';
    }
    if (outcome.kind === 'conflicted') {
      logger.warn({ task: id, attempt, files: outcome.files }, 'merge conflict');
      log.append({
        type: 'merge.conflicted',
        task: id,
        attempt,
        commit: result.commit,
        tip: outcome.tip,
        files: outcome.files,
      });
      return 'conflicted';
    }
    log.append({
      type: 'merge.succeeded',
      task: id,
      attempt,
      commit: result.commit,
      tip: outcome.tip,
      files: outcome.files,
    });
    void this.#removeWorktree(worktree);
    return 'merged';
  }

  /** The worktree of an attempt: <repo>/.swarm/worktrees/<run-id>/<task>-<n>. */
  #worktreeOf(id: string, attempt: number): string {
    return path.join(this.#o.run.repo, '.swarm', 'worktrees', this.#o.run.id, `${id}-${attempt}`);
  }

  /** Removes a merged attempt's worktree in the background; its commit stays reachable by its ref. */
  async #removeWorktree(worktree: string): Promise<void> {
    if (!fs.existsSync(worktree)) return;
    try {
      await removeWorktree(this.#o.run.repo, worktree);
    } catch (e) {
      this.#o.logger.warn({ err: e, worktree }, 'could not remove a merged worktree');
    }
  }

  /** Skips the pending tasks among `ids` because `because` will never succeed. */
  #skipFrom(because: string, ids: string[]): void {
    for (const c of ids) {
      if (this.#state.tasks[c]!.state !== 'pending') continue;
      this.#o.log.append({ type: 'task.skipped', task: c, because });
      this.#terminal(c);
      // Its own dependents are skipped for the same root cause.
      this.#skipFrom(because, this.#dependents.get(c)!);
    }
  }

  #terminal(id: string): void {
    this.#unfinishedPerWave[this.#tasks.get(id)!.wave]!--;
  }

  /** Starts ready tasks on idle workers, best upward rank first, within the wave barrier. */
  #dispatch(): void {
    if (this.#state.phase !== 'running') return;
    const idle = this.#pool.idle();
    const slots = Math.min(idle.length, this.#config.workers - this.#inFlight.size);
    if (slots <= 0) return;
    const now = Date.now();
    // Tasks that declare the same `files` are not run at the same time (they would conflict).
    const busy = new Set<string>();
    for (const f of this.#inFlight.values()) for (const file of this.#tasks.get(f.task)!.files) busy.add(file);
    const committed = this.#committed();
    const budgeted = this.#state.budget.max_cost_usd !== null || this.#state.budget.max_tokens !== null;
    // The budget left is shared among the agent attempts that can start now.
    let share = budgeted
      ? this.#ready.countReady(now, slots, (t) => this.#tasks.get(t.id)!.backend === 'anthropic')
      : 1;
    let blocked = false;
    const canStart = (t: SchedTask): boolean => {
      const task = this.#tasks.get(t.id)!;
      if (task.files.some((file) => busy.has(file))) return false;
      if (task.backend === 'anthropic') {
        // An agent attempt starts only with caps the budget can cover (budget.ts), and none
        // starts once the budget is exhausted (until a resume raises it).
        if (this.#state.budget.exhausted) return false;
        const role = this.#config.roles[task.role!]!;
        const caps = nextAttemptCaps(this.#state.budget, committed, share, {
          max_cost_usd: role.max_cost_usd ?? null,
          max_tokens: role.max_tokens ?? null,
        });
        if (caps.kind === 'exhausted') {
          blocked = true;
          return false;
        }
        this.#caps.set(t.id, caps);
        committed.usd += caps.caps.max_cost_usd ?? 0;
        committed.tokens += caps.caps.max_tokens ?? 0;
        share = Math.max(1, share - 1); // what is left is shared among the ones still to start
      }
      for (const file of task.files) busy.add(file);
      return true;
    };
    const { tasks, wakeAt } = this.#ready.take(
      slots,
      now,
      waveBarrier(this.#config.scheduling.mode, this.#unfinishedPerWave),
      canStart,
    );
    tasks.forEach((t, i) => this.#assign(t, idle[i]!.id));
    if (blocked && !this.#state.budget.exhausted && ![...this.#inFlight.values()].some((f) => f.reserved)) {
      // Nothing running can give budget back: the run stops here, resumable with higher caps.
      this.#appendExhausted();
    }
    if (wakeAt !== undefined && wakeAt !== this.#backoffAt) {
      clearTimeout(this.#backoffTimer);
      this.#backoffAt = wakeAt;
      this.#backoffTimer = setTimeout(
        () => {
          this.#backoffAt = undefined;
          this.#wake();
        },
        Math.max(0, wakeAt - now),
      );
    }
  }

  /** Assigns the next attempt of a task to a worker: event, assignment.json, inbox message. */
  #assign(t: SchedTask, worker: string): void {
    const { paths, log, run } = this.#o;
    const task = this.#tasks.get(t.id)!;
    const attempt = this.#state.tasks[t.id]!.attempts + 1;
    // The event comes first: a crash after it leaves an attempt that resume finds undelivered.
    log.append({ type: 'attempt.assigned', task: t.id, attempt, worker });
    this.#crashPoint('after-assign');
    const files = paths.attempt(t.id, attempt);
    fs.mkdirSync(files.dir, { recursive: true });
    const git = run.integration_branch
      ? {
          repo: run.repo,
          worktree: this.#worktreeOf(t.id, attempt),
          ref: `refs/swarm/${run.id}/${t.id}/${attempt}`,
          message: `swarm ${run.id}: ${t.id} (attempt ${attempt})\n\n${task.title}`,
        }
      : null;
    const root = git?.worktree ?? run.repo;
    const workspace = task.cwd ? path.resolve(root, task.cwd) : root;
    // A task starts from the integration branch as it is now: it sees its dependencies' merged work.
    const base = run.integration_branch
      ? gitTrySync(run.repo, ['rev-parse', '--verify', `refs/heads/${run.integration_branch}`])
      : null;
    if (base && base.exitCode !== 0) {
      // The integration branch is gone: nothing can be started on it. The attempt fails at once.
      this.#o.notices.notice(
        `cannot start ${t.id}: the integration branch ${run.integration_branch} is missing in ${run.repo}`,
      );
      log.append({
        type: 'attempt.finished',
        task: t.id,
        attempt,
        outcome: 'failed',
        reason: 'workspace-failed',
        exit_code: null,
        duration_ms: null,
        summary: `the integration branch ${run.integration_branch} is missing`,
        usage: null,
      });
      log.append({ type: 'task.failed', task: t.id, reason: 'workspace-failed' });
      this.#terminal(t.id);
      this.#skipFrom(t.id, descendants(t.id, this.#dependents));
      return;
    }
    const caps = this.#caps.get(t.id);
    this.#caps.delete(t.id);
    const agent =
      task.backend === 'anthropic'
        ? agentSpecFor(
            this.#config.roles[task.role!]!,
            caps?.caps ?? { max_cost_usd: null, max_tokens: null },
            caps?.source ?? { cost: null, tokens: null },
          )
        : null;
    const assignment: Assignment = {
      protocol: PROTOCOL_VERSION,
      run_id: run.id,
      goal: run.goal,
      agent,
      task,
      attempt,
      worker,
      assigned_at: new Date().toISOString(),
      workspace,
      base_commit: base?.stdout ?? null,
      timeout_ms: task.timeout_ms,
      kill_grace_ms: this.#config.scheduling.kill_grace,
      env: {
        ...task.env,
        SWARM_RUN_DIR: paths.root,
        SWARM_TASK_ID: t.id,
        SWARM_ATTEMPT: String(attempt),
        [ATTEMPT_MARKER]: attemptKey(run.id, t.id, attempt),
      },
      previous: this.#previousAttempts(t.id, attempt),
      dependencies: task.deps.map((d) => ({ id: d, summary: this.#state.tasks[d]!.last?.summary ?? null })),
      git,
      conflict: this.#conflictContext(t.id),
    };
    // Drop the index the coordinator added for ordering: the assignment carries the plan's task.
    delete (assignment.task as Partial<typeof task>).index;
    // No fsync (it was half of the coordinator's time per dispatch): the rename still makes the
    // file appear whole, and an assignment lost to a power cut is found undelivered on resume.
    writeJsonAtomicSync(files.assignment, assignment, { fsync: false });
    this.#pool.assign(worker, { task: t.id, attempt });
    this.#pool.send(worker, { kind: 'assign', task: t.id, attempt });
    this.#track({
      task: t.id,
      attempt,
      worker,
      reserved: agent ? { usd: agent.max_cost_usd ?? 0, tokens: agent.max_tokens ?? 0 } : undefined,
    });
  }

  /** What an adopted attempt reserved: the caps in its assignment.json. */
  #reservationOf(task: string, attempt: number): Spend | undefined {
    try {
      const agent = readJsonFile(this.#o.paths.attempt(task, attempt).assignment, AssignmentSchema)?.agent;
      return agent ? { usd: agent.max_cost_usd ?? 0, tokens: agent.max_tokens ?? 0 } : undefined;
    } catch {
      return undefined;
    }
  }

  /** The usage a running agent attempt last reported in its status.json, if any. */
  #liveUsage(task: string, attempt: number): Usage | undefined {
    try {
      return readJsonFile(this.#o.paths.attempt(task, attempt).status, AttemptStatusSchema)?.usage ?? undefined;
    } catch {
      return undefined;
    }
  }

  /** Spent (planner and finished attempts) plus reserved by running attempts: what the budget cannot give again. */
  #committed(): Spend {
    const u = this.#state.usage;
    const out = { usd: u.cost_usd, tokens: totalTokens(u) };
    for (const f of this.#inFlight.values()) {
      out.usd += f.reserved?.usd ?? 0;
      out.tokens += f.reserved?.tokens ?? 0;
    }
    return out;
  }

  /**
   * Budget warnings at 50/80/95 % of a cap, counting what running agent attempts have spent so far
   * (their status.json). Checked at most once a second: it reads a file per running agent attempt.
   */
  #checkBudget(): void {
    const b = this.#state.budget;
    if (b.max_cost_usd === null && b.max_tokens === null) return;
    const now = Date.now();
    if (now - this.#lastBudgetCheck < 1000) return;
    this.#lastBudgetCheck = now;
    const u = this.#state.usage;
    const spent = { usd: u.cost_usd, tokens: totalTokens(u) };
    for (const f of this.#inFlight.values()) {
      if (!f.reserved) continue;
      const live = this.#liveUsage(f.task, f.attempt);
      if (live) {
        spent.usd += live.cost_usd;
        spent.tokens += totalTokens(live);
      }
    }
    for (const percent of newWarnings(b, spent, b.warned)) {
      this.#o.log.append({
        type: 'budget.warning',
        percent,
        cost_usd: Math.round(spent.usd * 1e6) / 1e6,
        tokens: spent.tokens,
      });
    }
  }

  /** For a task whose last merge conflicted: the files, and the diff of the attempt that conflicted. */
  #conflictContext(id: string): Assignment['conflict'] {
    const c = this.#state.tasks[id]!.last_conflict;
    if (!c) return null;
    const { paths, run } = this.#o;
    const commit = this.#readResult(id, c.attempt)?.commit;
    let base: string | null | undefined;
    try {
      base = readJsonFile(paths.attempt(id, c.attempt).assignment, AssignmentSchema)?.base_commit;
    } catch {
      base = undefined;
    }
    const diff = commit && base ? attemptDiff(run.repo, base, commit) : '';
    return { attempt: c.attempt, files: c.files, diff };
  }

  /** What earlier attempts ended with (exit code, last stderr lines), for the next attempt. */
  #previousAttempts(id: string, next: number): PreviousAttempt[] {
    const out: PreviousAttempt[] = [];
    for (let n = Math.max(1, next - 3); n < next; n++) {
      const r = this.#readResult(id, n);
      if (r)
        out.push({
          attempt: n,
          outcome: r.outcome,
          reason: r.reason,
          exit_code: r.exit_code,
          stderr_tail: r.stderr_tail,
          summary: r.summary,
          verify_tail: r.verify?.output_tail ?? [],
        });
      // No readable result: the attempt.finished event says how it ended (lost, taken back, failed at dispatch).
      else
        out.push({
          attempt: n,
          outcome: 'no-result',
          reason: null,
          exit_code: null,
          stderr_tail: [],
          summary: this.#state.tasks[id]!.last?.attempt === n ? this.#state.tasks[id]!.last!.summary : null,
          verify_tail: [],
        });
    }
    return out;
  }

  #track(f: InFlight): void {
    this.#inFlight.set(`${f.task}/${f.attempt}`, f);
  }

  #untrack(task: string, attempt: number, worker: string): void {
    if (!this.#inFlight.delete(`${task}/${attempt}`)) return;
    this.#pool.release(worker);
  }

  #sendCancel(f: InFlight, reason: 'cancel-requested' | 'interrupted'): void {
    if (f.cancelSent === 'interrupted') return;
    f.cancelSent = reason;
    f.cancelSentAt = Date.now();
    this.#pool.send(f.worker, { kind: 'cancel', task: f.task, attempt: f.attempt, reason });
  }

  /**
   * A worker that does not answer a cancel within the kill grace + 5 s is hung: kill the
   * attempt's process group from here and record the attempt cancelled.
   */
  #enforceCancelDeadlines(): void {
    const limit = this.#config.scheduling.kill_grace + 5000;
    for (const f of [...this.#inFlight.values()]) {
      if (!f.cancelSent || Date.now() - f.cancelSentAt! < limit) continue;
      this.#killAttemptGroup(f.task, f.attempt);
      // Like a lost attempt, it counts what its status.json last reported.
      this.#o.log.append({
        type: 'attempt.finished',
        task: f.task,
        attempt: f.attempt,
        outcome: 'cancelled',
        reason: f.cancelSent,
        exit_code: null,
        duration_ms: null,
        summary: `worker ${f.worker} did not answer the cancel; the attempt's processes were killed`,
        usage: this.#liveUsage(f.task, f.attempt) ?? null,
      });
      this.#untrack(f.task, f.attempt, f.worker);
      this.#pool.retire(f.worker, this.#stopAfterDrain === undefined); // a worker that ignores its inbox gets no more work
      this.#decide(f.task);
    }
  }

  /**
   * Kills (SIGKILL) the process group recorded in an attempt's status.json, if it is on this
   * host: its worker is dead or hung, so nobody else will, and the task may be dispatched again
   * right after this.
   */
  #killAttemptGroup(task: string, attempt: number): void {
    let status;
    try {
      status = readJsonFile(this.#o.paths.attempt(task, attempt).status, AttemptStatusSchema);
    } catch {
      status = undefined;
    }
    if (status && status.host !== HOST) return;
    if (status?.pgid) signalGroup(status.pgid, 'SIGKILL');
    // The worker may have died between spawning and recording the group: find it by its marker.
    const killed = killByEnvMarker(ATTEMPT_MARKER, attemptKey(this.#o.run.id, task, attempt));
    if (killed.length > 0)
      this.#o.logger.warn({ task, attempt, killed }, 'killed processes of a lost attempt by their marker');
  }

  /** Finds dead workers (every heartbeat interval, or at once when a process exits). */
  #reapWorkers(): void {
    const now = Date.now();
    if (now - this.#lastReap < Math.min(1000, this.#config.liveness.heartbeat) && !this.#workerExited) return;
    this.#lastReap = now;
    this.#workerExited = false;
    const replace = this.#state.phase !== 'finished' && this.#stopAfterDrain === undefined;
    for (const lost of this.#pool.reap(this.#config.liveness.stale_after, replace, now)) {
      if (!lost.attempt) continue;
      const f = this.#inFlight.get(`${lost.attempt.task}/${lost.attempt.attempt}`);
      if (!f) continue;
      if (this.#settleFromResult(f)) continue;
      // A worker judged dead may only be stopped (SIGSTOP) or slow: make sure it cannot start the
      // attempt later, and that nothing of the attempt keeps running, before it is retried.
      this.#abandon(f, lost.why);
    }
  }

  /** Applies control requests in id order; each becomes a `control.applied` event. */
  #applyControl(): void {
    const { paths, log, logger } = this.#o;
    for (const p of pendingRequests(paths)) {
      if ('malformed' in p) {
        logger.warn({ request: p.id, why: p.malformed }, 'malformed control request archived');
        this.#o.notices.notice(`ignored malformed control request ${p.id}: ${p.malformed}`);
        archiveRequest(paths, p.id);
        continue;
      }
      if (this.#o.appliedRequests?.has(p.id)) {
        archiveRequest(paths, p.id); // applied before a crash, not yet archived: never twice
        continue;
      }
      const { action, task = null, by } = p.request;
      const { accepted, message } = this.#control(action, task);
      log.append({ type: 'control.applied', request: p.id, action, task, by, accepted, message });
      archiveRequest(paths, p.id);
    }
  }

  #control(
    action: 'pause' | 'resume' | 'cancel-task' | 'retry-task' | 'stop-run',
    id: string | null,
  ): { accepted: boolean; message: string } {
    const { log } = this.#o;
    const phase = this.#state.phase;
    switch (action) {
      case 'pause':
        if (phase !== 'running') return { accepted: false, message: `the run is ${phase}, not running` };
        log.append({ type: 'run.paused', reason: 'control' });
        return { accepted: true, message: 'dispatch paused; running attempts go on' };
      case 'resume':
        if (phase !== 'paused') return { accepted: false, message: `the run is ${phase}, not paused` };
        log.append({ type: 'run.unpaused' });
        return { accepted: true, message: 'dispatch resumed' };
      case 'stop-run':
        if (this.#stopAfterDrain) return { accepted: false, message: 'the run is already stopping' };
        log.append({ type: 'run.paused', reason: 'stop-run' });
        this.#stopAfterDrain = 'stop-run';
        return { accepted: true, message: `stopping after ${this.#inFlight.size} running attempt(s) finish` };
      case 'cancel-task':
      case 'retry-task': {
        if (id === null) return { accepted: false, message: `${action} needs a task id` };
        const s = this.#state.tasks[id];
        if (!s) return { accepted: false, message: `unknown task "${id}"` };
        return action === 'cancel-task' ? this.#cancelTask(id) : this.#retryTask(id);
      }
      default:
        return unreachable(action, 'control action');
    }
  }

  #cancelTask(id: string): { accepted: boolean; message: string } {
    const s = this.#state.tasks[id]!;
    switch (s.state) {
      case 'running': {
        const f = this.#inFlight.get(`${id}/${s.current?.attempt}`);
        if (f) this.#sendCancel(f, 'cancel-requested');
        return { accepted: true, message: `cancelling attempt ${s.current?.attempt} of ${id}` };
      }
      case 'pending':
      case 'ready':
        this.#ready.remove(id);
        this.#o.log.append({ type: 'task.cancelled', task: id });
        this.#terminal(id);
        this.#skipFrom(id, descendants(id, this.#dependents));
        return { accepted: true, message: `cancelled ${id}` };
      case 'succeeded':
      case 'failed':
      case 'skipped':
      case 'cancelled':
        return { accepted: false, message: `${id} is already ${s.state}` };
      default:
        return unreachable(s.state, 'task state');
    }
  }

  #retryTask(id: string): { accepted: boolean; message: string } {
    const s = this.#state.tasks[id]!;
    if (s.state === 'skipped')
      return {
        accepted: false,
        message: `${id} was skipped because ${s.skipped_because} did not succeed: retry that task`,
      };
    if (s.state !== 'failed' && s.state !== 'cancelled')
      return { accepted: false, message: `${id} is ${s.state}; only failed or cancelled tasks can be retried` };
    const reset = [
      id,
      ...descendants(id, this.#dependents).filter(
        (c) => this.#state.tasks[c]!.state === 'skipped' && this.#state.tasks[c]!.skipped_because === id,
      ),
    ];
    for (const r of reset) {
      this.#o.log.append({ type: 'task.reset', task: r });
      this.#unfinishedPerWave[this.#tasks.get(r)!.wave]!++;
    }
    for (const r of reset) this.#settle(r);
    return {
      accepted: true,
      message: `retrying ${id}${reset.length > 1 ? ` and ${reset.length - 1} skipped dependent(s)` : ''}`,
    };
  }

  /** The session ends when every task is terminal, or when stopping and nothing runs. */
  #checkEnd(): CoordinatorExit | undefined {
    if (this.#inFlight.size > 0) return undefined;
    const c = this.#state.counts;
    if (c.pending + c.ready + c.running > 0) {
      if (this.#stopAfterDrain) return { kind: 'stopped', why: this.#stopAfterDrain };
      // Budget spent: stop once nothing can progress (a command task waiting out a retry can).
      const commandWaiting =
        this.#ready.countReady(Infinity, 1, (t) => this.#tasks.get(t.id)!.backend !== 'anthropic') > 0;
      return this.#state.budget.exhausted && !commandWaiting ? { kind: 'stopped', why: 'budget' } : undefined;
    }
    const outcome = c.failed + c.skipped + c.cancelled === 0 ? 'succeeded' : 'failed';
    if (this.#state.phase !== 'finished') this.#o.log.append({ type: 'run.finished', outcome });
    return { kind: 'finished', outcome };
  }

  #writeCoordinatorJson(stopped = false): void {
    const info: CoordinatorJson = {
      session: this.#session,
      pid: process.pid,
      host: HOST,
      command: this.#o.command,
      started_at: this.#startedAt,
      heartbeat_at: new Date().toISOString(),
      ...(stopped ? { stopped_at: new Date().toISOString() } : {}),
    };
    writeJsonAtomicSync(this.#o.paths.coordinatorJson, info);
  }

  async #shutdown(): Promise<void> {
    clearTimeout(this.#backoffTimer);
    await this.#watcher.close();
    await this.#pool.shutdown(this.#config.scheduling.kill_grace + 2000);
    clearInterval(this.#heartbeat);
    try {
      await this.#o.log.close();
      this.#writeCoordinatorJson(true);
    } catch (e) {
      if (fs.existsSync(this.#o.paths.root)) throw e; // else: the run directory was deleted under us
    }
  }

  #crashPoint(point: CrashPoint): void {
    if (process.env.SWARM_TEST_CRASH_AT === point) {
      this.#o.logger.warn({ point }, 'SWARM_TEST_CRASH_AT: killing myself');
      process.kill(process.pid, 'SIGKILL');
    }
  }
}
