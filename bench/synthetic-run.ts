// A large run directory made by the protocol's own writers, without running anything: the plan
// goes through the one plan validator (validatePlan), plan.json and run.json are written as
// `swarm run` writes them, and every event goes through the coordinator's EventLog (which also
// writes state.json). So the directory cannot drift from the protocol the way hand-typed JSON
// could. Used by the dashboard benchmark and by the dashboard's unit tests (10,000 tasks).
import fs from 'node:fs';
import path from 'node:path';
import { ConfigSchema } from '../src/config/schema.js';
import { EventLog } from '../src/coordinator/event-log.js';
import { validatePlan } from '../src/plan/plan.js';
import { writeJsonAtomicSync } from '../src/protocol/files.js';
import { RunPaths } from '../src/protocol/paths.js';
import { PROTOCOL_VERSION, type PlanJson, type RunJson } from '../src/protocol/schemas.js';
import { initialState } from '../src/protocol/state.js';
import { randomDag } from './lib.js';

/** What to simulate. */
export interface SyntheticRunOptions {
  /** Number of tasks (a seeded random DAG, `randomDag` of bench/lib.ts). */
  tasks: number;
  seed?: number;
  /** Tasks to finish, in plan order (deps always come earlier, so they can run in that order). */
  finished: number;
  /** Tasks to leave running after those, one per worker at most. */
  running: number;
  /**
   * Every `failEvery`-th finished task that nothing depends on fails (exit 1), so failures do not
   * skip half of a random DAG. 0: none.
   */
  failEvery?: number;
  workers?: number;
  /**
   * The run id (default `01SYNTHETIC<tasks>`, which is not a ULID: give a ULID to serve the run
   * with `swarm serve`, which takes only ULIDs as run directory names).
   */
  runId?: string;
}

/**
 * Writes a run directory at `dir` (created; must not exist or be empty) with `run.json`,
 * `plan.json`, `events.jsonl`, `state.json` and no `coordinator.json`: a run as its last
 * coordinator left it after a crash (no coordinator file is written, so liveness is `none`).
 * @returns the run id and the number of events written.
 */
export async function writeSyntheticRun(
  dir: string,
  options: SyntheticRunOptions,
): Promise<{ runId: string; events: number }> {
  const { seed = 4242, failEvery = 0, workers = 8 } = options;
  const dag = randomDag(options.tasks, seed);
  const config = ConfigSchema.parse({
    version: 1,
    workers,
    git: { isolation: 'none' },
    tasks: dag.map((t) => ({ ...t, run: 'true' })),
  });
  const plan = validatePlan(config.tasks ?? [], config);
  if (!plan.ok) throw new Error(`synthetic plan invalid: ${plan.error[0]?.message}`);
  const paths = new RunPaths(dir);
  fs.mkdirSync(paths.root, { recursive: true });
  const runId = options.runId ?? `01SYNTHETIC${String(options.tasks).padStart(15, '0')}`.slice(0, 26);
  const { tasks: _tasks, ...snapshot } = config;
  const planJson: PlanJson = { protocol: PROTOCOL_VERSION, ...plan.value, planner: null };
  const runJson: RunJson = {
    protocol: PROTOCOL_VERSION,
    id: runId,
    goal: `synthetic run of ${options.tasks} tasks`,
    created_at: new Date().toISOString(),
    config_file: null,
    config: snapshot,
    repo: path.dirname(paths.root),
    base_commit: null,
    integration_branch: null,
    source: null,
  };
  writeJsonAtomicSync(paths.planJson, planJson);
  writeJsonAtomicSync(paths.runJson, runJson);

  const log = new EventLog(paths, initialState(), 60_000);
  log.append({
    type: 'run.started',
    run_id: runId,
    goal: runJson.goal,
    pid: process.pid,
    host: 'synthetic',
    base_commit: null,
    integration_branch: null,
    budget: { max_cost_usd: null, max_tokens: null },
    planner_usage: null,
  });
  log.append({
    type: 'plan.created',
    tasks: planJson.tasks.map((t) => t.id),
    waves: planJson.waves,
    critical_path: planJson.critical_path,
  });
  const hasDependents = new Set(planJson.tasks.flatMap((t) => t.deps));
  let sinks = 0;
  let worker = 0;
  const nextWorker = (): string => `w${(worker++ % workers) + 1}`;
  planJson.tasks.forEach((t, i) => {
    const depsDone = t.deps.every((d) => log.state.tasks[d]?.state === 'succeeded');
    if (i >= options.finished + options.running) {
      if (depsDone) log.append({ type: 'task.ready', task: t.id, not_before: null });
      return;
    }
    if (!depsDone) return; // a dependency is still running: this one stays pending
    const w = nextWorker();
    log.append({ type: 'task.ready', task: t.id, not_before: null });
    log.append({ type: 'attempt.assigned', task: t.id, attempt: 1, worker: w });
    log.append({ type: 'attempt.started', task: t.id, attempt: 1, worker: w });
    if (i >= options.finished) return; // left running
    const fails = failEvery > 0 && !hasDependents.has(t.id) && ++sinks % failEvery === 0;
    log.append({
      type: 'attempt.finished',
      task: t.id,
      attempt: 1,
      outcome: fails ? 'failed' : 'succeeded',
      reason: fails ? 'exit-non-zero' : 'exit-zero',
      exit_code: fails ? 1 : 0,
      duration_ms: 5 + (i % 50),
      summary: fails ? 'exited with code 1' : 'exited with code 0',
      usage: null,
    });
    log.append(
      fails ? { type: 'task.failed', task: t.id, reason: 'exit-non-zero' } : { type: 'task.succeeded', task: t.id },
    );
  });
  await log.close();
  return { runId, events: log.state.last_seq };
}
