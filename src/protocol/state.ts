// state.json: the snapshot derived from events.jsonl by a pure reducer. Replaying the log from
// seq 1 rebuilds it exactly (a test asserts this).
import { z } from 'zod';
import { unreachable } from '../util/unreachable.js';
import type { SwarmEvent } from './events.js';
import {
  AttemptOutcome,
  AttemptReason,
  IntegrationCheckKind,
  PROTOCOL_VERSION,
  ProtocolField,
  QueuedMerge,
  UsageSchema,
} from './schemas.js';
import { addUsage, ZERO_USAGE } from './usage.js';

/**
 * Task states. `ready` may carry `not_before` (a retry waiting out its backoff).
 *
 *   pending ──task.ready──▶ ready ──attempt.assigned──▶ running ──task.succeeded──▶ succeeded
 *                                                          │  ──task.merged──▶ verifying ──task.succeeded──▶ succeeded
 *                                                          │     (integration checks)   ──task.ready──▶ ready (culprit)
 *                                                          │                            ──task.failed──▶ failed
 *      │                     ▲  │                          │    ──task.failed─────▶ failed
 *      │                     │  └──task.cancelled──┐        │    ──task.cancelled──▶ cancelled
 *      │                     └──task.ready (retry)─┼────────┘
 *      └──task.skipped──▶ skipped                  ▼
 *                                              cancelled
 *   failed | skipped | cancelled ──task.reset──▶ pending
 */
export const TaskStateName = z.enum([
  'pending',
  'ready',
  'running',
  'verifying',
  'succeeded',
  'failed',
  'skipped',
  'cancelled',
]);
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
      /** A conflict resolver's attempt: its role. */
      resolver: z.string().nullable().optional(),
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
      /** A conflict resolver's attempt: its role (its failure uses no retry). */
      resolver: z.string().nullable().optional(),
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
  /**
   * The integration check this task's merge broke (bisection named it), until its next merge: the
   * next attempt is given the check's output.
   */
  integration_failure: z.object({ attempt: z.number().int(), check: z.number().int(), tip: z.string() }).nullable(),
  /** The last merge conflict, until a merge of the task succeeds: passed to the next attempt. */
  last_conflict: z.object({ attempt: z.number().int(), files: z.array(z.string()) }).nullable(),
  /**
   * With integration checks: the last merge in the queue when this task was sent back (its merge
   * broke the check, or conflicted); its next attempt waits until that merge has left the queue
   * (verified or taken off). Null: nothing to wait for. Absent in state.json of older builds.
   */
  held_for: z.object({ task: z.string(), attempt: z.number().int() }).nullable().default(null),
  /** What the task's finished attempts spent (agent backends; zero for commands). */
  usage: UsageSchema,
});
export type TaskSnapshot = z.infer<typeof TaskSnapshot>;

/**
 * The merge queue of a run with integration checks (`integration.verify`): the last verified tip,
 * the merges made since (oldest first), the check running and the bisection under way.
 */
