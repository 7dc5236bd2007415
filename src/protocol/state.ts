// state.json: the snapshot derived from events.jsonl by a pure reducer. Replaying the log from
// seq 1 rebuilds it exactly (a test asserts this).
import { z } from 'zod';
import { unreachable } from '../util/unreachable.js';
import type { SwarmEvent } from './events.js';
import { AttemptOutcome, AttemptReason, PROTOCOL_VERSION, UsageSchema } from './schemas.js';
import { addUsage, ZERO_USAGE } from './usage.js';

/**
 * Task states. `ready` may carry `not_before` (a retry waiting out its backoff).
 *
 *   pending ──task.ready──▶ ready ──attempt.assigned──▶ running ──task.succeeded──▶ succeeded
 *      │                     ▲  │                          │    ──task.failed─────▶ failed
 *      │                     │  └──task.cancelled──┐        │    ──task.cancelled──▶ cancelled
 *      │                     └──task.ready (retry)─┼────────┘
 *      └──task.skipped──▶ skipped                  ▼
 *                                              cancelled
 *   failed | skipped | cancelled ──task.reset──▶ pending
 */
export const TaskStateName = z.enum(['pending', 'ready', 'running', 'succeeded', 'failed', 'skipped', 'cancelled']);
export type TaskStateName = z.infer<typeof TaskStateName>;

/** Terminal task states: nothing more happens to the task unless it is reset. */
export const TERMINAL: ReadonlySet<TaskStateName> = new Set(['succeeded', 'failed', 'skipped', 'cancelled']);

const TaskSnapshot = z.object({
  state: TaskStateName,
  /** Number of attempts assigned so far (the highest attempt number). */
  attempts: z.number().int(),
  /** Failed attempts that count against `retries` (not worker-lost, not interrupted). */
  failures: z.number().int(),
  /** Attempts lost with their worker. */
  lost: z.number().int(),
  /** The attempt in flight, if any. */
  current: z
    .object({
      attempt: z.number().int(),
      worker: z.string(),
      assigned_at: z.string(),
      started_at: z.string().nullable(),
    })
    .nullable(),
  /** While ready after a failure: not to be dispatched before this time. */
  not_before: z.string().nullable(),
  /** First attempt's assignment, and when the task reached a terminal state. */
  started_at: z.string().nullable(),
  finished_at: z.string().nullable(),
  /** The last finished attempt. */
  last: z
    .object({
      attempt: z.number().int(),
      outcome: AttemptOutcome,
      reason: AttemptReason,
      exit_code: z.number().int().nullable(),
      duration_ms: z.number().int().nullable(),
      summary: z.string(),
    })
    .nullable(),
  /** For skipped tasks: the dependency that failed. */
  skipped_because: z.string().nullable(),
  /** Merge conflicts of this task's attempts (git isolation). */
  conflicts: z.number().int(),
  /** The commit of the task's work that was merged into the integration branch (git isolation). */
  merged_commit: z.string().nullable(),
  /** A cancel-task request was accepted: whatever its attempt ends with (but success), the task is cancelled. */
  cancel_requested: z.boolean(),
  /** The last merge conflict, until a merge of the task succeeds: passed to the next attempt. */
  last_conflict: z.object({ attempt: z.number().int(), files: z.array(z.string()) }).nullable(),
  /** What the task's finished attempts spent (agent backends; zero for commands). */
  usage: UsageSchema,
});
export type TaskSnapshot = z.infer<typeof TaskSnapshot>;

/**
 * Run phases.
 * - `running`: dispatching ready tasks.
 * - `paused`: a pause request stopped dispatch; running attempts go on.
 * - `stopping`: Ctrl-C or stop-run: no dispatch; the coordinator exits once attempts drain.
 * - `finished`: every task is terminal; `outcome` says how it went.
 */
export const RunPhase = z.enum(['starting', 'running', 'paused', 'stopping', 'finished']);
export type RunPhase = z.infer<typeof RunPhase>;

export const StateSchema = z.object({
  protocol: z.literal(PROTOCOL_VERSION),
  run_id: z.string().nullable(),
  last_seq: z.number().int(),
  phase: RunPhase,
  outcome: z.enum(['succeeded', 'failed']).nullable(),
  started_at: z.string().nullable(),
  finished_at: z.string().nullable(),
  /** Times a coordinator resumed this run. */
  resumes: z.number().int(),
  /** Git isolation: the integration branch, the commit it started at, and its tip now; null without git. */
  git: z.object({ branch: z.string(), base: z.string(), tip: z.string() }).nullable(),
  tasks: z.record(z.string(), TaskSnapshot),
  counts: z.record(TaskStateName, z.number().int()),
  /** Spent by the planner and every finished attempt. Running attempts' spend is in their status.json. */
  usage: UsageSchema,
  /** The run's caps (null: none), whether dispatch stopped on them, and the warnings given (percent). */
  budget: z.object({
    max_cost_usd: z.number().nullable(),
    max_tokens: z.number().int().nullable(),
    exhausted: z.boolean(),
    warned: z.array(z.number().int()),
  }),
});
export type RunState = z.infer<typeof StateSchema>;

/** The state before any event. */
export function initialState(): RunState {
  return {
    protocol: PROTOCOL_VERSION,
    run_id: null,
    last_seq: 0,
    phase: 'starting',
    outcome: null,
    started_at: null,
    finished_at: null,
    resumes: 0,
    git: null,
    tasks: {},
    counts: { pending: 0, ready: 0, running: 0, succeeded: 0, failed: 0, skipped: 0, cancelled: 0 },
    usage: { ...ZERO_USAGE },
    budget: { max_cost_usd: null, max_tokens: null, exhausted: false, warned: [] },
  };
}

