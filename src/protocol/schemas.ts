// Zod schemas of every file in a run directory (protocol version 3, PROTOCOL_VERSION). docs/protocol.md describes
// them for people who write tools against a run directory; this file is the authority.
import { z } from 'zod';
import { RunConfigSchema } from './run-config.js';
import { TASK_ID_PATTERN } from './task-id.js';
import { agentSpecParts, BACKEND_NAMES } from '../worker/backends/registry.js';

/**
 * The version every file written now carries. 3: assignment.json's paths are relative to the
 * repository's top level (a worker resolves them against the repository as it sees it), so a
 * worker need not share the coordinator's mount points. Version 2 files (absolute paths) are read
 * as well: an absolute path resolves to itself.
 */
export const PROTOCOL_VERSION = 3;

/** The `protocol` field of a file: the versions this fileswarm reads (2 and 3). */
export const ProtocolField = z.union([z.literal(2), z.literal(PROTOCOL_VERSION)], {
  error: (issue) => protocolMismatch(issue.input),
});

/**
 * Why a `protocol` field is refused: missing, from an older fileswarm (protocol 1, which 2 replaced:
 * docs/protocol.md), from a newer one, or not a version at all.
 */
function protocolMismatch(found: unknown): string {
  const reads = `this fileswarm reads protocols 2 and ${PROTOCOL_VERSION}`;
  if (found === undefined) return `missing (${reads}; was the file written by fileswarm?)`;
  if (found === 1) return `1: written by an older fileswarm, whose run directories this one cannot read (${reads})`;
  if (typeof found === 'number' && Number.isInteger(found) && found > PROTOCOL_VERSION)
    return `${found}: written by a newer fileswarm (${reads}); upgrade fileswarm to read it`;
  return `${JSON.stringify(found)} is not a protocol version (${reads})`;
}

const Iso = z.string().meta({ description: 'ISO-8601 timestamp (UTC).' });
const Id = z.string().regex(TASK_ID_PATTERN);

/**
 * Tokens and money spent on a model: by an agent turn, an attempt, a task, the planner or a run.
 * Tokens are counts as the Anthropic API reports them (`usage` of a Message): `input_tokens` are
 * the uncached input, `cache_read_tokens` / `cache_write_tokens` the input read from / written to
 * the prompt cache. `cost_usd` is priced from src/llm/prices.ts.
 */
export const UsageSchema = z.object({
  input_tokens: z.number().int(),
  output_tokens: z.number().int(),
  cache_read_tokens: z.number().int(),
  cache_write_tokens: z.number().int(),
  cost_usd: z.number(),
});
export type Usage = z.infer<typeof UsageSchema>;

/**
 * The backend-neutral part of an agent attempt's settings (assignment.json `agent`): the role's
 * model and limits, resolved, with the caps the budget gave the attempt.
 */
export const AgentCoreSchema = z.object({
  model: z.string(),
  /** Model requests (turns) allowed. */
  max_turns: z.number().int(),
  /** Token cap of the attempt (input + output + cache, summed over turns); null: none. */
  max_tokens: z.number().int().nullable(),
  /** Cost cap of the attempt, USD; null: none. */
  max_cost_usd: z.number().nullable(),
  /**
   * Where each cap came from: the role's own, or the attempt's share of the run budget at dispatch
   * (null: no cap). Reaching a `budget` cap ends the attempt `budget-exhausted`.
   */
  cap_source: z.object({ cost: z.enum(['role', 'budget']).nullable(), tokens: z.enum(['role', 'budget']).nullable() }),
  /** Extra system-prompt instructions of the role. */
  instructions: z.string().nullable(),
  /** Prices per million tokens, USD. */
  price: z.object({ input: z.number(), output: z.number(), cache_read: z.number(), cache_write: z.number() }),
});
export type AgentCore = z.infer<typeof AgentCoreSchema>;

/**
 * What an agent attempt gets (assignment.json `agent`): the neutral core, and the backend's own
 * settings under its name (e.g. `anthropic: {api_key_env, base_url, ...}`), from the registry
 * (src/worker/backends/registry.ts). Each backend's key is optional: only its own is present.
 */
export const AgentSpecSchema = AgentCoreSchema.extend(agentSpecParts());
export type AgentSpec = z.infer<typeof AgentSpecSchema>;

