// End-to-end: `swarm run` killed (-9) at each step of creating its run, before and after the
// planner. A run directory appears in place only complete; what a kill before that leaves is
// recognised by `swarm status`/`resume`/`clean` ("interrupted before it started; nothing ran") and
// `swarm clean` removes it with its integration branch; a kill once run.json is written is
// resumable; and the user's `git status` never shows `.swarm/`.
import fs from 'node:fs';
import path from 'node:path';
import { stringify } from 'yaml';
import { afterEach, describe, expect, it } from 'vitest';
import { isPlanner } from '../fixtures/agent-script.js';
import { FakeAnthropic } from '../fixtures/fake-anthropic.js';
import { git, linesOf, makeGitRepo, makeWorld, runCli, type World } from '../helpers.js';

let world: World;
let fake: FakeAnthropic | undefined;
afterEach(async () => {
  await fake?.close();
  fake = undefined;
  world?.cleanup();
});

/** A repository whose committed swarm.yaml has one task that records its side effect outside it. */
function project(w: World, extra: Record<string, unknown> = {}): string {
  return makeGitRepo(w, {
    'README.md': '# r\n',
    'swarm.yaml': stringify({
      version: 1,
      ...extra,
      tasks: [{ id: 'a', run: `echo a >> ${w.path('effects.log')}` }],
    }),
  });
}

/** The one entry under `<repo>/.swarm/runs/`: the run's id, its directory, and whether that is still its temporary name. */
function theRun(repo: string): { id: string; root: string; temporary: boolean } {
  const runs = path.join(repo, '.swarm/runs');
  const entries = fs.readdirSync(runs);
  expect(entries).toHaveLength(1);
  const m = /^\.(.+)\.creating$/.exec(entries[0]!);
  const id = m ? m[1]! : entries[0]!;
  return { id, root: path.join(runs, id), temporary: m !== null };
}

/** The integration branches in the repository. */
const branches = (repo: string): string[] =>
  git(repo, 'for-each-ref', '--format=%(refname:short)', 'refs/heads/swarm/').split('\n').filter(Boolean);

/**
 * A directory without a lock younger than 10 s may belong to a `swarm run` that is starting; make
 * what the kill at `startup-dir` left that old.
 */
function age(dir: string): void {
  const past = new Date(Date.now() - 60_000);
  fs.utimesSync(dir, past, past);
}

/** `swarm status` and `swarm resume` of `root` both refuse it as a run that never started. */
async function expectInterrupted(repo: string, root: string): Promise<void> {
  for (const command of ['status', 'resume']) {
    const r = await runCli([command, root], { cwd: repo });
    expect(r.code, `${command}: ${r.stderr}`).toBe(2);
    expect(r.stderr).toContain(`swarm: ${root}: the run was interrupted before it started`);
    expect(r.stderr).toContain('nothing ran');
    expect(r.stderr).toContain(`swarm clean ${root}`);
    expect(r.stderr).not.toMatch(/^\s+at /m);
  }
}

