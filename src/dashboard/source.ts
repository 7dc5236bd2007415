// The dashboard's reader of a run directory: the only part of the dashboard that touches files.
// It opens a run fast (state.json, then only the events after its `last_seq`), then on every
// poll tails events.jsonl from a byte offset (protocol/follow.ts's EventTail), and re-reads
// coordinator.json, the worker.json files and the status.json of running attempts, feeding all of
// it to the pure RunModel. It reads the selected task's attempt files, its log and its diff on
// demand. It never writes a coordinator file: its one write is a control request
// (control/<ulid>.json), as `swarm control` makes them.
import fs from 'node:fs';
import { createControlRequest } from '../protocol/control.js';
import { git } from '../git/git.js';
import { EventSchema, type SwarmEvent } from '../protocol/events.js';
import { readJsonFile } from '../protocol/files.js';
import { readJsonl } from '../protocol/jsonl.js';
import { EventTail, readJsonlTail, seqOf } from '../protocol/follow.js';
import { RunPaths } from '../protocol/paths.js';
import { coordinatorLiveness, NotARunError, parseEvents } from '../protocol/run-reader.js';
import {
  CoordinatorJsonSchema,
  PlanJsonSchema,
  PROTOCOL_VERSION,
  RunJsonSchema,
  WorkerJsonSchema,
  type ControlAction,
} from '../protocol/schemas.js';
import { initialState, RunPhase, TaskStateName, type RunState } from '../protocol/state.js';
import { asPlainObject, isPlainObject } from '../util/plain-object.js';
import { HOST, pidAlive } from '../util/process.js';
import { lastLines } from '../util/tail.js';
import { attemptLogLines } from './detail.js';
import { attemptLiveOf, type AttemptFiles, type TaskFiles, type WorkerFacts } from './facts.js';
import { RunModel } from './model.js';
import type { Line } from './theme.js';

/** Events kept before state.json's `last_seq` for the feed when a run is opened. */
const FEED_HISTORY = 200;
/** Attempts of a task whose files the detail pane reads (the newest ones). */
const DETAIL_ATTEMPTS = 4;
/** The pager reads at most this much of each log file (the end of it). */
const LOG_BYTES = 512 * 1024;
/** coordinator.json, worker.json and status.json files are re-read at most this often, ms. */
const FILES_EVERY_MS = 500;
/** A diff longer than this is cut. */
const DIFF_CHARS = 2 * 1024 * 1024;

/** How a run was opened, for the benchmark and the tests. */
export interface OpenStats {
  /** `snapshot`: state.json plus the events after it; `replay`: every event from seq 1. */
  mode: 'snapshot' | 'replay';
  /** Events parsed and applied (after the snapshot, or all of them). */
  applied: number;
}

/** Reads one run directory into a {@link RunModel}. */
export class RunSource {
  readonly paths: RunPaths;
  readonly model: RunModel;
  readonly openStats: OpenStats;
  /** The events after those the model has: tailed from the byte offset the opening ended at. */
  readonly #events: EventTail;
  #filesReadAt = -Infinity;

  private constructor(paths: RunPaths, model: RunModel, offset: number, stats: OpenStats) {
    this.paths = paths;
    this.model = model;
    this.#events = new EventTail(paths.eventsJsonl, { offset });
    this.openStats = stats;
  }

  /**
   * Opens a run directory: run.json and plan.json, then state.json and the events after its
   * `last_seq` (or, without a usable state.json, a replay of every event), then one poll.
   * @throws NotARunError without run.json; ProtocolFileError when run.json or plan.json is malformed,
   *   SyntaxError / Error for a broken event log.
   */
  static open(dir: string): RunSource {
    const paths = new RunPaths(dir);
    if (!fs.existsSync(paths.root)) throw new NotARunError(paths.root, 'no such directory');
    if (!fs.statSync(paths.root).isDirectory()) throw new NotARunError(paths.root, 'not a directory');
    const run = readJsonFile(paths.runJson, RunJsonSchema);
    if (!run) throw NotARunError.noRunJson(paths);
    const plan = readJsonFile(paths.planJson, PlanJsonSchema);
    const opened = openState(paths);
    const model = new RunModel({ dir: paths.root, run, plan, state: opened.state, history: opened.history });
    model.apply(opened.pending);
    const source = new RunSource(paths, model, opened.offset, { mode: opened.mode, applied: opened.applied });
    source.poll();
    return source;
  }