/** A task of plan.json: a validated plan task with defaults applied. */
export const ResolvedTaskSchema = z.object({
  id: Id,
  title: z.string(),
  description: z.string(),
  deps: z.array(Id),
  role: z.string().nullable(),
  backend: z.enum(BACKEND_NAMES),
  run: z.string().nullable(),
  cwd: z.string().nullable(),
  env: z.record(z.string(), z.string()),
  files: z.array(z.string()),
  verify: z.string().nullable(),
  estimate: z.number(),
  timeout_ms: z.number().int(),
  retries: z.number().int(),
  wave: z.number().int(),
  rank: z.number(),
});
export type ResolvedTask = z.infer<typeof ResolvedTaskSchema>;

/** plan.json: written once by the coordinator. */
export const PlanJsonSchema = z.object({
  protocol: ProtocolField,
  tasks: z.array(ResolvedTaskSchema),
  critical_path: z.array(Id),
  waves: z.number().int(),
  /** Set when the planner made the plan: its model, the requests it took, and what it cost. */
  planner: z.object({ model: z.string(), requests: z.number().int(), usage: UsageSchema }).nullable(),
});
export type PlanJson = z.infer<typeof PlanJsonSchema>;

/** run.json: written once by the coordinator; `config` is the full resolved config snapshot. */
/**
 * Where a run's repository came from when it is not the user's checkout (`swarm run --repo` or
 * `--issue`): the remote, the cached clone the run works in, and the issue its goal came from.
 */
export const RunSourceSchema = z.object({
  /** The remote's URL as given, without credentials. */
  repo_url: z.string(),
  /** The branch the run started from. */
  base_branch: z.string(),
  /** The cached clone (absolute; also run.json `repo`). */
  clone: z.string(),
  /** The issue the goal came from (`--issue`), else null. */
  issue: z
    .object({ owner: z.string(), name: z.string(), number: z.number().int(), url: z.string(), title: z.string() })
    .nullable(),
});
export type RunSource = z.infer<typeof RunSourceSchema>;

export const RunJsonSchema = z.object({
  protocol: ProtocolField,
  id: z.string(),
  goal: z.string().nullable(),
  created_at: Iso,
  /** Absolute path of the config file the run started from (informational: resume does not read it). */
  config_file: z.string().nullable(),
  /** swarm.yaml after validation, defaults applied, durations in ms, without `tasks` (see plan.json). */
  config: RunConfigSchema,
  /** Absolute path of the target directory; command tasks run here (or in their `cwd`). */
  repo: z.string(),
  /** Git facts: null until git isolation is in use. */
  base_commit: z.string().nullable(),
  integration_branch: z.string().nullable(),
  /** `swarm run --repo`/`--issue`: where the repository came from; null for a local repository (and in runs made before it existed). */
  source: RunSourceSchema.nullable().default(null),
});
export type RunJson = z.infer<typeof RunJsonSchema>;

/**
 * publish.json: what publishing a run did (`swarm run --publish`, `swarm publish`), replaced after
 * each publish. Written by the publishing process, never by the coordinator; holds no token.
 */
export const PublishJsonSchema = z.object({
  protocol: ProtocolField,
  run_id: z.string(),
  /** The remote pushed to, without credentials. */
  remote_url: z.string(),
  /** The remote branch, e.g. swarm/<run-id>. */
  branch: z.string(),
  /** The commit pushed (the integration branch's tip). */
  commit: z.string(),
  /** The pull request opened or updated; null when the integration branch has nothing to merge. */
  pull: z.object({ number: z.number().int(), url: z.string(), draft: z.boolean() }).nullable(),
  /** The comment on the run's issue; null without an issue. */
  comment: z.object({ id: z.number().int(), url: z.string() }).nullable(),
  published_at: Iso,
});
export type PublishJson = z.infer<typeof PublishJsonSchema>;

/**
 * creating.json: in a run directory being built under its temporary name (`.<name>.creating`,
 * `creatingDir` in paths.ts), written by `swarm run` right after it takes the lock, before the planner
 * and the integration branch, so that what a killed `swarm run` left can be undone.
 */
export const CreatingJsonSchema = z.object({
  /** The run id (a ULID). */
  id: z.string(),
  /** Absolute path the run directory is renamed to once it is complete. */
  root: z.string(),
  /** The target directory (the repository's top level with git). */
  repo: z.string(),
  /** The integration branch `swarm run` will create (git isolation), else null; it may not exist yet. */
  integration_branch: z.string().nullable(),
  created_at: Iso,
});
export type CreatingJson = z.infer<typeof CreatingJsonSchema>;

