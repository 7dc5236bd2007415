// The git-worktree workspace: the attempt's own worktree at the integration tip, and a commit of
// everything it left there, kept by refs/swarm/<run-id>/<task>/<n> (on src/git/worktree.ts).
import fs from 'node:fs';
import type { Logger } from 'pino';
import { gitTry } from '../../git/git.js';
import { commitWorktree, createWorktree } from '../../git/worktree.js';
import type { Assignment } from '../../protocol/schemas.js';
import { err, ok, type Result } from '../../util/result.js';
import type { Workspace, WorkspaceCommit } from './workspace.js';

/** A worktree under <repo>/.swarm/worktrees/<run-id>/<task>-<n>, as assignment.json `git` describes it. */
export class GitWorktreeWorkspace implements Workspace {
  readonly #assignment: Assignment;
  readonly #git: NonNullable<Assignment['git']>;
  readonly #log: Logger;

  /** @param git the assignment's `git` (repository, worktree path, ref, commit message) */
  constructor(assignment: Assignment, git: NonNullable<Assignment['git']>, log: Logger) {
    this.#assignment = assignment;
    this.#git = git;
    this.#log = log;
  }

  /** Creates the worktree at `base_commit` (a leftover one at the same path is replaced); the directory is `workspace`, inside it. */
  async prepare(): Promise<Result<string, string>> {
    try {
      await createWorktree(this.#git.repo, this.#git.worktree, this.#assignment.base_commit!);
      const merging = await startResolverMerge(this.#assignment, this.#git.worktree);
      return merging ? err(merging) : ok(this.#assignment.workspace);
    } catch (e) {
      this.#log.error({ err: e }, 'worktree creation failed');
      return err(`could not create the worktree: ${(e as Error).message}`);
    }
  }

  /** Commits everything in the worktree, whatever the attempt's outcome, and points the attempt's ref at it. */
  async commit(): Promise<WorkspaceCommit> {
    if (!fs.existsSync(this.#git.worktree)) return { kind: 'unchanged' };
    try {
      const work = await commitWorktree(
        this.#git.repo,
        this.#git.worktree,
        this.#assignment.base_commit!,
        this.#git.ref,
        this.#git.message,
      );
      return work ? { kind: 'committed', commit: work.commit, files: work.files } : { kind: 'unchanged' };
    } catch (e) {
      this.#log.error({ err: e }, 'committing the worktree failed');
      return { kind: 'failed', message: (e as Error).message };
    }
  }

  /**
   * Keeps the worktree: the coordinator removes it once the commit is merged, and `swarm clean`
   * removes the ones kept (failed and unmerged attempts), so they can be looked at meanwhile.
   */
  release(): Promise<void> {
    return Promise.resolve();
  }
}

/**
 * A resolver's attempt (assignment `resolve`) starts with the conflicting merge in progress in
 * `dir`: conflict markers in the files and MERGE_HEAD set, so that its commit is the merge (both
 * parents). Returns why it could not be started, or undefined (also for any other attempt).
 */
export async function startResolverMerge(assignment: Assignment, dir: string): Promise<string | undefined> {
  const resolve = assignment.resolve;
  if (!resolve) return undefined;
  const merge = await gitTry(dir, ['merge', '--no-ff', '--no-commit', resolve.commit]);
  // 1: the merge stopped on its conflicts, as it should.
  if (merge.exitCode !== 0 && merge.exitCode !== 1)
    return `could not start the merge of ${resolve.commit.slice(0, 12)}: ${merge.stderr.trim()}`;
  return undefined;
}
