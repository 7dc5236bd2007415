// The `codex` backend end to end: `swarm run` with the REAL Codex CLI (0.169.0, node_modules/.bin) in
// its workspace-write sandbox against the fake Responses API (test/fixtures/fake-openai.ts) on
// 127.0.0.1. A task reads, runs a command, patches and finishes, and its commit reaches the
// integration branch with the fake's usage; a token cap, a cancel, an authentication failure and a
// coordinator killed with -9 end as they should, with nothing left running and no request made twice.
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { modelInfo } from '../../src/llm/prices.js';
import { codexUsage } from '../../src/worker/backends/codex/stream.js';
import { CODEX_NO_RETRIES, cxAt, cxAttemptOf, cxPatch, cxRun, cxSay, cxTurnOf } from '../fixtures/codex-script.js';
import { FakeOpenAI } from '../fixtures/fake-openai.js';
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

const KEY = 'sk-openai-codex-test';
const MODEL = 'gpt-5.5';

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

const PATCH = `*** Begin Patch
*** Update File: notes.txt
@@
 alpha
-beta
+BETA
 gamma
*** End Patch
`;

describe('the codex backend', () => {
  let w: World;
  let fake: FakeOpenAI | undefined;
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
      roles: { fixer: { backend: 'codex', model: MODEL, base_url: fake!.url, args: CODEX_NO_RETRIES, ...role } },
      tasks,
      ...extra,
    });
    return repo;
  }
  const env = { OPENAI_API_KEY: KEY };

  it('runs a task with Codex: read, shell, patch, finish; the commit is merged and the usage is the fake’s', async () => {
    fake = await FakeOpenAI.start({ apiKey: KEY });
    fake.addRules(
      cxAt('upper', 0, cxRun('cat notes.txt')),
      cxAt('upper', 1, cxRun('wc -l notes.txt')),
      cxAt('upper', 2, cxPatch(PATCH)),
      cxAt('upper', 3, cxSay('Changed beta to BETA in notes.txt.')),
    );
    const repo = setup({}, [{ id: 'upper', role: 'fixer', description: 'Change beta to BETA in notes.txt.' }]);
    const r = await runCli(['run', 'swarm.yaml', '--run-dir', 'run', '--no-dashboard'], { cwd: repo, env });
    expect(r.code, r.stderr + r.stdout).toBe(0);
    const branch = readJson<{ integration_branch: string }>(path.join(repo, 'run/run.json')).integration_branch;
    expect(git(repo, 'show', `${branch}:notes.txt`)).toBe('alpha\nBETA\ngamma');
    const result = readJson<AttemptResult>(path.join(repo, 'run/tasks/upper/1/result.json'));
    expect(result).toMatchObject({ outcome: 'succeeded', reason: 'finished', turns: 4 });
    expect(result.summary).toBe('Changed beta to BETA in notes.txt.');
    expect(result.session).toBeTruthy();
    expect(fake.requests.map((q) => q.rule)).toEqual(['upper/1#0', 'upper/1#1', 'upper/1#2', 'upper/1#3']);
    const t = fake.totals();
    const expected = codexUsage(
      {
        input_tokens: t.input_tokens,
        cached_input_tokens: t.cached_tokens,
        output_tokens: t.output_tokens,
      },
      modelInfo(MODEL)!.price,
    );
    expect(result.usage).toMatchObject({
      input_tokens: expected.input_tokens,
      output_tokens: expected.output_tokens,
      cache_read_tokens: expected.cache_read_tokens,
    });
    expect(result.usage!.cost_usd).toBeCloseTo(expected.cost_usd, 9);
    const events = readJsonlFile<{ type: string; name?: string; text: string }>(
      path.join(repo, 'run/tasks/upper/1/events.jsonl'),
    );
    expect(events.filter((e) => e.type === 'tool_call').map((e) => e.text)).toEqual([
      'Bash cat notes.txt',
      'Bash wc -l notes.txt',
      expect.stringMatching(/^Edit .*notes\.txt/),
    ]);
    expect(processesWithEnv('SWARM_RUN_DIR', path.join(repo, 'run'))).toEqual([]);
  });

  it('stops Codex when the attempt crosses its token cap, from the usage in its session file', async () => {
    fake = await FakeOpenAI.start({ apiKey: KEY });
    // Each answer reports 4000 prompt tokens and runs a 2 s command: the cap of 10000 is crossed by
    // the third answer, which Codex records in its session file while the command runs.
    for (let turn = 0; turn < 6; turn++)
      fake.addRules(
        cxAt('loop', turn, { ...cxRun(`sleep 2; echo step ${turn}`), usage: { input_tokens: 4000, cached_tokens: 0 } }),
      );
    const repo = setup({ max_tokens: 10_000 }, [{ id: 'loop', role: 'fixer', description: 'Loop.' }]);
    const r = await runCli(['run', 'swarm.yaml', '--run-dir', 'run', '--no-dashboard'], { cwd: repo, env });
    expect(r.code, r.stderr + r.stdout).toBe(1);
    const result = readJson<AttemptResult>(path.join(repo, 'run/tasks/loop/1/result.json'));
    expect(result).toMatchObject({ outcome: 'failed', reason: 'max-tokens', turns: 3 });
    expect(fake.requests.length).toBe(3);
    expect(processesWithEnv('SWARM_RUN_DIR', path.join(repo, 'run'))).toEqual([]);
  });

  it('a cancel kills Codex and the command it runs in its sandbox: nothing is left', async () => {
    fake = await FakeOpenAI.start({ apiKey: KEY });
    fake.addRules(cxAt('slow', 0, cxRun('sleep 300')));
    const repo = setup({}, [{ id: 'slow', role: 'fixer', description: 'Wait.' }]);
    const runDir = path.join(repo, 'run');
    const run = startCli(['run', 'swarm.yaml', '--run-dir', 'run', '--no-dashboard'], { cwd: repo, env });
    await waitFor(() => fake!.requests.length === 1, 30_000, 'the first answer');
    await waitFor(
      () => fs.readFileSync(path.join(runDir, 'tasks/slow/1/events.jsonl'), 'utf8').includes('sleep 300'),
      30_000,
      'the command started',
    );
    const c = await runCli(['control', 'run', 'cancel-task', 'slow'], { cwd: repo });
    expect(c.code, c.stderr + c.stdout).toBe(0);
    await run.done;
    const result = readJson<AttemptResult>(path.join(runDir, 'tasks/slow/1/result.json'));
    expect(result).toMatchObject({ outcome: 'cancelled', reason: 'cancel-requested' });
    expect(processesWithEnv('SWARM_RUN_DIR', runDir)).toEqual([]);
  });

  it('an authentication failure fails the attempt with Codex’s message, and the retry’s prompt carries it', async () => {
    fake = await FakeOpenAI.start({ apiKey: KEY });
    fake.addRules(
      {
        name: 'refused',
        match: (req) => cxAttemptOf(req) === 'fix/1',
        error: {
          status: 401,
          type: 'invalid_request_error',
          code: 'invalid_api_key',
          message: 'Incorrect API key (test)',
        },
      },
      cxAt('fix', 0, cxSay('Nothing to change.'), 2),
    );
    const repo = setup({ retries: 1 }, [{ id: 'fix', role: 'fixer', description: 'Fix it.' }], {
      scheduling: { backoff: 0 },
    });
    const r = await runCli(['run', 'swarm.yaml', '--run-dir', 'run', '--no-dashboard'], { cwd: repo, env });
    expect(r.code, r.stderr + r.stdout).toBe(0);
    const first = readJson<AttemptResult>(path.join(repo, 'run/tasks/fix/1/result.json'));
    expect(first).toMatchObject({ outcome: 'failed', reason: 'api-error' });
    expect(first.summary).toMatch(/^codex: .*401.*Incorrect API key \(test\)/);
    const retry = fake.requests.find((q) => cxAttemptOf(q) === 'fix/2')!;
    expect(JSON.stringify(retry.body.input)).toContain('Incorrect API key (test)');
  });

  it('a coordinator killed with -9 while Codex works: resume adopts the attempt, no request is made twice', async () => {
    fake = await FakeOpenAI.start({ apiKey: KEY });
    let waiting = false;
    fake.addRules(
      cxAt('slow', 0, () => ((waiting = true), { ...cxRun('echo done > out.txt'), delay_ms: 3000 })),
      cxAt('slow', 1, cxSay('Wrote out.txt.')),
    );
    const repo = setup({}, [{ id: 'slow', role: 'fixer', description: 'Write out.txt.' }]);
    const run = startCli(['run', 'swarm.yaml', '--run-dir', 'run', '--no-dashboard'], { cwd: repo, env });
    await waitFor(() => waiting, 30_000, 'the first request waiting at the fake');
    run.child.kill('SIGKILL');
    expect((await run.done).signal).toBe('SIGKILL');
    const resumed = await runCli(['resume', 'run', '--no-dashboard'], { cwd: repo, env });
    expect(resumed.code, resumed.stderr + resumed.stdout).toBe(0);
    expect(fake.requests.map((q) => `${cxAttemptOf(q)}#${cxTurnOf(q)}`)).toEqual(['slow/1#0', 'slow/1#1']);
    expect(fs.existsSync(path.join(repo, 'run/tasks/slow/2'))).toBe(false);
    const branch = readJson<{ integration_branch: string }>(path.join(repo, 'run/run.json')).integration_branch;
    expect(git(repo, 'show', `${branch}:out.txt`)).toBe('done');
  });
});