describe('kill -9 of swarm run while it creates its run', () => {
  it.each([
    ['startup-dir', 'interrupted'],
    ['startup-lock', 'interrupted'],
    ['startup-record', 'interrupted'],
    ['startup-branch', 'interrupted'],
    ['startup-plan-json', 'interrupted'],
    ['startup-run-json', 'resumable'],
    ['startup-renamed', 'resumable'],
  ] as const)('at %s leaves a run that is %s, and .swarm/ out of git status', async (point, what) => {
    world = makeWorld();
    const repo = project(world);
    const first = await runCli(['run', 'swarm.yaml'], { cwd: repo, env: { SWARM_TEST_CRASH_AT: point } });
    expect(first.signal).toBe('SIGKILL');
    expect(git(repo, 'status', '--porcelain')).toBe(''); // .swarm/ was excluded before it was created
    const run = theRun(repo);
    expect(run.temporary).toBe(point !== 'startup-renamed'); // only a complete directory is in place

    if (what === 'interrupted') {
      if (point === 'startup-dir') age(path.join(path.dirname(run.root), `.${run.id}.creating`));
      await expectInterrupted(repo, run.root);
      const clean = await runCli(['clean', run.root], { cwd: repo });
      expect(clean.code, clean.stderr).toBe(0);
      expect(clean.stdout).toContain('a run interrupted before it started (nothing ran)');
      expect(fs.readdirSync(path.join(repo, '.swarm/runs'))).toEqual([]);
      expect(branches(repo)).toEqual([]);
      expect(fs.existsSync(world.path('effects.log'))).toBe(false);
      // Nothing is in the way of running it again.
      const again = await runCli(['run', 'swarm.yaml'], { cwd: repo });
      expect(again.code, again.stderr).toBe(0);
    } else {
      const status = await runCli(['status', run.root], { cwd: repo });
      expect(status.stdout + status.stderr).toContain(`swarm resume ${run.root}`);
      if (run.temporary) {
        // Not a run any reader takes for one until it is in place.
        const dashboard = await runCli(['dashboard'], { cwd: repo });
        expect(dashboard.code).toBe(2);
        expect(dashboard.stderr).toContain('no run here');
      }
      const resumed = await runCli(['resume', run.root], { cwd: repo });
      expect(resumed.code, resumed.stderr).toBe(0);
      expect(fs.readdirSync(path.join(repo, '.swarm/runs'))).toEqual([run.id]);
      expect(branches(repo)).toEqual([`swarm/${run.id}`]);
    }
    expect(linesOf(world.path('effects.log'))).toEqual(['a']);
    expect(git(repo, 'status', '--porcelain')).toBe('');
  });

  it('ends up at exactly the --run-dir given, and `swarm clean` without a directory removes every interrupted creation', async () => {
    world = makeWorld();
    const repo = project(world);
    const out = path.join(repo, 'out', 'run');
    const killed = await runCli(['run', 'swarm.yaml', '--run-dir', out], {
      cwd: repo,
      env: { SWARM_TEST_CRASH_AT: 'startup-plan-json' },
    });
    expect(killed.signal).toBe('SIGKILL');
    expect(fs.existsSync(out)).toBe(false);
    await expectInterrupted(repo, out);
    expect(fs.existsSync(path.join(repo, 'out', '.run.creating'))).toBe(true);
    await runCli(['clean', out], { cwd: repo });
    expect(fs.readdirSync(path.join(repo, 'out'))).toEqual([]);
    // The same path again, to the end.
    const done = await runCli(['run', 'swarm.yaml', '--run-dir', out], { cwd: repo });
    expect(done.code, done.stderr).toBe(0);
    expect(fs.existsSync(path.join(out, 'run.json'))).toBe(true);
    expect(fs.readdirSync(path.join(repo, 'out'))).toEqual(['run']);

    // Two creations killed in the default runs directory, one with its branch; one finished run.
    const finished = await runCli(['run', 'swarm.yaml'], { cwd: repo });
    expect(finished.code).toBe(0);
    const before = branches(repo); // of the two runs that finished
    expect(before).toHaveLength(2);
    for (const point of ['startup-lock', 'startup-branch'])
      expect((await runCli(['run', 'swarm.yaml'], { cwd: repo, env: { SWARM_TEST_CRASH_AT: point } })).signal).toBe(
        'SIGKILL',
      );
    expect(fs.readdirSync(path.join(repo, '.swarm/runs'))).toHaveLength(3);
    expect(branches(repo)).toHaveLength(3);
    const clean = await runCli(['clean'], { cwd: repo });
    expect(clean.code, clean.stderr).toBe(0);
    expect(clean.stdout.match(/a run interrupted before it started/g)).toHaveLength(2);
    expect(fs.readdirSync(path.join(repo, '.swarm/runs'))).toEqual([theRun(repo).id]);
    expect(branches(repo)).toEqual(before);
  });

  it.each([
    ['startup-record', 'before the planner', 0],
    ['startup-planned', 'after the planner', 1],
    ['startup-branch', 'after the planner and the branch', 1],
  ] as const)('at %s (%s) leaves a run that never started, which clean removes', async (point, _when, requests) => {
    world = makeWorld();
    const KEY = 'sk-ant-startup-test';
    fake = await FakeAnthropic.start({
      apiKey: KEY,
      rules: [
        {
          name: 'plan',
          match: isPlanner,
          reply: {
            content: [
              {
                type: 'tool_use',
                name: 'submit_plan',
                input: {
                  tasks: [
                    { id: 'w', title: 'Write', description: 'Write w.txt.', deps: [], role: 'writer', estimate: 1 },
                  ],
                },
              },
            ],
          },
        },
      ],
    });
    const repo = makeGitRepo(world, {
      'README.md': '# r\n',
      'swarm.yaml': stringify({
        version: 1,
        planner: { model: 'claude-sonnet-5-5' },
        roles: { writer: { backend: 'anthropic', model: 'claude-haiku-4-5' } },
      }),
    });
    const env = { ANTHROPIC_API_KEY: KEY, ANTHROPIC_BASE_URL: fake.url, SWARM_TEST_CRASH_AT: point };
    const killed = await runCli(['run', 'swarm.yaml', 'Write w'], { cwd: repo, env });
    expect(killed.signal, killed.stderr).toBe('SIGKILL');
    expect(fake.requests.filter(isPlanner)).toHaveLength(requests);
    expect(git(repo, 'status', '--porcelain')).toBe('');
    const run = theRun(repo);
    expect(run.temporary).toBe(true);
    expect(branches(repo)).toEqual(point === 'startup-branch' ? [`swarm/${run.id}`] : []);
    await expectInterrupted(repo, run.root);
    const clean = await runCli(['clean', run.root], { cwd: repo });
    expect(clean.code, clean.stderr).toBe(0);
    expect(fs.readdirSync(path.join(repo, '.swarm/runs'))).toEqual([]);
    expect(branches(repo)).toEqual([]);
  });
});
