// End-to-end: the merge queue (`integration.verify`) on examples/merge-queue, a real repository
// where two tasks pass their own `verify` but break the build together. The integration check
// fails, bisection names the later of the two merges, the branch is rewound without it, the task
// runs again on the verified tip, and the run ends with a branch whose tip the check passed on.
// Then the same run killed (kill -9) at every step of the queue, and resumed.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  git,
  makeGitRepo,
  makeWorld,
  processAlive,
  processesWithEnv,
  readJson,
  readJsonlFile,
  runCli,
  waitFor,
  type World,
} from '../helpers.js';

let world: World;
afterEach(() => world?.cleanup());

const EXAMPLE = path.resolve(import.meta.dirname, '../../examples/merge-queue');

type Ev = {
  type: string;
  task?: string;
  attempt?: number;
  kind?: string;
  merges?: number;
  check?: number;
  outcome?: string;
  tip?: string;
  commit?: string;
};

/** The example's repository made in the world (its setup.sh, run there): <world>/demo. */
function makeDemo(w: World, edit?: (yaml: string) => string): string {
  fs.copyFileSync(path.join(EXAMPLE, 'setup.sh'), w.path('setup.sh'));
  const yaml = fs.readFileSync(path.join(EXAMPLE, 'swarm.yaml'), 'utf8');
  fs.writeFileSync(w.path('swarm.yaml'), edit ? edit(yaml) : yaml);
  execFileSync('sh', [w.path('setup.sh')], { cwd: w.dir, stdio: 'ignore' });
  return w.path('demo');
}

/**
 * The example with a slow check of the base commit (the only commit with no parent), so that every
 * task merges while it runs and the next check covers all four merges at once (a fourth task,
 * `license`, changes nothing the tests see).
 */
const batchOfFour = (yaml: string): string =>
  yaml
    .replace(
      'verify: node test.js\ntasks:',
      'verify: git rev-parse -q --verify HEAD^ >/dev/null || sleep 6; node test.js\ntasks:',
    )
    .replace(/sleep 1/g, 'true')
    .concat('  - id: license\n    run: printf "MIT\\n" > LICENSE\n');

/** The user's side of the repository: its branch, index and working tree (fileswarm never touches them). */
function userSide(repo: string): string {
  return [git(repo, 'rev-parse', 'HEAD'), git(repo, 'symbolic-ref', 'HEAD'), git(repo, 'status', '--porcelain')].join(
    '\n',
  );
}

/**
 * Everything a finished merge-queue run must show: succeeded; the branch's tip verified by the
 * check; each task's final attempt merged and the culprit's breaking attempt not on the branch;
 * the project's tests pass at the tip (run here, in a worktree of our own); no check left running.
 */
