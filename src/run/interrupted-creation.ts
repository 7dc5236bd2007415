// What a `swarm run` killed while it created its run directory left: the directory under its
// temporary name (`.<name>.creating`, see creatingDir), maybe an integration branch. `swarm
// status`, `resume` and `clean` recognise it; `clean` undoes it; `resume` moves a complete one
// (run.json written, not renamed yet) into place.
import fs from 'node:fs';
import { gitTrySync } from '../git/git.js';
import { HALF_MADE_MS, inspectRunLock } from '../coordinator/run-lock.js';
import { readJsonFile } from '../protocol/files.js';
import { creatingDir, RunPaths } from '../protocol/paths.js';
import { CreatingJsonSchema, type CreatingJson } from '../protocol/schemas.js';

/** A run directory still under its temporary name. */
export interface Creation {
  /** The temporary directory, `<parent>/.<name>.creating`. */
  dir: string;
  /** The run directory it becomes once complete (absolute). */
  root: string;
  /** Its creating.json; undefined when `swarm run` stopped before writing it (nothing but the directory and its lock existed). */
  record: CreatingJson | undefined;
  /** run.json is written: the run is complete, only not renamed into place yet. */
  complete: boolean;
  /** The integration branch creating.json names, when it exists in the repository (created before the kill). */
  branch: string | undefined;
  /** `alive`: a `swarm run` is creating it still; `dead`: that process is gone. With its pid when known. */
  creator: { state: 'alive' | 'dead'; pid: number | null };
}

/**
 * Finds the temporary directory of the run directory `root`, if there is one, and judges its
 * creator by its lock (as the run lock is judged: pid and start time on this host; a lock, or a
 * directory without one, younger than 10 s belongs to a process still starting).
 * @throws ProtocolFileError if its creating.json is malformed.
 */
export function findCreation(root: string): Creation | undefined {
  const dir = creatingDir(root);
  let made: number;
  try {
    made = fs.statSync(dir).mtimeMs;
  } catch {
    return undefined;
  }
  const paths = new RunPaths(dir);
  const lock = inspectRunLock(paths);
  const creator =
    lock.state === 'free'
      ? { state: Date.now() - made > HALF_MADE_MS ? ('dead' as const) : ('alive' as const), pid: null }
      : { state: lock.state, pid: lock.pid };
  const record = readJsonFile(paths.creatingJson, CreatingJsonSchema);
  return {
    dir,
    root: new RunPaths(root).root,
    record,
    complete: fs.existsSync(paths.runJson),
    branch: record && branchExists(record) ? record.integration_branch! : undefined,
    creator,
  };
}

/** Whether the integration branch a creation record names exists in its repository. */
function branchExists(record: CreatingJson): boolean {
  if (!record.integration_branch || !fs.existsSync(record.repo)) return false;
  const ref = `refs/heads/${record.integration_branch}`;
  return gitTrySync(record.repo, ['show-ref', '--verify', '--quiet', ref]).exitCode === 0;
}

/** What to tell the user about a run directory found only under its temporary name: one line, naming `root`. */
export function creationMessage(c: Creation): string {
  if (c.creator.state === 'alive')
    return `${c.root}: the run is being created by ${c.creator.pid !== null ? `pid ${c.creator.pid}` : 'a process that is starting'} (its planner may be at work); nothing has run yet`;
  if (c.complete)
    return `${c.root}: the run was created, but its \`swarm run\` was killed before it moved the directory into place (${c.dir}); nothing ran yet: \`swarm resume ${c.root}\` continues it`;
  const branch = c.branch ? ` and the branch ${c.branch}` : '';
  return `${c.root}: the run was interrupted before it started (its \`swarm run\` was killed while creating it); nothing ran. \`swarm clean ${c.root}\` removes what it left (${c.dir}${branch})`;
}

/**
 * Undoes what a dead `swarm run` left while creating a run that never started: deletes its
 * integration branch (if it was created) and removes the temporary
 * directory. The caller checks that the creator is dead and the creation incomplete.
 * @returns one line per thing removed, for the user.
 */
export function discardCreation(c: Creation): string[] {
  const lines: string[] = [];
  if (c.branch && c.record) {
    gitTrySync(c.record.repo, ['update-ref', '-d', `refs/heads/${c.branch}`]);
    lines.push(`deleted the branch ${c.branch} of run ${c.record.id}, which never started`);
  }
  fs.rmSync(c.dir, { recursive: true, force: true });
  lines.push(`removed ${c.dir}: a run interrupted before it started (nothing ran)`);
  return lines;
}

/**
 * Moves a complete creation (run.json written, its creator dead) into place at its root, which
 * must be absent or empty. @throws the file system's error if the rename fails.
 */
export function finishCreation(c: Creation): void {
  fs.rmSync(new RunPaths(c.dir).creatingJson, { force: true });
  fs.renameSync(c.dir, c.root);
}
