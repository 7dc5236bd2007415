// Reopening a run for `swarm resume`: take its lock, cut a torn last line off the log, replay it,
// check the API keys, and say whether there is anything to continue. Prints nothing.
import { launcherProblems, launcherReachable } from '../coordinator/launchers/preflight.js';
import { acquireRunLock, type RunLock } from '../coordinator/run-lock.js';
import { readJsonFile } from '../protocol/files.js';
import { truncateTornTail } from '../protocol/jsonl.js';
import { RunPaths } from '../protocol/paths.js';
import { loadRun, NotARunError, type RunSnapshot } from '../protocol/run-reader.js';
import { RunJsonSchema, type RunJson } from '../protocol/schemas.js';
import type { RunState } from '../protocol/state.js';
import { err, ok, type Result } from '../util/result.js';
import { creationMessage, finishCreation, findCreation } from './interrupted-creation.js';
import { backendProblems, missingKeys, sandboxProblems } from './planning.js';
import { refused, type Run, type RunFailure } from './run.js';

/** What to continue and how: the arguments of `swarm resume`. */
export interface ResumeRunInput {
  /** The run directory. */
  runDir: string;
  /** `--retry-failed`: also run failed, cancelled and skipped tasks again (and reopen a finished run for them). */
  retryFailed?: boolean;
  /** `--max-cost-usd`: the run's new cost cap, in USD. */
  maxCostUsd?: number;
  /** `--max-tokens`: the run's new token cap (all four counts added up). */
  maxTokens?: number;
}

/**
 * What a resumable run directory holds: a run to continue (its lock held), or a run that finished
 * already (`outcome` from the replayed state; the lock released), which only `retryFailed` reopens.
 */
export type ResumeOutcome =
  { kind: 'ready'; run: Run } | { kind: 'finished'; id: string; root: string; outcome: RunState['outcome'] };

/**
 * Reopens a run from its directory alone: reads run.json, takes the run lock (a lock whose holder
 * is dead is taken over, judged by the run's `liveness.stale_after` on another host), truncates a
 * torn last line of events.jsonl, replays the events, and checks the API keys the plan's agent
 * tasks need. Never prints or exits.
 *
 * @returns a {@link ResumeOutcome}, or a {@link RunFailure}, always `refused` with exit 2:
 *   `not-a-run` (no or malformed run.json, a malformed event, no plan.json: "the run never
 *   started"; a run directory still under its temporary name that is being created, or that a
 *   killed `swarm run` left before run.json: "interrupted before it started; nothing ran"),
 *   `lock-held` (a live coordinator holds the lock), `missing-key`. Nothing is written but the
 *   torn tail cut off, and a complete run directory left under its temporary name (run.json
 *   written, its `swarm run` killed before the rename) renamed into place; every failure
 *   releases the lock.
 * @throws on a file system error taking the lock, after releasing it if it held it.
 */
export async function resumeRun(input: ResumeRunInput): Promise<Result<ResumeOutcome, RunFailure>> {
  const paths = new RunPaths(input.runDir);
  let runJson: RunJson | undefined;
  try {
    runJson = readJsonFile(paths.runJson, RunJsonSchema);
  } catch (e) {
    return err(refused('not-a-run', (e as Error).message));
  }
  if (!runJson) {
    // Still under its temporary name: a complete one (run.json written) whose `swarm run` died
    // before the rename is moved into place and resumed; any other is refused, saying what it is.
    const creation = findCreation(paths.root);
    if (!creation) return err(refused('not-a-run', NotARunError.noRunJson(paths).message));
    if (creation.creator.state === 'alive' || !creation.complete)
      return err(refused('not-a-run', creationMessage(creation)));
    try {
      finishCreation(creation);
      runJson = readJsonFile(paths.runJson, RunJsonSchema);
    } catch (e) {
      return err(
        refused('not-a-run', `${paths.root}: cannot move ${creation.dir} into place: ${(e as Error).message}`),
      );
    }
    if (!runJson) return err(refused('not-a-run', NotARunError.noRunJson(paths).message));
  }
  const lock = await acquireRunLock(paths, runJson.config.liveness.stale_after);
  if (!lock.ok) return err(refused('lock-held', `${paths.root}: ${lock.error.message}`));
  try {
    const reopened = await reopen(input, paths, lock.value);
    if (!reopened.ok || reopened.value.kind === 'finished') lock.value.release();
    return reopened;
  } catch (e) {
    lock.value.release();
    throw e;
  }
}

/** The part under the lock: replay, keys, and whether anything is left to do. */
async function reopen(
  input: ResumeRunInput,
  paths: RunPaths,
  lock: RunLock,
): Promise<Result<ResumeOutcome, RunFailure>> {
  let snapshot: RunSnapshot;
  try {
    truncateTornTail(paths.eventsJsonl);
    snapshot = loadRun(paths.root);
  } catch (e) {
    return err(refused('not-a-run', (e as Error).message));
  }
  if (!snapshot.plan) return err(refused('not-a-run', `${paths.planJson}: missing; the run never started`));
  const { state } = snapshot;
  // What the rest of the run needs: the tasks not yet succeeded (a CLI uninstalled after its tasks
  // succeeded does not stop a resume).
  const remaining = snapshot.plan.tasks.filter((t) => snapshot.state.tasks[t.id]?.state !== 'succeeded');
  const keys = missingKeys(snapshot.run.config, false, remaining);
  if (keys.length > 0) return err(refused('missing-key', ...keys));
  const problems = backendProblems(snapshot.run.config, false, remaining, snapshot.run.repo);
  if (problems.length > 0) return err(refused('backend', ...problems));
  const sandbox = sandboxProblems(snapshot.run.config, false, remaining, snapshot.run.repo);
  if (sandbox.length > 0) return err(refused('sandbox', ...sandbox));
  const launcher = launcherProblems(snapshot.run.config.launcher, { repo: snapshot.run.repo, runDir: paths.root });
  if (launcher.length > 0) return err(refused('launcher', ...launcher));
  if (state.phase === 'finished' && !input.retryFailed) {
    return ok({ kind: 'finished', id: snapshot.run.id, root: paths.root, outcome: state.outcome });
  }
  const cluster = await launcherReachable(snapshot.run.config.launcher);
  if (cluster.length > 0) return err(refused('launcher', ...cluster));
  return ok({
    kind: 'ready',
    run: {
      command: 'resume',
      paths,
      runJson: snapshot.run,
      planJson: snapshot.plan,
      state,
      lock,
      retryFailed: input.retryFailed ?? false,
      appliedRequests: snapshot.appliedRequests,
      budget: { max_cost_usd: input.maxCostUsd, max_tokens: input.maxTokens },
    },
  });
}
