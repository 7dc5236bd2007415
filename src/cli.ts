#!/usr/bin/env node
// The `swarm` command line: parses arguments (commander) and hands each command to src/commands/.
import { keepHeapNearLiveSize } from './util/heap.js';
import { Command, InvalidArgumentError, Option } from '@commander-js/extra-typings';
import { reportUnexpected } from './commands/unexpected.js';
import { RUN_ID_PATTERN } from './protocol/run-id.js';
// Each command's module is imported when the command runs: `swarm --help`, `swarm worker` and
// `swarm status` do not load the planner's SDK, the dashboard or the server.
import type { Output } from './presenter/console.js';
import { EXIT } from './run/exit-codes.js';

const stdout: Output = {
  write: (t) => void process.stdout.write(t),
  color: Boolean(process.stdout.isTTY) && !process.env.NO_COLOR,
};
const stderr: Output = {
  write: (t) => void process.stderr.write(t),
  color: Boolean(process.stderr.isTTY) && !process.env.NO_COLOR,
};

function positiveNumber(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`expected a positive number, got "${value}"`);
  return n;
}

/** The dashboard replaces line output only in an interactive terminal, and only if not refused. */
const wantsDashboard = (opts: { dashboard: boolean }): boolean =>
  opts.dashboard && Boolean(process.stdout.isTTY) && Boolean(process.stdin.isTTY);

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`expected a positive integer, got "${value}"`);
  return n;
}

/** `--run-id`: a ULID (what `swarm serve` passes), never a path: it names the run's directory and branch. */
function runId(value: string): string {
  if (!RUN_ID_PATTERN.test(value))
    throw new InvalidArgumentError(`expected a ULID (26 letters and digits, upper case), got "${value}"`);
  return value;
}

function portNumber(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535)
    throw new InvalidArgumentError(`expected a port 0-65535, got "${value}"`);
  return n;
}

// An error no command handled ends the process with one line, not a stack trace.
const unexpected = (e: unknown): never => process.exit(reportUnexpected(e, stderr));
process.on('uncaughtException', unexpected);
process.on('unhandledRejection', unexpected);

const program = new Command()
  .name('swarm')
  .description('fileswarm: run a DAG of coding tasks on a pool of subprocess workers, recorded in a run directory.')
  .version('0.1.0')
  .showHelpAfterError()
  .exitOverride((e) => {
    // Usage errors exit 2, like every other "could not start".
    process.exit(e.exitCode === 0 ? 0 : EXIT.cannotStart);
  });

program
  .command('run')
  .description(
    'run the plan of a config (or plan the goal first, when the config has no tasks); prints the run directory. Exit: 0 all succeeded, 1 some failed, 2 could not start, 3 budget spent (resume with a higher cap; if the planner spent it, nothing ran), 4 publishing failed (swarm publish finishes it), 130 stopped (resumable)',
  )
  .argument('<config>', 'swarm.yaml')
  .argument('[goal]', 'what the run is for; without tasks in the config, the planner splits it into tasks')
  .option('--plan <file>', "take the tasks from this YAML or JSON plan instead of the config's tasks:")
  .option('--run-dir <dir>', 'create the run directory here (default: <repo>/.swarm/runs/<run-id>)')
  .option('--workers <n>', 'number of worker processes (overrides the config)', positiveInt)
  .addOption(new Option('--mode <mode>', 'scheduling mode (overrides the config)').choices(['eager', 'waves'] as const))
  .addOption(new Option('--run-id <ulid>', 'internal: the run id swarm serve chose').argParser(runId).hideHelp())
  .option(
    '--repo <git-url>',
    'work on this repository (cloned into a cache, fetched before each run) instead of the current directory',
  )
  .option('--base <branch>', "with --repo or --issue: the branch to start from (default: the remote's default branch)")
  .option('--issue <ref>', "the goal is this issue (owner/repo#N or its URL), the repository the issue's")
  .option('--issue-comments', "with --issue: the issue's comments join the goal")
  .option('--publish', 'at the end, push the integration branch and open a pull request (publish: in the config)')
  .option(
    '--cache-dir <dir>',
    'where --repo clones are kept (default: $SWARM_CACHE_DIR, else ~/.cache/fileswarm/repos)',
  )
  .option(
    '--no-dashboard',
    'print one line per event instead of opening the dashboard (the default when stdout is not a terminal)',
  )
  .action(async (config, goal, opts) => {
    keepHeapNearLiveSize();
    const { runCommand } = await import('./commands/run.js');
    process.exitCode = await runCommand(
      config,
      { ...opts, dashboard: wantsDashboard(opts), ...(goal ? { goal } : {}) },
      stdout,
      stderr,
    );
  });

program
  .command('resume')
  .description('continue an interrupted run from its run directory alone')
  .argument('<run-dir>', 'the run directory')
  .option('--retry-failed', 'also run failed, cancelled and skipped tasks again')
  .option(
    '--max-cost-usd <usd>',
    "set the run's cost cap (raise it to continue a run whose budget is spent)",
    positiveNumber,
  )
  .option('--max-tokens <n>', "set the run's token cap", positiveInt)
  .option(
    '--no-dashboard',
    'print one line per event instead of opening the dashboard (the default when stdout is not a terminal)',
  )
  .action(async (runDir, opts) => {
    keepHeapNearLiveSize();
    const { resumeCommand } = await import('./commands/resume.js');
    process.exitCode = await resumeCommand(runDir, { ...opts, dashboard: wantsDashboard(opts) }, stdout, stderr);
  });

