// The worker process (`swarm worker`): claims assignments from its maildir inbox, runs them one at
// a time, heartbeats worker.json, and exits when told to stop or when its coordinator is gone
// (after finishing the attempt in hand, so no paid-for work is thrown away).
import fs from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import { readJsonFile, writeJsonAtomicSync } from '../protocol/files.js';
import { claim, listNew, type Maildir } from '../protocol/maildir.js';
import { attemptKey } from '../protocol/attempt-marker.js';
import { RunPaths } from '../protocol/paths.js';
import { coordinatorLiveness } from '../protocol/run-reader.js';
import { CoordinatorJsonSchema, RunJsonSchema, type InboxMessage, type WorkerJson } from '../protocol/schemas.js';
import { HOST } from '../util/process.js';
import { fileLogger } from '../util/logger.js';
import { DirectoryWatcher } from '../util/watch.js';
import { RunningAttempt } from './attempt.js';
import { LeftoverSweeper } from './leftovers.js';
import type { WorkerView } from './localize.js';
import { timerDelay } from '../util/timer.js';

/** Options of `swarm worker`. */
export interface WorkerOptions {
  runDir: string;
  id: string;
  /** Session id of the coordinator that started this worker. */
  coordinator: string;
  /** The repository's top level as this worker sees it (default: run.json `repo`). */
  repo?: string;
  /** Work in a clone of the repository under this directory instead of a worktree (see WorkerView). */
  cloneInto?: string;
}

/**
 * Worker states: idle ──assign──▶ busy ──result written──▶ idle; any ──stop / coordinator gone──▶
 * stopping ──(current attempt done)──▶ exit.
 */
export class Worker {
  readonly #paths: RunPaths;
  readonly #id: string;
  readonly #coordinator: string;
  readonly #inbox: Maildir;
  readonly #log: Logger;
  readonly #view: WorkerView;
  readonly #runId: string;
  /** Kills what ended attempts left running outside their process group. */
  readonly #leftovers: LeftoverSweeper;
  readonly #heartbeatMs: number;
  readonly #staleAfterMs: number;
  #info: WorkerJson;
  #current: { task: string; attempt: number; run: RunningAttempt } | undefined;
  #stopping = false;
  /** Cancels received for attempts not (yet) running here, by "task/attempt". */
  readonly #cancelledEarly = new Map<string, 'cancel-requested' | 'interrupted'>();
  #watcher: DirectoryWatcher | undefined;
  #heartbeat: NodeJS.Timeout | undefined;
  #exit!: () => void;
  readonly #exited = new Promise<void>((r) => (this.#exit = r));

