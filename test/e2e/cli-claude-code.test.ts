// The `claude-code` backend end to end: `swarm run` with the REAL Claude Code (2.1.330,
// node_modules/.bin/claude) against the project's fake Anthropic server (test/fixtures/fake-anthropic.ts)
// on 127.0.0.1. A task reads, runs a command, edits and finishes, and its commit reaches the integration
// branch with the fake's usage; its own turn limit, a cap, a timeout, an authentication failure and a
// coordinator killed with -9 end as they should, with nothing left running and no request made twice.
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { costOf, modelInfo } from '../../src/llm/prices.js';
import { FakeAnthropic } from '../fixtures/fake-anthropic.js';
import { ccAt, ccCwdOf, ccSay, ccTool } from '../fixtures/claude-code-script.js';
import {
  git,
  makeGitRepo,
  makeWorld,
  processesWithEnv,
  readJson,
  readJsonlFile,
  runCli,
  startCli,
  waitFor,
  type World,
} from '../helpers.js';

const KEY = 'sk-ant-claude-code-test';
const MODEL = 'claude-sonnet-5-5';

interface AttemptResult {
  outcome: string;
  reason: string;
  summary: string;
  turns: number | null;
  session: string | null;
  usage: {
    input_tokens: number;
    output_tokens: number;
    cache_read_tokens: number;
    cache_write_tokens: number;
    cost_usd: number;
  } | null;
}

