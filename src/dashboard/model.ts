// The dashboard's state model (DESIGN §8), pure: the facts of a run directory (run.json,
// plan.json, the state reduced from events.jsonl, coordinator.json, each worker.json, the
// status.json of running attempts, an attempt's files) in, view models out: the header, the task
// list grouped by wave, a task's detail, the workers, the event feed. `swarm status` builds its
// report from the same model.
//
// No blessed and no file system here: `source.ts` reads the files and feeds them in, the
// `*-view.ts` files draw what comes out. Times are passed in (`now`, ms since the epoch), so
// everything here is a function of its inputs.
import { raisedCapOptions } from '../presenter/resume-hint.js';
import { totalTokens } from '../protocol/usage.js';
import type { SwarmEvent } from '../protocol/events.js';
import type { CoordinatorLiveness, RunSnapshot } from '../protocol/run-reader.js';
import type { CoordinatorJson, PlanJson, ResolvedTask, RunJson, WorkerJson } from '../protocol/schemas.js';
import { applyEvent, TERMINAL, TaskStateName, type RunState, type TaskSnapshot } from '../protocol/state.js';
import { asPlainObject } from '../util/plain-object.js';
import { clockTime, formatCost, formatDuration, oneLine, stripAnsi } from './format.js';
import { budgetOf, sumUsage, usageField, type Budget, type Usage } from './usage.js';

/** How a piece of text should look; the views map tones to colours. */
export type Tone = 'normal' | 'muted' | 'ok' | 'bad' | 'warn' | 'active' | 'accent';

/** A line of text with its tone. */
export interface Line {
  text: string;
  tone: Tone;
  /** A pane keeps this line in view until the user scrolls it: the newest output of the attempt in flight. */
  anchor?: boolean;
}

/** Glyph and tone of each task state. */
export const STATE_STYLE: Record<TaskStateName, { glyph: string; tone: Tone }> = {
  pending: { glyph: '·', tone: 'muted' },
  ready: { glyph: '○', tone: 'normal' },
  running: { glyph: '▶', tone: 'active' },
  succeeded: { glyph: '✓', tone: 'ok' },
  failed: { glyph: '✗', tone: 'bad' },
  skipped: { glyph: '–', tone: 'warn' },
  cancelled: { glyph: '⊘', tone: 'warn' },
};

/** Marks a task on the plan's critical path in the task list. */
export const CRITICAL_MARK = '*';

/** Events kept for the feed. */
const FEED_LIMIT = 500;

// ---------------------------------------------------------------------------------------------
// Inputs

/** What the model starts from. */
export interface ModelInput {
  /** The run directory (absolute), for the resume command. */
  dir: string;
  run: RunJson;
  /** Undefined while plan.json does not exist (a run being created). */
  plan: PlanJson | undefined;
  /** The state after every event read so far (state.json, or a replay); the model owns it from now on. */
  state: RunState;
  /** Events already reflected in `state`, oldest first: the feed starts with them. */
  history?: readonly SwarmEvent[];
}

/** A worker as its worker.json says, and whether its process exists. */
export interface WorkerFacts {
  json: WorkerJson;
  /** Its pid checked on this host; null when it runs on another host (only its heartbeat counts). */
  alive: boolean | null;
}

/** The live part of a running attempt's status.json (read loosely: agent backends add fields). */
export interface AttemptLive {
  attempt: number;
  /** `starting`, `running` or `finished`. */
  state: string;
  started_at: string | null;
  heartbeat_at: string | null;
  /** Agent turn number; null for command tasks. */
  turn: number | null;
  /** The last output line or tool call. */
  activity: string | null;
  /** Usage so far (agent backends); null otherwise. */
  usage: Usage | null;
}

/** The files of one attempt, as `source.ts` reads them (JSON files unparsed beyond JSON). */
export interface AttemptFiles {
  attempt: number;
  assignment: Record<string, unknown> | null;
  status: Record<string, unknown> | null;
  result: Record<string, unknown> | null;
  /** The last records of the attempt's events.jsonl. */
  events: Record<string, unknown>[];
  /** Last lines of stdout.log, stderr.log, verify.log. */
  stdout: string[];
  stderr: string[];
  verify: string[];
}

/** The attempt files of one task, oldest attempt first (only the last few attempts). */
export interface TaskFiles {
  task: string;
  attempts: AttemptFiles[];
}

/** A control request this dashboard made, and what became of it. */
export interface RequestFacts {
  id: string;
  action: string;
  task: string | null;
  /** When it was created (ISO). */
  at: string;
  /**
   * `pending` in control/; `archived` moved to control/done/ but its event not read yet;
   * `applied` / `rejected` as its `control.applied` event says.
   */
  status: 'pending' | 'archived' | 'applied' | 'rejected';
  /** The coordinator's message, from the event. */
  message: string | null;
}

// ---------------------------------------------------------------------------------------------
// Loose readers of protocol objects (pure)

const rec = asPlainObject;
const str = (o: Record<string, unknown> | null, k: string): string | null =>
  o && typeof o[k] === 'string' ? (o[k] as string) : null;