  constructor(options: WorkerOptions) {
    this.#paths = new RunPaths(options.runDir);
    this.#id = options.id;
    this.#coordinator = options.coordinator;
    this.#inbox = this.#paths.inbox(options.id);
    this.#log = fileLogger(this.#paths.workerLog(options.id), { worker: options.id });
    const run = readJsonFile(this.#paths.runJson, RunJsonSchema);
    if (!run) throw new Error(`${this.#paths.runJson}: missing`);
    this.#view = {
      repo: path.resolve(options.repo ?? run.repo),
      runDir: this.#paths.root,
      ...(options.cloneInto ? { cloneInto: path.resolve(options.cloneInto) } : {}),
    };
    this.#runId = run.id;
    this.#leftovers = new LeftoverSweeper(this.#log);
    const liveness = run.config.liveness;
    this.#heartbeatMs = liveness.heartbeat;
    this.#staleAfterMs = liveness.stale_after;
    const now = new Date().toISOString();
    this.#info = {
      id: this.#id,
      pid: process.pid,
      host: HOST,
      started_at: now,
      heartbeat_at: now,
      state: 'idle',
      current: null,
      coordinator: this.#coordinator,
    };
  }

  /** Runs until stopped. Resolves when the worker has exited its loop. */
  async run(): Promise<void> {
    fs.mkdirSync(this.#paths.workerDir(this.#id), { recursive: true });
    this.#writeInfo();
    this.#log.info({ pid: process.pid, coordinator: this.#coordinator }, 'worker started');
    this.#watcher = new DirectoryWatcher([this.#inbox.new], () => this.#poll(), Math.min(1000, this.#heartbeatMs));
    this.#heartbeat = setInterval(() => this.#beat(), timerDelay(this.#heartbeatMs));
    process.on('SIGTERM', () => this.#stop('SIGTERM'));
    this.#poll();
    await this.#exited;
    this.#leftovers.sweep();
    clearInterval(this.#heartbeat);
    await this.#watcher.close();
    this.#log.info('worker exiting');
  }

  #writeInfo(): void {
    this.#info.heartbeat_at = new Date().toISOString();
    this.#info.state = this.#stopping ? 'stopping' : this.#current ? 'busy' : 'idle';
    this.#info.current = this.#current ? { task: this.#current.task, attempt: this.#current.attempt } : null;
    // No fsync: a heartbeat lost with the machine is lost with the worker too.
    writeJsonAtomicSync(this.#paths.workerJson(this.#id), this.#info, { fsync: false });
  }

  #beat(): void {
    try {
      this.#writeInfo();
      this.#current?.run.heartbeat();
    } catch (e) {
      // A full disk or a removed directory: say so, and try again at the next beat.
      this.#log.warn({ err: e }, 'heartbeat write failed');
    }
    if (!this.#stopping && !this.#coordinatorAlive()) this.#stop('coordinator gone');
  }

  /** True while the coordinator that started this worker is the live one. */
  #coordinatorAlive(): boolean {
    let c;
    try {
      c = readJsonFile(this.#paths.coordinatorJson, CoordinatorJsonSchema);
    } catch {
      return true; // unreadable for a moment: judge at the next beat
    }
    if (!c || c.session !== this.#coordinator) return false;
    return coordinatorLiveness(c, this.#staleAfterMs) === 'alive';
  }

  #stop(why: string): void {
    if (this.#stopping) return;
    this.#stopping = true;
    this.#log.info({ why, busy: Boolean(this.#current) }, 'stopping after the current attempt');
    this.#writeInfo();
    if (!this.#current) this.#exit();
  }

  /** Handles inbox messages: cancels and stops any time, an assignment only when idle. */
  #poll(): void {
    const { messages, bad } = listNew(this.#inbox);
    for (const name of bad) this.#log.warn({ name }, 'ignoring a malformed inbox message');
    for (const { name, message } of messages) {
      if (message.kind === 'assign' && (this.#current || this.#stopping)) continue;
      // Never start work for a coordinator that is gone: a resumed one may have taken it back.
      if (message.kind === 'assign' && !this.#coordinatorAlive()) {
        this.#stop('coordinator gone');
        continue;
      }
      if (!claim(this.#inbox, name)) continue;
      this.#handle(message);
    }
  }

  #handle(message: InboxMessage): void {
    switch (message.kind) {
      case 'assign':
        this.#start(message.task, message.attempt);
        break;
      case 'cancel':
        this.#log.info({ task: message.task, attempt: message.attempt, reason: message.reason }, 'cancel received');
        if (this.#current?.task === message.task && this.#current.attempt === message.attempt)
          this.#current.run.stop(message.reason);
        // A cancel can overtake its assignment (both waiting while the previous attempt ends).
        else this.#cancelledEarly.set(`${message.task}/${message.attempt}`, message.reason);
        break;
      case 'stop':
        this.#stop('stop message');
        break;
    }
  }

  #start(task: string, attempt: number): void {
    const early = this.#cancelledEarly.get(`${task}/${attempt}`);
    const run = new RunningAttempt(
      this.#paths.attempt(task, attempt),
      this.#view,
      task,
      attempt,
      this.#id,
      this.#log,
      early,
    );
    this.#current = { task, attempt, run };
    this.#writeInfo();
    this.#log.info({ task, attempt }, 'attempt claimed');
    void run.done
      .catch((e: unknown) => this.#log.error({ err: e, task, attempt }, 'attempt crashed'))
      .finally(() => {
        this.#leftovers.add(attemptKey(this.#runId, task, attempt));
        this.#current = undefined;
        this.#writeInfo();
        if (this.#stopping) this.#exit();
        else this.#poll();
      });
  }
}
