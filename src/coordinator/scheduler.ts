// Scheduling policy, pure: which ready tasks to start when worker slots are free.
// Eager list scheduling by upward rank (critical-path first), or strict waves (DESIGN §5).

/** What the policy needs to know about a task. */
export interface SchedTask {
  id: string;
  /** Upward rank: larger runs first. */
  rank: number;
  /** DAG depth, for `waves` mode. */
  wave: number;
}

export type SchedulingMode = 'eager' | 'waves';

/** A queued task, with its position in the plan (ties of rank go to the earlier task). */
interface Queued<T> {
  task: T;
  index: number;
  notBefore: number;
}

/**
 * The ready queue: tasks whose dependencies succeeded, ordered by upward rank (descending), then
 * plan order. A task may carry `notBefore` (ms since epoch) while it waits out a retry backoff.
 */
export class ReadyQueue<T extends SchedTask = SchedTask> {
  // Sorted: best first. Binary-search insertion keeps `take` a scan from the front.
  readonly #items: Queued<T>[] = [];
  readonly #ids = new Set<string>();
  readonly #planIndex: (task: T) => number;

  /** @param planIndex a task's position in the plan (0 first), asked once when the task is added. */
  constructor(planIndex: (task: T) => number) {
    this.#planIndex = planIndex;
  }

  get size(): number {
    return this.#items.length;
  }

  has(id: string): boolean {
    return this.#ids.has(id);
  }

  /** Adds a ready task (no-op if already queued). */
  add(task: T, notBefore = 0): void {
    if (this.#ids.has(task.id)) return;
    const item = { task, index: this.#planIndex(task), notBefore };
    let lo = 0;
    let hi = this.#items.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (before(this.#items[mid]!, item)) lo = mid + 1;
      else hi = mid;
    }
    this.#items.splice(lo, 0, item);
    this.#ids.add(task.id);
  }

  /** How many tasks could start now (not in backoff) and satisfy `pred`, counting up to `limit`. */
  countReady(now: number, limit: number, pred: (task: T) => boolean): number {
    let n = 0;
    for (const item of this.#items) {
      if (n >= limit) break;
      if (item.notBefore <= now && pred(item.task)) n++;
    }
    return n;
  }

  /** Removes a task (cancelled while ready). */
  remove(id: string): void {
    if (!this.#ids.delete(id)) return;
    this.#items.splice(
      this.#items.findIndex((i) => i.task.id === id),
      1,
    );
  }

  /**
   * Takes up to `slots` tasks to start now, best first, skipping tasks in backoff and, with
   * `maxWave`, tasks of a later wave, and tasks `canStart` refuses (it is asked about each
   * candidate in queue order, and a task it accepts is taken). Returns the tasks taken and the earliest `notBefore` among
   * the tasks left waiting for their backoff (to set a timer), or undefined.
   */
  take(
    slots: number,
    now: number,
    maxWave = Infinity,
    canStart: (task: T) => boolean = () => true,
  ): { tasks: T[]; wakeAt: number | undefined } {
    const tasks: T[] = [];
    let wakeAt: number | undefined;
    for (let i = 0; i < this.#items.length && tasks.length < slots;) {
      const item = this.#items[i]!;
      if (item.task.wave > maxWave || (item.notBefore <= now && !canStart(item.task))) {
        i++;
        continue;
      }
      if (item.notBefore > now) {
        wakeAt = wakeAt === undefined ? item.notBefore : Math.min(wakeAt, item.notBefore);
        i++;
        continue;
      }
      tasks.push(item.task);
      this.#items.splice(i, 1);
      this.#ids.delete(item.task.id);
    }
    if (tasks.length === slots) {
      // Slots are full: still report the earliest backoff so the caller can sleep until then.
      for (const item of this.#items) if (item.notBefore > now) wakeAt = Math.min(wakeAt ?? Infinity, item.notBefore);
    }
    return { tasks, wakeAt };
  }
}

/** Queue order: higher upward rank first, then plan order. */
function before(a: Queued<SchedTask>, b: Queued<SchedTask>): boolean {
  return a.task.rank > b.task.rank || (a.task.rank === b.task.rank && a.index < b.index);
}

/**
 * Wave barrier for `waves` mode: tasks may start only in the lowest wave that still has a task
 * that is not terminal. `eager` has no barrier.
 * @param unfinishedPerWave number of non-terminal tasks in each wave (index = wave).
 */
export function waveBarrier(mode: SchedulingMode, unfinishedPerWave: readonly number[]): number {
  if (mode === 'eager') return Infinity;
  const w = unfinishedPerWave.findIndex((n) => n > 0);
  return w === -1 ? Infinity : w;
}

/**
 * Delay before retry number `failures` (1 = first retry): `initialMs · 2^(failures-1)`, at most `maxMs`.
 */
export function backoffMs(failures: number, initialMs: number, maxMs: number): number {
  return Math.min(maxMs, initialMs * 2 ** Math.max(0, failures - 1));
}
