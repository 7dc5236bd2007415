// The run's event log (events.jsonl): one JSON object per line, `seq` from 1 without gaps.
import { z } from 'zod';
import {
  AttemptOutcome,
  AttemptReason,
  ControlAction,
  IntegrationCheckKind,
  QueuedMerge,
  UsageSchema,
} from './schemas.js';

const Iso = z.string();
const Id = z.string();
const base = { seq: z.number().int().min(1), at: Iso };

/** Every event type, each a small object tagged by `type`. docs/protocol.md explains each. */
export const EventSchema = z.discriminatedUnion('type', [
  z.object({
    ...base,
    type: z.literal('run.started'),
    run_id: z.string(),
    goal: z.string().nullable(),
    pid: z.number().int(),
    host: z.string(),
    base_commit: z.string().nullable(),
    integration_branch: z.string().nullable(),
    /** The run's caps (budget.* of the config); null: no cap. */
    budget: z.object({ max_cost_usd: z.number().nullable(), max_tokens: z.number().int().nullable() }),
    /** What planning the run cost (the planner's model calls); null when the plan was written by hand. */
    planner_usage: UsageSchema.nullable(),
  }),
  z.object({
    ...base,
    type: z.literal('plan.created'),
    tasks: z.array(Id),
    waves: z.number().int(),
    critical_path: z.array(Id),
  }),
  z.object({
    ...base,
    type: z.literal('run.resumed'),
    pid: z.number().int(),
    host: z.string(),
    retry_failed: z.boolean(),
  }),
  /** The task may start (its dependencies succeeded); `not_before` delays a retry (backoff). */
  z.object({ ...base, type: z.literal('task.ready'), task: Id, not_before: Iso.nullable() }),
  z.object({
    ...base,
    type: z.literal('attempt.assigned'),
    task: Id,
    attempt: z.number().int(),
    worker: z.string(),
    /** `merge.on_conflict: resolve`: the attempt is the resolver role's, finishing the task's conflicting merge. */
    resolver: z.string().nullable().optional(),
  }),
  z.object({ ...base, type: z.literal('attempt.started'), task: Id, attempt: z.number().int(), worker: z.string() }),
  z.object({
    ...base,
    type: z.literal('attempt.finished'),
    task: Id,
    attempt: z.number().int(),
    outcome: AttemptOutcome,
    reason: AttemptReason,
    exit_code: z.number().int().nullable(),
    duration_ms: z.number().int().nullable(),
    summary: z.string(),
    /** Agent backends: what the attempt spent (from result.json); null for commands and lost attempts. */
    usage: UsageSchema.nullable(),
  }),
  /** The attempt's commit was merged into the integration branch; `tip` is the branch's new commit. */
  z.object({
    ...base,
    type: z.literal('merge.succeeded'),
    task: Id,
    attempt: z.number().int(),
    commit: z.string(),
    tip: z.string(),
    files: z.array(z.string()),
  }),
  /** The attempt's commit conflicts with the integration branch at `tip`; the branch is unchanged. */
  z.object({
    ...base,
    type: z.literal('merge.conflicted'),
    task: Id,
    attempt: z.number().int(),
    commit: z.string(),
    tip: z.string(),
    files: z.array(z.string()),
  }),
  /**
   * Integration checks: the task's work is merged and waits for a check of a tip that includes it
   * (state `verifying`); `task.succeeded` follows once one passes.
   */
  z.object({ ...base, type: z.literal('task.merged'), task: Id }),
  /**
   * An integration check started on `tip`: `kind` base (the commit the run started from), batch
   * (the branch's tip with every merge queued since the last verified tip) or bisect (the tip after
   * the first `merges` merges of the queue, looking for the one that broke a batch). Its output is
   * in integration/check-<check>.log.
   */
  z.object({
    ...base,
    type: z.literal('integration.check.started'),
    check: z.number().int().min(1),
    tip: z.string(),
    kind: IntegrationCheckKind,
    merges: z.number().int().min(0),
    command: z.string(),
  }),
  /** An integration check ended: `passed` (exit 0) or `failed` (another exit, a signal, its timeout, or no start). */
  z.object({
    ...base,
    type: z.literal('integration.check.finished'),
    check: z.number().int().min(1),
    tip: z.string(),
    outcome: z.enum(['passed', 'failed']),
    exit_code: z.number().int().nullable(),
    duration_ms: z.number().int(),
    summary: z.string(),
  }),
  /** `tip` passed: the queue's merges up to it (`tasks`, in merge order) are verified. */
  z.object({
    ...base,
    type: z.literal('integration.verified'),
    tip: z.string(),
    check: z.number().int().min(1),
    tasks: z.array(Id),
  }),
  /**
   * Bisection found the merge that breaks the check (`check` failed on the tip it made): the task
   * loses one retry and is taken off the branch (integration.rewound follows).
   */
  z.object({
    ...base,
    type: z.literal('integration.culprit'),
    task: Id,
    attempt: z.number().int(),
    check: z.number().int().min(1),
    /** The tip the check failed on: the branch right after the culprit's merge. */
    tip: z.string(),
  }),
  /**
   * The integration branch moved from `from` back to the last verified tip `base`, then the queue's
   * other merges were made again on it (`kept`, with their new tips) up to `to`. Nothing of the
   * branch's earlier history beyond the verified tip is kept; a merge that no longer applies is in
   * `conflicted` (its task runs again).
   */
  z.object({
    ...base,
    type: z.literal('integration.rewound'),
    from: z.string(),
    base: z.string(),
    to: z.string(),
    culprit: Id,
    kept: z.array(QueuedMerge),
    conflicted: z.array(z.object({ task: Id, attempt: z.number().int(), files: z.array(z.string()) })),
  }),
  z.object({ ...base, type: z.literal('task.succeeded'), task: Id }),
  z.object({ ...base, type: z.literal('task.failed'), task: Id, reason: AttemptReason }),
  /** A dependency failed or was cancelled, so this task will not run. */
  z.object({ ...base, type: z.literal('task.skipped'), task: Id, because: Id }),
  z.object({ ...base, type: z.literal('task.cancelled'), task: Id }),
  /** retry-task: a finished task (and its skipped dependents) goes back to pending. */
  z.object({ ...base, type: z.literal('task.reset'), task: Id }),
  z.object({
    ...base,
    type: z.literal('control.applied'),
    request: z.string(),
    action: ControlAction,
    task: Id.nullable(),
    by: z.string(),
    accepted: z.boolean(),
    message: z.string(),
  }),
  /** Dispatch stopped: `control` (pause request) keeps the coordinator running; `interrupt` (Ctrl-C) and `stop-run` drain and exit. */
  z.object({ ...base, type: z.literal('run.paused'), reason: z.enum(['control', 'interrupt', 'stop-run']) }),
  /** Dispatch resumed after a pause request. */
  z.object({ ...base, type: z.literal('run.unpaused') }),
  /** Spend (finished attempts, planner, and running attempts' reported usage) crossed `percent` (50, 80, 95) of a cap. */
  z.object({
    ...base,
    type: z.literal('budget.warning'),
    percent: z.number().int(),
    cost_usd: z.number(),
    tokens: z.number().int(),
  }),
  /** No attempt can be dispatched within the caps: dispatch stops; the run ends resumable once attempts drain. */
  z.object({
    ...base,
    type: z.literal('budget.exhausted'),
    cost_usd: z.number(),
    tokens: z.number().int(),
    max_cost_usd: z.number().nullable(),
    max_tokens: z.number().int().nullable(),
  }),
  /** `swarm resume --max-cost-usd/--max-tokens` changed the caps. */
  z.object({
    ...base,
    type: z.literal('budget.changed'),
    max_cost_usd: z.number().nullable(),
    max_tokens: z.number().int().nullable(),
  }),
  z.object({ ...base, type: z.literal('run.finished'), outcome: z.enum(['succeeded', 'failed']) }),
  /**
   * Something the coordinator tells the user that is no fact of the state (a malformed control
   * request ignored, a merge that failed, Ctrl-C waiting for attempts): every reader shows it.
   */
  z.object({ ...base, type: z.literal('notice'), text: z.string() }),
]);
export type SwarmEvent = z.infer<typeof EventSchema>;
export type EventType = SwarmEvent['type'];

/** An event before the log gives it `seq` and `at`. */
export type NewEvent = SwarmEvent extends infer E ? (E extends SwarmEvent ? Omit<E, 'seq' | 'at'> : never) : never;
