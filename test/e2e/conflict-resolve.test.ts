// End-to-end: `merge.on_conflict: resolve`. Two command tasks edit the same line; the second's
// merge conflicts, and instead of running the task again, the resolver role's agent (the built-in
// agent, scripted on the fake Anthropic server over HTTP) gets a worktree at the new tip with the
// merge in progress, both sides' diffs and both tasks' descriptions, and resolves it. Its commit
// goes through the task's verify and the integration check like any attempt. A resolver that
// leaves the markers falls back to running the task again.
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { at, attemptOf, call, finish } from '../fixtures/agent-script.js';
import { FakeAnthropic } from '../fixtures/fake-anthropic.js';
import { git, makeGitRepo, makeWorld, readJson, readJsonlFile, runCli, type World } from '../helpers.js';

const KEY = 'sk-ant-test-5a1e0c3d9b7f2468';
let world: World;
let fake: FakeAnthropic | undefined;
afterEach(async () => {
  world?.cleanup();
  await fake?.close();
  fake = undefined;
});

/** Shell that waits until task `first` has finished (and, a moment later, merged), whatever the machine's load. */
const afterFirst = 'until [ -f "$SWARM_RUN_DIR/tasks/first/1/result.json" ]; do sleep 0.05; done; sleep 0.5';

function makeProject(w: World): string {
  const repo = makeGitRepo(w, { 'notes.txt': 'head\nline\ntail\n' });
  w.write('repo/swarm.yaml', {
    version: 1,
    workers: 2,
    roles: { fixer: { backend: 'anthropic', model: 'claude-sonnet-5-5' } },
    merge: { on_conflict: 'resolve', resolver: 'fixer' },
    integration: { verify: "! grep -q '^[<>]\\{7\\}' notes.txt" }, // no conflict marker on the branch
    tasks: [
      { id: 'first', title: 'Say it comes from first', run: "sed -i 's/^line$/line from first/' notes.txt" },
      {
        id: 'second',
        title: 'Say it also comes from second',
        description: 'Append ", and from second" to the middle line of notes.txt.',
        run: `${afterFirst}; sed -i 's/^line.*$/&, and from second/' notes.txt`,
        verify: "grep -q 'from second' notes.txt",
      },
    ],
  });
  return repo;
}

type Ev = { type: string; task?: string; attempt?: number; resolver?: string };