const int = (o: Record<string, unknown> | null, k: string): number | null =>
  o && typeof o[k] === 'number' && Number.isFinite(o[k]) ? (o[k] as number) : null;
const strings = (o: Record<string, unknown> | null, k: string): string[] =>
  o && Array.isArray(o[k]) ? (o[k] as unknown[]).filter((x): x is string => typeof x === 'string') : [];

/** Reads the live part of a status.json; null if it is not an object. */
export function attemptLiveOf(attempt: number, status: unknown): AttemptLive | null {
  const o = rec(status);
  if (!o) return null;
  return {
    attempt,
    state: str(o, 'state') ?? 'starting',
    started_at: str(o, 'started_at'),
    heartbeat_at: str(o, 'heartbeat_at'),
    turn: int(o, 'turn'),
    activity: str(o, 'activity'),
    usage: usageField(o),
  };
}

/** One line for a record of an attempt's events.jsonl (agent backends: messages, tool calls). */
export function describeAttemptEvent(r: Record<string, unknown>): Line | null {
  const text = str(r, 'text');
  const name = str(r, 'name') ?? '?';
  switch (r.type) {
    case 'message':
      return { text: `» ${clean(text ?? '')}`, tone: 'normal' };
    case 'tool_call': {
      const input =
        r.input === undefined ? (text ?? '') : typeof r.input === 'string' ? r.input : JSON.stringify(r.input);
      return { text: `→ ${name} ${clean(input ?? '')}`, tone: 'active' };
    }
    case 'tool_result': {
      const output =
        typeof r.output === 'string' ? r.output : r.output === undefined ? (text ?? '') : JSON.stringify(r.output);
      return r.is_error === true
        ? { text: `✗ ${name}: ${clean(output)}`, tone: 'bad' }
        : { text: `← ${name}: ${clean(output)}`, tone: 'muted' };
    }
    case 'error':
      return { text: `! ${clean(text ?? JSON.stringify(r))}`, tone: 'bad' };
    case 'log':
      return { text: clean(text ?? ''), tone: 'muted' };
    default:
      return text ? { text: clean(text), tone: 'muted' } : null;
  }
}

/** First line of a text, without escape sequences or control characters. */
function clean(text: string): string {
  const first =
    stripAnsi(text)
      .split('\n')
      .find((l) => l.trim() !== '') ?? '';
  return oneLine(first).trim();
}

// ---------------------------------------------------------------------------------------------
// The plan, indexed once

/** The plan, indexed for the views: by id, by wave, dependents, the critical path. */
export class PlanIndex {
  readonly tasks: readonly ResolvedTask[];
  readonly byId = new Map<string, ResolvedTask>();
  /** Task id → ids of the tasks that depend on it directly, in plan order. */
  readonly dependents = new Map<string, string[]>();
  readonly critical: ReadonlySet<string>;
  readonly criticalPath: readonly string[];
  /** Task ids of each wave (DAG depth), in plan order. */
  readonly waves: readonly string[][];
  /** Whether any task has a role (else the role column is left out). */
  readonly hasRoles: boolean;
  /** Whether any task runs an agent, which costs money (else the cost column is left out). */
  readonly hasAgents: boolean;
  /** Length of the longest task id. */
  readonly maxIdLength: number;

  constructor(plan: PlanJson | undefined) {
    this.tasks = plan?.tasks ?? [];
    this.criticalPath = plan?.critical_path ?? [];
    this.critical = new Set(this.criticalPath);
    const waves: string[][] = [];
    let roles = false;
    let agents = false;
    let longest = 0;
    for (const t of this.tasks) {
      this.byId.set(t.id, t);
      (waves[t.wave] ??= []).push(t.id);
      for (const d of t.deps) {
        const list = this.dependents.get(d);
        if (list) list.push(t.id);
        else this.dependents.set(d, [t.id]);
      }
      roles ||= t.role !== null;
      agents ||= t.backend !== 'command';
      longest = Math.max(longest, t.id.length);
    }
    this.waves = Array.from(waves, (w) => w ?? []);
    this.hasRoles = roles;
    this.hasAgents = agents;
    this.maxIdLength = longest;
  }
}

// ---------------------------------------------------------------------------------------------
// View models

/** The header: what the run is and how far it got. */
export interface HeaderView {
  runId: string;
  goal: string | null;
  dir: string;
  phase: RunState['phase'];
  outcome: RunState['outcome'];
  liveness: CoordinatorLiveness;
  /** One phrase about the coordinator: `coordinator alive (pid 12)`, `coordinator DEAD (pid 12 is gone)`. */
  coordinator: string;
  /** `swarm resume <dir>` when the run is not finished and no coordinator runs it. */
  resumeCommand: string | null;
  /** Since the run started, until it finished (or its coordinator last showed life), ms. */
  elapsedMs: number | null;
  done: number;
  total: number;
  counts: RunState['counts'];
  /** Usage so far: the run's total plus the running attempts' (null: nothing reported). */
  usage: Usage | null;
  budget: Budget | null;
  /** The highest warning threshold (percent) crossed against the caps in force: `state.json` `budget.warned`, which `budget.changed` clears. */
  budgetWarning: number | null;
  branch: string | null;
  /** Integration branch tip (short). */
  tip: string | null;
  criticalDone: number;
  criticalTotal: number;
  /** A broken log or an unreadable file: the view shows it in red. */
  error: string | null;
}

