// An assignment's paths as this worker sees them. assignment.json (protocol 3) names the workspace
// and the worktree relative to the repository's top level, and the run directory only through
// SWARM_RUN_DIR, all as the coordinator sees them; a worker in a container or a pod has the
// repository and the run directory mounted elsewhere, and a worker that clones (a pod) works in a
// clone of its own.
import path from 'node:path';
import type { Assignment } from '../protocol/schemas.js';

/** Where this worker has what an assignment names. */
export interface WorkerView {
  /** The repository's top level here (`swarm worker --repo`; by default run.json `repo`), absolute. */
  repo: string;
  /** The run directory here (`swarm worker --run-dir`), absolute. */
  runDir: string;
  /**
   * With `swarm worker --clone-into <dir>`: each attempt works in its own clone of `repo` at
   * `<dir>/<task>-<attempt>` (pod-local storage), not in a worktree of the shared repository.
   */
  cloneInto?: string;
}

/**
 * The assignment with every path absolute for this worker: `git.repo` and `git.worktree` (the
 * clone in clone mode), `workspace` (the worktree joined with the task's `cwd`), and the
 * environment's SWARM_RUN_DIR and any variable naming a file in the coordinator's run directory
 * (SWARM_INTEGRATION_LOG). A protocol 2 assignment's absolute paths resolve to themselves, so it
 * is read the same way. Pure.
 */
export function localize(a: Assignment, view: WorkerView): Assignment {
  const { task } = a;
  const worktree = a.git
    ? view.cloneInto
      ? path.join(view.cloneInto, `${task.id}-${a.attempt}`)
      : path.resolve(view.repo, a.git.worktree)
    : undefined;
  const root = worktree ?? view.repo;
  const git = a.git
    ? { ...a.git, repo: view.cloneInto ? worktree! : path.resolve(view.repo, a.git.repo), worktree: worktree! }
    : null;
  return {
    ...a,
    git,
    workspace: task.cwd ? path.resolve(root, task.cwd) : root,
    env: rebaseRunDir(a.env, view.runDir),
  };
}

/**
 * The environment with SWARM_RUN_DIR set to this worker's run directory, and each variable that
 * names a path inside the coordinator's run directory (the SWARM_RUN_DIR the coordinator wrote)
 * moved to the same path inside this one.
 */
function rebaseRunDir(env: Record<string, string>, runDir: string): Record<string, string> {
  const theirs = env.SWARM_RUN_DIR;
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env))
    out[k] = theirs && v.startsWith(theirs + path.sep) ? path.join(runDir, v.slice(theirs.length + 1)) : v;
  out.SWARM_RUN_DIR = runDir;
  return out;
}