/** coordinator.json: replaced by the live coordinator about every heartbeat. */
export const CoordinatorJsonSchema = z.object({
  /** Unique id of this coordinator process (a ULID). */
  session: z.string(),
  pid: z.number().int(),
  host: z.string(),
  command: z.enum(['run', 'resume']),
  started_at: Iso,
  heartbeat_at: Iso,
  /** Set when the coordinator exits normally; absent while it runs or after a crash. */
  stopped_at: Iso.optional(),
});
export type CoordinatorJson = z.infer<typeof CoordinatorJsonSchema>;

/** Control actions, applied by the coordinator in the order of their ids. */
export const ControlAction = z.enum(['pause', 'resume', 'cancel-task', 'retry-task', 'stop-run']);
export type ControlAction = z.infer<typeof ControlAction>;

/** control/<ulid>.json: created by anyone (CLI, dashboard); moved to control/done/ once applied. */
export const ControlRequestSchema = z.object({
  action: ControlAction,
  task: Id.optional(),
  /** Who asked, for the record: "cli", "dashboard", a user name. */
  by: z.string(),
  at: Iso,
});
export type ControlRequest = z.infer<typeof ControlRequestSchema>;

/** workers/<id>/worker.json: replaced by the worker at every heartbeat and state change. */
export const WorkerJsonSchema = z.object({
  id: z.string(),
  pid: z.number().int(),
  host: z.string(),
  started_at: Iso,
  heartbeat_at: Iso,
  state: z.enum(['idle', 'busy', 'stopping']),
  current: z.object({ task: Id, attempt: z.number().int() }).nullable(),
  /** The coordinator session that started this worker. */
  coordinator: z.string(),
});
export type WorkerJson = z.infer<typeof WorkerJsonSchema>;

/** A message in a worker's maildir inbox (workers/<id>/inbox/new/<ulid>.json). */
export const InboxMessageSchema = z.discriminatedUnion('kind', [
  /** Run the attempt whose assignment.json is at tasks/<task>/<attempt>/. */
  z.object({ kind: z.literal('assign'), task: Id, attempt: z.number().int() }),
  /** Stop this attempt's process group and record it cancelled with `reason`. */
  z.object({
    kind: z.literal('cancel'),
    task: Id,
    attempt: z.number().int(),
    reason: z.enum(['cancel-requested', 'interrupted']),
  }),
  /** Finish the current attempt (if any) and exit. */
  z.object({ kind: z.literal('stop') }),
]);
export type InboxMessage = z.infer<typeof InboxMessageSchema>;

/** What an earlier attempt of the same task ended with, passed to the next attempt. */
export const PreviousAttemptSchema = z.object({
  attempt: z.number().int(),
  outcome: z.string(),
  reason: z.string().nullable(),
  exit_code: z.number().int().nullable(),
  /** Last lines of the attempt's stderr. */
  stderr_tail: z.array(z.string()),
  /** The attempt's one-line summary (an agent's own account, or why it stopped); null without a result. */
  summary: z.string().nullable(),
  /** Last lines of its `verify` output, when verify ran. */
  verify_tail: z.array(z.string()),
});
export type PreviousAttempt = z.infer<typeof PreviousAttemptSchema>;

/** tasks/<task>/<n>/assignment.json: written once by the coordinator before the inbox message. */
/**
 * assignment.json `sandbox`: how the worker confines every process of the attempt, resolved by the
 * coordinator from the run's and the task's role's `sandbox:` (src/config/sandbox.ts). Paths are
 * absolute. `mode: none`: the attempt's processes run with the worker's rights.
 */
export const SandboxSpecSchema = z.object({
  mode: z.enum(['workspace', 'none']),
  network: z.enum(['none', 'allow']),
  /** Writable beyond the attempt's worktree, its private /tmp and home. */
  writable: z.array(z.string()),
  /** Made invisible: an empty read-only directory or an empty file in their place. */
  hidden: z.array(z.string()),
  /**
   * With network `none`: the hosts (`host`, `host:port`, `*.domain`) reachable through the
   * worker's filtering proxy (HTTP and HTTPS via HTTP(S)_PROXY); empty: none.
   */
  allow_hosts: z.array(z.string()).default([]),
});
export type SandboxSpec = z.infer<typeof SandboxSpecSchema>;

/** The sandbox of an assignment written before sandboxes existed: none. */
export const NO_SANDBOX: SandboxSpec = { mode: 'none', network: 'allow', writable: [], hidden: [], allow_hosts: [] };

