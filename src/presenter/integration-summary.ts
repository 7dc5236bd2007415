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
  git: RunState['git'],
  clone?: { runDir: string; published: boolean },
): string {
  if (!git) return '';
  const { branch, base, tip } = git;
  if (tip === base) return `integration branch ${branch}: no changes from ${base.slice(0, 12)}\n`;
  const take = clone
    ? clone.published
      ? ''
      : `\nin the cached clone ${repo}; publish it with:  swarm publish ${clone.runDir}\n`
    : `\ntake it with:  git merge ${branch}    or look first:  git switch ${branch}\n`;
  return `integration branch ${branch} (${base.slice(0, 12)} → ${tip.slice(0, 12)}):\n${diffStat(repo, base, tip)}${take}`;
}
