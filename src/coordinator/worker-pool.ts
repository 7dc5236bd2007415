// The coordinator's view of its workers: which are idle, which run what, which died.
import fs from 'node:fs';
import type { Logger } from 'pino';
import { readJsonFile } from '../protocol/files.js';
import { createMaildir, deliver } from '../protocol/maildir.js';
import type { RunPaths } from '../protocol/paths.js';
import { WorkerJsonSchema, type InboxMessage, type WorkerJson } from '../protocol/schemas.js';
import type { AttemptProcesses, LaunchedWorker, Launcher, ProcessLiveness, WorkerExit } from './launcher.js';
import { timerDelay } from '../util/timer.js';

/**
 * A worker as the pool tracks it.
 *   idle ──assign──▶ busy ──attempt finished──▶ idle
 *   idle | busy ──process exited / heartbeat stale──▶ gone
 */
export interface PoolWorker {
  id: string;
  state: 'idle' | 'busy' | 'gone';
  /** The attempt it runs, while busy. */
  attempt: { task: string; attempt: number } | undefined;
  /** What the launcher can do to it: one it started now, or one attached on resume. */
  handle: LaunchedWorker;
  /** Started by an earlier coordinator session, adopted on resume with the attempt it runs. */
  adopted: boolean;
  startedAt: number;
  /** How its process ended, once it has (launched workers only), and when (ms since epoch). */
  exitedHow?: WorkerExit;
  exitedAt?: number;
  /** Its end (exit or loss) is in the pool's list of ends, for the crash-loop check. */
  endCounted?: boolean;
  /**
   * The last reap at which its launcher still said it was starting (ms since epoch): its time to
   * write a first worker.json counts from then (a pod that was Pending for minutes, then runs).
   */
  startingSeen?: number;
}

/** How a launched worker's life ended, for the crash-loop check. */
interface WorkerEnd {
  /** ms since epoch */
  startedAt: number;
  endedAt: number;
  /** It wrote worker.json at least once. */
  reported: boolean;
}

/** A worker that died, and the attempt it had (if any). */
export interface LostWorker {
  id: string;
  attempt: { task: string; attempt: number } | undefined;
  why: string;
}

/**
 * This many launched workers in a row ending (exiting, or lost) within CRASH_LOOP_MS of their
 * start, or without ever writing worker.json, is a crash loop.
 */
const CRASH_LOOP_EXITS = 5;
const CRASH_LOOP_MS = 5_000;

/** A launched worker that has not written worker.json after this long is taken as dead. */
const NEVER_REPORTED_MS = 30_000;
/**
 * The same, while its launcher says it is still starting (a Pending pod pulling a large image onto a
 * cold node, or waiting for the cluster's autoscaler to add a node).
 */
const STARTING_MS = 600_000;

/** What the pool tells its coordinator. */
export interface PoolHooks {
  /** A worker (launched or adopted) joined the pool: watch its directory. */
  onWorker(id: string): void;
  /** A launched worker process exited: look at once. */
  onExit(): void;
}

/** Starts, tracks and replaces the workers of one coordinator session. */
export class WorkerPool {
  readonly #paths: RunPaths;
  readonly #launcher: Launcher;
  readonly #session: string;
  readonly #log: Logger;
  readonly #workers = new Map<string, PoolWorker>();
  #nextNumber: number;
  readonly #hooks: PoolHooks;
  #lastReap = 0;
  /** A launched worker exited since the last reap: the next reap looks at once. */
  #exitedSinceReap = false;
  /** How launched workers ended, in the order they did (the last CRASH_LOOP_EXITS are kept). */
  readonly #ends: WorkerEnd[] = [];
  /** How the launched worker that exited last ended. */
  #lastExit: WorkerExit | undefined;

  constructor(paths: RunPaths, launcher: Launcher, session: string, log: Logger, hooks: PoolHooks) {
    this.#paths = paths;
    this.#launcher = launcher;
    this.#session = session;
    this.#log = log;
    this.#hooks = hooks;
    // Worker ids are never reused in a run directory: number on from the highest one there.
    let max = 0;
    try {
      for (const name of fs.readdirSync(paths.workersDir)) {
        const m = /^w(\d+)$/.exec(name);
        if (m) max = Math.max(max, Number(m[1]));
      }
    } catch {
      // no workers yet
    }
    this.#nextNumber = max + 1;
  }

