// What the dashboard's model answers with: the view models the panes draw (the header, a task's
// row, the task list's lines, a wave's progress, a worker's line, a line of the event feed), and
// `swarm status` prints.
import type { CoordinatorLiveness } from '../protocol/run-reader.js';
import type { RunState, TaskStateName } from '../protocol/state.js';
import type { Line, Tone } from './theme.js';
import type { Budget, Usage } from './usage.js';

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
  /**
   * Integration checks: `verified by check N` when the tip is verified, `checking (check N)` while
   * one runs, `N merge(s) unverified` otherwise; null without integration checks.
   */
  verified: string | null;
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

/** The run-level meaning of an event, as a line of the feed. */
export interface FeedLine extends Line {
  seq: number;
  at: string;
}