  /**
   * Reads what may have changed: new events (from the byte offset; a torn last line waits for the
   * next poll), then coordinator.json, every worker.json, the running attempts' status.json, and
   * whether this dashboard's requests reached control/done/ (with `throttleFiles`, those at most
   * every 500 ms: they change with heartbeats, however busy the log). Errors are put in `model.error`
   * (a broken log stops the event tail; the rest goes on). Returns whether the model changed.
   */
  poll(options: { now?: number; throttleFiles?: boolean } = {}): boolean {
    const now = options.now ?? Date.now();
    const before = this.model.version;
    const m = this.model;
    if (!fs.existsSync(this.paths.root)) {
      m.fail(`${this.paths.root} is gone`);
      return m.version !== before;
    }
    if (m.error === null) this.#readEvents();
    // The rest changes with heartbeats (1 s by default): twice a second is enough, however busy the log.
    if (options.throttleFiles && now - this.#filesReadAt < FILES_EVERY_MS && now >= this.#filesReadAt)
      return m.version !== before;
    this.#filesReadAt = now;
    try {
      const coordinator = readJsonFile(this.paths.coordinatorJson, CoordinatorJsonSchema);
      m.setCoordinator(coordinator, coordinatorLiveness(coordinator, m.staleAfterMs, now));
    } catch {
      // being replaced, or broken: keep what we had
    }
    m.setWorkers(this.#readWorkers());
    readLiveAttempts(m, this.paths);
    for (const r of m.requests.values())
      if (r.status === 'pending' && fs.existsSync(this.paths.controlDone(r.id))) m.requestArchived(r.id);
    return m.version !== before;
  }

  #readEvents(): void {
    try {
      const events = this.#events.read();
      if (events.length) this.model.apply(events);
    } catch (e) {
      this.model.fail(`events.jsonl: ${(e as Error).message}; no longer following the log`);
    }
  }

  #readWorkers(): WorkerFacts[] {
    let ids: string[];
    try {
      ids = fs.readdirSync(this.paths.workersDir);
    } catch {
      return [];
    }
    const out: WorkerFacts[] = [];
    for (const id of ids) {
      const parsed = WorkerJsonSchema.safeParse(readLoose(this.paths.workerJson(id)));
      if (!parsed.success) continue;
      const json = parsed.data;
      out.push({ json, alive: json.host === HOST ? pidAlive(json.pid) : null });
    }
    return out;
  }

  /** Directories worth watching now: the run, control/, workers/ and each worker's, and `extra`. */
  watchDirs(extra: string[] = []): string[] {
    const dirs = [this.paths.root, this.paths.controlDir, this.paths.controlDoneDir, this.paths.workersDir];
    for (const w of this.model.workers) dirs.push(this.paths.workerDir(w.json.id));
    return [...dirs, ...extra];
  }

  /** The attempt directory of a task's current (or last) attempt, if it has one. */
  attemptDir(task: string): string | undefined {
    const n = this.model.state.tasks[task]?.attempts ?? 0;
    return n > 0 ? this.paths.attemptDir(task, n) : undefined;
  }

  /** Reads the files of a task's newest attempts, for the detail pane. */
  readTask(task: string): TaskFiles {
    const n = this.model.state.tasks[task]?.attempts ?? 0;
    const attempts: AttemptFiles[] = [];
    for (let a = Math.max(1, n - DETAIL_ATTEMPTS + 1); a <= n; a++)
      attempts.push(this.#readAttempt(task, a, a === n ? 12 : 0, 64 * 1024));
    return { task, attempts };
  }

  #readAttempt(task: string, attempt: number, tail: number, maxBytes: number): AttemptFiles {
    const p = this.paths.attempt(task, attempt);
    const lines = (file: string): string[] => (tail > 0 ? lastLines(file, tail, maxBytes) : []);
    return {
      attempt,
      assignment: readLoose(p.assignment),
      status: readLoose(p.status),
      result: readLoose(p.result),
      events: tail > 0 ? lastRecords(p.events, 40, maxBytes) : [],
      stdout: lines(p.stdout),
      stderr: lines(p.stderr),
      verify: lines(p.verify),
    };
  }

