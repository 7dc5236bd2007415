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
 * The integration branch is not where the run's log says: someone else moved or deleted it. The
 * task is left undecided and the session ends as broken (`why` says what to do); a resume merges
 * it again.
 */
export interface BranchMoved {
  stop: string;
}

/**
 * Merges a succeeded attempt's commit into the integration branch and records the outcome
 * (merge.succeeded, merge.conflicted). Returns 'merged' also when there is nothing to merge (no
 * git, or the attempt changed nothing), 'failed' when git could not merge for another reason
 * than a conflict, and {@link BranchMoved} when the branch is not at the tip the log knows.
 */
export function mergeAttempt(ctx: MergeContext, id: string, attempt: number): MergeResult | BranchMoved {
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
      log.state.git!.tip,
    );
  } catch (e) {
    // Not a conflict: the branch or the commit is gone, the repository is broken. Fail the task.
    logger.error({ err: e, task: id, attempt }, 'merge failed');
    ctx.notice(`merge of ${id} failed: ${(e as Error).message}`);
    return 'failed';
  }
  if (outcome.kind === 'moved') {
    logger.error(
      { task: id, attempt, expected: outcome.expected, actual: outcome.actual },
      'integration branch moved by someone else',
    );
    return { stop: branchMoved(ctx, id, outcome.expected, outcome.actual) };
  }
  const merge = { task: id, attempt, commit: result.commit, tip: outcome.tip, files: outcome.files };
  if (outcome.kind === 'conflicted') {
    logger.warn({ task: id, attempt, files: outcome.files }, 'merge conflict');
    log.append({ type: 'merge.conflicted', ...merge });
    return 'conflicted';
  }
  crashPoint('after-merge-ref', logger);
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

/** Why a merge left the branch alone, and what the user can do. */
function branchMoved(ctx: MergeContext, task: string, expected: string, actual: string | null): string {
  const ref = `refs/heads/${ctx.run.integration_branch!}`;
  const resume = `swarm resume ${ctx.paths.root}`;
  if (actual === null)
    return `the integration branch ${ref} is gone, so ${task}'s work cannot be merged; to let the run go on, make it again where the run left it: git update-ref ${ref} ${expected}; then ${resume}`;
  return (
    `the integration branch ${ref} is at ${actual}, a commit this run did not make (it left the branch at ${expected}); ` +
    `${task}'s work is not merged onto it, so the branch is left as it is. ` +
    `Keep that commit elsewhere if you want it (git branch <name> ${actual}), then put the branch back and let the run go on: ` +
    `git update-ref ${ref} ${expected} ${actual}; then ${resume}`
  );
}
