// What the dashboard's model is fed: the facts of a run directory as the reader (source.ts) finds
// them: run.json, plan.json and the state to start from, each worker.json, a running attempt's
// status.json, an attempt's files, and the control requests this dashboard made.
import type { SwarmEvent } from '../protocol/events.js';
import type { PlanJson, RunJson, WorkerJson } from '../protocol/schemas.js';
import type { RunState } from '../protocol/state.js';
import { asPlainObject } from '../util/plain-object.js';
import { numberField, stringField } from './loose.js';
import { usageField, type Usage } from './usage.js';

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

/** Reads the live part of a status.json; null if it is not an object. */
export function attemptLiveOf(attempt: number, status: unknown): AttemptLive | null {
  const o = asPlainObject(status);
  if (!o) return null;
  return {
    attempt,
    state: stringField(o, 'state') ?? 'starting',
    started_at: stringField(o, 'started_at'),
    heartbeat_at: stringField(o, 'heartbeat_at'),
    turn: numberField(o, 'turn'),
    activity: stringField(o, 'activity'),
    usage: usageField(o),
  };
}
