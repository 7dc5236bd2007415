// Where an attempt works: the Workspace seam between RunningAttempt and the place its directory
// lives (a git worktree, the repository in place; a container or a pod's volume later).
import type { Logger } from 'pino';
import type { Assignment } from '../../protocol/schemas.js';
import type { Result } from '../../util/result.js';
import type { WorkerView } from '../localize.js';
import { ClonedWorkspace } from './clone.js';
import { GitWorktreeWorkspace } from './git-worktree.js';
import { InPlaceWorkspace } from './in-place.js';

/**
 * What became of an attempt's work when the workspace recorded it:
 * - `committed`: a commit of everything the attempt left, and the files it changes (relative to
 *   the repository root) against the attempt's base commit;
 * - `unchanged`: nothing to commit (the attempt changed nothing, or the directory was never made);
 * - `untracked`: the workspace does not record changes (in place: the files are simply there);
 * - `failed`: recording failed; `message` says why.
 */
export type WorkspaceCommit =
  | { kind: 'committed'; commit: string; files: string[] }
  | { kind: 'unchanged' }
  | { kind: 'untracked' }
  | { kind: 'failed'; message: string };

/**
 * The directory an attempt runs in. RunningAttempt calls, in this order:
 *
 *   prepare ──ok──▶ (backend, verify) ──▶ commit ──▶ release
 *      └──error──▶ (attempt fails `workspace-failed`) ──▶ commit ──▶ release
 *
 * `commit` runs whatever the outcome (no work is lost) and also after a failed `prepare`, for
 * whatever a half-made directory holds. None of the three throws: failures are data.
 */
export interface Workspace {
  /** Makes the directory ready. Returns the absolute directory the backend and `verify` run in, or why it could not be made (a message for the attempt's summary). */
  prepare(): Promise<Result<string, string>>;
  /** Records what the attempt left in the directory (see WorkspaceCommit). */
  commit(): Promise<WorkspaceCommit>;
  /** After result.json is written: keeps or disposes of the directory. */
  release(): Promise<void>;
}

/**
 * The workspace a (localized) assignment asks for: with `git` (git isolation), its own git
 * worktree at `base_commit`, or its own clone of the repository when the worker clones
 * (`view.cloneInto`: a pod, whose repository is on a shared volume); else the repository in place.
 */
export function workspaceFor(assignment: Assignment, log: Logger, view: WorkerView): Workspace {
  if (!assignment.git) return new InPlaceWorkspace(assignment.workspace);
  return view.cloneInto
    ? new ClonedWorkspace(assignment, assignment.git, view.repo, log)
    : new GitWorktreeWorkspace(assignment, assignment.git, log);
}