  /** Every attempt's log of a task (events, stdout, stderr, verify; the end of each, up to 512 KiB), oldest first. */
  readLog(task: string): Line[] {
    const n = this.model.state.tasks[task]?.attempts ?? 0;
    if (n === 0) return [{ text: `${task} has not run yet`, tone: 'muted' }];
    const out: Line[] = [];
    for (let a = 1; a <= n; a++) {
      const p = this.paths.attempt(task, a);
      const big = (file: string): string[] => lastLines(file, Number.MAX_SAFE_INTEGER, LOG_BYTES);
      out.push(
        ...attemptLogLines({
          attempt: a,
          events: lastRecords(p.events, Number.MAX_SAFE_INTEGER, LOG_BYTES),
          stdout: big(p.stdout),
          stderr: big(p.stderr),
          bash: big(p.bash),
          verify: big(p.verify),
          result: readLoose(p.result),
        }),
      );
      out.push({ text: '', tone: 'normal' });
    }
    return out;
  }

  /**
   * The diff of a task's work: its merged attempt's commit, else its newest attempt with a commit,
   * against the attempt's base (`git diff --stat --patch`, run in run.json's `repo`).
   */
  async readDiff(task: string): Promise<Line[]> {
    const n = this.model.state.tasks[task]?.attempts ?? 0;
    const merged = this.model.state.tasks[task]?.merged_commit ?? null;
    let found: { attempt: number; commit: string; base: string | null } | undefined;
    for (let a = n; a >= 1; a--) {
      const p = this.paths.attempt(task, a);
      const commit = readLoose(p.result)?.commit;
      if (typeof commit !== 'string') continue;
      const base = readLoose(p.assignment)?.base_commit;
      const candidate = { attempt: a, commit, base: typeof base === 'string' ? base : null };
      if (!found) found = candidate;
      if (commit === merged) {
        found = candidate;
        break;
      }
    }
    if (!found) {
      const why = this.model.run.integration_branch
        ? `${task} has no commit (no attempt changed anything yet)`
        : 'this run has no git isolation: attempts ran in place, without commits';
      return [{ text: why, tone: 'muted' }];
    }
    const args = found.base
      ? ['diff', '--stat', '--patch', found.base, found.commit]
      : ['show', '--stat', '--patch', found.commit];
    let text: string;
    try {
      text = await git(this.model.run.repo, args);
    } catch (e) {
      return [{ text: `git ${args.join(' ')}: ${(e as Error).message}`, tone: 'bad' }];
    }
    if (text.length > DIFF_CHARS) text = text.slice(0, DIFF_CHARS) + '\n… (cut)';
    const header: Line = {
      text: `attempt ${found.attempt} · ${found.base ? `${found.base.slice(0, 12)}..` : ''}${found.commit.slice(0, 12)}${found.commit === merged ? ' (merged)' : ''}`,
      tone: 'accent',
    };
    return [
      header,
      ...text.split('\n').map((l): Line => ({
        text: l,
        tone:
          l.startsWith('+') && !l.startsWith('+++')
            ? 'ok'
            : l.startsWith('-') && !l.startsWith('---')
              ? 'bad'
              : l.startsWith('@@')
                ? 'accent'
                : 'normal',
      })),
    ];
  }

  /**
   * Creates a control request (control/<ulid>.json, `by: "dashboard"`) and tracks it in the
   * model until the coordinator applies it. Returns its id.
   */
  async request(action: ControlAction, task?: string): Promise<string> {
    const id = await createControlRequest(this.paths, action, task, 'dashboard');
    this.model.trackRequest(id, action, task ?? null, new Date().toISOString());
    return id;
  }
}

/**
 * Reads the status.json of every running attempt into the model: its state, turn, activity and
 * spend so far (what the task rows, the header's cost and `swarm status` add to the finished
 * attempts'). A missing or torn file leaves that attempt without live facts.
 */
export function readLiveAttempts(m: RunModel, paths: RunPaths): void {
  for (const task of m.running()) {
    const attempt = m.state.tasks[task]?.current?.attempt;
    if (attempt === undefined) continue;
    m.setLive(task, attemptLiveOf(attempt, readLoose(paths.attempt(task, attempt).status)));
  }
}

/** A JSON file as a plain object; null when missing, being replaced, or not an object. */
function readLoose(file: string): Record<string, unknown> | null {
  try {
    return asPlainObject(JSON.parse(fs.readFileSync(file, 'utf8')));
  } catch {
    return null;
  }
}

