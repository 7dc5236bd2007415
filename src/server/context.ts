// What every route of the server shares: its options, the ids it accepts in paths, and where a
// run's directory is.
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { creatingDir } from '../protocol/paths.js';
import { TASK_ID_PATTERN } from '../protocol/task-id.js';
import { RUN_ID_PATTERN } from '../protocol/run-id.js';

/** What the server needs. */
export interface ServerOptions {
  /** The directory whose children are run directories, named by run id (absolute). */
  runsDir: string;
  /** The repository runs are started in; a config or plan given as a path is inside it (absolute). */
  repo: string;
  /** The config `POST /api/runs` uses when the request names none (`swarm serve --config`), relative to `repo`. */
  defaultConfig?: string;
  /** When set, every /api request must carry `Authorization: Bearer <token>`. */
  token?: string;
  /** Origins allowed to call the API from a browser (CORS); none by default: CORS stays off. */
  corsOrigins?: string[];
  /** Runs `POST /api/runs` may start per minute, from one client address (default 10). */
  startsPerMinute?: number;
  /** SSE keep-alive comment interval, ms (default 15 s). */
  keepAliveMs?: number;
}

/** A run id: a ULID (26 characters of Crockford's base 32), checked before any path is built. */
export const RunIdSchema = z.string().regex(RUN_ID_PATTERN, { message: 'a run id is a ULID' });

/** The path parameters of a run. */
export const RunParams = z.object({ id: RunIdSchema });

/** The path parameters of a task of a run (the task id checked against the task-id pattern). */
export const TaskParams = RunParams.extend({
  task: z.string().regex(TASK_ID_PATTERN, { message: 'not a task id' }),
});

/** Where a run is, as far as its directory tells. */
export type RunPlace =
  /** It has run.json: readable like any run. */
  | { kind: 'run'; dir: string }
  /**
   * `swarm run` is creating it (its planner may be at work): its directory exists under its
   * temporary name (`.<id>.creating`), or without run.json. `dir` is where it will be.
   */
  | { kind: 'starting'; dir: string }
  | { kind: 'none' };

/** Where the run `id` (a validated ULID) of `runsDir` is. */
export function placeOf(runsDir: string, id: string): RunPlace {
  const dir = path.join(runsDir, id);
  if (fs.existsSync(path.join(dir, 'run.json'))) return { kind: 'run', dir };
  return fs.existsSync(dir) || fs.existsSync(creatingDir(dir)) ? { kind: 'starting', dir } : { kind: 'none' };
}