  /**
   * Workers this session launched that are not gone (adopted ones not counted). One that exited
   * counts until {@link reap} has marked it gone: reap, which replaces it, is the only one that does.
   */
  get launched(): number {
    let n = 0;
    for (const w of this.#workers.values()) if (!w.adopted && w.state !== 'gone') n++;
    return n;
  }

  /** Launches workers until {@link launched} is at least `count`. */
  grow(count: number): void {
    for (let n = this.launched; n < count; n++) this.#launch();
  }

  #launch(): PoolWorker {
    const id = `w${this.#nextNumber++}`;
    createMaildir(this.#paths.inbox(id));
    const handle = this.#launcher.launch({ runDir: this.#paths.root, id, coordinator: this.#session });
    const worker: PoolWorker = { id, state: 'idle', attempt: undefined, handle, adopted: false, startedAt: Date.now() };
    this.#workers.set(id, worker);
    this.#hooks.onWorker(id);
    void handle.exited.then((how) => {
      this.#log.info({ worker: id, ...how }, 'worker exited');
      worker.exitedHow = how;
      this.#lastExit = how;
      worker.exitedAt = Date.now();
      this.#ended(worker, worker.exitedAt);
      this.#exitedSinceReap = true;
      this.#hooks.onExit();
    });
    this.#log.info({ worker: id }, 'worker launched');
    return worker;
  }

  /**
   * Tracks a worker of an earlier coordinator that is still running `attempt` (resume). It gets
   * no new work: it exits after that attempt.
   */
  adopt(id: string, attempt: { task: string; attempt: number }): void {
    const handle = this.#handle(id);
    this.#workers.set(id, { id, state: 'busy', attempt, handle, adopted: true, startedAt: Date.now() });
    this.#hooks.onWorker(id);
  }

  /** The handle of a worker in the pool, or one attached now (a worker of an earlier session). */
  #handle(id: string): LaunchedWorker {
    return this.#workers.get(id)?.handle ?? this.#launcher.attach({ runDir: this.#paths.root, id });
  }

  /** Whether a worker's process is there, as its launcher sees it from `info` (its worker.json). */
  liveness(id: string, info: WorkerJson): ProcessLiveness {
    return this.#handle(id).liveness(info);
  }

  /**
   * Kills what a worker started for an attempt it will not finish (it is dead or hung, in this
   * session or an earlier one). Returns the pids found by the attempt's marker.
   */
  killAttempt(id: string, attempt: AttemptProcesses): number[] {
    return this.#handle(id).killAttempt(attempt);
  }