export const AssignmentSchema = z.object({
  protocol: ProtocolField,
  run_id: z.string(),
  task: ResolvedTaskSchema,
  attempt: z.number().int().min(1),
  worker: z.string(),
  assigned_at: Iso,
  /**
   * The directory the backend runs in: the worktree (or the repository) joined with the task's
   * `cwd`. Relative to the repository's top level (protocol 3; absolute in 2).
   */
  workspace: z.string(),
  base_commit: z.string().nullable(),
  /** Time limit of the attempt, counted from when the worker starts it, ms. */
  timeout_ms: z.number().int(),
  /** SIGTERM → SIGKILL grace when the attempt's process group is stopped, ms. */
  kill_grace_ms: z.number().int(),
  /** Environment added for the backend (SWARM_RUN_DIR, SWARM_TASK_ID, SWARM_ATTEMPT and the task's env). */
  env: z.record(z.string(), z.string()),
  /** The last (up to 3) earlier attempts of this task, oldest first. */
  previous: z.array(PreviousAttemptSchema),
  /** Succeeded dependencies and their summaries. */
  dependencies: z.array(z.object({ id: Id, summary: z.string().nullable() })),
  /** The run's goal (agents see it in their system prompt). */
  goal: z.string().nullable(),
  /** Agent backends: the model, limits, caps and price, and the backend's own settings; null for command tasks. */
  agent: AgentSpecSchema.nullable(),
  /** Git isolation: the worktree to create at `base_commit` and the ref that keeps the attempt's commit; null: run in place. */
  git: z
    .object({
      /** The repository: `.` (protocol 3: paths are relative to its top level; absolute in 2). */
      repo: z.string(),
      /** Worktree path: .swarm/worktrees/<run-id>/<task>-<n> (protocol 3; absolute under the repository in 2). */
      worktree: z.string(),
      /** refs/swarm/<run-id>/<task>/<n>. */
      ref: z.string(),
      /** Commit message of the attempt's work. */
      message: z.string(),
    })
    .nullable(),
  /** Set when the previous attempt's merge conflicted: the files, and that attempt's diff (truncated). */
  conflict: z.object({ attempt: z.number().int(), files: z.array(z.string()), diff: z.string() }).nullable(),
  /**
   * Set when the task's previous merge broke the integration check (`integration.verify`): the
   * check, the tip it failed on, its command, its last output lines, and that attempt's diff.
   */
  integration: z
    .object({
      attempt: z.number().int(),
      check: z.number().int(),
      tip: z.string(),
      command: z.string(),
      output_tail: z.array(z.string()),
      diff: z.string(),
    })
    .nullable()
    .default(null),
  /**
   * `merge.on_conflict: resolve`: this attempt is the resolver role's agent, finishing the merge of
   * the task's attempt `attempt` (`commit`) onto `base_commit`, which conflicted in `files`. The
   * workspace starts with that merge in progress (conflict markers in the files). `branch_diff`:
   * what the integration branch changed in those files since that attempt's base; `task_diff`: the
   * attempt's own diff; `others`: the tasks whose merged work it meets there.
   */
  resolve: z
    .object({
      attempt: z.number().int(),
      commit: z.string(),
      files: z.array(z.string()),
      branch_diff: z.string(),
      task_diff: z.string(),
      others: z.array(z.object({ id: z.string(), title: z.string(), description: z.string() })),
    })
    .nullable()
    .default(null),
  /** How the attempt's processes are confined; absent in an assignment of an older fileswarm: none. */
  sandbox: SandboxSpecSchema.default(NO_SANDBOX),
});
export type Assignment = z.infer<typeof AssignmentSchema>;

/** tasks/<task>/<n>/status.json: replaced by the worker while the attempt runs. */
export const AttemptStatusSchema = z.object({
  state: z.enum(['starting', 'running', 'finished']),
  worker: z.string(),
  host: z.string(),
  /** Process group id of the backend's processes (kill -pgid stops them all), once spawned. */
  pgid: z.number().int().nullable(),
  started_at: Iso,
  heartbeat_at: Iso,
  /** Agent turn number, for agent backends. */
  turn: z.number().int().nullable(),
  /** Last thing the backend did: an output line, a tool call. */
  activity: z.string().nullable(),
  /** Agent backends: usage so far; null for command tasks. */
  usage: UsageSchema.nullable(),
});
export type AttemptStatus = z.infer<typeof AttemptStatusSchema>;