describe('the claude-code backend', () => {
  let w: World;
  let fake: FakeAnthropic | undefined;
  afterEach(async () => {
    await fake?.close();
    fake = undefined;
    w?.cleanup();
  });

  function setup(role: Record<string, unknown>, tasks: unknown[], extra: Record<string, unknown> = {}) {
    w = makeWorld();
    const repo = makeGitRepo(w, { 'notes.txt': 'alpha\nbeta\ngamma\n' });
    w.write('repo/swarm.yaml', {
      version: 1,
      workers: 2,
      roles: { coder: { backend: 'claude-code', model: MODEL, base_url: fake!.url, ...role } },
      tasks,
      ...extra,
    });
    return repo;
  }
  const env = { ANTHROPIC_API_KEY: KEY };

  it('runs a task with Claude Code: read, shell, edit, finish; the commit is merged and the usage is the fake’s', async () => {
    fake = await FakeAnthropic.start({ apiKey: KEY });
    const repo = setup({}, [{ id: 'upper', role: 'coder', description: 'Change beta to BETA in notes.txt.' }]);
    fake.addRules(
      ccAt('upper', 0, (req) => ccTool('Read', { file_path: path.join(ccCwdOf(req), 'notes.txt') }, 'Reading first.')),
      ccAt('upper', 1, ccTool('Bash', { command: 'wc -l notes.txt', description: 'count lines' })),
      ccAt('upper', 2, (req) =>
        ccTool('Edit', { file_path: path.join(ccCwdOf(req), 'notes.txt'), old_string: 'beta', new_string: 'BETA' }),
      ),
      ccAt('upper', 3, ccSay('Changed beta to BETA in notes.txt.')),
    );
    const r = await runCli(['run', 'swarm.yaml', '--run-dir', 'run', '--no-dashboard'], { cwd: repo, env });
    expect(r.code, r.stderr + r.stdout).toBe(0);
    const branch = readJson<{ integration_branch: string }>(path.join(repo, 'run/run.json')).integration_branch;
    expect(git(repo, 'show', `${branch}:notes.txt`)).toBe('alpha\nBETA\ngamma');
    const result = readJson<AttemptResult>(path.join(repo, 'run/tasks/upper/1/result.json'));
    expect(result).toMatchObject({ outcome: 'succeeded', reason: 'finished', turns: 4 });
    expect(result.summary).toBe('Changed beta to BETA in notes.txt.');
    expect(result.session).toMatch(/^[0-9a-f-]{36}$/);
    // Every request was the conversation's, and the attempt's tokens are what the fake reported.
    expect(fake.requests.map((q) => q.rule)).toEqual(['upper/1#0', 'upper/1#1', 'upper/1#2', 'upper/1#3']);
    const sum = (k: 'input_tokens' | 'output_tokens' | 'cache_read_input_tokens' | 'cache_creation_input_tokens') =>
      fake!.requests.reduce((n, q) => n + (q.usage?.[k] ?? 0), 0);
    expect(result.usage).toMatchObject({
      input_tokens: sum('input_tokens'),
      output_tokens: sum('output_tokens'),
      cache_read_tokens: sum('cache_read_input_tokens'),
      cache_write_tokens: sum('cache_creation_input_tokens'),
    });
    // The cost is Claude Code's own figure (its `result` line's total_cost_usd), from its own price
    // table: for claude-sonnet-5-5, 2.1.330 prices cache reads at $0.10 per million where fileswarm's
    // table (Anthropic's pricing page) says $0.20, so the two differ.
    const final = readJsonlFile<{ type: string; total_cost_usd?: number }>(
      path.join(repo, 'run/tasks/upper/1/stdout.log'),
    ).find((l) => l.type === 'result')!;
    expect(result.usage!.cost_usd).toBeCloseTo(final.total_cost_usd!, 9);
    expect(result.usage!.cost_usd).toBeLessThan(costOf(result.usage!, modelInfo(MODEL)!.price));
    const events = readJsonlFile<{ type: string; name?: string; text: string }>(
      path.join(repo, 'run/tasks/upper/1/events.jsonl'),
    );
    expect(events.filter((e) => e.type === 'tool_call').map((e) => e.name)).toEqual(['Read', 'Bash', 'Edit']);
    expect(processesWithEnv('SWARM_RUN_DIR', path.join(repo, 'run'))).toEqual([]);
  });

  it('its own turn limit (--max-turns from the role) ends the attempt max-turns', async () => {
    fake = await FakeAnthropic.start({ apiKey: KEY });
    for (let turn = 0; turn < 4; turn++)
      fake.addRules(ccAt('loop', turn, ccTool('Bash', { command: `echo step ${turn}`, description: 'step' })));
    const repo = setup({ max_turns: 2 }, [{ id: 'loop', role: 'coder', description: 'Loop.' }]);
    const r = await runCli(['run', 'swarm.yaml', '--run-dir', 'run', '--no-dashboard'], { cwd: repo, env });
    expect(r.code, r.stderr + r.stdout).toBe(1);
    const result = readJson<AttemptResult>(path.join(repo, 'run/tasks/loop/1/result.json'));
    expect(result).toMatchObject({ outcome: 'failed', reason: 'max-turns' });
    expect(result.summary).toMatch(/^claude-code: .*turns/i);
    expect(fake.requests.length).toBe(2);
  });

  it('stops Claude Code when the attempt crosses its token cap', async () => {
    fake = await FakeAnthropic.start({ apiKey: KEY });
    // Each answer runs a 2 s command; the worker sees the usage of each answer (its raw stream
    // events) while that command runs, so it stops Claude Code at the first answer that crosses the
    // cap, before another request.
    for (let turn = 0; turn < 8; turn++)
      fake.addRules(
        ccAt(
          'loop',
          turn,
          ccTool('Bash', { command: `timeout 2 tail -f /dev/null; echo step ${turn}`, description: 'step' }),
        ),
      );
    const CAP = 30_000;
    const repo = setup({ max_tokens: CAP }, [{ id: 'loop', role: 'coder', description: 'Loop.' }]);
    const r = await runCli(['run', 'swarm.yaml', '--run-dir', 'run', '--no-dashboard'], { cwd: repo, env });
    expect(r.code, r.stderr + r.stdout).toBe(1);
    const result = readJson<AttemptResult>(path.join(repo, 'run/tasks/loop/1/result.json'));
    expect(result).toMatchObject({ outcome: 'failed', reason: 'max-tokens' });
    expect(result.summary).toMatch(/token cap/);
    // The first request whose usage took the total to the cap was the last one made.
    let total = 0;
    const crossing = fake.requests.findIndex((q) => {
      const u = q.usage!;
      total += u.input_tokens + u.output_tokens + u.cache_read_input_tokens + u.cache_creation_input_tokens;
      return total >= CAP;
    });
    expect(crossing).toBeGreaterThan(0);
    expect(fake.requests.length).toBe(crossing + 1);
    expect(result.turns).toBe(crossing + 1);
    expect(processesWithEnv('SWARM_RUN_DIR', path.join(repo, 'run'))).toEqual([]);
  });

  it('a final answer that crosses the cap stands: the attempt succeeds, as the built-in agent’s would', async () => {
    fake = await FakeAnthropic.start({ apiKey: KEY });
    fake.addRules(
      ccAt('last', 0, ccTool('Bash', { command: 'echo one', description: 'one' })),
      // The last answer is long: its output alone takes the attempt past its cap.
      ccAt('last', 1, { ...ccSay('All done.'), output_tokens: 60_000 }),
    );
    const repo = setup({ max_tokens: 50_000 }, [{ id: 'last', role: 'coder', description: 'Finish.' }]);
    const r = await runCli(['run', 'swarm.yaml', '--run-dir', 'run', '--no-dashboard'], { cwd: repo, env });
    expect(r.code, r.stderr + r.stdout).toBe(0);
    const result = readJson<AttemptResult>(path.join(repo, 'run/tasks/last/1/result.json'));
    expect(result).toMatchObject({ outcome: 'succeeded', reason: 'finished', summary: 'All done.', turns: 2 });
    expect(result.usage!.output_tokens).toBeGreaterThanOrEqual(60_000);
  });

  it('a cancel kills Claude Code and the command it runs: nothing is left', async () => {
    // (Claude Code 2.1.330 refuses a standalone `sleep 300` as a tool call; `tail -f` waits as long.)
    fake = await FakeAnthropic.start({ apiKey: KEY });
    fake.addRules(
      ccAt('slow', 0, ccTool('Bash', { command: 'tail -f /dev/null', description: 'wait', timeout: 600000 })),
    );
    const repo = setup({}, [{ id: 'slow', role: 'coder', description: 'Wait.' }]);
    const runDir = path.join(repo, 'run');
    const run = startCli(['run', 'swarm.yaml', '--run-dir', 'run', '--no-dashboard'], { cwd: repo, env });
    await waitFor(
      () => processesWithEnv('SWARM_RUN_DIR', runDir).some((pid) => cmdline(pid).includes('tail -f /dev/null')),
      30_000,
      'the agent’s command running',
    );
    const c = await runCli(['control', 'run', 'cancel-task', 'slow'], { cwd: repo });
    expect(c.code, c.stderr + c.stdout).toBe(0);
    const r = await run.done;
    expect(r.code, r.stderr + r.stdout).not.toBe(0);
    const result = readJson<AttemptResult>(path.join(runDir, 'tasks/slow/1/result.json'));
    expect(result).toMatchObject({ outcome: 'cancelled', reason: 'cancel-requested' });
    expect(processesWithEnv('SWARM_RUN_DIR', runDir)).toEqual([]);
  });

  it('an authentication failure fails the attempt with Claude Code’s message and says which key to set', async () => {
    fake = await FakeAnthropic.start({ apiKey: KEY });
    const repo = setup({ retries: 1 }, [{ id: 'x', role: 'coder', description: 'X.' }], {
      scheduling: { backoff: 0 },
    });
    const r = await runCli(['run', 'swarm.yaml', '--run-dir', 'run', '--no-dashboard'], {
      cwd: repo,
      env: { ANTHROPIC_API_KEY: 'sk-ant-wrong' },
    });
    expect(r.code, r.stderr + r.stdout).toBe(1);
    const result = readJson<AttemptResult>(path.join(repo, 'run/tasks/x/1/result.json'));
    expect(result).toMatchObject({ outcome: 'failed', reason: 'api-error' });
    expect(result.summary).toMatch(/^claude-code: authentication failed \(401\).*ANTHROPIC_API_KEY/);
    // The retry's prompt carries what went wrong (its requests are refused too: the key is still wrong).
    const retry = fake.requests.find((q) => JSON.stringify(q.body?.messages ?? []).includes('(id x, attempt 2)'))!;
    expect(JSON.stringify(retry.body.messages)).toContain('authentication failed (401)');
    // The wrong key is not written anywhere in the run directory.
    const files = fs.readdirSync(path.join(repo, 'run'), { recursive: true, withFileTypes: true });
    for (const f of files.filter((e) => e.isFile()))
      expect(fs.readFileSync(path.join(f.parentPath, f.name), 'utf8')).not.toContain('sk-ant-wrong');
  });

  it('a coordinator killed with -9 while Claude Code works: resume adopts the attempt, no request is made twice', async () => {
    fake = await FakeAnthropic.start({ apiKey: KEY });
    let waiting = false;
    fake.addRules(
      ccAt('slow', 0, () => {
        waiting = true;
        return { ...ccTool('Bash', { command: 'echo done > out.txt', description: 'write' }), delay_ms: 3000 };
      }),
      ccAt('slow', 1, ccSay('Wrote out.txt.')),
    );
    const repo = setup({}, [{ id: 'slow', role: 'coder', description: 'Write out.txt.' }]);
    const run = startCli(['run', 'swarm.yaml', '--run-dir', 'run', '--no-dashboard'], { cwd: repo, env });
    await waitFor(() => waiting, 30_000, 'the first request waiting at the fake');
    run.child.kill('SIGKILL');
    expect((await run.done).signal).toBe('SIGKILL');
    const resumed = await runCli(['resume', 'run', '--no-dashboard'], { cwd: repo, env });
    expect(resumed.code, resumed.stderr + resumed.stdout).toBe(0);
    expect(fake.requests.map((q) => q.rule)).toEqual(['slow/1#0', 'slow/1#1']);
    expect(fs.existsSync(path.join(repo, 'run/tasks/slow/2'))).toBe(false);
    const branch = readJson<{ integration_branch: string }>(path.join(repo, 'run/run.json')).integration_branch;
    expect(git(repo, 'show', `${branch}:out.txt`)).toBe('done');
  });
});

/** A process's command line, '' if it is gone. */
function cmdline(pid: number): string {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
  } catch {
    return '';
  }
}
