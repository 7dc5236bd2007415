// Asking a run's coordinator to act, for `swarm control`: check the request against the run (its
// tasks, whether anything will ever apply it), then create it. Prints nothing.
import { suggest } from '../config/zod-issues.js';
import { createControlRequest } from '../protocol/control.js';
import { loadRun, NotARunError, type RunSnapshot } from '../protocol/run-reader.js';
import { ControlAction } from '../protocol/schemas.js';
import { TASK_ID_PATTERN, taskIdProblem } from '../protocol/task-id.js';
import { err, ok, type Result } from '../util/result.js';
import { creationMessage, findCreation } from './interrupted-creation.js';
import { refused, type RunFailure } from './run.js';

/** A control request to make: the arguments of `swarm control`. */
export interface ControlInput {
  runDir: string;
  /** One of {@link ControlAction}'s values (checked). */
  action: string;
  /** The task of `cancel-task` and `retry-task` (required by them, refused for the others). */
  task?: string;
  /** Who asks, for the record (`cli`, `dashboard`, a user name). */
  by: string;
}

/** Who will apply a request, as far as the run directory tells. */
export type Applier =
  /** The live coordinator, within about a second. */
  | { kind: 'coordinator'; pid: number }
  /** No coordinator runs the run (it stopped, crashed, or never started one): the next `swarm resume` applies it first. */
  | { kind: 'next-resume' }
  /** A coordinator on another host whose heartbeat is stale: it, if it is alive, or the next `swarm resume`. */
  | { kind: 'unknown'; host: string };

/** A request created: its id (a ULID) and who will apply it. */
export interface ControlRequested {
  id: string;
  action: ControlAction;
  task: string | undefined;
  root: string;
  applier: Applier;
}

/**
 * Checks a control request against the run and creates it (`control/<ulid>.json`).
 * @returns the request and who will apply it; or a refusal (exit 2), nothing written: `not-a-run`
 *   (no run.json, also a run still being created or left half-created), or `control`: an unknown
 *   action, a task given to an action that takes none or missing for one that needs it, a task id
 *   that is not one, a task the run does not have, or a finished run (no coordinator would ever
 *   apply the request; `swarm resume --retry-failed` reopens a failed one).
 * @throws ProtocolFileError for a run directory whose files are malformed; a file system error
 *   creating the request.
 */
export async function requestControl(input: ControlInput): Promise<Result<ControlRequested, RunFailure>> {
  let snap: RunSnapshot;
  try {
    snap = loadRun(input.runDir);
  } catch (e) {
    if (!(e instanceof NotARunError)) throw e;
    const creation = findCreation(input.runDir);
    return err(refused('not-a-run', creation ? creationMessage(creation) : e.message));
  }
  const root = snap.paths.root;
  const action = ControlAction.safeParse(input.action);
  if (!action.success)
    return err(
      refused('control', `unknown action "${input.action}" (expected one of: ${ControlAction.options.join(', ')})`),
    );
  const needsTask = action.data === 'cancel-task' || action.data === 'retry-task';
  const { task } = input;
  if (needsTask !== (task !== undefined))
    return err(refused('control', `${action.data} ${needsTask ? 'needs a task id' : 'takes no task id'}`));
  if (task !== undefined) {
    if (!TASK_ID_PATTERN.test(task))
      return err(refused('control', `"${task}" is not a task id: ${taskIdProblem(task)}`));
    const ids = snap.plan?.tasks.map((t) => t.id) ?? [];
    if (!ids.includes(task)) {
      const near = suggest(task, ids);
      return err(
        refused('control', `${root}: the run has no task "${task}"${near ? ` (did you mean "${near}"?)` : ''}`),
      );
    }
  }
  if (snap.state.phase === 'finished') {
    const retry =
      snap.state.outcome === 'failed' ? `; \`swarm resume --retry-failed ${root}\` runs its failed tasks again` : '';
    return err(
      refused(
        'control',
        `${root}: the run has finished (${snap.state.outcome ?? 'no outcome'}): no coordinator will apply the request${retry}`,
      ),
    );
  }
  const id = await createControlRequest(snap.paths, action.data, task, input.by);
  const c = snap.coordinator;
  const applier: Applier =
    snap.liveness === 'alive' && c
      ? { kind: 'coordinator', pid: c.pid }
      : snap.liveness === 'unknown' && c
        ? { kind: 'unknown', host: c.host }
        : { kind: 'next-resume' };
  return ok({ id, action: action.data, task, root, applier });
}