/** One row of the task list. */
export interface TaskRow {
  id: string;
  title: string;
  role: string | null;
  state: TaskStateName;
  glyph: string;
  tone: Tone;
  critical: boolean;
  wave: number;
  /** Attempts assigned so far (0: none). */
  attempts: number;
  /** The running attempt's elapsed time, else the last attempt's duration, ms. */
  duration_ms: number | null;
  /** Finished attempts' cost plus the running attempt's so far, USD; null when none reported. */
  cost_usd: number | null;
  worker: string | null;
  /** Why it did not succeed, when it did not; a retry's time; why it was skipped. */
  note: string | null;
  /** A running agent's current step (status.json `activity`, e.g. `edit_file src/a.ts`); null otherwise. */
  activity: string | null;
}

/** A line of the task list: a wave heading, or a task. */
export type TaskLine = { kind: 'wave'; wave: number } | { kind: 'task'; id: string };

/** Progress of one wave. */
export interface WaveSummary {
  wave: number;
  total: number;
  done: number;
  running: number;
  failed: number;
}

/** A worker's line in the workers panel. */
export interface WorkerRow {
  id: string;
  /** `idle`, `busy`, `stopping`, or `exited` when its process is gone. */
  state: string;
  task: string | null;
  attempt: number | null;
  heartbeatAgeMs: number | null;
  /** Heartbeat older than the run's `liveness.stale_after`. */
  stale: boolean;
  tone: Tone;
}

/** Which tasks the list shows. */
export interface TaskFilter {
  /** Only tasks in these states (null: any). */
  states: ReadonlySet<TaskStateName> | null;
  /** Only tasks whose id or title contains this (case-insensitive; null: any). */
  text: string | null;
}

/** Reads what was typed after `/`: state names (`failed running`) and/or text. Empty → null (no filter). */
export function parseFilter(input: string): TaskFilter | null {
  const words = input
    .trim()
    .toLowerCase()
    .split(/[\s,]+/)
    .filter(Boolean);
  if (words.length === 0) return null;
  const states = new Set<TaskStateName>();
  const text: string[] = [];
  for (const w of words) {
    const state = TaskStateName.options.find((s) => s === w || (w.length >= 3 && s.startsWith(w)));
    if (state) states.add(state);
    else text.push(w);
  }
  return { states: states.size ? states : null, text: text.length ? text.join(' ') : null };
}

/** The filter as a short phrase: `failed, running · "lint"`. */
export function describeFilter(f: TaskFilter): string {
  return [f.states ? [...f.states].join(', ') : '', f.text ? `"${f.text}"` : ''].filter(Boolean).join(' · ');
}

/** The run-level meaning of an event, as a line of the feed. */
export interface FeedLine extends Line {
  seq: number;
  at: string;
}

/** One line describing an event (the feed); `state` is the state after it, for durations. */
export function describeEvent(e: SwarmEvent, state?: RunState): Line {
  const loose = e as unknown as Record<string, unknown> & { type: string };
  switch (e.type) {
    case 'run.started':
      return { text: `run started${e.goal ? `: ${e.goal}` : ''}`, tone: 'accent' };
    case 'plan.created':
      return { text: `plan: ${e.tasks.length} tasks in ${e.waves} waves`, tone: 'muted' };
    case 'run.resumed':
      return {
        text: `run resumed by pid ${e.pid} on ${e.host}${e.retry_failed ? ' (--retry-failed)' : ''}`,
        tone: 'accent',
      };
    case 'task.ready':
      return e.not_before
        ? { text: `↻ ${e.task} retries at ${clockTime(e.not_before)}`, tone: 'warn' }
        : { text: `○ ${e.task} ready`, tone: 'muted' };
    case 'attempt.assigned':
      return { text: `▶ ${e.task} #${e.attempt} → ${e.worker}`, tone: 'active' };
    case 'attempt.started':
      return { text: `  ${e.task} #${e.attempt} started on ${e.worker}`, tone: 'muted' };
    case 'attempt.finished': {
      const took = e.duration_ms === null ? '' : ` · ${formatDuration(e.duration_ms)}`;
      if (e.outcome === 'succeeded') return { text: `  ${e.task} #${e.attempt}: ${e.summary}${took}`, tone: 'muted' };
      return {
        text: `✗ ${e.task} #${e.attempt} ${e.outcome}: ${e.summary}${took}`,
        tone: e.outcome === 'failed' ? 'bad' : 'warn',
      };
    }
    case 'merge.succeeded':
      return {
        text: `⇢ ${e.task} #${e.attempt} merged (${e.files.length} file${e.files.length === 1 ? '' : 's'}) → ${e.tip.slice(0, 10)}`,
        tone: 'ok',
      };
    case 'merge.conflicted':
      return { text: `⚠ ${e.task} #${e.attempt} merge conflict in ${e.files.join(', ') || '?'}`, tone: 'warn' };
    case 'task.succeeded': {
      const d = state?.tasks[e.task]?.last?.duration_ms;
      return { text: `✓ ${e.task}${d != null ? ` ${formatDuration(d)}` : ''}`, tone: 'ok' };
    }
    case 'task.failed':
      return { text: `✗ ${e.task} failed (${e.reason})`, tone: 'bad' };
    case 'task.skipped':
      return { text: `– ${e.task} skipped: ${e.because} did not succeed`, tone: 'warn' };
    case 'task.cancelled':
      return { text: `⊘ ${e.task} cancelled`, tone: 'warn' };
    case 'task.reset':
      return { text: `↺ ${e.task} reset`, tone: 'accent' };
    case 'control.applied':
      return {
        text: `control ${e.action}${e.task ? ` ${e.task}` : ''} by ${e.by}: ${e.accepted ? '' : 'rejected: '}${e.message}`,
        tone: e.accepted ? 'accent' : 'bad',
      };
    case 'run.paused':
      return { text: e.reason === 'control' ? '‖ dispatch paused' : `‖ stopping (${e.reason})`, tone: 'warn' };
    case 'run.unpaused':
      return { text: '▷ dispatch resumed', tone: 'accent' };
    case 'run.finished':
      return { text: `run finished: ${e.outcome}`, tone: e.outcome === 'succeeded' ? 'ok' : 'bad' };
    default:
      return describeNewEvent(loose);
  }
}