describe('merge conflicts resolved by an agent', () => {
  it('resolves the conflict in place: the resolver sees both sides, its merge is verified', async () => {
    world = makeWorld();
    fake = await FakeAnthropic.start({ apiKey: KEY });
    const repo = makeProject(world);
    const status = git(repo, 'status', '--porcelain');
    fake.addRules(
      at('second/2', 0, call('read_file', { path: 'notes.txt' })),
      at(
        'second/2',
        1,
        call('write_file', { path: 'notes.txt', content: 'head\nline from first, and from second\ntail\n' }),
      ),
      at('second/2', 2, finish("kept both: first's wording and second's addition")),
    );
    const runDir = world.path('run');
    const r = await runCli(['run', 'swarm.yaml', '--run-dir', runDir, '--no-dashboard'], {
      cwd: repo,
      env: { ANTHROPIC_API_KEY: KEY, ANTHROPIC_BASE_URL: fake.url },
    });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const events = readJsonlFile<Ev>(path.join(runDir, 'events.jsonl'));
    expect(events.find((e) => e.type === 'merge.conflicted')).toMatchObject({ task: 'second', attempt: 1 });
    expect(events.find((e) => e.type === 'attempt.assigned' && e.task === 'second' && e.attempt === 2)).toMatchObject({
      resolver: 'fixer',
    });
    // The resolver was shown the conflict, both sides and the other task, and was asked to resolve.
    const asked = fake.requests.filter((q) => attemptOf(q) === 'second/2');
    expect(asked.length).toBe(3);
    const system = JSON.stringify(asked[0]!.body.system);
    expect(system).toContain('resolve a merge conflict');
    expect(system).toContain('+line from first'); // the branch's side
    expect(system).toContain('+line, and from second'); // the task's side
    expect(system).toContain('Say it comes from first'); // the other task
    expect(system).toContain('Append \\", and from second\\"'); // the task's own description
    // Its first read saw the conflict markers of the merge in progress.
    const firstResult = JSON.stringify(asked[1]!.body.messages);
    expect(firstResult).toContain('<<<<<<<');
    // The task succeeded without running its command again; the branch has both and is verified.
    const state = readJson<{
      tasks: Record<string, { state: string; attempts: number; usage: { output_tokens: number } }>;
      git: { branch: string; tip: string };
      integration: { verified: { tip: string } };
    }>(path.join(runDir, 'state.json'));
    expect(state.tasks.second).toMatchObject({ state: 'succeeded', attempts: 2 });
    expect(state.tasks.second!.usage.output_tokens).toBeGreaterThan(0); // the resolver's cost is the task's
    expect(git(repo, 'show', `${state.git.branch}:notes.txt`)).toBe('head\nline from first, and from second\ntail');
    expect(state.integration.verified.tip).toBe(git(repo, 'rev-parse', state.git.branch));
    // The resolver's commit is the merge itself: the branch tip (its parents) and the conflicting attempt.
    const merged = events.filter((e) => e.type === 'merge.succeeded' && e.task === 'second');
    expect(merged.map((e) => e.attempt)).toEqual([2]);
    const runId = readJson<{ id: string }>(path.join(runDir, 'run.json')).id;
    const parents = git(repo, 'rev-list', '--parents', '-n', '1', `refs/swarm/${runId}/second/2`).split(' ');
    expect(parents).toHaveLength(3);
    expect(git(repo, 'status', '--porcelain')).toBe(status);
  });

  it('runs the task again when the resolver leaves the conflict markers', async () => {
    world = makeWorld();
    fake = await FakeAnthropic.start({ apiKey: KEY });
    const repo = makeProject(world);
    fake.addRules(at('second/2', 0, finish('done')));
    const runDir = world.path('run');
    const r = await runCli(['run', 'swarm.yaml', '--run-dir', runDir, '--no-dashboard'], {
      cwd: repo,
      env: { ANTHROPIC_API_KEY: KEY, ANTHROPIC_BASE_URL: fake.url },
    });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const result = readJson<{ outcome: string; reason: string; summary: string }>(
      path.join(runDir, 'tasks/second/2/result.json'),
    );
    expect(result).toMatchObject({ outcome: 'failed', reason: 'verify-failed' });
    expect(result.summary).toContain('conflict markers left in notes.txt');
    const state = readJson<{
      tasks: Record<string, { state: string; attempts: number; failures: number }>;
      git: { branch: string };
    }>(path.join(runDir, 'state.json'));
    // The resolver's failure used no retry (the task has none); attempt 3 was the task's own command.
    expect(state.tasks.second).toMatchObject({ state: 'succeeded', attempts: 3, failures: 0 });
    const third = readJson<{ task: { backend: string }; resolve: unknown }>(
      path.join(runDir, 'tasks/second/3/assignment.json'),
    );
    expect(third).toMatchObject({ task: { backend: 'command' }, resolve: null });
    expect(git(repo, 'show', `${state.git.branch}:notes.txt`)).toBe('head\nline from first, and from second\ntail');
  });

  it('refuses a resolver that is not an agent role, naming the field', async () => {
    world = makeWorld();
    const repo = makeGitRepo(world, { 'a.txt': 'a\n' });
    world.write(
      'repo/swarm.yaml',
      'version: 1\nroles:\n  sh: {backend: command}\nmerge:\n  on_conflict: resolve\n  resolver: sh\ntasks:\n  - id: a\n    run: "true"\n',
    );
    const r = await runCli(['run', 'swarm.yaml', '--no-dashboard'], { cwd: repo });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/swarm\.yaml:6:\d+.*merge\.resolver.*must be an agent role/);
    expect(fs.existsSync(path.join(repo, '.swarm/runs'))).toBe(false);
  });
});