/** Whether a finished attempt uses up one of the task's retries. */
export function countsAsFailure(outcome: AttemptOutcome, reason: AttemptReason): boolean {
  return (outcome === 'failed' || outcome === 'timed-out') && reason !== 'worker-lost' && reason !== 'budget-exhausted';
}

/**
 * Applies one event to the state, in place, and returns it.
 * @throws Error if `event.seq` is not `last_seq + 1` (the log has a gap) or an event names an
 *   unknown task: both are broken invariants of the protocol, not user errors.
 */
export function applyEvent(state: RunState, event: SwarmEvent): RunState {
  if (event.seq !== state.last_seq + 1)
    throw new Error(`event log gap: expected seq ${state.last_seq + 1}, got ${event.seq}`);
  state.last_seq = event.seq;
  const task = (id: string): TaskSnapshot => {
    const t = state.tasks[id];
    if (!t) throw new Error(`event ${event.seq} (${event.type}) names unknown task "${id}"`);
    return t;
  };
  const move = (t: TaskSnapshot, to: TaskStateName): void => {
    state.counts[t.state]--;
    state.counts[to]++;
    t.state = to;
  };
  switch (event.type) {
    case 'run.started':
      state.run_id = event.run_id;
      state.started_at = event.at;
      if (event.integration_branch && event.base_commit)
        state.git = { branch: event.integration_branch, base: event.base_commit, tip: event.base_commit };
      state.phase = 'running';
      state.budget = { ...event.budget, exhausted: false, warned: [] };
      if (event.planner_usage) state.usage = addUsage(state.usage, event.planner_usage);
      break;
    case 'plan.created':
      for (const id of event.tasks) {
        state.tasks[id] = {
          state: 'pending',
          attempts: 0,
          failures: 0,
          lost: 0,
          current: null,
          not_before: null,
          started_at: null,
          finished_at: null,
          last: null,
          skipped_because: null,
          conflicts: 0,
          merged_commit: null,
          cancel_requested: false,
          last_conflict: null,
          usage: { ...ZERO_USAGE },
        };
        state.counts.pending++;
      }
      break;
    case 'run.resumed':
      state.resumes++;
      state.budget.exhausted = false;
      state.phase = 'running';
      state.outcome = null;
      state.finished_at = null;
      break;
    case 'task.ready': {
      const t = task(event.task);
      t.not_before = event.not_before;
      move(t, 'ready');
      break;
    }
    case 'attempt.assigned': {
      const t = task(event.task);
      t.attempts = event.attempt;
      t.current = { attempt: event.attempt, worker: event.worker, assigned_at: event.at, started_at: null };
      t.not_before = null;
      t.started_at ??= event.at;
      move(t, 'running');
      break;
    }
    case 'attempt.started': {
      const t = task(event.task);
      if (t.current?.attempt === event.attempt) t.current.started_at = event.at;
      break;
    }
    case 'attempt.finished': {
      const t = task(event.task);
      if (t.current?.attempt === event.attempt) t.current = null;
      const { attempt, outcome, reason, exit_code, duration_ms, summary } = event;
      t.last = { attempt, outcome, reason, exit_code, duration_ms, summary };
      if (countsAsFailure(outcome, reason)) t.failures++;
      if (reason === 'worker-lost') t.lost++;
      if (event.usage) {
        t.usage = addUsage(t.usage, event.usage);
        state.usage = addUsage(state.usage, event.usage);
      }
      break;
    }
    case 'merge.succeeded':
      task(event.task).merged_commit = event.commit;
      task(event.task).last_conflict = null;
      if (state.git) state.git.tip = event.tip;
      break;
    case 'merge.conflicted':
      task(event.task).conflicts++;
      task(event.task).last_conflict = { attempt: event.attempt, files: event.files };
      break;
    case 'task.succeeded':
    case 'task.failed':
    case 'task.cancelled': {
      const t = task(event.task);
      t.current = null;
      t.not_before = null;
      t.finished_at = event.at;
      move(t, event.type === 'task.succeeded' ? 'succeeded' : event.type === 'task.failed' ? 'failed' : 'cancelled');
      break;
    }
    case 'task.skipped': {
      const t = task(event.task);
      t.skipped_because = event.because;
      t.finished_at = event.at;
      move(t, 'skipped');
      break;
    }
    case 'task.reset': {
      const t = task(event.task);
      t.failures = 0;
      t.lost = 0;
      t.conflicts = 0;
      t.last_conflict = null;
      t.cancel_requested = false;
      t.finished_at = null;
      t.skipped_because = null;
      t.not_before = null;
      move(t, 'pending');
      if (state.phase === 'finished') state.phase = 'running';
      break;
    }
    case 'control.applied':
      if (event.action === 'cancel-task' && event.accepted && event.task !== null)
        task(event.task).cancel_requested = true;
      break;
    case 'run.paused':
      state.phase = event.reason === 'control' ? 'paused' : 'stopping';
      break;
    case 'run.unpaused':
      state.phase = 'running';
      break;
    case 'budget.warning':
      state.budget.warned.push(event.percent);
      break;
    case 'budget.exhausted':
      state.budget.exhausted = true;
      break;
    case 'budget.changed':
      state.budget = { max_cost_usd: event.max_cost_usd, max_tokens: event.max_tokens, exhausted: false, warned: [] };
      break;
    case 'notice':
      break; // words for the user; the state does not change
    case 'run.finished':
      state.phase = 'finished';
      state.outcome = event.outcome;
      state.finished_at = event.at;
      break;
    default:
      unreachable(event, 'event');
  }
  return state;
}

/** Replays events from seq 1 into a fresh state. */
export function replay(events: Iterable<SwarmEvent>): RunState {
  const state = initialState();
  for (const e of events) applyEvent(state, e);
  return state;
}