/** Events this branch's schema does not know yet (budgets come with the LLM backends). */
function describeNewEvent(e: Record<string, unknown> & { type: string }): Line {
  const tokens = int(e, 'tokens');
  const spent = [formatCost(int(e, 'cost_usd')), tokens !== null ? `${tokens} tokens` : ''].filter(Boolean).join(', ');
  switch (e.type) {
    case 'budget.warning':
      return { text: `budget ${int(e, 'percent') ?? '?'}% used${spent ? ` (${spent})` : ''}`, tone: 'warn' };
    case 'budget.exhausted':
      return { text: 'budget exhausted: no new attempts start', tone: 'bad' };
    default:
      return { text: e.type, tone: 'muted' };
  }
}

// ---------------------------------------------------------------------------------------------
// The model

/**
 * A run as the dashboard sees it. Mutable (events arrive; files change), but pure: every input
 * comes through a method, and nothing here reads a file or the clock.
 */
export class RunModel {
  readonly dir: string;
  readonly run: RunJson;
  readonly plan: PlanIndex;
  /** The reduction of every event read so far (the same reducer that writes state.json). */
  readonly state: RunState;
  coordinator: CoordinatorJson | undefined = undefined;
  liveness: CoordinatorLiveness = 'none';
  workers: WorkerFacts[] = [];
  /** status.json of each running attempt, by task. */
  readonly live = new Map<string, AttemptLive>();
  /** Requests made by this dashboard, by id. */
  readonly requests = new Map<string, RequestFacts>();
  /** Why the model stopped following the run (a broken log, a vanished directory). */
  error: string | null = null;
  /** Bumped by every change: a view re-renders when it moved. */
  version = 0;
  /** Bumped when a task changes state: a filtered task list is rebuilt when it moved. */
  statesVersion = 0;
  readonly #feed: FeedLine[] = [];
  readonly #running = new Set<string>();
  readonly #staleAfterMs: number;

  constructor(input: ModelInput) {
    this.dir = input.dir;
    this.run = input.run;
    this.plan = new PlanIndex(input.plan);
    this.state = input.state;
    this.#staleAfterMs = input.run.config.liveness.stale_after;
    for (const [id, t] of Object.entries(this.state.tasks)) if (t.state === 'running') this.#running.add(id);
    for (const e of input.history ?? []) this.#record(e);
  }

  /** A model of a run loaded with `loadRun` (a full replay), as `swarm status` loads it. */
  static fromSnapshot(snap: RunSnapshot): RunModel {
    const model = new RunModel({ dir: snap.paths.root, run: snap.run, plan: snap.plan, state: snap.state });
    model.setCoordinator(snap.coordinator, snap.liveness);
    return model;
  }

