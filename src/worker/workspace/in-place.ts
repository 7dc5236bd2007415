// The in-place workspace: no git isolation, the attempt runs in the repository itself (or its
// `cwd`), and nothing is committed or removed.
import { ok, type Result } from '../../util/result.js';
import type { Workspace, WorkspaceCommit } from './workspace.js';

/** The repository directory, as it is. */
export class InPlaceWorkspace implements Workspace {
  readonly #dir: string;

  /** @param dir assignment.json `workspace`: the repository, joined with the task's `cwd` */
  constructor(dir: string) {
    this.#dir = dir;
  }

  /** Always the directory itself: nothing to make (a missing directory fails the backend's spawn). */
  prepare(): Promise<Result<string, string>> {
    return Promise.resolve(ok(this.#dir));
  }

  /** The files are simply there: result.json gets `commit: null`, `files_changed: null`. */
  commit(): Promise<WorkspaceCommit> {
    return Promise.resolve({ kind: 'untracked' });
  }

  /** The repository stays. */
  release(): Promise<void> {
    return Promise.resolve();
  }
}
