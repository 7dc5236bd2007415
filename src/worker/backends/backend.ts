// The interface every backend implements (DESIGN §6): run one attempt, report how it ended.
import type { Logger } from 'pino';
import type { AttemptPaths } from '../../protocol/paths.js';
import type { Assignment, AttemptOutcome, AttemptReason, Usage } from '../../protocol/schemas.js';
import type { Sandbox } from '../sandbox/sandbox.js';

/** Why an attempt is being stopped early (the AbortSignal's reason). */
export type StopReason = 'timed-out' | 'cancel-requested' | 'interrupted';

/**
 * How an attempt stopped for `why` ended, the same for every backend: `timed-out` (summary `timed
 * out after N ms`) or `cancelled` (`interrupted (Ctrl-C)`, `cancelled by request`).
 * @param timeoutMs the attempt's time limit (assignment.json `timeout_ms`), for the summary
 */
export function stoppedOutcome(
  why: StopReason,
  timeoutMs: number,
): { outcome: 'timed-out' | 'cancelled'; reason: StopReason; summary: string } {
  const summary =
    why === 'timed-out'
      ? `timed out after ${timeoutMs} ms`
      : why === 'interrupted'
        ? 'interrupted (Ctrl-C)'
        : 'cancelled by request';
  return { outcome: why === 'timed-out' ? 'timed-out' : 'cancelled', reason: why, summary };
}

/**
 * A normalized event of an attempt (a line of the attempt's events.jsonl, DESIGN §6). `text` is
 * one line for people; agent events add the structured fields of their type.
 */
export interface AttemptEvent {
  type: 'message' | 'tool_call' | 'tool_result' | 'usage' | 'error' | 'log';
  text: string;
  /** tool_call / tool_result: the tool's name. */
  name?: string;
  /** tool_call: the tool's input (long strings cut). */
  input?: unknown;
  /** tool_result: the output the model got (cut to 2000 characters here). */
  output?: string;
  is_error?: boolean;
  /** usage: the turn, that turn's usage, and the attempt's total so far. */
  turn?: number;
  usage?: Usage;
  total?: Usage;
}

/** Progress of an agent, for status.json: the turn, the last thing it did, usage so far. */
export interface AgentProgress {
  turn: number;
  activity: string;
  usage: Usage;
}

/** What a backend gets to run an attempt. */
export interface AttemptContext {
  assignment: Assignment;
  paths: AttemptPaths;
  /**
   * Absolute directory the backend works in, made ready by the attempt's Workspace: the attempt's
   * worktree (git isolation) or the repository, joined with the task's `cwd`.
   */
  workspace: string;
  /** Aborted with a {@link StopReason} when the attempt must stop (timeout, cancel, Ctrl-C twice). */
  signal: AbortSignal;
  /**
   * Environment of the worker, plus the assignment's: what a backend reads its settings from (an API
   * key). A process started in {@link sandbox} gets the sandbox's environment instead.
   */
  env: Record<string, string | undefined>;
  /**
   * Where every process of the attempt must run (assignment.json `sandbox`, mode `workspace`); null:
   * on the host with the worker's rights (mode `none`).
   */
  sandbox: Sandbox | null;
  /** Call once the backend's process group exists, so the worker can record it in status.json. */
  onSpawn(pgid: number): void;
  /** Records a normalized event. */
  emit(event: AttemptEvent): void;
  /** Agent backends: reports progress (written to status.json at once). */
  progress(p: AgentProgress): void;
  log: Logger;
}

/** How an attempt ended, as a backend reports it. The worker adds timing and writes result.json. */
export interface BackendOutcome {
  outcome: AttemptOutcome;
  reason: AttemptReason;
  exit_code: number | null;
  signal: string | null;
  summary: string;
  /** Agent backends: what the attempt spent, and its turns. */
  usage?: Usage;
  turns?: number;
  /** Agent-CLI backends: the CLI's session or thread id. */
  session?: string | null;
}

/**
 * A way of running attempts: each backend's `backend.ts`, loaded by the worker through the registry
 * (registry.ts `loadBackend`).
 */
export interface Backend {
  run(ctx: AttemptContext): Promise<BackendOutcome>;
}
