// `swarm clean [run-dir] [--force]`: removes the worktrees fileswarm kept (failed and unmerged
// attempts), what a `swarm run` killed while creating its run left (nothing ran), and the
// refs/swarm/<run-id>/... refs of runs whose run directory was deleted, and the worker containers
// of a podman run (label swarm.run=<run-id>) that outlived their coordinator.
// A worktree with uncommitted changes is kept unless --force. Integration branches are never
// deleted: they hold the results.
import fs from 'node:fs';
import path from 'node:path';
import { removeRunContainers } from '../coordinator/launchers/podman.js';
import { gitSync, gitTrySync } from '../git/git.js';
import { ATTEMPT_REFS, integrationBranch, runIdOfRef, runRefs, runWorktrees } from '../git/layout.js';
import { repoTopLevel } from '../git/repo.js';
import { readJsonFile } from '../protocol/files.js';
import { creatingNameOf, RunPaths } from '../protocol/paths.js';
import { coordinatorLiveness } from '../protocol/run-reader.js';
import { CoordinatorJsonSchema, RunJsonSchema } from '../protocol/schemas.js';
import type { Output } from '../presenter/console.js';
import { EXIT } from '../run/exit-codes.js';
import { creationMessage, discardCreation, findCreation } from '../run/interrupted-creation.js';

/** Worktree paths git knows of under `dir`. */
function worktreesUnder(repo: string, dir: string): string[] {
  const list = gitSync(repo, ['worktree', 'list', '--porcelain']);
  return list
    .split('\n')
    .filter((l) => l.startsWith('worktree '))
    .map((l) => l.slice('worktree '.length))
    .filter((p) => p.startsWith(dir + path.sep));
}

/** Removes one worktree unless it has uncommitted changes (then only with `force`). Returns a line for the user. */
function removeWorktree(repo: string, worktree: string, force: boolean): { removed: boolean; line: string } {
  const status = gitTrySync(worktree, ['status', '--porcelain']);
  const dirty = status.exitCode !== 0 || status.stdout !== '';
  if (dirty && !force)
    return { removed: false, line: `kept ${worktree}: it has uncommitted changes (use --force to delete them)` };
  gitSync(repo, ['worktree', 'remove', '--force', worktree]);
  return { removed: true, line: `removed ${worktree}${dirty ? ' (with its uncommitted changes)' : ''}` };
}

/** Run ids that have refs under refs/swarm/. */
function runIdsWithRefs(repo: string): string[] {
  const refs = gitSync(repo, ['for-each-ref', '--format=%(refname)', ATTEMPT_REFS]).split('\n').filter(Boolean);
  return [...new Set(refs.map(runIdOfRef))];
}

/**
 * `swarm clean <dir>` of a directory without run.json: undoes what a killed `swarm run` left while
 * creating it (its temporary directory and integration branch; nothing ran). Refuses (exit 2) when
 * there is no such thing, when a `swarm run` is creating it still, and when it is complete (run.json
 * written, not renamed: `swarm resume` continues it).
 */
function cleanCreation(root: string, out: Output, err: Output): number {
  const creation = findCreation(root);
  if (!creation) {
    err.write(`swarm: ${root}: not a run directory (no run.json)\n`);
    return EXIT.cannotStart;
  }
  if (creation.creator.state === 'alive' || creation.complete) {
    err.write(`swarm: ${creationMessage(creation)}\n`);
    return EXIT.cannotStart;
  }
  for (const line of discardCreation(creation)) out.write(line + '\n');
  return 0;
}

/** Undoes every creation under `runsDir` that a killed `swarm run` left before run.json; returns a line per thing removed. */
function discardInterruptedCreations(runsDir: string): string[] {
  let entries: string[] = [];
  try {
    entries = fs.readdirSync(runsDir);
  } catch {
    return []; // no runs directory
  }
  return entries.flatMap((entry) => {
    const name = creatingNameOf(entry);
    const creation = name === undefined ? undefined : findCreation(path.join(runsDir, name));
    return creation && creation.creator.state === 'dead' && !creation.complete ? discardCreation(creation) : [];
  });
}