program
  .command('plan')
  .description(
    'plan a goal with the LLM planner without running it; writes an editable plan for `swarm run --plan`. Exit: 0 planned, 2 no valid plan, 3 the budget in the config ran out, 130 Ctrl-C',
  )
  .argument('<config>', 'swarm.yaml (its roles, planner and repository)')
  .argument('[goal]', 'what to plan (default: `goal:` of the config)')
  .option('-o, --output <file>', 'write the plan to this YAML file (default: print it)')
  .action(async (config, goal, opts) => {
    const { planCommand } = await import('./commands/plan.js');
    process.exitCode = await planCommand(config, goal, opts, stdout, stderr);
  });

program
  .command('status')
  .description(
    "show a run's phase, task counts, spend against its budget and each task's state (a running agent's current step); says when its coordinator is dead and how to continue",
  )
  .argument('<run-dir>', 'the run directory')
  .option('--json', 'print JSON (with --follow: then one JSON event per line)')
  .option('--follow', 'keep printing events until the run finishes or its coordinator stops')
  .action(async (runDir, opts) => {
    const { statusCommand } = await import('./commands/status.js');
    process.exitCode = await statusCommand(runDir, opts, stdout, stderr);
  });

program
  .command('dashboard')
  .description(
    'watch a run in the terminal, live or finished: tasks by wave, detail, events, workers; pause, cancel and retry with keys',
  )
  .argument('[run-dir]', 'the run directory (default: the newest run under .swarm/runs/)')
  .addOption(new Option('--attached', 'internal: started by swarm run/resume').hideHelp())
  .action(async (runDir, opts) => {
    const { dashboardCommand } = await import('./commands/dashboard.js');
    process.exitCode = await dashboardCommand(runDir, opts, stdout, stderr);
    // The terminal's input stream can keep the loop alive after the screen is gone.
    process.exit();
  });

program
  .command('control')
  .description('ask the running coordinator to pause, resume, cancel-task, retry-task or stop-run')
  .argument('<run-dir>', 'the run directory')
  .argument('<action>', 'pause | resume | cancel-task | retry-task | stop-run')
  .argument('[task]', 'task id, for cancel-task and retry-task')
  .option('--wait <ms>', 'wait up to this long for the coordinator to apply it', positiveInt)
  .action(async (runDir, action, task, opts) => {
    const { controlCommand } = await import('./commands/control.js');
    process.exitCode = await controlCommand(runDir, action, task, opts, stdout, stderr);
  });

program
  .command('clean')
  .description(
    'remove the worktrees a run kept (failed attempts), what a swarm run killed while creating its run left (with its branch: nothing ran), and the refs/swarm/ refs of deleted runs; never the integration branch of a run that started',
  )
  .argument('[run-dir]', 'the run directory (without: only prune refs of deleted runs in this repository)')
  .option('--force', 'also remove worktrees that have uncommitted changes')
  .action(async (runDir, opts) => {
    const { cleanCommand } = await import('./commands/clean.js');
    process.exitCode = await cleanCommand(runDir, opts, stdout, stderr);
  });

program
  .command('publish')
  .description(
    'publish a finished run: push its integration branch, open or update its pull request, comment on its issue; safe to repeat. Exit: 0 published, 2 cannot (not finished, no token, no remote), 4 a step failed',
  )
  .argument('<run-dir>', 'the run directory')
  .action(async (runDir) => {
    const { publishCommand } = await import('./commands/publish.js');
    process.exitCode = await publishCommand(runDir, stdout, stderr);
  });

program
  .command('serve')
  .description(
    'serve the runs of this repository over HTTP: a web page at /, the API under /api/ (runs, status, events as Server-Sent Events, tasks, logs, control; GET /api/openapi.json describes it)',
  )
  .option('--host <address>', 'address to bind (another than loopback needs --token-env)', '127.0.0.1')
  .option('--port <n>', 'port (0: any free one)', portNumber, 7700)
  .option('--runs-dir <dir>', 'the directory of run directories (default: .swarm/runs)')
  .option('--config <file>', 'the config POST /api/runs starts when a request names none (a path in this repository)')
  .option('--token-env <name>', 'the environment variable holding a bearer token every request must carry')
  .option('--cors-origin <origins...>', 'origins whose pages may call the API (CORS is off without)')
  .option('--starts-per-minute <n>', 'runs one client may start per minute (more: 429)', positiveInt, 10)
  .action(async (opts) => {
    const { serveCommand } = await import('./commands/serve.js');
    process.exitCode = await serveCommand(opts, stdout, stderr);
    process.exit();
  });

program
  .command('worker', { hidden: true })
  .description('internal: a worker process (docs/protocol.md)')
  .requiredOption('--run-dir <dir>', 'the run directory')
  .requiredOption('--id <id>', 'worker id')
  .requiredOption('--coordinator <session>', 'session id of the coordinator that started it')
  .option('--repo <dir>', "the repository's top level as this worker sees it (default: run.json repo)")
  .option('--clone-into <dir>', 'work in a clone of the repository under this directory, not a worktree')
  .action(async (opts) => {
    const { Worker } = await import('./worker/worker.js');
    await new Worker({
      runDir: opts.runDir,
      id: opts.id,
      coordinator: opts.coordinator,
      ...(opts.repo ? { repo: opts.repo } : {}),
      ...(opts.cloneInto ? { cloneInto: opts.cloneInto } : {}),
    }).run();
    process.exit(0);
  });

try {
  await program.parseAsync();
} catch (e) {
  unexpected(e);
}
