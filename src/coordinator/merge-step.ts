// Git isolation's last step for a succeeded attempt: its commit merged into the integration branch
// (one merge at a time: the coordinator is the only process that moves the branch), the outcome
// recorded, and the merged attempt's worktree removed.
import fs from 'node:fs';
import type { Logger } from 'pino';
import { known, readAttemptResult } from '../protocol/attempt-files.js';
import type { RunPaths } from '../protocol/paths.js';
import type { RunJson } from '../protocol/schemas.js';
import { attemptWorktree } from '../git/layout.js';
import { mergeIntoBranch } from '../git/merge.js';
import { removeWorktree } from '../git/worktree.js';
import { crashPoint } from './crash-point.js';
import type { EventLog } from './event-log.js';
import type { MergeResult } from './policy.js';

/** What the merge step needs. */
export interface MergeContext {
  run: RunJson;
  paths: RunPaths;
  log: EventLog;
  logger: Logger;
  /** Tells the user something that is not an event of its own (a merge that failed). */
  notice: (text: string) => void;
}

/**
 * Merges a succeeded attempt's commit into the integration branch and records the outcome
 * (merge.succeeded, merge.conflicted). Returns 'merged' also when there is nothing to merge (no
 * git, or the attempt changed nothing), and 'failed' when git could not merge for another reason
 * than a conflict.
 */
export function mergeAttempt(ctx: MergeContext, id: string, attempt: number): MergeResult {
  const { run, log, logger } = ctx;
  if (!run.integration_branch) return 'merged';
  const result = known(readAttemptResult(ctx.paths, id, attempt));
  const worktree = attemptWorktree(run.repo, run.id, id, attempt);
  if (!result?.commit) {
    void removeMergedWorktree(run.repo, worktree, logger);
    return 'merged';
  }
  // Resume after a crash that came after merge.conflicted: do not merge (and count) it again.
  if (log.state.tasks[id]!.last_conflict?.attempt === attempt) return 'conflicted';
  crashPoint('before-merge', logger);
  let outcome;
  try {
    outcome = mergeIntoBranch(
      run.repo,
      run.integration_branch,
      result.commit,
      `swarm ${run.id}: merge ${id} (attempt ${attempt})`,
    );
  } catch (e) {
    // Not a conflict: the branch or the commit is gone, the repository is broken. Fail the task.
    logger.error({ err: e, task: id, attempt }, 'merge failed');
    ctx.notice(`merge of ${id} failed: ${(e as Error).message}`);
    return 'failed';
  }
  const merge = { task: id, attempt, commit: result.commit, tip: outcome.tip, files: outcome.files };
  if (outcome.kind === 'conflicted') {
    logger.warn({ task: id, attempt, files: outcome.files }, 'merge conflict');
    log.append({ type: 'merge.conflicted', ...merge });
    return 'conflicted';
  }
  log.append({ type: 'merge.succeeded', ...merge });
  void removeMergedWorktree(run.repo, worktree, logger);
  return 'merged';
}

/** Removes a merged attempt's worktree in the background; its commit stays reachable by its ref. */
async function removeMergedWorktree(repo: string, worktree: string, logger: Logger): Promise<void> {
  if (!fs.existsSync(worktree)) return;
  try {
    await removeWorktree(repo, worktree);
  } catch (e) {
    logger.warn({ err: e, worktree }, 'could not remove a merged worktree');
  }
}