/**
 * Cleans one run's kept worktrees (with `runDir`; a directory left half-created by a killed `swarm
 * run` is removed with its branch), or, without, the half-created run directories under
 * `.swarm/runs/`; then prunes refs and worktrees of runs whose run directory no longer exists in
 * the runs directory.
 * @returns exit code: 0, 1 if something was kept, 2 if it could not start (not a run directory, its
 *   coordinator alive, its repository gone, not in a repository).
 */
export async function cleanCommand(
  runDir: string | undefined,
  options: { force?: boolean },
  out: Output,
  err: Output,
): Promise<number> {
  let repo: string | undefined;
  let runsDir: string;
  let kept = 0;
  if (runDir !== undefined) {
    const paths = new RunPaths(runDir);
    const run = readJsonFile(paths.runJson, RunJsonSchema);
    if (!run) return cleanCreation(paths.root, out, err);
    const coordinator = readJsonFile(paths.coordinatorJson, CoordinatorJsonSchema);
    const staleAfterMs = run.config.liveness.stale_after;
    if (coordinatorLiveness(coordinator, staleAfterMs) === 'alive') {
      err.write(
        `swarm: ${paths.root}: the run is still being coordinated (pid ${coordinator?.pid}); clean it after it stops\n`,
      );
      return EXIT.cannotStart;
    }
    // Worker containers of a podman run that outlived it (a coordinator killed, never resumed).
    if (run.config.launcher.kind === 'podman')
      for (const name of removeRunContainers(run.config.launcher.podman, run.id))
        out.write(`removed container ${name}\n`);
    // Worker Jobs of a kubernetes run that outlived it.
    if (run.config.launcher.kind === 'kubernetes') {
      const settings = run.config.launcher.kubernetes;
      const { deleteRunJobs, kubeConfigFor, apiMessage } = await import('../coordinator/launchers/kubernetes.js');
      try {
        for (const name of await deleteRunJobs(kubeConfigFor(settings), settings, run.id))
          out.write(`deleted Job ${settings.namespace}/${name}\n`);
      } catch (e) {
        err.write(`swarm: ${paths.root}: could not delete the run's Kubernetes Jobs: ${apiMessage(e)}\n`);
        kept++;
      }
    }
    if (!run.integration_branch) {
      out.write(`run ${run.id} ran without git isolation: nothing to clean\n`);
      return 0;
    }
    if (!fs.existsSync(run.repo)) {
      err.write(`swarm: ${paths.root}: the run's repository ${run.repo} no longer exists: nothing to clean there\n`);
      return EXIT.cannotStart;
    }
    repo = run.repo;
    runsDir = path.dirname(paths.root);
    for (const wt of worktreesUnder(repo, runWorktrees(repo, run.id))) {
      const r = removeWorktree(repo, wt, options.force ?? false);
      if (!r.removed) kept++;
      out.write(r.line + '\n');
    }
  } else {
    repo = repoTopLevel(process.cwd());
    if (!repo) {
      err.write(`swarm: ${process.cwd()} is not in a git repository; give the run directory to clean\n`);
      return EXIT.cannotStart;
    }
    runsDir = path.join(repo, '.swarm', 'runs');
    for (const line of discardInterruptedCreations(runsDir)) out.write(line + '\n');
  }
  for (const id of runIdsWithRefs(repo)) {
    if (fs.existsSync(path.join(runsDir, id))) continue;
    let keptHere = 0;
    for (const wt of worktreesUnder(repo, runWorktrees(repo, id))) {
      const r = removeWorktree(repo, wt, options.force ?? false);
      if (!r.removed) keptHere++;
      out.write(r.line + '\n');
    }
    kept += keptHere;
    if (keptHere > 0) continue; // its refs keep the commits of what was kept
    const refs = gitSync(repo, ['for-each-ref', '--format=%(refname)', runRefs(id)])
      .split('\n')
      .filter(Boolean);
    for (const ref of refs) gitSync(repo, ['update-ref', '-d', ref]);
    out.write(
      `pruned ${refs.length} ref(s) of deleted run ${id} (its branch ${integrationBranch(id)} is kept, if it exists)\n`,
    );
  }
  gitTrySync(repo, ['worktree', 'prune']);
  return kept > 0 ? 1 : 0;
}
