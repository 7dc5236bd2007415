// The end of a run's text about its integration branch: where the merged work is and how to take it.
import { diffStat } from '../git/repo.js';
import type { RunState } from '../protocol/state.js';

/**
 * Where the merged work is and how to take it (git isolation), for the end of a run and status.
 * `clone` is set for a run on a cached clone (`--repo`, `--issue`): the branch is there, and
 * publishing is how it leaves.
 */
export function integrationSummary(
  repo: string,
  state: Pick<RunState, 'git' | 'integration'>,
  clone?: { runDir: string; published: boolean },
): string {
  const git = state.git;
  if (!git) return '';
  const { branch, base, tip } = git;
  const checks = checksLine(state.integration, tip);
  if (tip === base) return `integration branch ${branch}: no changes from ${base.slice(0, 12)}\n${checks}`;
  const take = clone
    ? clone.published
      ? ''
      : `\nin the cached clone ${repo}; publish it with:  swarm publish ${clone.runDir}\n`
    : `\ntake it with:  git merge ${branch}    or look first:  git switch ${branch}\n`;
  const verified = checks ? `\n${checks.trimEnd()}` : '';
  return `integration branch ${branch} (${base.slice(0, 12)} → ${tip.slice(0, 12)}):\n${diffStat(repo, base, tip)}${verified}${take}`;
}

/**
 * What the integration checks say of the branch (`integration.verify`): whether its tip is
 * verified and by which check, or how many merges wait; then how many checks ran, for how long.
 */
export function checksLine(q: RunState['integration'], tip: string): string {
  if (!q) return '';
  const ran = `${q.checks} integration check(s), ${(q.check_ms / 1000).toFixed(1)} s in all`;
  if (q.verified?.tip === tip) return `tip verified by integration check ${q.verified.check}; ${ran}\n`;
  const waiting = q.queue.length > 0 ? `${q.queue.length} merge(s) wait for a check` : 'not verified';
  const last = q.verified ? `; last verified ${q.verified.tip.slice(0, 12)} (check ${q.verified.check})` : '';
  return `tip not verified: ${waiting}${last}; ${ran}\n`;
}