function expectVerifiedBranch(repo: string, runDir: string, more: string[] = []): { culprit: string; events: Ev[] } {
  const events = readJsonlFile<Ev>(path.join(runDir, 'events.jsonl'));
  const state = readJson<{
    outcome: string;
    git: { branch: string; tip: string };
    integration: { verified: { tip: string }; queue: unknown[] };
    tasks: Record<string, { state: string; attempts: number }>;
  }>(path.join(runDir, 'state.json'));
  expect(state.outcome).toBe('succeeded');
  const tip = git(repo, 'rev-parse', state.git.branch);
  expect(state.git.tip).toBe(tip);
  expect(state.integration.verified.tip).toBe(tip);
  expect(state.integration.queue).toEqual([]);
  for (const t of Object.values(state.tasks)) expect(t.state).toBe('succeeded');

  const culprits = events.filter((e) => e.type === 'integration.culprit');
  expect(culprits).toHaveLength(1);
  const culprit = culprits[0]!;
  expect(['rename', 'farewell']).toContain(culprit.task);
  // The culprit is the later of the two merges that break the build together. (Attempt numbers
  // are not assumed: after a crash, an attempt cut short runs again under the next number.)
  const merges = events.filter((e) => e.type === 'merge.succeeded').map((e) => `${e.task}/${e.attempt}`);
  const other = culprit.task === 'rename' ? 'farewell' : 'rename';
  const culpritAt = merges.indexOf(`${culprit.task}/${culprit.attempt}`);
  expect(culpritAt).toBeGreaterThan(merges.findIndex((m) => m.startsWith(`${other}/`)));
  expect(events.some((e) => e.type === 'integration.rewound')).toBe(true);
  expect(state.tasks[culprit.task!]!.attempts).toBeGreaterThan(culprit.attempt!);

  // Each task's last merged commit is on the branch; the culprit's first one is not.
  const isAncestor = (c: string): boolean => {
    try {
      git(repo, 'merge-base', '--is-ancestor', c, tip);
      return true;
    } catch {
      return false;
    }
  };
  const lastMerge = new Map<string, Ev>();
  for (const e of events) if (e.type === 'merge.succeeded') lastMerge.set(e.task!, e);
  const breaking = events.find(
    (e) => e.type === 'merge.succeeded' && e.task === culprit.task && e.attempt === culprit.attempt,
  )!;
  expect(isAncestor(breaking.commit!)).toBe(false);
  for (const t of ['rename', 'farewell', 'changelog', ...more])
    expect(isAncestor(lastMerge.get(t)!.commit!)).toBe(true);
  expect(lastMerge.get(culprit.task!)!.attempt).toBeGreaterThan(culprit.attempt!);

  // The project's own tests pass at the tip, and both changes are there.
  const check = path.join(path.dirname(runDir), 'verify-tip');
  git(repo, 'worktree', 'add', '--detach', check, tip);
  expect(execFileSync('node', ['test.js'], { cwd: check, encoding: 'utf8' })).toContain('ok: 3 modules');
  expect(fs.readFileSync(path.join(check, 'src/farewell.js'), 'utf8')).toContain('welcome');
  expect(fs.readFileSync(path.join(check, 'CHANGELOG.md'), 'utf8')).toContain('1.1.0');
  git(repo, 'worktree', 'remove', '--force', check);
  expect(processesWithEnv('SWARM_RUN_DIR', runDir)).toEqual([]);
  // The checks' worktree goes with the finished run.
  const runId = readJson<{ id: string }>(path.join(runDir, 'run.json')).id;
  expect(fs.existsSync(path.join(repo, '.swarm/worktrees', runId, '.integration'))).toBe(false);
  return { culprit: culprit.task!, events };
}

/** A repository whose swarm.yaml has one task (`a`, writes a.txt), one worker, `verify` as the integration check, and `more` lines. */
function oneTaskRepo(w: World, verify: string, more: string[] = []): string {
  return makeGitRepo(w, {
    'README.md': 'demo\n',
    'swarm.yaml': [
      'version: 1',
      'workers: 1',
      ...more,
      'integration:',
      `  verify: ${JSON.stringify(verify)}`,
      'tasks:',
      '  - id: a',
      '    run: echo a > a.txt',
      '',
    ].join('\n'),
  });
}