/** Outcome of an attempt. */
/** What an integration check runs on: the run's base commit, the whole queue, or a prefix of it while bisecting. */
export const IntegrationCheckKind = z.enum(['base', 'batch', 'bisect']);
export type IntegrationCheckKind = z.infer<typeof IntegrationCheckKind>;

/** A merge into the integration branch that waits for an integration check: `tip` is the branch after it. */
export const QueuedMerge = z.object({
  task: z.string(),
  attempt: z.number().int(),
  commit: z.string(),
  tip: z.string(),
});
export type QueuedMerge = z.infer<typeof QueuedMerge>;

export const AttemptOutcome = z.enum(['succeeded', 'failed', 'cancelled', 'timed-out']);
export type AttemptOutcome = z.infer<typeof AttemptOutcome>;

/**
 * Why an attempt ended as it did (a tag, like wireit's failure reasons):
 * - `exit-zero` / `exit-non-zero`: the command exited with that status;
 * - `killed-by-signal`: the command died of a signal nobody in fileswarm sent;
 * - `spawn-failed`: the command could not be started (cwd missing, shell missing);
 * - `timed-out`: it ran past the task's timeout and its process group was stopped;
 * - `cancel-requested`: a control request cancelled the task;
 * - `interrupted`: Ctrl-C twice: cancelled, and run again on resume;
 * - `worker-lost`: written by the coordinator only (in events), when a worker died without a result;
 * - `verify-failed`: the command succeeded but the task's `verify` command did not;
 * - `workspace-failed`: the attempt's git worktree could not be created or its work not committed;
 * - `merge-conflict`: used by `task.failed` only, when the attempt's commit conflicted (merge.on_conflict: fail, or too many conflicts);
 * - `merge-failed`: used by `task.failed` only, when git could not merge for another reason (the branch or commit is gone);
 * - `integration-failed`: used by `task.failed` only, when the task's merge broke the integration check and it has no retry left;
 * - `finished`: an agent called `finish` (or ended its turn with a final answer);
 * - `loop-detected`: an agent made the same tool call (name and input) 3 times in a row;
 * - `max-turns` / `max-cost` / `max-tokens`: an agent reached its role's limit;
 * - `budget-exhausted`: an agent reached the share of the run budget it was given (does not use a retry);
 * - `api-error`: the model API kept failing (after retries), or refused the request (bad key, bad request).
 */
export const AttemptReason = z.enum([
  'exit-zero',
  'exit-non-zero',
  'killed-by-signal',
  'spawn-failed',
  'timed-out',
  'cancel-requested',
  'interrupted',
  'worker-lost',
  'verify-failed',
  'workspace-failed',
  'merge-conflict',
  'merge-failed',
  'integration-failed',
  'finished',
  'loop-detected',
  'max-turns',
  'max-cost',
  'max-tokens',
  'budget-exhausted',
  'api-error',
]);
export type AttemptReason = z.infer<typeof AttemptReason>;

/** tasks/<task>/<n>/result.json: written once by the worker, fsynced: THE commit point of an attempt. */
export const AttemptResultSchema = z.object({
  protocol: ProtocolField,
  task: Id,
  attempt: z.number().int(),
  worker: z.string(),
  outcome: AttemptOutcome,
  reason: AttemptReason,
  /** One line for humans. */
  summary: z.string(),
  exit_code: z.number().int().nullable(),
  signal: z.string().nullable(),
  started_at: Iso,
  finished_at: Iso,
  duration_ms: z.number().int(),
  stderr_tail: z.array(z.string()),
  /** Agent backends only: tokens and cost of the whole attempt. */
  usage: UsageSchema.nullable(),
  /** Agent backends only: turns (model requests) made. */
  turns: z.number().int().nullable(),
  /** Agent-CLI backends: the CLI's session or thread id (to find its own logs, or continue it); null otherwise. */
  session: z.string().nullable().default(null),
  /** Git isolation only: the commit of everything in the worktree (any outcome), null if nothing changed. */
  commit: z.string().nullable(),
  /** Files the commit changes, relative to the repository root. */
  files_changed: z.array(z.string()).nullable(),
  /** The task's verify command, run in the workspace after the backend succeeded. */
  verify: z
    .object({ command: z.string(), exit_code: z.number().int().nullable(), output_tail: z.array(z.string()) })
    .nullable(),
});
export type AttemptResult = z.infer<typeof AttemptResultSchema>;
