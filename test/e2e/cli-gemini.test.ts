// The `gemini` backend end to end: `swarm run` with the REAL Gemini CLI (0.61.0, node_modules/.bin)
// against the fake Gemini API (test/fixtures/fake-gemini.ts) on 127.0.0.1. A task reads, runs a
// command, edits and finishes, and its commit reaches the integration branch with the fake's usage;
// a token cap, a timeout and an API error end attempts as they should, with nothing left running.
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeGemini } from '../fixtures/fake-gemini.js';
import { gmAt, gmAttemptOf, gmTurnOf } from '../fixtures/gemini-script.js';
import { geminiUsage } from '../../src/worker/backends/gemini/stream.js';
import { modelInfo } from '../../src/llm/prices.js';
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

const KEY = 'test-gemini-key';
const MODEL = 'gemini-2.5-flash';
const PRICE = modelInfo(MODEL)!.price;

interface AttemptResult {
  outcome: string;
  reason: string;
  summary: string;
  turns: number | null;
  session: string | null;
  usage: { input_tokens: number; output_tokens: number; cache_read_tokens: number; cost_usd: number } | null;
}

describe('the gemini backend', () => {
  let w: World;
  let fake: FakeGemini | undefined;
  afterEach(async () => {
    await fake?.close();
    fake = undefined;
    w?.cleanup();
  });

  /** A repository with notes.txt, and a swarm.yaml with one gemini role pointed at the fake. */
  function setup(role: Record<string, unknown>, tasks: unknown[], extra: Record<string, unknown> = {}) {
    w = makeWorld();
    const repo = makeGitRepo(w, { 'notes.txt': 'alpha\nbeta\ngamma\n' });
    w.write('repo/swarm.yaml', {
      version: 1,
      workers: 2,
      roles: { docs: { backend: 'gemini', model: MODEL, base_url: fake!.url, ...role } },
      tasks,
      ...extra,
    });
    return repo;
  }
  const env = { GEMINI_API_KEY: KEY };

  it('runs a task with Gemini CLI: read, shell, edit, finish; the commit is merged and the usage is the fake’s', async () => {
    fake = await FakeGemini.start({ apiKey: KEY });
    fake.addRules(
      gmAt('upper', 0, {
        parts: [{ text: 'Reading first.' }, { functionCall: { name: 'read_file', args: { file_path: 'notes.txt' } } }],
      }),
      gmAt('upper', 1, {
        parts: [{ functionCall: { name: 'run_shell_command', args: { command: 'wc -l notes.txt' } } }],
      }),
      gmAt('upper', 2, {
        parts: [
          {
            functionCall: {
              name: 'replace',
              args: { file_path: 'notes.txt', old_string: 'beta', new_string: 'BETA', instruction: 'Capitalize beta.' },
            },
          },
        ],
      }),
      gmAt('upper', 3, { parts: [{ text: 'Changed beta to BETA in notes.txt.' }] }),
    );
    const repo = setup({}, [{ id: 'upper', role: 'docs', description: 'Change beta to BETA in notes.txt.' }]);

    const r = await runCli(['run', 'swarm.yaml', '--run-dir', 'run', '--no-dashboard'], { cwd: repo, env });
    expect(r.code, r.stderr + r.stdout).toBe(0);

    const branch = readJson<{ integration_branch: string }>(path.join(repo, 'run/run.json')).integration_branch;
    expect(git(repo, 'show', `${branch}:notes.txt`)).toBe('alpha\nBETA\ngamma');
    const result = readJson<AttemptResult>(path.join(repo, 'run/tasks/upper/1/result.json'));
    expect(result).toMatchObject({ outcome: 'succeeded', reason: 'finished', turns: 4 });
    expect(result.summary).toBe('Changed beta to BETA in notes.txt.');
    expect(result.session).toMatch(/^[0-9a-f-]{36}$/);
    // The usage is what the fake reported, priced with the table's price of the model.
    const conversation = fake.requests.filter((q) => q.conversation);
    expect(conversation).toHaveLength(4);
    const t = fake.totals({ conversationOnly: true });
    const expected = geminiUsage(
      {
        prompt: t.promptTokenCount,
        cached: t.cachedContentTokenCount,
        candidates: t.candidatesTokenCount,
        thoughts: t.thoughtsTokenCount,
      },
      PRICE,
    );
    expect(result.usage).toMatchObject({
      input_tokens: expected.input_tokens,
      output_tokens: expected.output_tokens,
      cache_read_tokens: expected.cache_read_tokens,
    });
    expect(result.usage!.cost_usd).toBeCloseTo(expected.cost_usd, 9);
    // What it did is in the attempt's events, normalized as the built-in agent's are.
    const events = readJsonlFile<{ type: string; name?: string; text: string }>(
      path.join(repo, 'run/tasks/upper/1/events.jsonl'),
    );
    expect(events.filter((e) => e.type === 'tool_call').map((e) => e.name)).toEqual([
      'read_file',
      'run_shell_command',
      'replace',
    ]);
    expect(events.some((e) => e.type === 'message' && e.text.includes('Changed beta'))).toBe(true);
    // The CLI's whole stream is kept, its home is the attempt's own, and the key is nowhere on disk.
    expect(fs.readFileSync(path.join(repo, 'run/tasks/upper/1/stdout.log'), 'utf8')).toContain('"type":"result"');
    expect(fs.existsSync(path.join(repo, 'run/tasks/upper/1/home'))).toBe(true);
    const state = readJson<{ usage: { cost_usd: number } }>(path.join(repo, 'run/state.json'));
    expect(state.usage.cost_usd).toBeCloseTo(expected.cost_usd, 9);
    expect(processesWithEnv('SWARM_RUN_DIR', path.join(repo, 'run'))).toEqual([]);
  });

  it('stops the CLI when the attempt crosses its token cap, and fails the task max-tokens', async () => {
    fake = await FakeGemini.start({ apiKey: KEY });
    // Each turn runs a command and reports 4000 prompt tokens: the cap of 10000 is crossed by the
    // third answer. Gemini CLI reports usage per request only in its chat recording, which the worker
    // reads every 200 ms; the answers take 1.5 s, so the worker sees the crossing while the fourth
    // request waits.
    for (let turn = 0; turn < 6; turn++)
      fake.addRules(
        gmAt('loop', turn, {
          parts: [{ functionCall: { name: 'run_shell_command', args: { command: `echo step ${turn}` } } }],
          usage: { promptTokenCount: 4000 },
          delay_ms: turn === 0 ? 0 : 1500,
        }),
      );
    const repo = setup({ max_tokens: 10_000 }, [{ id: 'loop', role: 'docs', description: 'Loop.' }]);
    const r = await runCli(['run', 'swarm.yaml', '--run-dir', 'run', '--no-dashboard'], { cwd: repo, env });
    expect(r.code, r.stderr + r.stdout).toBe(1);
    const result = readJson<AttemptResult>(path.join(repo, 'run/tasks/loop/1/result.json'));
    expect(result).toMatchObject({ outcome: 'failed', reason: 'max-tokens' });
    expect(result.summary).toMatch(/token cap/);
    // Stopped during the first request past the cap: 3 answered, the fourth cut off, never 6.
    expect(fake.requests.filter((q) => q.conversation).length).toBeLessThanOrEqual(4);
    expect(result.usage!.input_tokens + result.usage!.cache_read_tokens).toBeGreaterThanOrEqual(12_000);
    expect(processesWithEnv('SWARM_RUN_DIR', path.join(repo, 'run'))).toEqual([]);
  });

  it('a timeout kills the CLI and the command it runs in a session of its own: nothing is left', async () => {
    fake = await FakeGemini.start({ apiKey: KEY });
    fake.addRules(
      gmAt('slow', 0, { parts: [{ functionCall: { name: 'run_shell_command', args: { command: 'sleep 300' } } }] }),
    );
    // Long enough for the CLI to start and run the sleep on a loaded machine (4 s was not, once).
    const repo = setup({}, [{ id: 'slow', role: 'docs', description: 'Wait.', timeout: 12 }]);
    const run = startCli(['run', 'swarm.yaml', '--run-dir', 'run', '--no-dashboard'], { cwd: repo, env });
    const runDir = path.join(repo, 'run');
    // The sleep runs (the CLI started it) before the timeout.
    await waitFor(
      () => processesWithEnv('SWARM_RUN_DIR', runDir).some((pid) => cmdline(pid).includes('sleep 300')),
      30_000,
      'the agent’s sleep running',
    );
    const r = await run.done;
    expect(r.code, r.stderr + r.stdout).toBe(1);
    const result = readJson<AttemptResult>(path.join(runDir, 'tasks/slow/1/result.json'));
    expect(result).toMatchObject({ outcome: 'timed-out', reason: 'timed-out' });
    expect(processesWithEnv('SWARM_RUN_DIR', runDir)).toEqual([]);
  });

  it('refuses to start, writing nothing, when the CLI is missing, too old, or its key is not set', async () => {
    fake = await FakeGemini.start({ apiKey: KEY });
    const tasks = [{ id: 'x', role: 'docs', description: 'X.' }];
    const cases: Array<{ role: Record<string, unknown>; env: Record<string, string>; says: RegExp }> = [
      {
        role: { command: './no/such/gemini' },
        env,
        says: /roles\.docs\.command: \.\/no\/such\/gemini is not an executable file; install Gemini CLI with `npm install -g @google\/gemini-cli@0\.61\.0`/,
      },
      { role: { command: 'old-gemini' }, env, says: /roles\.docs: Gemini CLI 0\.1\.0 .* is older than 0\.61\.0/ },
      {
        role: {},
        env: { GEMINI_API_KEY: '' },
        says: /the environment variable GEMINI_API_KEY is not set: it holds the Gemini API key \(roles\.docs\.api_key_env\)/,
      },
    ];
    for (const c of cases) {
      const repo = setup(c.role, tasks);
      // An "old" Gemini CLI on PATH: a script that prints an old version.
      w.write('bin/old-gemini', '#!/bin/sh\necho 0.1.0\n');
      fs.chmodSync(w.path('bin/old-gemini'), 0o755);
      const r = await runCli(['run', 'swarm.yaml', '--run-dir', 'run', '--no-dashboard'], {
        cwd: repo,
        env: { ...c.env, PATH: `${w.path('bin')}:${process.env.PATH}` },
      });
      expect(r.code, r.stderr + r.stdout).toBe(2);
      expect(r.stderr).toMatch(c.says);
      expect(fs.existsSync(path.join(repo, 'run'))).toBe(false);
      w.cleanup();
    }
    expect(fake.requests).toEqual([]);
  });

  it('a coordinator killed with -9 while Gemini CLI works: resume adopts the attempt, and no request is made twice', async () => {
    fake = await FakeGemini.start({ apiKey: KEY });
    let waiting = false;
    fake.addRules(
      gmAt('slow', 0, () => {
        waiting = true;
        return {
          parts: [{ functionCall: { name: 'write_file', args: { file_path: 'out.txt', content: 'done\n' } } }],
          delay_ms: 3000,
        };
      }),
      gmAt('slow', 1, { parts: [{ text: 'Wrote out.txt.' }] }),
    );
    const repo = setup({}, [{ id: 'slow', role: 'docs', description: 'Write out.txt.' }]);
    const run = startCli(['run', 'swarm.yaml', '--run-dir', 'run', '--no-dashboard'], { cwd: repo, env });
    await waitFor(() => waiting, 30_000, 'the first request waiting at the fake');
    run.child.kill('SIGKILL');
    expect((await run.done).signal).toBe('SIGKILL');

    const resumed = await runCli(['resume', 'run', '--no-dashboard'], { cwd: repo, env });
    expect(resumed.code, resumed.stderr + resumed.stdout).toBe(0);
    const asked = fake.requests.filter((q) => q.conversation).map((q) => `${gmAttemptOf(q)}#${gmTurnOf(q)}`);
    expect(asked).toEqual(['slow/1#0', 'slow/1#1']);
    expect(fs.existsSync(path.join(repo, 'run/tasks/slow/2'))).toBe(false);
    const branch = readJson<{ integration_branch: string }>(path.join(repo, 'run/run.json')).integration_branch;
    expect(git(repo, 'show', `${branch}:out.txt`)).toBe('done');
  });

  it('an API error the CLI gives up on fails the attempt with its message, and the retry’s prompt carries it', async () => {
    fake = await FakeGemini.start({ apiKey: KEY });
    fake.addRules(
      {
        name: 'refused',
        match: (req) => gmAttemptOf(req) === 'fix/1',
        error: { status: 400, code: 'INVALID_ARGUMENT', message: 'the request was malformed (test)' },
      },
      gmAt('fix', 0, { parts: [{ text: 'Nothing to change after all.' }] }, 2),
    );
    const repo = setup({ retries: 1 }, [{ id: 'fix', role: 'docs', description: 'Fix it.' }], {
      scheduling: { backoff: 0 },
    });
    const r = await runCli(['run', 'swarm.yaml', '--run-dir', 'run', '--no-dashboard'], { cwd: repo, env });
    expect(r.code, r.stderr + r.stdout).toBe(0);
    const first = readJson<AttemptResult>(path.join(repo, 'run/tasks/fix/1/result.json'));
    expect(first).toMatchObject({ outcome: 'failed', reason: 'api-error' });
    expect(first.summary).toMatch(/^gemini: .*400.*the request was malformed \(test\)/);
    const retry = fake.requests.find((q) => gmAttemptOf(q) === 'fix/2')!;
    expect(JSON.stringify(retry.body.contents[0])).toContain('the request was malformed (test)');
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
