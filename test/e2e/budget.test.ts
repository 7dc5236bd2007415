// Run budgets: dispatch stops before the cap would be crossed, the run ends resumable (exit 3), and
// `swarm resume --max-cost-usd` with a higher cap finishes it. Agents talk to the fake server.
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { at } from '../fixtures/agent-script.js';
import { FakeAnthropic, type FakeReply, type FakeRequest, type FakeRule } from '../fixtures/fake-anthropic.js';
import { git, makeGitRepo, makeWorld, readJson, readJsonlFile, runCli, type World } from '../helpers.js';

const KEY = 'sk-ant-budget-test';
/** The token cap of the second test: the first task's two turns fit in it, the second's do not. */
const TOKEN_CAP = 9000;

/** A reply that writes as much as it may, at most 2000 tokens ($0.02 at Sonnet 5.5's $10/MTok output price). */
const long =
  (content: FakeReply['content']) =>
  (r: FakeRequest): FakeReply => ({ content, output_tokens: Math.min(2000, r.body.max_tokens as number) });
const rule = (attempt: string, turn: number, content: FakeReply['content']): FakeRule =>
  at(attempt, turn, long(content));

describe('budget', () => {
  let w: World;
  let fake: FakeAnthropic | undefined;
  afterEach(async () => {
    await fake?.close();
    w?.cleanup();
  });

  it('stops dispatch before the run cap would be crossed, and a resume with a higher cap finishes the run', async () => {
    w = makeWorld();
    fake = await FakeAnthropic.start({ apiKey: KEY });
    const repo = makeGitRepo(w, { 'README.md': '# demo\n' });
    w.write('repo/swarm.yaml', {
      version: 1,
      workers: 2,
      budget: { max_cost_usd: 0.07 },
      roles: { coder: { backend: 'anthropic', model: 'claude-sonnet-5-5' } },
      tasks: [
        { id: 'first', role: 'coder', description: 'Write a.txt.' },
        { id: 'second', role: 'coder', description: 'Write b.txt.', deps: ['first'] },
      ],
    });
    fake.addRules(
      rule('first/1', 0, [{ type: 'tool_use', name: 'write_file', input: { path: 'a.txt', content: 'a\n' } }]),
      rule('first/1', 1, [{ type: 'tool_use', name: 'finish', input: { summary: 'wrote a.txt' } }]),
      // The second task needs more turns than the budget left can pay for.
      rule('second/1', 0, [{ type: 'tool_use', name: 'write_file', input: { path: 'b.txt', content: 'b\n' } }]),
      rule('second/1', 1, [{ type: 'tool_use', name: 'read_file', input: { path: 'b.txt' } }]),
      {
        ...rule('second/1', 2, [{ type: 'tool_use', name: 'finish', input: { summary: 'never reached' } }]),
        times: Infinity,
      },
      rule('second/2', 0, [{ type: 'tool_use', name: 'write_file', input: { path: 'b.txt', content: 'b\n' } }]),
      rule('second/2', 1, [{ type: 'tool_use', name: 'finish', input: { summary: 'wrote b.txt' } }]),
    );
    const env = { ANTHROPIC_API_KEY: KEY, ANTHROPIC_BASE_URL: fake.url };

    const r1 = await runCli(['run', 'swarm.yaml'], { cwd: repo, env });
    expect(r1.code, r1.stderr + r1.stdout).toBe(3);
    const runDir = /run directory: (.+)/.exec(r1.stdout)![1]!.trim();
    expect(r1.stdout).toMatch(
      /budget exhausted \(\$0\.\d+ of \$0\.07 spent\); raise the cap and continue with: swarm resume --max-cost-usd \d+ /,
    );
    const state1 = readJson<{
      phase: string;
      usage: { cost_usd: number };
      budget: { exhausted: boolean; warned: number[] };
      tasks: Record<string, { state: string; failures: number }>;
    }>(path.join(runDir, 'state.json'));
    // The cap was never crossed: each attempt got what was left as its own cap, and the response
    // lengths were limited to fit it.
    expect(state1.usage.cost_usd).toBeLessThanOrEqual(0.07);
    expect(state1.usage.cost_usd).toBeGreaterThan(0.055);
    expect(state1.budget.exhausted).toBe(true);
    expect(state1.budget.warned).toEqual(expect.arrayContaining([50, 80]));
    expect(state1.tasks.first!.state).toBe('succeeded');
    expect(state1.tasks.second).toMatchObject({ state: 'ready', failures: 0 });
    const second1 = readJson<{ reason: string; usage: { cost_usd: number } }>(
      path.join(runDir, 'tasks/second/1/result.json'),
    );
    expect(second1.reason).toBe('budget-exhausted');
    const assignment = readJson<{ agent: { max_cost_usd: number; cap_source: unknown } }>(
      path.join(runDir, 'tasks/second/1/assignment.json'),
    );
    expect(assignment.agent.cap_source).toEqual({ cost: 'budget', tokens: null });
    expect(second1.usage.cost_usd).toBeLessThanOrEqual(assignment.agent.max_cost_usd);
    const types = readJsonlFile<{ type: string }>(path.join(runDir, 'events.jsonl')).map((e) => e.type);
    expect(types.filter((t) => t === 'budget.exhausted')).toHaveLength(1);
    // The attempt that hit its share of the budget was not retried on a smaller share.
    expect(fs.existsSync(path.join(runDir, 'tasks/second/2'))).toBe(false);
    // swarm status (and the dashboard, from the same model) give the command with the raise.
    const stopped = await runCli(['status', runDir], { cwd: repo });
    expect(stopped.stdout).toContain(`continue with:\n  swarm resume --max-cost-usd 1 ${runDir}`);

    const r2 = await runCli(['resume', '--max-cost-usd', '1', runDir], { cwd: repo, env });
    expect(r2.code, r2.stderr + r2.stdout).toBe(0);
    const state2 = readJson<{
      phase: string;
      outcome: string;
      usage: { cost_usd: number };
      budget: { max_cost_usd: number };
    }>(path.join(runDir, 'state.json'));
    expect(state2).toMatchObject({ phase: 'finished', outcome: 'succeeded', budget: { max_cost_usd: 1 } });
    expect(fake.unusedRules()).toEqual([]);
    const run = readJson<{ id: string }>(path.join(runDir, 'run.json'));
    expect(git(repo, 'show', `swarm/${run.id}:b.txt`)).toBe('b');
    // `swarm status` shows spend against the cap.
    const status = await runCli(['status', runDir, '--json'], { cwd: repo });
    expect(JSON.parse(status.stdout)).toMatchObject({
      usage: { cost_usd: state2.usage.cost_usd },
      budget: { max_cost_usd: 1 },
    });
  }, 120_000);
  it('stops at the run token cap too, and swarm resume --max-tokens with a higher cap finishes the run', async () => {
    w = makeWorld();
    fake = await FakeAnthropic.start({ apiKey: KEY });
    const repo = makeGitRepo(w, { 'README.md': '# demo\n' });
    w.write('repo/swarm.yaml', {
      version: 1,
      workers: 1,
      budget: { max_tokens: TOKEN_CAP },
      roles: { coder: { backend: 'anthropic', model: 'claude-sonnet-5-5' } },
      tasks: [
        { id: 'first', role: 'coder', description: 'Write a.txt.' },
        { id: 'second', role: 'coder', description: 'Write b.txt.', deps: ['first'] },
      ],
    });
    fake.addRules(
      rule('first/1', 0, [{ type: 'tool_use', name: 'write_file', input: { path: 'a.txt', content: 'a\n' } }]),
      rule('first/1', 1, [{ type: 'tool_use', name: 'finish', input: { summary: 'wrote a.txt' } }]),
      rule('second/1', 0, [{ type: 'tool_use', name: 'write_file', input: { path: 'b.txt', content: 'b\n' } }]),
      {
        ...rule('second/1', 1, [{ type: 'tool_use', name: 'read_file', input: { path: 'b.txt' } }]),
        times: Infinity,
      },
      rule('second/2', 0, [{ type: 'tool_use', name: 'write_file', input: { path: 'b.txt', content: 'b\n' } }]),
      rule('second/2', 1, [{ type: 'tool_use', name: 'finish', input: { summary: 'wrote b.txt' } }]),
    );
    const env = { ANTHROPIC_API_KEY: KEY, ANTHROPIC_BASE_URL: fake.url };
    const r1 = await runCli(['run', 'swarm.yaml'], { cwd: repo, env });
    expect(r1.code, r1.stderr + r1.stdout).toBe(3);
    const runDir = /run directory: (.+)/.exec(r1.stdout)![1]!.trim();
    expect(r1.stdout).toMatch(/continue with: swarm resume --max-tokens \d+ /);
    const state1 = readJson<{
      usage: { input_tokens: number; output_tokens: number; cache_read_tokens: number; cache_write_tokens: number };
      budget: { exhausted: boolean };
      tasks: Record<string, { state: string }>;
    }>(path.join(runDir, 'state.json'));
    const spent = (u: typeof state1.usage): number =>
      u.input_tokens + u.output_tokens + u.cache_read_tokens + u.cache_write_tokens;
    expect(spent(state1.usage)).toBeLessThanOrEqual(TOKEN_CAP);
    expect(state1.budget.exhausted).toBe(true);
    expect(state1.tasks.first!.state).toBe('succeeded');
    expect(state1.tasks.second!.state).toBe('ready');

    const r2 = await runCli(['resume', '--max-tokens', '100000', runDir], { cwd: repo, env });
    expect(r2.code, r2.stderr + r2.stdout).toBe(0);
    const state2 = readJson<{ outcome: string; budget: { max_tokens: number } }>(path.join(runDir, 'state.json'));
    expect(state2).toMatchObject({ outcome: 'succeeded', budget: { max_tokens: 100000 } });
    const run = readJson<{ id: string }>(path.join(runDir, 'run.json'));
    expect(git(repo, 'show', `swarm/${run.id}:b.txt`)).toBe('b');
  }, 120_000);
});
