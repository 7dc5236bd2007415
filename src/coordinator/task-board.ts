// The plan's tasks as the coordinator moves them along the dependency graph: the ready queue, the
// unfinished tasks of each wave, and the task events that promote, requeue, finish and skip them.
import type { NewEvent } from '../protocol/events.js';
import type { PlanJson, ResolvedTask } from '../protocol/schemas.js';
import { TERMINAL, type RunState } from '../protocol/state.js';
import { chainCoverSize, descendants } from '../plan/graph.js';
import type { EventLog } from './event-log.js';
import { ReadyQueue, waveBarrier, type SchedulingMode } from './scheduler.js';

/** A task of the plan: plan.json's object itself, never a copy. */
export type PlanTask = ResolvedTask;

/** The events that end a task. */
export type TaskEnd = Extract<NewEvent, { type: 'task.succeeded' | 'task.failed' | 'task.cancelled' }>;

export class TaskBoard {
  readonly #log: EventLog;
  readonly #tasks: Map<string, PlanTask>;
  /** Each task's position in the plan: the ready queue's tie-break. */
  readonly #index: Map<string, number>;
  readonly #dependents: Map<string, string[]>;
  readonly #unfinishedPerWave: number[];
  /** Tasks that may start, best upward rank first; some wait out a retry's backoff. */
  readonly ready = new ReadyQueue<PlanTask>((t) => this.#index.get(t.id)!);
  /**
   * The most tasks of the plan that can run at the same time, as an upper bound: the size of a
   * chain partition ({@link chainCoverSize}; 1 for a chain, 2 for two parallel chains), and never
   * more than tasks − waves + 1 (a longest chain has a task in each wave, and at most one of them
   * runs beside the others). Loose for wide random DAGs, where it is far above `workers` anyway.
   */
  readonly widthBound: number;

  constructor(plan: PlanJson, log: EventLog) {
    this.#log = log;
    // The plan's own objects, not copies: a copy made by spreading gets a hidden class of its own
    // when the plan's validation (graphlib's objects keyed by task id) has filled V8's transition
    // table for plain objects, about 500 bytes more per task (bench/README.md, scale).
    this.#tasks = new Map(plan.tasks.map((t) => [t.id, t]));
    this.#index = new Map(plan.tasks.map((t, index) => [t.id, index]));
    this.#dependents = new Map(plan.tasks.map((t) => [t.id, []]));
    for (const t of plan.tasks) for (const d of t.deps) this.#dependents.get(d)!.push(t.id);
    this.#unfinishedPerWave = new Array<number>(plan.waves).fill(0);
    // Sorted by wave: a topological order (a task's wave is above each of its dependencies').
    const byWave = [...plan.tasks].sort((a, b) => a.wave - b.wave);
    this.widthBound = Math.min(chainCoverSize(byWave), plan.tasks.length - plan.waves + 1);
  }

  get #state(): RunState {
    return this.#log.state;
  }

  task(id: string): PlanTask {
    return this.#tasks.get(id)!;
  }

  /** The tasks in plan order. */
  tasks(): IterableIterator<PlanTask> {
    return this.#tasks.values();
  }

  /**
   * Tasks not finished (succeeded, failed, cancelled or skipped): running, ready, waiting for their
   * dependencies, or merged and waiting for an integration check. A task reset by a retry request
   * counts again.
   */
  get unfinished(): number {
    let n = 0;
    for (const count of this.#unfinishedPerWave) n += count;
    return n;
  }

  /**
   * How many workers the run can use now, at most `workers`: no more than the unfinished tasks, nor
   * than {@link widthBound}. Tasks running and ready never depend on one another, so they are never
   * more than the bound; should they be, each still gets a worker (a guard: the bound must never
   * keep a ready task waiting).
   * @param running attempts in flight.
   */
  usefulWorkers(workers: number, running: number): number {
    return Math.min(workers, this.unfinished, Math.max(this.widthBound, running + this.ready.size));
  }

  /** The highest wave tasks may start in now (`waves` mode; Infinity for `eager`). */
  barrier(mode: SchedulingMode): number {
    return waveBarrier(mode, this.#unfinishedPerWave);
  }

  /** Rebuilds the ready queue and the unfinished-task count of each wave from the state. */
  rebuild(): void {
    for (const t of this.#tasks.values()) {
      const s = this.#state.tasks[t.id]!;
      if (!TERMINAL.has(s.state)) this.#unfinishedPerWave[t.wave]!++;
      if (s.state === 'ready') this.ready.add(t, s.not_before ? Date.parse(s.not_before) : 0);
    }
  }

  /** Moves a pending task to ready (all deps succeeded) or skipped (a dep will never succeed). */
  promoteOrSkip(id: string): void {
    const s = this.#state.tasks[id]!;
    if (s.state !== 'pending') return;
    const task = this.task(id);
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
      this.#log.append({ type: 'task.ready', task: id, not_before: null });
      this.ready.add(task);
    }
  }

  /** Puts a task whose attempt ended back in the ready queue, to start after `delayMs` (0: at once). */
  retry(id: string, delayMs: number): void {
    const at = delayMs > 0 ? Date.now() + delayMs : 0;
    this.#log.append({ type: 'task.ready', task: id, not_before: at ? new Date(at).toISOString() : null });
    this.ready.add(this.task(id), at);
  }

  /**
   * Records the end of a task; then its dependents become ready (succeeded), or the pending tasks
   * that depend on it, directly or not, are skipped (failed, cancelled).
   */
  finish(end: TaskEnd): void {
    const id = end.task;
    this.#log.append(end);
    this.#terminal(id);
    if (end.type === 'task.succeeded') for (const c of this.#dependents.get(id)!) this.promoteOrSkip(c);
    else this.#skipFrom(id, descendants(id, this.#dependents));
  }

  /** Cancels a task that is not running (pending or ready) and skips what depends on it. */
  cancelQueued(id: string): void {
    this.ready.remove(id);
    this.finish({ type: 'task.cancelled', task: id });
  }

  /**
   * Puts a failed or cancelled task, and the dependents skipped because of it, back to pending,
   * then ready where their dependencies allow. Returns how many tasks were reset.
   */
  reset(id: string): number {
    const reset = [
      id,
      ...descendants(id, this.#dependents).filter(
        (c) => this.#state.tasks[c]!.state === 'skipped' && this.#state.tasks[c]!.skipped_because === id,
      ),
    ];
    for (const r of reset) {
      this.#log.append({ type: 'task.reset', task: r });
      this.#unfinishedPerWave[this.task(r).wave]!++;
    }
    for (const r of reset) this.promoteOrSkip(r);
    return reset.length;
  }

  /** Skips the pending tasks among `ids` because `because` will never succeed. */
  #skipFrom(because: string, ids: string[]): void {
    for (const c of ids) {
      if (this.#state.tasks[c]!.state !== 'pending') continue;
      this.#log.append({ type: 'task.skipped', task: c, because });
      this.#terminal(c);
      // Its own dependents are skipped for the same root cause.
      this.#skipFrom(because, this.#dependents.get(c)!);
    }
  }

  #terminal(id: string): void {
    this.#unfinishedPerWave[this.task(id).wave]!--;
  }
}