describe('merge queue', () => {
  it('catches two tasks that break the build together, bisects, rewinds and reruns the culprit', async () => {
    world = makeWorld();
    const repo = makeDemo(world);
    const before = userSide(repo);
    const r = await runCli(['run', 'swarm.yaml', '--run-dir', world.path('run'), '--no-dashboard'], { cwd: repo });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const { culprit, events } = expectVerifiedBranch(repo, world.path('run'));
    expect(r.stdout).toContain(`${culprit} (attempt 1) breaks the integration check`);
    expect(r.stdout).toMatch(/tip verified by integration check \d+; \d+ integration check\(s\)/);
    // The culprit's second attempt was told why: the check's output is in its environment.
    const attempts = readJson<{ tasks: Record<string, { attempts: number }> }>(world.path('run/state.json')).tasks;
    const assignment = readJson<{ env: Record<string, string>; base_commit: string }>(
      world.path(`run/tasks/${culprit}/${attempts[culprit]!.attempts}/assignment.json`),
    );
    expect(fs.readFileSync(assignment.env.SWARM_INTEGRATION_LOG!, 'utf8')).toMatch(/SyntaxError|does not provide/);
    // It started from a verified tip.
    const verified = events.filter((e) => e.type === 'integration.verified').map((e) => e.tip);
    expect(verified).toContain(assignment.base_commit);
    expect(userSide(repo)).toBe(before);
    const status = await runCli(['status', world.path('run')], { cwd: repo });
    expect(status.stdout).toMatch(/tip verified by integration check \d+/);
  });

  it('checks merges that land during a check as one batch, and bisects four to the culprit in at most four checks', async () => {
    world = makeWorld();
    const repo = makeDemo(world, batchOfFour);
    const before = userSide(repo);
    const r = await runCli(['run', 'swarm.yaml', '--run-dir', world.path('run'), '--no-dashboard'], { cwd: repo });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const events = readJsonlFile<Ev>(world.path('run/events.jsonl'));
    const started = events.filter((e) => e.type === 'integration.check.started');
    expect(started[0]).toMatchObject({ kind: 'base' });
    expect(started[1]).toMatchObject({ kind: 'batch', merges: 4 });
    const named = events.findIndex((e) => e.type === 'integration.culprit');
    const beforeCulprit = events
      .slice(0, named)
      .filter((e) => e.type === 'integration.check.started' && e.kind !== 'base');
    // Three when the culprit is merge 2 or 3; four when it is the last merge, whose tip is blamed
    // only once it fails again in a check besides the batch's (a flaky check fails once).
    expect(beforeCulprit.length).toBeLessThanOrEqual(4);
    expect(beforeCulprit.slice(1).every((e) => e.kind === 'bisect')).toBe(true);
    expect(userSide(repo)).toBe(before);
    const state = readJson<{ integration: { verified: { tip: string } }; git: { tip: string } }>(
      world.path('run/state.json'),
    );
    expect(state.integration.verified.tip).toBe(state.git.tip);
  });

  it('a check that fails exactly once blames nobody: with retries: 0 the run still succeeds', async () => {
    world = makeWorld();
    // Fails the first time it runs on a tip with a parent (the base commit has none), passes after.
    const verify = `if git rev-parse -q --verify HEAD^ >/dev/null && mkdir ${world.path('flaked')} 2>/dev/null; then echo flaky failure; exit 1; fi`;
    const repo = oneTaskRepo(world, verify, ['scheduling:', '  retries: 0']);
    const r = await runCli(['run', 'swarm.yaml', '--run-dir', world.path('run'), '--no-dashboard'], { cwd: repo });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const events = readJsonlFile<Ev & { text?: string }>(world.path('run/events.jsonl'));
    expect(events.some((e) => e.type === 'integration.culprit')).toBe(false);
    const finished = events.filter((e) => e.type === 'integration.check.finished').map((e) => e.outcome);
    expect(finished).toEqual(['passed', 'failed', 'passed']);
    expect(events.find((e) => e.type === 'notice' && /flaky/.test(e.text ?? ''))).toBeDefined();
    expect(r.stdout + r.stderr).toMatch(/the check is flaky/);
    const state = readJson<{
      tasks: Record<string, { state: string }>;
      integration: { verified: { tip: string } };
      git: { tip: string };
    }>(world.path('run/state.json'));
    expect(state.tasks.a!.state).toBe('succeeded');
    expect(state.integration.verified.tip).toBe(state.git.tip);
  });

  it('refuses integration checks without git isolation, naming the field', async () => {
    world = makeWorld();
    world.write('swarm.yaml', 'version: 1\nintegration:\n  verify: "true"\ntasks:\n  - id: a\n    run: "true"\n');
    const r = await runCli(['run', 'swarm.yaml', '--no-dashboard'], { cwd: world.dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/swarm\.yaml:3:\d+.*integration\.verify.*git isolation/);
    expect(fs.existsSync(world.path('.swarm'))).toBe(false);
  });
});

describe('merge queue: kill -9 at each step, then resume', () => {
  // Each point with the run that reaches it: the example (one merge per check: a failing batch of
  // one names its culprit at once) or four merges in one batch (bisection).
  const cases: { point: string; batch: boolean }[] = [
    { point: 'during-base-check', batch: true },
    { point: 'after-check', batch: false },
    { point: 'during-batch-check', batch: false },
    { point: 'after-verified', batch: false },
    { point: 'during-bisect-check', batch: true },
    { point: 'after-culprit', batch: false },
    { point: 'after-rewind-ref', batch: false },
    { point: 'after-rewind-ref', batch: true },
  ];
  for (const { point, batch } of cases) {
    it(`${point}${batch ? ' (four merges in a batch)' : ''}: the resumed run merges every task exactly once and verifies the branch`, async () => {
      world = makeWorld();
      const repo = makeDemo(world, batch ? batchOfFour : undefined);
      const before = userSide(repo);
      const runDir = world.path('run');
      const first = await runCli(['run', 'swarm.yaml', '--run-dir', runDir, '--no-dashboard'], {
        cwd: repo,
        env: { SWARM_TEST_CRASH_AT: point },
      });
      expect(first.signal, first.stdout + first.stderr).toBe('SIGKILL');
      const resumed = await runCli(['resume', runDir, '--no-dashboard'], { cwd: repo });
      expect(resumed.code, resumed.stdout + resumed.stderr).toBe(0);
      const { events } = expectVerifiedBranch(repo, runDir, batch ? ['license'] : []);
      // Every merge of an attempt is recorded once; every task succeeded once.
      const merges = events.filter((e) => e.type === 'merge.succeeded').map((e) => `${e.task}/${e.attempt}`);
      expect(new Set(merges).size).toBe(merges.length);
      const succeeded = events.filter((e) => e.type === 'task.succeeded').map((e) => e.task);
      expect(succeeded.sort()).toEqual(['changelog', 'farewell', ...(batch ? ['license'] : []), 'rename']);
      if (point === 'during-base-check') {
        // The base check (a 6 s sleep) outlived its coordinator; the resumed one killed it and ran it again.
        // (Its recorded process group is killed first, so the marker scan after it may find nothing left.)
        const log = readJsonlFile<{ msg?: string; group?: { kind: string } }>(
          path.join(runDir, 'logs/coordinator.log'),
        );
        const rerun = log.find((l) => l.msg === 'running an interrupted integration check again');
        expect(rerun?.group?.kind).toBe('killed');
        expect(fs.readFileSync(path.join(runDir, 'integration/check-1.log'), 'utf8')).toContain(
          'run again after the coordinator restarted',
        );
      }
      expect(userSide(repo)).toBe(before);
    });
  }
});

describe('merge queue: the integration branch moved by someone else', () => {
  it('a commit pushed to the branch while the coordinator was down survives the resume: the rewind leaves the branch alone and says how to go on', async () => {
    world = makeWorld();
    const repo = makeDemo(world, batchOfFour);
    const runDir = world.path('run');
    // Killed once bisection named the culprit, before the branch was rewound.
    const first = await runCli(['run', 'swarm.yaml', '--run-dir', runDir, '--no-dashboard'], {
      cwd: repo,
      env: { SWARM_TEST_CRASH_AT: 'after-culprit' },
    });
    expect(first.signal, first.stdout + first.stderr).toBe('SIGKILL');
    const branch = `refs/heads/swarm/${readJson<{ id: string }>(path.join(runDir, 'run.json')).id}`;
    const left = git(repo, 'rev-parse', branch);
    const foreign = git(repo, 'commit-tree', `${left}^{tree}`, '-p', left, '-m', 'pushed by someone else');
    git(repo, 'update-ref', branch, foreign, left);

    const resumed = await runCli(['resume', runDir, '--no-dashboard'], { cwd: repo });
    const out = resumed.stdout + resumed.stderr;
    expect(git(repo, 'rev-parse', branch), out).toBe(foreign);
    expect(resumed.code, out).toBe(1);
    expect(resumed.stderr).toContain(`is at ${foreign}, a commit this run did not make`);
    const events = readJsonlFile<Ev>(path.join(runDir, 'events.jsonl'));
    expect(events.some((e) => e.type === 'integration.rewound')).toBe(false);

    // The command it gives puts the branch back; the run then takes the culprit off and ends verified.
    const command = /git -C (\S+) update-ref (\S+) ([0-9a-f]{40}) ([0-9a-f]{40})/.exec(resumed.stderr);
    expect(command?.slice(1)).toEqual([repo, branch, left, foreign]);
    git(command![1]!, 'update-ref', ...command!.slice(2));
    const again = await runCli(['resume', runDir, '--no-dashboard'], { cwd: repo });
    expect(again.code, again.stdout + again.stderr).toBe(0);
    expectVerifiedBranch(repo, runDir, ['license']);
    const rewound = readJsonlFile<Ev & { from?: string }>(path.join(runDir, 'events.jsonl')).find(
      (e) => e.type === 'integration.rewound',
    );
    expect(rewound?.from).toBe(left);
  });
});

describe('merge queue: a check that escapes its environment marker', () => {
  it('a check process started with env -i outlives a kill -9 of its coordinator, and the resume kills its process group', async () => {
    world = makeWorld();
    const pidFile = world.path('sleeper.pid');
    // The first run of the check leaves a process without the check's environment marker.
    const verify = `if mkdir ${world.path('slept')} 2>/dev/null; then env -i sh -c 'echo $$ > ${pidFile}.tmp && mv ${pidFile}.tmp ${pidFile}; exec sleep 60'; fi; true`;
    const repo = oneTaskRepo(world, verify);
    const runDir = world.path('run');
    const first = await runCli(['run', 'swarm.yaml', '--run-dir', runDir, '--no-dashboard'], {
      cwd: repo,
      env: { SWARM_TEST_CRASH_AT: 'during-base-check' },
    });
    expect(first.signal, first.stdout + first.stderr).toBe('SIGKILL');
    const sleeper = Number(
      await waitFor(() => fs.existsSync(pidFile) && fs.readFileSync(pidFile, 'utf8').trim(), 20_000, 'the sleeper'),
    );
    expect(processAlive(sleeper)).toBe(true);
    // It is in the check's process group, and has no marker to be found by.
    const stat = fs.readFileSync(`/proc/${sleeper}/stat`, 'utf8');
    const pgid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]);
    expect(pgid).not.toBe(sleeper);
    expect(fs.readFileSync(`/proc/${sleeper}/environ`, 'utf8')).not.toContain('SWARM_INTEGRATION_CHECK');

    const resumed = await runCli(['resume', runDir, '--no-dashboard'], { cwd: repo });
    expect(resumed.code, resumed.stdout + resumed.stderr).toBe(0);
    await waitFor(() => !processAlive(sleeper), 10_000, 'the sleeper to be killed');
    // Killed as the check's recorded process group.
    const log = readJsonlFile<{ msg?: string; group?: { kind: string } }>(path.join(runDir, 'logs/coordinator.log'));
    expect(log.find((l) => l.msg === 'running an interrupted integration check again')?.group).toEqual({
      kind: 'killed',
      pgid,
    });
    expect(fs.existsSync(path.join(runDir, 'integration/check-1.group.json'))).toBe(false);
  });
});
