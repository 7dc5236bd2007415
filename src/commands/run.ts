// `swarm run <config> [goal]`: settles where the run works (a local repository, or a cached clone for
// --repo/--issue) and checks the publishing token, creates the run (src/run/create-run.ts), prints
// what it reports, runs a coordinator session on it, and publishes it at the end when asked to.
import type { Output } from '../presenter/console.js';
import { createRun, type CreateRunNote } from '../run/create-run.js';
import { EXIT } from '../run/exit-codes.js';
import { prepareSource } from '../run/remote-source.js';
import { publishAfterSession } from './publish.js';
import { printFailure } from './refuse.js';
import { runSession, type UiOptions } from './session.js';
import { sigintWhilePlanning } from './sigint.js';

/** Options of `swarm run`. */
export interface RunOptions extends UiOptions {
  plan?: string;
  runDir?: string;
  runId?: string;
  workers?: number;
  mode?: 'eager' | 'waves';
  goal?: string;
  /** `--repo URL`: work on a clone of this repository (in the cache) instead of the current directory. */
  repo?: string;
  /** `--base BRANCH` (with --repo or --issue). */
  base?: string;
  /** `--issue owner/repo#N | URL`: the goal is the issue, the repository the issue's. */
  issue?: string;
  /** `--issue-comments`: the issue's comments join the goal. */
  issueComments?: boolean;
  /** `--publish`: publish at the end (push, pull request, issue comment). */
  publish?: boolean;
  /** `--cache-dir`: where cloned repositories are kept. */
  cacheDir?: string;
}

/** Prints one of createRun's notes: the run's id and directory and the planner's progress on `out`, warnings on `err`. */
function printNote(note: CreateRunNote, out: Output, err: Output): void {
  switch (note.kind) {
    case 'created':
      return out.write(`run ${note.id}\nrun directory: ${note.root}\n`);
    case 'planner':
      return out.write(`${note.line}\n`);
    case 'warning':
      return err.write(`swarm: warning: ${note.message}\n`);
  }
}

/**
 * `swarm run <config>`: validates everything, then creates the run directory and runs it.
 * @returns the exit code (src/run/exit-codes.ts): 2 when the run could not be created, 3 or 130
 *   when the planner spent the budget or was interrupted, else how the session ended.
 */
export async function runCommand(configFile: string, options: RunOptions, out: Output, err: Output): Promise<number> {
  const { dashboard, repo, base, issue, issueComments, cacheDir, ...args } = options;
  if (options.goal !== undefined && issue !== undefined) {
    err.write('swarm: give a goal or --issue, not both (the issue is the goal)\n');
    return EXIT.cannotStart;
  }
  if (base !== undefined && repo === undefined && issue === undefined) {
    err.write('swarm: --base goes with --repo or --issue (a local run starts from git.base, default HEAD)\n');
    return EXIT.cannotStart;
  }
  const source = await prepareSource(
    {
      configFile,
      ...(repo !== undefined ? { repoUrl: repo } : {}),
      ...(issue !== undefined ? { issue } : {}),
      ...(issueComments ? { issueComments } : {}),
      ...(base !== undefined ? { base } : {}),
      ...(options.publish ? { publish: true } : {}),
      ...(cacheDir !== undefined ? { cacheDir } : {}),
    },
    (line) => out.write(`${line}\n`),
  );
  if (!source.ok) return printFailure(err, source.error);
  const prepared = source.value;
  const created = await createRun(
    {
      configFile,
      ...args,
      ...(prepared.cwd !== undefined ? { cwd: prepared.cwd } : {}),
      ...(prepared.base !== undefined ? { base: prepared.base } : {}),
      ...(prepared.source !== undefined ? { source: prepared.source } : {}),
      ...(prepared.goal !== undefined ? { goal: prepared.goal } : {}),
    },
    { onNote: (note) => printNote(note, out, err), interrupts: sigintWhilePlanning },
  );
  if (!created.ok) return printFailure(err, created.error);
  const { planJson } = created.value;
  if (planJson.planner)
    out.write(
      `plan: ${planJson.tasks.length} tasks in ${planJson.waves} wave(s), ${planJson.planner.requests} planner request(s), $${planJson.planner.usage.cost_usd.toFixed(4)}\n`,
    );
  const ended = await runSession(created.value, { dashboard }, out, err);
  return publishAfterSession(created.value.paths.root, ended, out, err);
}
