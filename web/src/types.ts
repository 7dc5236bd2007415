// The shapes the page reads from the HTTP API of `swarm serve` (src/server/app.ts). They mirror
// src/presenter/status-report.ts and src/protocol/schemas.ts; only what the page uses is typed.

/** A task state (src/protocol/state.ts TaskStateName). */
export type TaskState =
  'pending' | 'ready' | 'running' | 'verifying' | 'succeeded' | 'failed' | 'skipped' | 'cancelled';

/** Every task state, in the order the page lists them. */
export const TASK_STATES: readonly TaskState[] = [
  'running',
  'verifying',
  'ready',
  'pending',
  'succeeded',
  'failed',
  'skipped',
  'cancelled',
];

/** A run phase (src/protocol/state.ts RunPhase). */
export type RunPhase = 'starting' | 'running' | 'paused' | 'stopping' | 'finished';

/** Tokens and money spent (src/protocol/schemas.ts UsageSchema); cost in USD. */
export interface Usage {
  input_tokens: number;
  output_tokens: number;
  cache_read_tokens: number;
  cache_write_tokens: number;
  cost_usd: number;
}

/** The run's caps (state.json `budget`): USD and tokens, null when uncapped; `exhausted` once dispatch stopped on them. */
export interface Budget {
  max_cost_usd: number | null;
  max_tokens: number | null;
  exhausted: boolean;
}

/** One run of `GET /api/runs`. */
export interface RunSummary {
  id: string;
  goal: string | null;
  /** ISO-8601. */
  created_at: string;
  phase: RunPhase;
  outcome: 'succeeded' | 'failed' | null;
  counts: Record<TaskState, number>;
  total: number;
  cost_usd: number | null;
}

/** `GET /api/runs`: a page of runs, newest first; `next` is the `before` of the next page. */
export interface RunList {
  runs: RunSummary[];
  next: string | null;
}

/** One task of a status report. */
export interface TaskStatus {
  id: string;
  title: string;
  role: string | null;
  state: TaskState;
  wave: number;
  deps: string[];
  critical: boolean;
  attempts: number;
  /** ms. */
  duration_ms: number | null;
  cost_usd: number | null;
  note: string | null;
  worker: string | null;
  activity: string | null;
}

/** Coordinator liveness (src/protocol/run-reader.ts). */
export type Liveness = 'alive' | 'stopped' | 'dead' | 'unknown' | 'none';

/** `GET /api/runs/:id`: what `swarm status --json` prints. */
export interface StatusReport {
  run: { id: string; goal: string | null; dir: string; created_at: string };
  phase: RunPhase;
  outcome: 'succeeded' | 'failed' | null;
  coordinator: { liveness: Liveness; pid: number | null; host: string | null; heartbeat_at: string | null };
  resume_command: string | null;
  counts: Record<TaskState, number>;
  total: number;
  elapsed_ms: number | null;
  usage: Usage | null;
  budget: Budget | null;
  git: { branch: string; base: string; tip: string } | null;
  /** The merge queue (`integration.verify`); null without integration checks. */
  integration: {
    verified: { tip: string; check: number } | null;
    queue: { task: string; attempt: number; commit: string; tip: string }[];
    checks: number;
    check_ms: number;
    check: { check: number; tip: string; kind: 'base' | 'batch' | 'bisect'; merges: number } | null;
  } | null;
  tasks: TaskStatus[];
}

/** An attempt's status.json (while it runs, and after). */
export interface AttemptStatus {
  state: 'starting' | 'running' | 'finished';
  worker: string;
  started_at: string;
  heartbeat_at: string;
  turn: number | null;
  activity: string | null;
  usage: Usage | null;
}

/** An attempt's result.json: written once when it ends. */
export interface AttemptResult {
  outcome: 'succeeded' | 'failed' | 'cancelled' | 'timed-out';
  reason: string;
  summary: string;
  exit_code: number | null;
  signal: string | null;
  started_at: string;
  finished_at: string;
  duration_ms: number;
  stderr_tail: string[];
  usage: Usage | null;
  turns: number | null;
  commit: string | null;
  files_changed: string[] | null;
  verify: { command: string; exit_code: number | null; output_tail: string[] } | null;
}

/** A task as planned (plan.json). */
export interface PlannedTask {
  id: string;
  title: string;
  description: string;
  deps: string[];
  role: string | null;
  backend: string;
  run: string | null;
  verify: string | null;
}

/** `GET /api/runs/:id/tasks/:task`. */
export interface TaskDetail {
  task: PlannedTask;
  state: { state: TaskState; attempts: number };
  attempts: {
    attempt: number;
    status: AttemptStatus | null;
    result: AttemptResult | null;
    /** The attempt's commit against where it started: lines added and deleted per file (null: binary); null without a commit. */
    diffstat: { path: string; added: number | null; deleted: number | null }[] | null;
    log: string;
  }[];
}

/** The files of an attempt the log route serves. */
export type LogFile = 'events' | 'stdout' | 'stderr' | 'verify' | 'transcript' | 'bash';

/** A config issue of a 400 from `POST /api/runs` (src/config/source.ts). */
export interface ConfigIssue {
  file: string;
  /** 1-based. */
  line?: number;
  col?: number;
  /** A field path such as `tasks[2].deps[0]`; empty for the whole document. */
  field: string;
  message: string;
}

/** A control action (src/protocol/schemas.ts ControlAction). */
export type ControlAction = 'pause' | 'resume' | 'cancel-task' | 'retry-task' | 'stop-run';

/** Waves `from` to `to`, inclusive. */
export interface WaveRange {
  from: number;
  to: number;
}

/** `wave 3` or `waves 16–31`. */
export function waveLabel(r: WaveRange): string {
  return r.from === r.to ? `wave ${r.from}` : `waves ${r.from}–${r.to}`;
}