const IntegrationSnapshot = z.object({
  /** The last tip an integration check passed on (first: the run's base commit), and that check. */
  verified: z.object({ tip: z.string(), check: z.number().int() }).nullable(),
  /** Merges since the verified tip, in the branch's order; each `tip` is the branch after it. */
  queue: z.array(QueuedMerge),
  /** The check started and not finished (after a crash: to be run again). */
  check: z
    .object({ check: z.number().int(), tip: z.string(), kind: IntegrationCheckKind, merges: z.number().int() })
    .nullable(),
  /**
   * Bisection of a failed batch: the first `good` merges of the queue pass, the first `bad` fail
   * (good < bad), as checks `good_check` (null while no check of this bisection passed: good is 0
   * and the verified tip was not checked again) and `bad_check` found; `batch_check` is the failed
   * batch check (`bad_check = batch_check`: the batch's is the only failure). The culprit is merge
   * number `bad` once `bad = good + 1`, `good_check` is set and `bad_check` is not the batch's.
   * `bad = good = 0`: the check failed on the verified tip itself (the session ends as broken, and
   * `run.resumed` clears the bisection, so that the batch is checked again).
   */
  bisect: z
    .object({
      good: z.number().int(),
      bad: z.number().int(),
      good_check: z.number().int().nullable(),
      bad_check: z.number().int(),
      batch_check: z.number().int(),
    })
    .nullable(),
  /** Checks started so far, and how long the finished ones took in all (ms). */
  checks: z.number().int(),
  check_ms: z.number().int(),
  /** The last finished check. */
  last: z
    .object({
      check: z.number().int(),
      tip: z.string(),
      kind: IntegrationCheckKind,
      outcome: z.enum(['passed', 'failed']),
      summary: z.string(),
    })
    .nullable(),
});
export type IntegrationSnapshot = z.infer<typeof IntegrationSnapshot>;

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
  protocol: ProtocolField,
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
  /** Integration checks (`integration.verify`): null until the first check starts, and without them. */
  integration: IntegrationSnapshot.nullable(),
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
    integration: null,
    tasks: {},
    counts: { pending: 0, ready: 0, running: 0, verifying: 0, succeeded: 0, failed: 0, skipped: 0, cancelled: 0 },
    usage: { ...ZERO_USAGE },
    budget: { max_cost_usd: null, max_tokens: null, exhausted: false, warned: [] },
  };
}

/** Whether a finished attempt uses up one of the task's retries. */
export function countsAsFailure(outcome: AttemptOutcome, reason: AttemptReason): boolean {
  return (outcome === 'failed' || outcome === 'timed-out') && reason !== 'worker-lost' && reason !== 'budget-exhausted';
}

/** The last merge in `queue` that is not `task`'s, as {@link TaskSnapshot} `held_for` names it. */
function lastQueued(queue: readonly QueuedMerge[], task: string): { task: string; attempt: number } | null {
  const last = queue.findLast((m) => m.task !== task);
  return last ? { task: last.task, attempt: last.attempt } : null;
}

/**
 * Whether a passing bisection check shows the check flaky: it ran on the tip the bisection would
 * blame (`merges` at or past `bad`), checked again because a failure there was the only evidence.
 */
