// The dashboard's model (DESIGN §8), pure: the facts of a run directory (run.json, plan.json, the
// state reduced from events.jsonl, coordinator.json, each worker.json, the status.json of running
// attempts, an attempt's files) in, view models out: the header, the task list grouped by wave,
// a task's row and detail, the workers, the event feed. `swarm status` builds its report from the
// same model.
//
// No blessed and no file system here: `source.ts` reads the files and feeds them in (facts.ts),
// the `*-view.ts` files draw what comes out (view-models.ts). The words are elsewhere: the detail
// pane's in detail.ts, the events' in presenter/event-text.ts (shared with the console). Times are
// passed in (`now`, ms since the epoch), so everything here is a function of its inputs.
import { raisedCapOptions } from '../presenter/resume-hint.js';
import { describeEvent } from '../presenter/event-text.js';
import type { SwarmEvent } from '../protocol/events.js';
import type { CoordinatorLiveness, RunSnapshot } from '../protocol/run-reader.js';
import type { CoordinatorJson, RunJson } from '../protocol/schemas.js';
import { applyEvent, TERMINAL, type RunState, type TaskSnapshot } from '../protocol/state.js';
import { taskDetail } from './detail.js';
import type { AttemptLive, ModelInput, RequestFacts, TaskFiles, WorkerFacts } from './facts.js';
import type { TaskFilter } from './filter.js';
import { PlanIndex } from './plan-index.js';
import { STATE_STYLE, type Line } from './theme.js';
import { budgetOf, sumUsage, usageField, type Usage } from './usage.js';
import type { FeedLine, HeaderView, TaskLine, TaskRow, WaveSummary, WorkerRow } from './view-models.js';

/** Events kept for the feed. */
const FEED_LIMIT = 500;

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
  /** The newest `notice` event read: the dashboard shows one that arrives on its bottom line too. */
  lastNotice: { seq: number; text: string } | null = null;
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
    if (e.type === 'notice') this.lastNotice = { seq: e.seq, text: e.text };
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
      verified: verifiedPhrase(state),
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
   * The detail pane of a task (detail.ts): what it is, where it stands, its attempts (newest first),
   * verify output and commit.
   * @param files the task's attempt files, if read (undefined: not read yet).
   * @param now ms since the epoch
   */
  detail(id: string, files: TaskFiles | undefined, now: number): Line[] {
    return taskDetail(this, id, files, now);
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

/** What the integration checks say of the branch's tip, for the header (null without them). */
function verifiedPhrase(state: RunState): string | null {
  const q = state.integration;
  if (!q || !state.git) return null;
  if (q.verified?.tip === state.git.tip && !q.check) return `verified by check ${q.verified.check}`;
  if (q.check) return `checking (check ${q.check.check})`;
  return `${q.queue.length} merge(s) unverified`;
}
