// Agents and crashes: a coordinator killed with -9 while agents wait on the model is resumed
// without any model request made twice; a worker killed mid-conversation loses its attempt, which
// is run again, and what it had spent still counts.
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { at, attemptOf, call, finish, taskOf, turnOf } from '../fixtures/agent-script.js';
import { FakeAnthropic } from '../fixtures/fake-anthropic.js';
import { makeGitRepo, makeWorld, readJson, readJsonlFile, runCli, startCli, waitFor, type World } from '../helpers.js';

const KEY = 'sk-ant-crash-test';
const coder = { backend: 'anthropic', model: 'claude-sonnet-5-5' };

interface Usage {
  cost_usd: number;
}

describe('agents and crashes', () => {
  let w: World;
  let fake: FakeAnthropic | undefined;
  afterEach(async () => {
    await fake?.close();
    w?.cleanup();
  });

  it('resumes a coordinator killed with -9 while agents wait on the model: attempts adopted, no request made twice', async () => {
    w = makeWorld();
    fake = await FakeAnthropic.start({ apiKey: KEY });
    const repo = makeGitRepo(w, { 'README.md': '# demo\n' });
    w.write('repo/swarm.yaml', {
      version: 1,
      workers: 2,
      roles: { coder },
      tasks: [
        { id: 'a', role: 'coder', description: 'Write a.txt.' },
        { id: 'b', role: 'coder', description: 'Write b.txt.' },
        { id: 'c', role: 'coder', description: 'Check.', deps: ['a', 'b'] },
      ],
    });
    // a's and b's first answers take 3 s: the coordinator is killed while both wait for them.
    // The rules see each request as it arrives (the fake logs it only once answered).
    const waiting = new Set<string>();
    fake.addRules(
      at(
        'a',
        0,
        () => (waiting.add('a'), { ...call('write_file', { path: 'a.txt', content: 'a\n' }), delay_ms: 3000 }),
      ),
      at('a', 1, finish('wrote a.txt')),
      at(
        'b',
        0,
        () => (waiting.add('b'), { ...call('write_file', { path: 'b.txt', content: 'b\n' }), delay_ms: 3000 }),
      ),
      at('b', 1, finish('wrote b.txt')),
      at('c', 0, finish('checked')),
    );
    const env = { ANTHROPIC_API_KEY: KEY, ANTHROPIC_BASE_URL: fake.url };
    const run = startCli(['run', 'swarm.yaml', '--run-dir', 'run'], { cwd: repo, env });
    const events = path.join(repo, 'run/events.jsonl');
    await waitFor(
      () =>
        fs.existsSync(events) &&
        readJsonlFile<{ type: string }>(events).filter((e) => e.type === 'attempt.started').length === 2,
      20_000,
      'a and b started',
    );
    await waitFor(() => waiting.size === 2, 20_000, "a's and b's first requests waiting at the fake");
    run.child.kill('SIGKILL');
    expect((await run.done).signal).toBe('SIGKILL');

    const resumed = await runCli(['resume', 'run'], { cwd: repo, env });
    expect(resumed.code, resumed.stderr + resumed.stdout).toBe(0);
    // Every turn of every agent was asked for once: nothing was paid for twice.
    const asked = fake.requests.map((q) => `${attemptOf(q)}#${turnOf(q)}`).sort();
    expect(asked).toEqual(['a/1#0', 'a/1#1', 'b/1#0', 'b/1#1', 'c/1#0']);
    expect(fs.existsSync(path.join(repo, 'run/tasks/a/2'))).toBe(false);
    const state = readJson<{ usage: Usage; tasks: Record<string, { usage: Usage }> }>(
      path.join(repo, 'run/state.json'),
    );
    const perTask = Object.values(state.tasks).reduce((s, t) => s + t.usage.cost_usd, 0);
    expect(state.usage.cost_usd).toBeCloseTo(perTask, 9);
    expect(state.tasks.a!.usage.cost_usd).toBeGreaterThan(0);
  }, 90_000);

  it('reruns the attempt of a worker killed mid-conversation, and still counts what it had spent', async () => {
    w = makeWorld();
    fake = await FakeAnthropic.start({ apiKey: KEY });
    const repo = makeGitRepo(w, { 'README.md': '# demo\n' });
    w.write('repo/swarm.yaml', {
      version: 1,
      workers: 1,
      roles: { coder },
      tasks: [{ id: 'solo', role: 'coder', description: 'Write s.txt.' }],
    });
    let waiting = false;
    fake.addRules(
      at('solo/1', 0, call('write_file', { path: 's.txt', content: 's\n' })),
      // The second answer takes long: the worker is killed while it waits for it.
      at('solo/1', 1, () => {
        waiting = true;
        return { ...finish('never seen'), delay_ms: 5000 };
      }),
      at('solo/2', 0, call('write_file', { path: 's.txt', content: 's\n' })),
      at('solo/2', 1, finish('wrote s.txt')),
    );
    const env = { ANTHROPIC_API_KEY: KEY, ANTHROPIC_BASE_URL: fake.url };
    const run = startCli(['run', 'swarm.yaml', '--run-dir', 'run'], { cwd: repo, env });
    const status = path.join(repo, 'run/tasks/solo/1/status.json');
    const first = await waitFor(
      () => {
        const s = fs.existsSync(status) ? readJson<{ turn: number | null; usage: Usage | null }>(status) : undefined;
        return s?.turn === 1 && s.usage ? s.usage : undefined;
      },
      20_000,
      'the first turn answered',
    );
    await waitFor(() => waiting, 10_000, 'the second request at the fake');
    const worker = readJson<{ pid: number }>(path.join(repo, 'run/workers/w1/worker.json'));
    process.kill(worker.pid, 'SIGKILL');
    const res = await run.done;
    expect(res.code, res.stderr + res.stdout).toBe(0);

    const log = readJsonlFile<{ type: string; attempt?: number; reason?: string; usage?: Usage | null }>(
      path.join(repo, 'run/events.jsonl'),
    );
    const lost = log.find((e) => e.type === 'attempt.finished' && e.attempt === 1)!;
    expect(lost).toMatchObject({ reason: 'worker-lost' });
    // The lost attempt's spend is what its status.json last said (its completed responses).
    expect(lost.usage!.cost_usd).toBe(first.cost_usd);
    const second = readJson<{ usage: Usage }>(path.join(repo, 'run/tasks/solo/2/result.json'));
    const state = readJson<{ usage: Usage }>(path.join(repo, 'run/state.json'));
    expect(state.usage.cost_usd).toBeCloseTo(first.cost_usd + second.usage.cost_usd, 9);
    // Recorded: the answered requests (the one cut off by the kill got no answer).
    expect(fake.requests.filter((q) => taskOf(q) === 'solo').map((q) => `${attemptOf(q)}#${turnOf(q)}`)).toEqual([
      'solo/1#0',
      'solo/2#0',
      'solo/2#1',
    ]);
    expect(fake.unusedRules()).toEqual([]);
  }, 90_000);
});