/** The last `n` records of a JSONL file (lines that are not JSON objects are skipped). */
function lastRecords(file: string, n: number, maxBytes: number): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (const line of lastLines(file, n, maxBytes)) {
    try {
      const v: unknown = JSON.parse(line);
      if (isPlainObject(v)) out.push(v);
    } catch {
      // a torn last line, being written
    }
  }
  return out;
}

/** The state a run opens with, and the events still to apply. */
interface OpenedState {
  state: RunState;
  /** Events already in `state`, for the feed. */
  history: SwarmEvent[];
  /** Events after `state`, to apply. */
  pending: SwarmEvent[];
  offset: number;
  mode: OpenStats['mode'];
  applied: number;
}

/**
 * state.json, then the events after its `last_seq`, read backwards from the end of the log; a
 * missing or unusable state.json (or one the log does not continue) means a replay from seq 1.
 */
function openState(paths: RunPaths): OpenedState {
  const snapshot = readSnapshot(paths);
  if (snapshot) {
    const lastSeq = snapshot.last_seq;
    const tail = readJsonlTail(paths.eventsJsonl, (records) => {
      const first = seqOf(records[0]);
      return first !== undefined && first <= lastSeq + 1 - FEED_HISTORY;
    });
    const seqs = tail.records.map(seqOf);
    const firstNew = seqs.findIndex((s) => s !== undefined && s > lastSeq);
    const newRecords = firstNew < 0 ? [] : tail.records.slice(firstNew);
    const continues =
      firstNew < 0
        ? seqs.at(-1) === lastSeq || (lastSeq === 0 && tail.records.length === 0)
        : seqs[firstNew] === lastSeq + 1;
    if (continues) {
      const pending = parseEvents(paths.eventsJsonl, newRecords);
      const history = parseHistory(firstNew < 0 ? tail.records : tail.records.slice(0, firstNew));
      return { state: snapshot, history, pending, offset: tail.offset, mode: 'snapshot', applied: pending.length };
    }
  }
  const chunk = readJsonl(paths.eventsJsonl);
  const all = parseEvents(paths.eventsJsonl, chunk.records);
  return {
    state: initialState(),
    history: [],
    pending: all,
    offset: chunk.offset,
    mode: 'replay',
    applied: all.length,
  };
}

/**
 * state.json if it exists and has the shape of a state (else undefined: replay instead). The check
 * is by hand rather than with StateSchema: zod takes ~70 ms on a 10,000-task state, most of the
 * start-up this snapshot is for, and the file has one writer, the coordinator's EventLog, which
 * serializes the reducer's own state. It covers what the reducer and the views rely on.
 */
function readSnapshot(paths: RunPaths): RunState | undefined {
  let data: unknown;
  try {
    data = JSON.parse(fs.readFileSync(paths.stateJson, 'utf8'));
  } catch {
    return undefined;
  }
  return looksLikeState(data) ? data : undefined;
}

const PHASES = new Set<string>(RunPhase.options);
const TASK_STATES = new Set<string>(TaskStateName.options);

/** A cheap structural check of a parsed state.json (see {@link readSnapshot}). */
export function looksLikeState(s: unknown): s is RunState {
  const o = s as Partial<Record<keyof RunState, unknown>> | null;
  if (
    typeof o !== 'object' ||
    o === null ||
    o.protocol !== PROTOCOL_VERSION ||
    !Number.isInteger(o.last_seq) ||
    !PHASES.has(o.phase as string)
  )
    return false;
  if (typeof o.tasks !== 'object' || o.tasks === null || typeof o.counts !== 'object' || o.counts === null)
    return false;
  for (const name of TASK_STATES) if (!Number.isInteger((o.counts as Record<string, unknown>)[name])) return false;
  for (const t of Object.values(o.tasks as Record<string, unknown>)) {
    const task = t as { state?: unknown; attempts?: unknown; current?: unknown } | null;
    if (
      typeof task !== 'object' ||
      task === null ||
      !TASK_STATES.has(task.state as string) ||
      !Number.isInteger(task.attempts) ||
      task.current === undefined
    )
      return false;
  }
  return true;
}

/** Events before the snapshot, for the feed only: the ones that do not parse are left out. */
function parseHistory(records: unknown[]): SwarmEvent[] {
  const out: SwarmEvent[] = [];
  for (const r of records.slice(-FEED_HISTORY)) {
    const parsed = EventSchema.safeParse(r);
    if (parsed.success) out.push(parsed.data);
  }
  return out;
}
