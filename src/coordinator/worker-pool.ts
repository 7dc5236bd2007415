// The coordinator's view of its workers: which are idle, which run what, which died.
import fs from 'node:fs';
import type { Logger } from 'pino';
import { readJsonFile } from '../protocol/files.js';
import { createMaildir, deliver } from '../protocol/maildir.js';
import type { RunPaths } from '../protocol/paths.js';
import { WorkerJsonSchema, type InboxMessage, type WorkerJson } from '../protocol/schemas.js';
import { HOST, pidAlive } from '../util/process.js';
import type { LaunchedWorker, Launcher } from './launcher.js';

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
  /** Set for workers this coordinator started (not for workers adopted on resume). */
  launched: LaunchedWorker | undefined;
  startedAt: number;
  /** How its process ended, once it has (launched workers only), and when (ms since epoch). */
  exitedHow?: { code: number | null; signal: string | null };
  exitedAt?: number;
}

/** A worker that died, and the attempt it had (if any). */
export interface LostWorker {
  id: string;
  attempt: { task: string; attempt: number } | undefined;
  why: string;
}

/** This many launched workers in a row exiting within CRASH_LOOP_MS of their start is a crash loop. */
const CRASH_LOOP_EXITS = 5;
const CRASH_LOOP_MS = 5_000;

/** A launched worker that has not written worker.json after this long is taken as dead. */
const NEVER_REPORTED_MS = 30_000;

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

  /** Starts `count` new workers. */
  start(count: number): void {
    for (let i = 0; i < count; i++) this.#launch();
  }

  #launch(): PoolWorker {
    const id = `w${this.#nextNumber++}`;
    createMaildir(this.#paths.inbox(id));
    const launched = this.#launcher.launch({ runDir: this.#paths.root, id, coordinator: this.#session });
    const worker: PoolWorker = { id, state: 'idle', attempt: undefined, launched, startedAt: Date.now() };
    this.#workers.set(id, worker);
    this.#hooks.onWorker(id);
    void launched.exited.then((how) => {
      this.#log.info({ worker: id, ...how }, 'worker exited');
      worker.exitedHow = how;
      worker.exitedAt = Date.now();
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
    this.#workers.set(id, { id, state: 'busy', attempt, launched: undefined, startedAt: Date.now() });
    this.#hooks.onWorker(id);
  }

  /** Idle workers this session launched, in start order. */
  idle(): PoolWorker[] {
    return [...this.#workers.values()].filter((w) => w.state === 'idle' && w.launched && !w.exitedHow);
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
    w.state = w.launched ? 'idle' : 'gone';
  }

  /** Takes a worker out of the pool (it is killed if this session launched it); with `replace`, starts another. */
  retire(id: string, replace: boolean): void {
    const w = this.#workers.get(id);
    if (!w || w.state === 'gone') return;
    w.state = 'gone';
    w.launched?.kill();
    this.#log.warn({ worker: id }, 'worker retired');
    if (replace && w.launched) this.#launch();
  }

  /**
   * Finds workers that died: launched ones whose process exited, and any whose worker.json
   * heartbeat is older than `staleAfterMs` (or whose pid is gone, on this host). Dead workers are
   * marked gone, killed if still there (a stale one may be hung), and listed with their attempt;
   * with `replace`, a new worker takes each launched one's place.
   */
  reap(staleAfterMs: number, replace: boolean, now = Date.now()): LostWorker[] {
    const lost: LostWorker[] = [];
    for (const w of this.#workers.values()) {
      if (w.state === 'gone') continue;
      let why: string | undefined;
      if (w.exitedHow) why = `exited (${w.exitedHow.signal ?? `code ${w.exitedHow.code}`})`;
      else {
        const info = this.#readInfo(w.id);
        if (info && info.host === HOST && !pidAlive(info.pid)) why = 'process gone';
        else if (info && now - Date.parse(info.heartbeat_at) > staleAfterMs)
          why = `heartbeat stale for ${Math.round((now - Date.parse(info.heartbeat_at)) / 1000)} s`;
        // A process that is starting on a loaded machine may take seconds before its first heartbeat.
        else if (!info && now - w.startedAt > Math.max(staleAfterMs, NEVER_REPORTED_MS))
          why = 'never reported (no worker.json)';
      }
      if (!why) continue;
      w.state = 'gone';
      w.launched?.kill();
      lost.push({ id: w.id, attempt: w.attempt, why });
      this.#log.warn({ worker: w.id, why, attempt: w.attempt }, 'worker lost');
      if (replace && w.launched) this.#launch();
    }
    return lost;
  }

  #readInfo(id: string): WorkerJson | undefined {
    try {
      return readJsonFile(this.#paths.workerJson(id), WorkerJsonSchema);
    } catch {
      return undefined;
    }
  }

  /** What worker.json says, for resume's liveness check of an earlier session's worker. */
  static info(paths: RunPaths, id: string): WorkerJson | undefined {
    try {
      return readJsonFile(paths.workerJson(id), WorkerJsonSchema);
    } catch {
      return undefined;
    }
  }

  /**
   * True when the last `CRASH_LOOP_EXITS` launched workers all exited within `CRASH_LOOP_MS` of
   * their start: replacing them again would only spin (a broken install, a deleted run directory).
   */
  get crashLooping(): boolean {
    const launched = [...this.#workers.values()].filter((w) => w.launched);
    const last = launched.slice(-CRASH_LOOP_EXITS);
    return (
      last.length === CRASH_LOOP_EXITS &&
      last.every((w) => w.exitedHow !== undefined && (w.exitedAt ?? 0) - w.startedAt < CRASH_LOOP_MS)
    );
  }

  /**
   * Stops every launched worker: a stop message, then SIGTERM after `graceMs`, then SIGKILL.
   * Resolves when all have exited.
   */
  async shutdown(graceMs: number): Promise<void> {
    const running = [...this.#workers.values()].filter((w) => w.launched && !w.exitedHow);
    for (const w of running) this.send(w.id, { kind: 'stop' });
    const all = Promise.all(running.map((w) => w.launched!.exited));
    const timer = (ms: number) => new Promise((r) => setTimeout(r, ms).unref());
    if (await Promise.race([all.then(() => true), timer(graceMs).then(() => false)])) return;
    for (const w of running) w.launched!.terminate();
    if (await Promise.race([all.then(() => true), timer(graceMs).then(() => false)])) return;
    for (const w of running) w.launched!.kill();
    await all;
  }
}