  /** Idle workers this session launched, in start order. */
  idle(): PoolWorker[] {
    return [...this.#workers.values()].filter((w) => w.state === 'idle' && !w.adopted && !w.exitedHow);
  }

  /** Delivers a message to a worker's inbox. */
  send(id: string, message: InboxMessage): void {
    deliver(this.#paths.inbox(id), message);
  }

  /** Marks a worker busy with an attempt. */
  assign(id: string, attempt: { task: string; attempt: number }): void {
    const w = this.#workers.get(id)!;
    w.state = 'busy';
    w.attempt = attempt;
  }

  /** Marks the worker that ran `attempt` idle again (adopted workers are retired instead). */
  release(id: string): void {
    const w = this.#workers.get(id);
    if (!w || w.state === 'gone') return;
    w.attempt = undefined;
    w.state = w.adopted ? 'gone' : 'idle';
  }

  /** Takes a worker out of the pool and kills it (as its launcher can); with `replace`, starts another. */
  retire(id: string, replace: boolean): void {
    const w = this.#workers.get(id);
    if (!w || w.state === 'gone') return;
    w.state = 'gone';
    w.handle.kill();
    this.#log.warn({ worker: id }, 'worker retired');
    if (replace && !w.adopted) this.#launch();
  }

  /**
   * Finds workers that died: launched ones whose process exited, and any whose worker.json
   * heartbeat is older than `staleAfterMs` (or whose process is gone, as its launcher sees it).
   * Dead workers are marked gone, killed if still there (a stale one may be hung), and listed with
   * their attempt; with `replace`, a new worker takes each launched one's place. Looks at most
   * every `everyMs`, or at once after a launched worker exited (else returns none).
   */
  reap(staleAfterMs: number, replace: boolean, everyMs: number, now = Date.now()): LostWorker[] {
    const lost: LostWorker[] = [];
    if (now - this.#lastReap < everyMs && !this.#exitedSinceReap) return lost;
    this.#lastReap = now;
    this.#exitedSinceReap = false;
    // Over the workers there were when it began: the replacements it launches are not looked at.
    for (const w of [...this.#workers.values()]) {
      if (w.state === 'gone') continue;
      let why: string | undefined;
      if (w.exitedHow?.error) why = `could not be started (${w.exitedHow.error})`;
      else if (w.exitedHow) why = `exited (${w.exitedHow.signal ?? `code ${w.exitedHow.code}`})`;
      else {
        const info = this.info(w.id);
        if (info && w.handle.liveness(info) === 'gone') why = 'process gone';
        else if (info && now - Date.parse(info.heartbeat_at) > staleAfterMs)
          why = `heartbeat stale for ${Math.round((now - Date.parse(info.heartbeat_at)) / 1000)} s`;
        // A process that is starting on a loaded machine may take seconds before its first heartbeat;
        // a pod, minutes (then seconds more, once it runs).
        else if (!info) {
          const starting = w.handle.starting?.() ?? false;
          if (starting) w.startingSeen = now;
          // While starting: STARTING_MS from its launch; after: the usual limit from when it stopped.
          const overdue = starting
            ? now - w.startedAt > STARTING_MS
            : now - Math.max(w.startedAt, w.startingSeen ?? 0) > Math.max(staleAfterMs, NEVER_REPORTED_MS);
          if (overdue) why = 'never reported (no worker.json)';
        }
      }
      if (!why) continue;
      if (!w.adopted) this.#ended(w, now);
      w.state = 'gone';
      w.handle.kill();
      lost.push({ id: w.id, attempt: w.attempt, why });
      this.#log.warn({ worker: w.id, why, attempt: w.attempt }, 'worker lost');
      if (replace && !w.adopted) this.#launch();
    }
    return lost;
  }

  /** What a worker's worker.json says (undefined if it is missing or unreadable). */
  info(id: string): WorkerJson | undefined {
    try {
      return readJsonFile(this.#paths.workerJson(id), WorkerJsonSchema);
    } catch {
      return undefined;
    }
  }

  /** Counts a launched worker's end once, whichever is seen first: its exit or its loss. */
  #ended(w: PoolWorker, at: number): void {
    if (w.endCounted) return;
    w.endCounted = true;
    this.#ends.push({ startedAt: w.startedAt, endedAt: at, reported: fs.existsSync(this.#paths.workerJson(w.id)) });
    if (this.#ends.length > CRASH_LOOP_EXITS) this.#ends.shift();
  }

  /**
   * True when the last `CRASH_LOOP_EXITS` launched workers to end (exit, or be found lost; in the
   * order they ended) all ended within `CRASH_LOOP_MS` of their start or without ever writing
   * worker.json: replacing them again would only spin (a broken install, a deleted run directory, a
   * worker image that cannot run or be pulled, pods the cluster refuses to make). Counted by end,
   * not by launch: with several workers, the newest replacements are always still starting; and a
   * pod may take longer than CRASH_LOOP_MS to be scheduled and fail. Never while a launched worker
   * that has written worker.json is still there.
   */
  get crashLooping(): boolean {
    if (this.#ends.length < CRASH_LOOP_EXITS) return false;
    if (!this.#ends.every((e) => !e.reported || e.endedAt - e.startedAt < CRASH_LOOP_MS)) return false;
    // Workers that do run (a quota that fits fewer pods than `workers`, one slow start on a loaded
    // machine): the run goes on with them, and the rest keep being replaced.
    return ![...this.#workers.values()].some(
      (w) => !w.adopted && w.state !== 'gone' && !w.exitedHow && fs.existsSync(this.#paths.workerJson(w.id)),
    );
  }

  /**
   * Why the worker that exited last could not be started at all (`spawn E2BIG`, a pod the cluster
   * refused); undefined if it was started (or none exited yet).
   */
  get lastStartError(): string | undefined {
    return this.#lastExit?.error;
  }

  /** A crash loop ({@link crashLooping}) in one line: {@link lastStartError} if any, and where the logs are. */
  crashLoopWhy(): string {
    const error = this.lastStartError;
    const last = error ? ` (the last could not be started: ${error})` : '';
    return `workers exit as soon as they start${last}; see ${this.#paths.logsDir}/worker-*.log and worker-*.stderr`;
  }

  /**
   * Stops every launched worker: a stop message, then SIGTERM after `graceMs`, then SIGKILL.
   * Resolves when all have exited and the launcher is closed, or `graceMs` after the SIGKILL even
   * if some never reported their end (a remote launcher whose API cannot be reached): those are
   * logged, and the session ends without them rather than hang. The launcher's `close` gets
   * `graceMs` too.
   */
  async shutdown(graceMs: number): Promise<void> {
    const running = [...this.#workers.values()].filter((w) => !w.adopted && !w.exitedHow);
    for (const w of running) this.send(w.id, { kind: 'stop' });
    const all = Promise.all(running.map((w) => w.handle.exited));
    const timer = (ms: number) => new Promise((r) => setTimeout(r, timerDelay(ms)).unref());
    const stopped = async (): Promise<void> => {
      if (await Promise.race([all.then(() => true), timer(graceMs).then(() => false)])) return;
      for (const w of running) w.handle.terminate();
      if (await Promise.race([all.then(() => true), timer(graceMs).then(() => false)])) return;
      for (const w of running) w.handle.kill();
      if (await Promise.race([all.then(() => true), timer(graceMs).then(() => false)])) return;
      for (const w of running)
        if (!w.exitedHow) this.#log.warn({ worker: w.id }, 'worker did not report its end after kill; leaving it');
    };
    await stopped();
    // Adopted workers that are done exit by themselves (their coordinator is gone): their remains
    // can go now. Those still running an attempt stay, for the next resume to adopt again.
    const finished = [...this.#workers.values()].filter((w) => w.adopted && w.state === 'gone').map((w) => w.id);
    // A launcher's clean-up talks to its cluster: one that does not answer must not hang the session.
    const closed = this.#launcher.close?.(finished).then(
      () => true,
      (e: unknown) => {
        this.#log.warn({ err: e }, 'closing the launcher failed');
        return true;
      },
    );
    if (closed && !(await Promise.race([closed, timer(graceMs).then(() => false)])))
      this.#log.warn('closing the launcher took too long; leaving it');
  }
}