export function showsFlaky(bisect: { bad: number }, check: { kind: string; merges: number }): boolean {
  return check.kind === 'bisect' && check.merges >= bisect.bad;
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
          integration_failure: null,
          held_for: null,
          usage: { ...ZERO_USAGE },
        };
        state.counts.pending++;
      }
      break;
    case 'run.resumed':
      state.resumes++;
      state.budget.exhausted = false;
      // A base check that failed (a timeout, the network, a tool since installed) is run again by
      // the resumed session rather than ending every resume as broken.
      if (state.integration && !state.integration.verified && state.integration.last?.kind === 'base')
        state.integration.last = null;
      // A bisection that found the check failing on the verified tip blamed no merge: the
      // environment was broken. The resumed session checks the batch again.
      if (state.integration?.bisect && state.integration.bisect.bad <= state.integration.bisect.good)
        state.integration.bisect = null;
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
      t.current = {
        attempt: event.attempt,
        worker: event.worker,
        assigned_at: event.at,
        started_at: null,
        ...(event.resolver ? { resolver: event.resolver } : {}),
      };
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
      const resolver = t.current?.attempt === event.attempt ? t.current.resolver : null;
      if (t.current?.attempt === event.attempt) t.current = null;
      const { attempt, outcome, reason, exit_code, duration_ms, summary } = event;
      t.last = { attempt, outcome, reason, exit_code, duration_ms, summary, ...(resolver ? { resolver } : {}) };
      if (countsAsFailure(outcome, reason) && !resolver) t.failures++;
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
      task(event.task).integration_failure = null;
      if (state.git) state.git.tip = event.tip;
      if (state.integration) {
        // A resumed coordinator merges again what a crash left unrecorded: the same merge, once.
        const q = state.integration.queue;
        const merge = { task: event.task, attempt: event.attempt, commit: event.commit, tip: event.tip };
        const same = q.findIndex((m) => m.task === event.task && m.attempt === event.attempt);
        if (same >= 0) q[same] = merge;
        else q.push(merge);
      }
      break;
    case 'merge.conflicted':
      task(event.task).conflicts++;
      task(event.task).last_conflict = { attempt: event.attempt, files: event.files };
      task(event.task).held_for = lastQueued(state.integration?.queue ?? [], event.task);
      break;
    case 'task.merged':
      move(task(event.task), 'verifying');
      break;
    case 'integration.check.started': {
      const q = (state.integration ??= {
        verified: null,
        queue: [],
        check: null,
        bisect: null,
        checks: 0,
        check_ms: 0,
        last: null,
      });
      q.check = { check: event.check, tip: event.tip, kind: event.kind, merges: event.merges };
      q.checks = Math.max(q.checks, event.check);
      break;
    }
    case 'integration.check.finished': {
      const q = integration(state, event);
      const c = q.check;
      if (!c || c.check !== event.check) throw new Error(`event ${event.seq}: check ${event.check} is not running`);
      q.check = null;
      q.check_ms += event.duration_ms;
      q.last = { check: c.check, tip: c.tip, kind: c.kind, outcome: event.outcome, summary: event.summary };
      if (c.kind === 'base' && event.outcome === 'passed') q.verified = { tip: c.tip, check: c.check };
      else if (c.kind === 'batch' && event.outcome === 'failed')
        q.bisect = { good: 0, bad: c.merges, good_check: null, bad_check: c.check, batch_check: c.check };
      else if (c.kind === 'bisect' && q.bisect) {
        // A pass on the tip the bisection would blame (checked again because only the batch check
        // failed there): the failure did not repeat, the check is flaky. The bisection ends; the
        // pass verifies the merges up to that tip.
        if (event.outcome === 'passed' && showsFlaky(q.bisect, c)) q.bisect = null;
        else if (event.outcome === 'passed') Object.assign(q.bisect, { good: c.merges, good_check: c.check });
        else Object.assign(q.bisect, { bad: c.merges, bad_check: c.check });
      }
      break;
    }
    case 'integration.verified': {
      const q = integration(state, event);
      q.verified = { tip: event.tip, check: event.check };
      const n = event.tasks.length;
      q.queue = q.queue.slice(n);
      if (q.bisect) q.bisect = { ...q.bisect, good: Math.max(0, q.bisect.good - n), bad: q.bisect.bad - n };
      break;
    }
    case 'integration.culprit': {
      const q = integration(state, event);
      q.bisect = null;
      const t = task(event.task);
      t.failures++;
      t.integration_failure = { attempt: event.attempt, check: event.check, tip: event.tip };
      t.held_for = lastQueued(q.queue, event.task);
      break;
    }
    case 'integration.rewound': {
      const q = integration(state, event);
      q.queue = event.kept.map((m) => ({ ...m }));
      if (state.git) state.git.tip = event.to;
      for (const c of event.conflicted) {
        const t = task(c.task);
        t.conflicts++;
        t.last_conflict = { attempt: c.attempt, files: c.files };
        t.held_for = lastQueued(q.queue, c.task);
      }
      break;
    }
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
      t.integration_failure = null;
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

/** The run's merge queue, which an integration event needs. @throws Error if no check ever started (a broken log). */
function integration(state: RunState, event: SwarmEvent): IntegrationSnapshot {
  if (!state.integration) throw new Error(`event ${event.seq} (${event.type}) before any integration check`);
  return state.integration;
}

/** Replays events from seq 1 into a fresh state. */
export function replay(events: Iterable<SwarmEvent>): RunState {
  const state = initialState();
  for (const e of events) applyEvent(state, e);
  return state;
}
