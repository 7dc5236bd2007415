// Where fileswarm keeps its things in the user's repository, written here and nowhere else:
//
//   refs/heads/swarm/<run-id>                    the integration branch (the run's results)
//   <repo>/.swarm/worktrees/<run-id>/<task>-<n>  the worktree of attempt n of a task
//   <repo>/.swarm/worktrees/<run-id>/.integration the worktree integration checks run in
//   refs/swarm/<run-id>/<task>/<n>               the commit of that attempt's work
import path from 'node:path';

/** The integration branch of a run: `swarm/<run-id>` (under refs/heads/). */
export function integrationBranch(runId: string): string {
  return `swarm/${runId}`;
}

/** The directory of a run's worktrees: `<repo>/.swarm/worktrees/<run-id>`. */
export function runWorktrees(repo: string, runId: string): string {
  return path.join(repo, '.swarm', 'worktrees', runId);
}

/** The worktree of one attempt: `<repo>/.swarm/worktrees/<run-id>/<task>-<n>`. */
export function attemptWorktree(repo: string, runId: string, task: string, attempt: number): string {
  return path.join(runWorktrees(repo, runId), `${task}-${attempt}`);
}

/** The worktree a run's integration checks run in (a task id never starts with a dot). */
export function integrationWorktree(repo: string, runId: string): string {
  return path.join(runWorktrees(repo, runId), '.integration');
}

/** Where the attempts' refs of every run live. */
export const ATTEMPT_REFS = 'refs/swarm/';

/** The prefix of one run's attempt refs: `refs/swarm/<run-id>/`. */
export function runRefs(runId: string): string {
  return `${ATTEMPT_REFS}${runId}/`;
}

/** The ref that keeps an attempt's commit reachable: `refs/swarm/<run-id>/<task>/<n>`. */
export function attemptRef(runId: string, task: string, attempt: number): string {
  return `${runRefs(runId)}${task}/${attempt}`;
}

/** The run id of an attempt ref (`refs/swarm/<run-id>/...`). */
export function runIdOfRef(ref: string): string {
  return ref.slice(ATTEMPT_REFS.length).split('/')[0]!;
}
