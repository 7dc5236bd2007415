// Reads a run directory as a whole: for `swarm status`, resume and the dashboard.
import fs from 'node:fs';
import { ProtocolFileError, readJsonFile } from './files.js';
import { EventSchema, type SwarmEvent } from './events.js';
import { readJsonl } from './jsonl.js';
import { RunPaths } from './paths.js';
import {
  CoordinatorJsonSchema,
  PlanJsonSchema,
  RunJsonSchema,
  type CoordinatorJson,
  type PlanJson,
  type RunJson,
} from './schemas.js';
import { applyEvent, initialState, type RunState } from './state.js';
import { HOST, pidAlive } from '../util/process.js';

/** Everything known about a run from its directory. */
export interface RunSnapshot {
  paths: RunPaths;
  run: RunJson;
  plan: PlanJson | undefined;
  state: RunState;
  /** Byte offset in events.jsonl just after the last event applied (tail from here). */
  eventsOffset: number;
  coordinator: CoordinatorJson | undefined;
  /** Judged with the run's `liveness.stale_after` for a coordinator on another host. */
  liveness: CoordinatorLiveness;
  /** Ids of control requests already applied (a crash may leave one applied but not archived). */
  appliedRequests: Set<string>;
}

/** Whether the run's coordinator is running: `alive`, `stopped` (exited normally), `dead` (crashed), `unknown` (another host, stale heartbeat). */
export type CoordinatorLiveness = 'alive' | 'stopped' | 'dead' | 'unknown' | 'none';

/** A directory that is not a readable run directory. */
export class NotARunError extends Error {
  constructor(
    readonly dir: string,
    why: string,
  ) {
    super(`${dir}: not a run directory (${why})`);
    this.name = 'NotARunError';
  }

  /** For a directory without run.json; says so when it is what a failed planning left (planner.json only). */
  static noRunJson(paths: RunPaths): NotARunError {
    return fs.existsSync(paths.plannerJson)
      ? new NotARunError(
          paths.root,
          `no run.json: the planner gave no plan here and nothing ran; its transcript is ${paths.plannerJson}`,
        )
      : new NotARunError(paths.root, 'no run.json');
  }
}

/** Parses and validates events from JSONL records. @throws ProtocolFileError on a malformed event. */
export function parseEvents(file: string, records: unknown[]): SwarmEvent[] {
  return records.map((r) => {
    const parsed = EventSchema.safeParse(r);
    if (!parsed.success)
      throw new ProtocolFileError(
        file,
        `bad event ${JSON.stringify(r).slice(0, 200)}: ${parsed.error.issues[0]?.message}`,
      );
    return parsed.data;
  });
}

/**
 * Loads a run directory: run.json, plan.json, then the state, rebuilt by replaying events.jsonl
 * from seq 1 (state.json is only a snapshot for readers that want to start faster).
 * @throws NotARunError if run.json is missing; ProtocolFileError if a file is malformed.
 */
export function loadRun(dir: string): RunSnapshot {
  const paths = new RunPaths(dir);
  const run = readJsonFile(paths.runJson, RunJsonSchema);
  if (!run) throw NotARunError.noRunJson(paths);
  const plan = readJsonFile(paths.planJson, PlanJsonSchema);
  const state = initialState();
  const chunk = readJsonl(paths.eventsJsonl);
  const events = parseEvents(paths.eventsJsonl, chunk.records);
  for (const e of events) applyEvent(state, e);
  const coordinator = readJsonFile(paths.coordinatorJson, CoordinatorJsonSchema);
  const appliedRequests = new Set(events.flatMap((e) => (e.type === 'control.applied' ? [e.request] : [])));
  const staleAfterMs = run.config.liveness.stale_after;
  return {
    paths,
    run,
    plan,
    state,
    eventsOffset: chunk.offset,
    coordinator,
    liveness: coordinatorLiveness(coordinator, staleAfterMs),
    appliedRequests,
  };
}

/** Judges a coordinator's liveness from coordinator.json: its pid on this host, else its heartbeat. */
export function coordinatorLiveness(
  c: CoordinatorJson | undefined,
  staleAfterMs: number,
  now = Date.now(),
): CoordinatorLiveness {
  if (!c) return 'none';
  if (c.stopped_at) return 'stopped';
  if (c.host === HOST) return pidAlive(c.pid) ? 'alive' : 'dead';
  return now - Date.parse(c.heartbeat_at) < staleAfterMs ? 'alive' : 'unknown';
}
