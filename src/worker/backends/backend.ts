// The interface every backend implements (DESIGN §6): run one attempt, report how it ended.
import type { Logger } from 'pino';
import type { AttemptPaths } from '../../protocol/paths.js';
import type { Assignment, AttemptOutcome, AttemptReason } from '../../protocol/schemas.js';

/** Why an attempt is being stopped early (the AbortSignal's reason). */
export type StopReason = 'timed-out' | 'cancel-requested' | 'interrupted';

/** A normalized event of an attempt (events.jsonl of the attempt). */
export interface AttemptEvent {
  type: 'message' | 'tool_call' | 'tool_result' | 'usage' | 'error' | 'log';
  text: string;
}

/** What a backend gets to run an attempt. */
export interface AttemptContext {
  assignment: Assignment;
  paths: AttemptPaths;
  /** Aborted with a {@link StopReason} when the attempt must stop (timeout, cancel, Ctrl-C twice). */
  signal: AbortSignal;
  /** Environment for the backend's processes: the worker's, plus the assignment's. */
  env: Record<string, string | undefined>;
  /** Call once the backend's process group exists, so the worker can record it in status.json. */
  onSpawn(pgid: number): void;
  /** Records a normalized event. */
  emit(event: AttemptEvent): void;
  log: Logger;
}

/** How an attempt ended, as a backend reports it. The worker adds timing and writes result.json. */
export interface BackendOutcome {
  outcome: AttemptOutcome;
  reason: AttemptReason;
  exit_code: number | null;
  signal: string | null;
  summary: string;
}

/** A way of running attempts. One module per backend. */
export interface Backend {
  run(ctx: AttemptContext): Promise<BackendOutcome>;
}