  /**
   * The time up to which the run's clocks run: now while a coordinator runs it (or none ever
   * did), else when its coordinator stopped or last showed life: a dead run's elapsed times stand still.
   */
  #clock(now: number): number {
    if (this.liveness === 'alive' || this.liveness === 'none') return now;
    const co = this.coordinator;
    const last = Date.parse(co?.stopped_at ?? co?.heartbeat_at ?? '');
    return Number.isFinite(last) ? Math.min(now, last) : now;
  }

  /** Liveness judged from `liveness.stale_after` of run.json, ms. */
  get staleAfterMs(): number {
    return this.#staleAfterMs;
  }

  // -- inputs ----------------------------------------------------------------------------------

  /**
   * Applies new events, in order, with the reducer.
   * @throws Error from the reducer on a gap or repeat in `seq`, or an unknown task: a broken log.
   */
  apply(events: readonly SwarmEvent[]): void {
    for (const e of events) {
      applyEvent(this.state, e);
      this.#record(e);
      const task = (e as { task?: unknown }).task;
      if (typeof task === 'string') {
        this.statesVersion++;
        if (this.state.tasks[task]?.state === 'running') this.#running.add(task);
        else {
          this.#running.delete(task);
          this.live.delete(task);
        }
      }
      if (e.type === 'run.finished' || e.type === 'run.resumed') this.statesVersion++;
    }
    if (events.length) this.version++;
  }

  #record(e: SwarmEvent): void {
    const line = describeEvent(e, this.state);
    this.#feed.push({ seq: e.seq, at: e.at, ...line });
    if (this.#feed.length > FEED_LIMIT * 2) this.#feed.splice(0, this.#feed.length - FEED_LIMIT);
    if (e.type === 'control.applied') {
      const r = this.requests.get(e.request);
      if (r) {
        r.status = e.accepted ? 'applied' : 'rejected';
        r.message = e.message;
      }
    }
  }

  /** coordinator.json as read now (undefined: missing) and its liveness. */
  setCoordinator(coordinator: CoordinatorJson | undefined, liveness: CoordinatorLiveness): void {
    if (liveness === this.liveness && JSON.stringify(coordinator) === JSON.stringify(this.coordinator)) return;
    this.coordinator = coordinator;
    this.liveness = liveness;
    this.version++;
  }

  /** Every worker.json as read now. */
  setWorkers(workers: WorkerFacts[]): void {
    if (JSON.stringify(workers) === JSON.stringify(this.workers)) return;
    this.workers = workers;
    this.version++;
  }

  /** A running attempt's status.json (undefined: none yet). Ignored for tasks that are not running. */
  setLive(task: string, live: AttemptLive | null): void {
    const before = this.live.get(task);
    if (!live || !this.#running.has(task)) {
      if (before) {
        this.live.delete(task);
        this.version++;
      }
      return;
    }
    if (before && JSON.stringify(before) === JSON.stringify(live)) return;
    this.live.set(task, live);
    this.version++;
  }

  /** Records a control request this dashboard just created. */
  trackRequest(id: string, action: string, task: string | null, at: string): void {
    this.requests.set(id, { id, action, task, at, status: 'pending', message: null });
    this.version++;
  }

  /** A tracked request was moved to control/done/: the coordinator took it. */
  requestArchived(id: string): void {
    const r = this.requests.get(id);
    if (r?.status !== 'pending') return;
    r.status = 'archived';
    this.version++;
  }

  /** A line from the coordinator this dashboard is attached to (`swarm run`), not an event: it goes into the feed. */
  notice(text: string, at: string): void {
    this.#feed.push({ seq: 0, at, text: oneLine(text), tone: 'warn' });
    this.version++;
  }

  /** Stops following: the reason is shown in the header. */
  fail(message: string): void {
    if (this.error === message) return;
    this.error = message;
    this.version++;
  }

  // -- queries ---------------------------------------------------------------------------------

  /** Ids of running tasks (those whose status.json is worth reading). */
  running(): string[] {
    return [...this.#running];
  }

  /** The feed, oldest first (at most the last few hundred events). */
  feed(): readonly FeedLine[] {
    return this.#feed.length > FEED_LIMIT ? this.#feed.slice(-FEED_LIMIT) : this.#feed;
  }

  /** The most recent request about a task (for its detail). */
  requestFor(task: string): RequestFacts | undefined {
    let found: RequestFacts | undefined;
    for (const r of this.requests.values()) if (r.task === task) found = r;
    return found;
  }

  /** The most recent request of this dashboard. */
  lastRequest(): RequestFacts | undefined {
    let last: RequestFacts | undefined;
    for (const r of this.requests.values()) last = r;
    return last;
  }

  /** Usage of one task: its finished attempts (state.json) plus its running attempt's so far. */
  taskUsage(id: string): Usage | null {
    return sumUsage([usageField(this.state.tasks[id]), this.live.get(id)?.usage ?? null]);
  }

  /** The header view model at time `now` (ms since the epoch). */
  header(now: number): HeaderView {
    const { state, run } = this;
    const c = state.counts;
    const done = c.succeeded + c.failed + c.skipped + c.cancelled;
    const total = this.plan.tasks.length || Object.keys(state.tasks).length;
    const co = this.coordinator;
    const coordinator = coordinatorPhrase(this.liveness, co);
    const start = state.started_at ?? run.created_at;
    const end = state.finished_at ? Date.parse(state.finished_at) : this.#clock(now);
    const elapsedMs = Math.max(0, end - Date.parse(start));
    const usage = sumUsage([usageField(state), ...[...this.live.values()].map((l) => l.usage)]);
    const budget = budgetOf(state);
    return {
      runId: run.id,
      goal: run.goal,
      dir: this.dir,
      phase: state.phase,
      outcome: state.outcome,
      liveness: this.liveness,
      coordinator,
      // A spent budget must be raised to go on: the command says by how much (as `swarm run` does).
      resumeCommand:
        this.liveness !== 'alive' && state.phase !== 'finished'
          ? `swarm resume ${budget?.exhausted ? `${raisedCapOptions(budget)} ` : ''}${this.dir}`
          : null,
      elapsedMs: Number.isFinite(elapsedMs) ? elapsedMs : null,
      done,
      total,
      counts: { ...c },
      usage,
      budget, // exhausted as the reducer has it: set by budget.exhausted, cleared by run.resumed and budget.changed
      budgetWarning: state.budget?.warned?.length ? Math.max(...state.budget.warned) : null,
      branch: state.git?.branch ?? run.integration_branch,
      tip: state.git ? state.git.tip.slice(0, 12) : null,
      criticalDone: this.plan.criticalPath.filter((id) => state.tasks[id]?.state === 'succeeded').length,
      criticalTotal: this.plan.criticalPath.length,
      error: this.error,
    };
  }

  /** One task's row at time `now`. A task of the plan not yet in the state (no `plan.created` yet) is pending. */
  row(id: string, now: number): TaskRow {
    const t = this.plan.byId.get(id);
    const s: TaskSnapshot | undefined = this.state.tasks[id];
    const state = s?.state ?? 'pending';
    const style = STATE_STYLE[state];
    const since = s?.current?.started_at ?? s?.current?.assigned_at;
    const duration = since ? Math.max(0, this.#clock(now) - Date.parse(since)) : (s?.last?.duration_ms ?? null);
    let note: string | null = null;
    if (s) {
      if (s.state === 'skipped') note = `${s.skipped_because} did not succeed`;
      else if (s.last && s.last.outcome !== 'succeeded') note = s.last.summary;
      if (s.not_before && s.state === 'ready') note = `retry at ${s.not_before}${note ? ` after: ${note}` : ''}`;
    }
    const row: TaskRow = {
      id,
      title: t?.title ?? id,
      role: t?.role ?? null,
      state,
      glyph: style.glyph,
      tone: style.tone,
      critical: this.plan.critical.has(id),
      wave: t?.wave ?? 0,
      attempts: s?.attempts ?? 0,
      duration_ms: duration,
      cost_usd: this.taskUsage(id)?.cost_usd ?? null,
      worker: s?.current?.worker ?? null,
      note,
      activity: null,
    };
    const live = state === 'running' ? this.live.get(id) : undefined;
    // Agents only (they report turns); a command's activity is its last output line, in the detail.
    if (live && live.turn !== null && live.activity) row.activity = live.activity;
    return row;
  }

  /** Whether a task passes a filter. */
  matches(id: string, f: TaskFilter): boolean {
    if (f.states && !f.states.has(this.state.tasks[id]?.state ?? 'pending')) return false;
    if (f.text) {
      const t = this.plan.byId.get(id);
      const hay = `${id} ${t?.title ?? ''}`.toLowerCase();
      if (!hay.includes(f.text)) return false;
    }
    return true;
  }

  /** The lines of the task list: each wave's heading, then its tasks in plan order; empty waves left out. */
  lines(filter: TaskFilter | null): TaskLine[] {
    const out: TaskLine[] = [];
    this.plan.waves.forEach((ids, wave) => {
      const shown = filter ? ids.filter((id) => this.matches(id, filter)) : ids;
      if (shown.length === 0) return;
      out.push({ kind: 'wave', wave });
      for (const id of shown) out.push({ kind: 'task', id });
    });
    return out;
  }

  /** Progress of one wave. */
  wave(wave: number): WaveSummary {
    const ids = this.plan.waves[wave] ?? [];
    let done = 0;
    let running = 0;
    let failed = 0;
    for (const id of ids) {
      const st = this.state.tasks[id]?.state ?? 'pending';
      if (TERMINAL.has(st)) done++;
      if (st === 'running') running++;
      if (st === 'failed') failed++;
    }
    return { wave, total: ids.length, done, running, failed };
  }

  /** The workers panel: the current coordinator's workers (and any other that is still alive), by number. */
  workerRows(now: number): WorkerRow[] {
    const session = this.coordinator?.session;
    const mine = this.workers.filter((w) => w.json.coordinator === session);
    const shown = (
      mine.length ? this.workers.filter((w) => w.json.coordinator === session || w.alive === true) : this.workers
    ).slice();
    shown.sort((a, b) => Number(a.json.id.slice(1)) - Number(b.json.id.slice(1)) || a.json.id.localeCompare(b.json.id));
    return shown.map(({ json, alive }) => {
      const age = now - Date.parse(json.heartbeat_at);
      const gone = alive === false;
      const stale = !gone && age > this.#staleAfterMs;
      const state = gone ? 'exited' : json.state;
      return {
        id: json.id,
        state,
        task: json.current?.task ?? null,
        attempt: json.current?.attempt ?? null,
        heartbeatAgeMs: Number.isFinite(age) ? Math.max(0, age) : null,
        stale,
        tone: gone
          ? 'muted'
          : stale
            ? 'bad'
            : json.state === 'busy'
              ? 'active'
              : json.state === 'stopping'
                ? 'warn'
                : 'normal',
      };
    });
  }

  /**
   * The detail pane of a task: what it is, where it stands, its attempts (newest first: the live
   * activity of the current one, the failures of earlier ones), verify output and commit.
   * @param files the task's attempt files, if read (undefined: not read yet).
   */
  detail(id: string, files: TaskFiles | undefined, now: number): Line[] {
    const t = this.plan.byId.get(id);
    if (!t) return [{ text: `no task ${id}`, tone: 'muted' }];
    const s = this.state.tasks[id];
    const row = this.row(id, now);
    const out: Line[] = [];
    const add = (text: string, tone: Tone = 'normal'): void => void out.push({ text, tone });
    add(`${row.glyph} ${id} · ${row.state}${row.critical ? ' · critical path' : ''}`, row.tone);
    if (t.title !== id) add(t.title, 'accent');
    const facts = [
      t.role ? `role ${t.role}` : null,
      `wave ${t.wave}`,
      `attempts ${row.attempts}`,
      t.retries ? `retries ${s?.failures ?? 0}/${t.retries} used` : null,
    ];
    const cost = formatCost(row.cost_usd);
    if (cost) facts.push(`cost ${cost}`);
    add(facts.filter(Boolean).join(' · '), 'muted');
    if (t.deps.length)
      add(
        `deps: ${t.deps.map((d) => `${STATE_STYLE[this.state.tasks[d]?.state ?? 'pending'].glyph} ${d}`).join('  ')}`,
      );
    else add('deps: none', 'muted');
    const dependents = this.plan.dependents.get(id) ?? [];
    if (dependents.length)
      add(
        `dependents: ${dependents.slice(0, 12).join(', ')}${dependents.length > 12 ? ` (+${dependents.length - 12} more)` : ''}`,
      );
    if (s?.state === 'skipped') add(`skipped: ${s.skipped_because} did not succeed`, 'warn');
    if (s?.state === 'ready' && s.not_before) add(`retries at ${clockTime(s.not_before)}`, 'warn');
    if (s?.cancel_requested) add('cancel requested', 'warn');
    if (s?.last_conflict)
      add(`last merge conflict (attempt ${s.last_conflict.attempt}): ${s.last_conflict.files.join(', ')}`, 'warn');
    const req = this.requestFor(id);
    if (req) add(`your request: ${describeRequest(req, this.liveness)}`, req.status === 'rejected' ? 'bad' : 'accent');
    if (t.run) add(`$ ${t.run}`, 'muted');
    // The attempts (newest first, with a running one's live activity) come before the description:
    // what the task is doing now is what a small detail pane must show without scrolling.
    const attempts = (files?.attempts ?? []).slice().reverse();
    attempts.forEach((a, i) => {
      add('');
      const current = s?.current?.attempt === a.attempt;
      out.push(...this.#attemptLines(a, current, i === 0, now));
    });
    if (s?.merged_commit)
      add(`merged ${s.merged_commit.slice(0, 12)} into ${this.state.git?.branch ?? 'the integration branch'}`, 'ok');
    if (t.description.trim()) {
      add('');
      if (attempts.length) add('the task:', 'muted');
      for (const l of t.description.trimEnd().split('\n').slice(0, 40)) add(oneLine(l));
    }
    return out;
  }

  #attemptLines(a: AttemptFiles, current: boolean, latest: boolean, now: number): Line[] {
    const out: Line[] = [];
    const add = (text: string, tone: Tone = 'normal'): void => void out.push({ text, tone });
    const result = a.result;
    const worker = str(result, 'worker') ?? str(a.assignment, 'worker') ?? str(a.status, 'worker');
    const live = attemptLiveOf(a.attempt, a.status);
    const usage = usageField(result) ?? live?.usage ?? null;
    const cost = formatCost(usage?.cost_usd ?? (result ? int(result, 'cost_usd') : null));
    const tokens = usage ? totalTokens(usage) : 0;
    const extra = [cost, tokens ? `${tokens} tokens` : ''].filter(Boolean).join(', ');
    if (result) {
      const outcome = str(result, 'outcome') ?? '?';
      const tone: Tone = outcome === 'succeeded' ? 'ok' : outcome === 'failed' ? 'bad' : 'warn';
      const reason = str(result, 'reason');
      add(
        `── #${a.attempt} ${outcome}${reason && reason !== 'exit-zero' ? ` (${reason})` : ''} · ${formatDuration(int(result, 'duration_ms'))}${worker ? ` · ${worker}` : ''}${extra ? ` · ${extra}` : ''}`,
        tone,
      );
      add(`   ${str(result, 'summary') ?? ''}`, tone);
    } else if (current || live) {
      const since = live?.started_at ?? str(a.assignment, 'assigned_at');
      const state = live ? live.state : 'assigned';
      add(
        `── #${a.attempt} ${state}${since ? ` · ${formatDuration(now - Date.parse(since))}` : ''}${worker ? ` · ${worker}` : ''}${live?.turn != null ? ` · turn ${live.turn}` : ''}${extra ? ` · ${extra}` : ''}`,
        'active',
      );
    } else {
      add(`── #${a.attempt} no result (lost, taken back or never started: see the events)`, 'muted');
    }
    const agent = a.events.map(describeAttemptEvent).filter((l): l is Line => l !== null && l.tone !== 'muted');
    const liveFrom = out.length;
    const running = !result && current; // the coordinator's state has it in flight
    if (latest || current) {
      if (agent.length) {
        add('   activity:', 'muted');
        for (const l of agent.slice(-12)) add(`   ${l.text}`, l.tone);
      } else {
        if (a.stdout.length) {
          add('   stdout:', 'muted');
          for (const l of a.stdout.slice(-10)) add(`   ${oneLine(stripAnsi(l))}`);
        }
        if (a.stderr.length) {
          add('   stderr:', 'muted');
          for (const l of a.stderr.slice(-10)) add(`   ${oneLine(stripAnsi(l))}`, 'warn');
        }
        if (!a.stdout.length && !a.stderr.length && live?.activity) add(`   ${oneLine(live.activity)}`);
      }
    } else if (result && str(result, 'outcome') !== 'succeeded') {
      for (const l of strings(result, 'stderr_tail').slice(-5)) add(`   ${oneLine(stripAnsi(l))}`, 'warn');
    }
    const verify = rec(result?.verify);
    if (verify) {
      const code = int(verify, 'exit_code');
      add(
        `   verify \`${str(verify, 'command') ?? ''}\`: ${code === null ? 'stopped' : `exit ${code}`}`,
        code === 0 ? 'ok' : 'bad',
      );
      for (const l of strings(verify, 'output_tail').slice(-8)) add(`   ${oneLine(stripAnsi(l))}`, 'muted');
    } else if (a.verify.length && (latest || current)) {
      add('   verify output:', 'muted');
      for (const l of a.verify.slice(-8)) add(`   ${oneLine(stripAnsi(l))}`, 'muted');
    }
    // A running attempt's newest line (its activity, or its verify output once verify runs) stays
    // in view (ScrollPane) however long the detail is.
    if (running && out.length > liveFrom) out[out.length - 1] = { ...out[out.length - 1]!, anchor: true };
    const commit = str(result, 'commit');
    if (commit) {
      const files = strings(result, 'files_changed');
      add(
        `   commit ${commit.slice(0, 12)} · ${files.length} file${files.length === 1 ? '' : 's'}${files.length ? `: ${files.slice(0, 6).join(', ')}${files.length > 6 ? ', …' : ''}` : ''} · d: diff`,
        'accent',
      );
    }
    return out;
  }
}

/** The coordinator in a few words: `coordinator alive (pid 12)`, `coordinator DEAD (pid 12 is gone)`, ... */
export function coordinatorPhrase(
  liveness: CoordinatorLiveness,
  co: Pick<CoordinatorJson, 'pid' | 'host' | 'heartbeat_at'> | undefined,
): string {
  switch (liveness) {
    case 'alive':
      return `coordinator alive (pid ${co?.pid})`;
    case 'stopped':
      return 'coordinator exited';
    case 'dead':
      return `coordinator DEAD (pid ${co?.pid} is gone)`;
    case 'unknown':
      return `coordinator on ${co?.host}: no heartbeat since ${co?.heartbeat_at}`;
    case 'none':
      return 'no coordinator has run';
  }
}

/** What became of a request, in a few words. */
export function describeRequest(r: RequestFacts, liveness: CoordinatorLiveness): string {
  const what = `${r.action}${r.task ? ` ${r.task}` : ''}`;
  switch (r.status) {
    case 'pending':
      return liveness === 'alive'
        ? `${what}: sent, waiting for the coordinator`
        : `${what}: waiting; no coordinator is running (\`swarm resume\` applies it)`;
    case 'archived':
      return `${what}: applied`;
    case 'applied':
      return `${what}: applied: ${r.message ?? ''}`;
    case 'rejected':
      return `${what}: rejected: ${r.message ?? ''}`;
  }
}

/** Lines of an attempt's log for the pager: events, stdout, stderr, an agent's bash commands and their output (bash.log), verify output. */
export function attemptLogLines(a: {
  attempt: number;
  events: Record<string, unknown>[];
  stdout: string[];
  stderr: string[];
  bash?: string[];
  verify: string[];
  result: Record<string, unknown> | null;
}): Line[] {
  const out: Line[] = [];
  const outcome = str(a.result, 'outcome');
  out.push({
    text: `════ attempt ${a.attempt}${outcome ? ` · ${outcome}: ${str(a.result, 'summary') ?? ''}` : ''}`,
    tone: 'accent',
  });
  const section = (name: string, lines: string[], tone: Tone): void => {
    if (!lines.length) return;
    out.push({ text: `── ${name}`, tone: 'muted' });
    for (const l of lines) out.push({ text: oneLine(stripAnsi(l)), tone });
  };
  section(
    'events',
    a.events.map(
      (r) => `${typeof r.at === 'string' ? clockTime(r.at) : ''} ${describeAttemptEvent(r)?.text ?? JSON.stringify(r)}`,
    ),
    'muted',
  );
  section('stdout', a.stdout, 'normal');
  section('stderr', a.stderr, 'warn');
  section("bash (the agent's commands and their output)", a.bash ?? [], 'normal');
  section('verify', a.verify, 'normal');
  if (!a.events.length && !a.stdout.length && !a.stderr.length && !a.bash?.length && !a.verify.length)
    out.push({ text: '(no output)', tone: 'muted' });
  return out;
}
