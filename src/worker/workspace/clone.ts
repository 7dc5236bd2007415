// The clone workspace, for a worker whose repository is on a shared volume (a Kubernetes pod): the
// attempt works in a clone of its own in pod-local storage, and its commit is pushed back to the
// shared repository as refs/swarm/<run-id>/<task>/<n>, where the coordinator merges it as it merges
// a worktree's. Nothing but that push writes to the shared repository.
import fs from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import { git, gitTrySync } from '../../git/git.js';
import { commitWorktree } from '../../git/worktree.js';
import type { Assignment } from '../../protocol/schemas.js';
import { err, ok, type Result } from '../../util/result.js';
import { startResolverMerge } from './git-worktree.js';
import type { Workspace, WorkspaceCommit } from './workspace.js';

/**
 * A clone at the (localized) assignment's `git.worktree` of the shared repository `source`, made
 * with `git clone --shared` (its objects are read from the source through `alternates`, nothing is
 * copied) and checked out at `base_commit`.
 */
export class ClonedWorkspace implements Workspace {
  readonly #assignment: Assignment;
  readonly #git: NonNullable<Assignment['git']>;
  readonly #source: string;
  readonly #log: Logger;

  /**
   * @param git the localized assignment's `git`: `worktree` is where the clone goes
   * @param source the shared repository's top level as this worker sees it
   */
  constructor(assignment: Assignment, git: NonNullable<Assignment['git']>, source: string, log: Logger) {
    this.#assignment = assignment;
    this.#git = git;
    this.#source = source;
    this.#log = log;
  }

  /** Clones the repository (a leftover clone at the same path is replaced) and checks out `base_commit`. */
  async prepare(): Promise<Result<string, string>> {
    const dir = this.#git.worktree;
    try {
      fs.rmSync(dir, { recursive: true, force: true });
      await git(this.#source, ['clone', '--quiet', '--shared', '--no-checkout', this.#source, dir]);
      // What the repository ignores locally, the clone ignores too (a worktree shares info/exclude).
      const from = gitTrySync(this.#source, ['rev-parse', '--path-format=absolute', '--git-path', 'info/exclude']);
      const exclude = from.exitCode === 0 ? from.stdout.trim() : '';
      if (exclude && fs.existsSync(exclude)) {
        fs.mkdirSync(path.join(dir, '.git', 'info'), { recursive: true });
        fs.copyFileSync(exclude, path.join(dir, '.git', 'info', 'exclude'));
      }
      // Commits carry the repository's identity, as a worktree's do.
      for (const key of ['user.name', 'user.email']) {
        const value = gitTrySync(this.#source, ['config', key]);
        if (value.exitCode === 0) await git(dir, ['config', key, value.stdout.trim()]);
      }
      await git(dir, ['checkout', '--quiet', '--detach', this.#assignment.base_commit!]);
      const merging = await startResolverMerge(this.#assignment, dir);
      return merging ? err(merging) : ok(this.#assignment.workspace);
    } catch (e) {
      this.#log.error({ err: e }, 'clone failed');
      return err(`could not clone the repository: ${(e as Error).message}`);
    }
  }

  /**
   * Commits everything in the clone, whatever the attempt's outcome, and pushes the commit to the
   * attempt's ref in the shared repository (forced: a rerun of the same attempt replaces it).
   */
  async commit(): Promise<WorkspaceCommit> {
    const dir = this.#git.worktree;
    if (!fs.existsSync(dir)) return { kind: 'unchanged' };
    try {
      const base = this.#assignment.base_commit!;
      const work = await commitWorktree(dir, dir, base, this.#git.ref, this.#git.message);
      if (!work) return { kind: 'unchanged' };
      await git(dir, ['push', '--quiet', this.#source, `+${work.commit}:${this.#git.ref}`]);
      return { kind: 'committed', commit: work.commit, files: work.files };
    } catch (e) {
      this.#log.error({ err: e }, 'committing or pushing the clone failed');
      return { kind: 'failed', message: (e as Error).message };
    }
  }

  /** Removes the clone: its commit is in the shared repository, and the pod's storage is its own. */
  release(): Promise<void> {
    fs.rmSync(this.#git.worktree, { recursive: true, force: true });
    return Promise.resolve();
  }
}
