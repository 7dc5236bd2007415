// The real Codex CLI (node_modules/.bin/codex, 0.169.0), started with fileswarm's invocation against
// the fake Responses API on 127.0.0.1, its stdout read by CodexStream, and its session file tailed
// into a second CodexStream the way a backend would to see usage per model request.
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { costOf, type ModelPrice } from '../../src/llm/prices.js';
import { totalTokens } from '../../src/protocol/usage.js';
import type { AgentProgress, AttemptEvent } from '../../src/worker/backends/backend.js';
import { CODEX_KEY_VARIABLE, codexInvocation } from '../../src/worker/backends/codex/invocation.js';
import { CodexStream } from '../../src/worker/backends/codex/stream.js';
import { FakeOpenAI, type FakeOpenAIRule } from '../fixtures/fake-openai.js';
import { processesMatching, waitFor } from '../helpers.js';

const CODEX = fileURLToPath(new URL('../../node_modules/.bin/codex', import.meta.url));
/** In Codex 0.169.0's bundled model catalog: its tools are `exec_command` and a freeform `apply_patch`. */
const MODEL = 'gpt-5.5';
/** A role's price for the test (USD per million tokens). */
const PRICE: ModelPrice = { input: 1.25, output: 10, cache_read: 0.125, cache_write: 0 };
const KEY_VAR = 'FAKE_OPENAI_KEY';
const KEY = 'sk-test-fileswarm-0123456789';
/** A directory put first in the PATH given to Codex, to see it reach the commands. */
const PATH_MARKER = '/opt/fileswarm-path-marker';
/** Retries off: a failing request fails at once (Codex's defaults: 4 request and 5 stream retries). */
const NO_RETRIES = [
  '-c',
  'model_providers.fileswarm.request_max_retries=0',
  '-c',
  'model_providers.fileswarm.stream_max_retries=0',
];

const servers: FakeOpenAI[] = [];
const dirs: string[] = [];
const groups: number[] = [];

afterEach(async () => {
  for (const pgid of groups.splice(0)) {
    try {
      process.kill(-pgid, 'SIGKILL');
    } catch {
      // gone
    }
  }
  await Promise.all(servers.splice(0).map((s) => s.close()));
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

async function startFake(rules: FakeOpenAIRule[], apiKey = KEY): Promise<FakeOpenAI> {
  const fake = await FakeOpenAI.start({ rules, apiKey });
  servers.push(fake);
  return fake;
}

/** A git repository with `files`, in a temporary directory (also holding Codex's home). */
function makeWorld(files: Record<string, string>): { repo: string; home: string } {
  const dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'codex-cli-')));
  dirs.push(dir);
  const repo = path.join(dir, 'repo');
  fs.mkdirSync(repo);
  const git = (...args: string[]) =>
    execFileSync('git', ['-c', 'user.name=Test', '-c', 'user.email=test@example.com', ...args], { cwd: repo });
  git('init', '-q', '-b', 'main');
  for (const [f, text] of Object.entries(files)) fs.writeFileSync(path.join(repo, f), text);
  git('add', '-A');
  git('commit', '-qm', 'initial');
  const home = path.join(dir, 'home');
  fs.mkdirSync(home);
  return { repo, home };
}

/** A sink that keeps what it gets. */
function recorder() {
  const events: AttemptEvent[] = [];
  const progress: AgentProgress[] = [];
  return {
    events,
    progress,
    sink: { emit: (e: AttemptEvent) => events.push(e), progress: (p: AgentProgress) => progress.push(p) },
  };
}

interface CodexRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  lines: string[];
  stderr: string;
  /** Fed stdout only. */
  stdout: CodexStream;
  stdoutLog: ReturnType<typeof recorder>;
  /** Fed stdout and the session file's lines as they were written. */
  tailed: CodexStream;
  tailedLog: ReturnType<typeof recorder>;
  rolloutFiles: string[];
  /** Whether `stopWhen` stopped the run. */
  stopped: boolean;
}

/** Every `rollout-*.jsonl` under `<home>/sessions`. */
function rolloutFiles(home: string): string[] {
  const root = path.join(home, 'sessions');
  if (!fs.existsSync(root)) return [];
  return (fs.readdirSync(root, { recursive: true }) as string[])
    .filter((f) => /rollout-.*\.jsonl$/.test(f))
    .map((f) => path.join(root, f));
}

/**
 * Runs Codex as a backend would: fileswarm's invocation, its own process group, stdin closed, stdout
 * parsed line by line, the session file tailed every 25 ms; SIGTERM to the group when `stopWhen` says
 * so (a cap), SIGKILL after `timeoutMs`.
 */
async function runCodex(opts: {
  fake: FakeOpenAI;
  prompt: string;
  instructions?: string | null;
  baseUrl?: string | null;
  key?: string;
  extraArgs?: string[];
  files?: Record<string, string>;
  /** Called after every line read; true stops the run (as a backend at a cap). */
  stopWhen?: (tailed: CodexStream, stdout: CodexStream, lines: readonly string[]) => boolean;
  timeoutMs?: number;
}): Promise<CodexRun & { repo: string; home: string }> {
  const { repo, home } = makeWorld(opts.files ?? { 'README.md': 'test\n' });
  const inv = codexInvocation({
    command: CODEX,
    prompt: opts.prompt,
    instructions: opts.instructions ?? null,
    model: MODEL,
    maxTurns: 20,
    maxCostUsd: 1,
    baseUrl: opts.baseUrl === undefined ? opts.fake.url : opts.baseUrl,
    apiKey: { variable: KEY_VAR, value: opts.key ?? KEY },
    home,
    sessionId: crypto.randomUUID(),
    extraArgs: ['--strict-config', ...(opts.extraArgs ?? NO_RETRIES)],
    passEnv: { PATH: `${PATH_MARKER}:${process.env.PATH ?? '/usr/bin:/bin'}` },
  });
  for (const [f, content] of Object.entries(inv.files)) {
    fs.mkdirSync(path.dirname(f), { recursive: true });
    fs.writeFileSync(f, content);
  }
  const stdoutLog = recorder();
  const tailedLog = recorder();
  const stdout = new CodexStream({ model: MODEL, price: PRICE, sink: stdoutLog.sink });
  const tailed = new CodexStream({ model: MODEL, price: PRICE, sink: tailedLog.sink });
  const child = spawn(inv.file, inv.args, {
    cwd: repo,
    env: inv.env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  groups.push(child.pid!);
  let stopped = false;
  const lines: string[] = [];
  const stop = (signal: NodeJS.Signals): void => {
    try {
      process.kill(-child.pid!, signal);
    } catch {
      // gone
    }
  };
  const check = (): void => {
    if (!stopped && opts.stopWhen?.(tailed, stdout, lines)) {
      stopped = true;
      stop('SIGTERM');
    }
  };
  const offsets = new Map<string, { offset: number; rest: string }>();
  const tail = (): void => {
    for (const f of rolloutFiles(home)) {
      const at = offsets.get(f) ?? { offset: 0, rest: '' };
      const buf = fs.readFileSync(f);
      if (buf.length <= at.offset) continue;
      const text = at.rest + buf.subarray(at.offset).toString('utf8');
      const parts = text.split('\n');
      offsets.set(f, { offset: buf.length, rest: parts.pop() ?? '' });
      for (const line of parts) tailed.pushRollout(line);
    }
    check();
  };
  const timer = setInterval(tail, 25);
  const killer = setTimeout(() => stop('SIGKILL'), opts.timeoutMs ?? 60_000);
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const rl = readline.createInterface({ input: child.stdout!, crlfDelay: Infinity });
  rl.on('line', (line) => {
    lines.push(line);
    stdout.push(line);
    // A backend reads the session file before it trusts a turn.completed.
    if (line.includes('"turn.completed"')) tail();
    tailed.push(line);
    check();
  });
  const closed = new Promise<void>((resolve) => rl.once('close', resolve));
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) =>
    child.once('exit', (c, s) => resolve([c, s])),
  );
  await closed;
  clearInterval(timer);
  clearTimeout(killer);
  tail();
  return {
    code,
    signal,
    lines,
    stderr,
    stdout,
    stdoutLog,
    tailed,
    tailedLog,
    rolloutFiles: rolloutFiles(home),
    stopped,
    repo,
    home,
  };
}

/** What the fake reported, as fileswarm's Usage (uncached input = input − cached − cache write). */
function fakeUsage(fake: FakeOpenAI) {
  const t = fake.totals();
  const tokens = {
    input_tokens: t.input_tokens - t.cached_tokens - t.cache_write_tokens,
    output_tokens: t.output_tokens,
    cache_read_tokens: t.cached_tokens,
    cache_write_tokens: t.cache_write_tokens,
  };
  return { requests: t.requests, tokens, cost: costOf(tokens, PRICE) };
}

const PATCH = `*** Begin Patch
*** Update File: hello.txt
@@
-hello wrold
+hello world
*** End Patch
`;

/** A command that shows whether the key and the PATH given reach the commands Codex runs. */
const CHECK_ENV = `printenv ${KEY_VAR}; echo "key-visible=$?"; case ":$PATH:" in *:${PATH_MARKER}:*) echo path-kept;; esac; wc -l < hello.txt`;

/** Instructions with characters TOML must escape, to see them arrive verbatim. */
const INSTRUCTIONS = 'FILESWARM RULES: stay in "the worktree"\n\ttab, back\\slash, ünïcödé ✓, DEL \x7f.';

/** Whether the sandboxed `sleep 31.5` itself runs (its own argv, not a command line that holds it). */
function sleepRunning(): boolean {
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8') === 'sleep\u000031.5\u0000') return true;
    } catch {
      // exited
    }
  }
  return false;
}

describe('codex exec against the fake Responses API', () => {
  it('reads a file, runs a command, edits a file and finishes; the parser agrees with the server', async () => {
    const fake = await startFake([
      {
        name: 'read',
        match: 'Fix the greeting',
        reply: {
          output: [
            { type: 'reasoning', summary: 'Look at the file first.' },
            { type: 'function_call', name: 'exec_command', arguments: { cmd: 'cat hello.txt' } },
          ],
        },
      },
      {
        name: 'command',
        match: (r) => r.lastType === 'function_call_output' && r.lastText.includes('hello wrold'),
        reply: {
          output: [
            {
              type: 'function_call',
              name: 'exec_command',
              arguments: { cmd: CHECK_ENV },
            },
          ],
        },
      },
      {
        name: 'edit',
        match: 'key-visible=1',
        reply: { output: [{ type: 'custom_tool_call', name: 'apply_patch', input: PATCH }] },
      },
      {
        name: 'finish',
        match: (r) => r.lastType === 'custom_tool_call_output' && r.lastText.includes('Success'),
        reply: { output: [{ type: 'message', text: 'Fixed the typo in hello.txt.' }] },
      },
    ]);
    const run = await runCodex({
      fake,
      prompt: 'Fix the greeting in hello.txt.',
      instructions: INSTRUCTIONS,
      files: { 'hello.txt': 'hello wrold\n' },
    });

    expect(run.code, run.stderr).toBe(0);
    expect(fs.readFileSync(path.join(run.repo, 'hello.txt'), 'utf8')).toBe('hello world\n');
    expect(fake.unusedRules()).toEqual([]);
    expect(fake.requests.map((r) => r.status)).toEqual([200, 200, 200, 200]);
    // The instructions arrive verbatim as a developer message after Codex's own.
    const input = fake.requests[0]!.body.input as Array<{ role?: string; content?: Array<{ text: string }> }>;
    expect(input.filter((i) => i.role === 'developer').map((i) => i.content?.[0]?.text)).toContain(INSTRUCTIONS);
    expect(fake.requests[0]!.headers.authorization).toBe(`Bearer ${KEY}`);

    const want = fakeUsage(fake);
    expect(want.requests).toBe(4);
    expect(want.tokens.cache_read_tokens).toBeGreaterThan(0); // the fake's prefix cache was hit
    for (const s of [run.stdout, run.tailed]) {
      expect(s.state.end).toEqual({ kind: 'success', summary: 'Fixed the typo in hello.txt.' });
      expect(s.state.turns).toBe(4);
      expect(s.state.sessionId).toMatch(/^[0-9a-f-]{36}$/);
      expect(s.state.lastText).toBe('Fixed the typo in hello.txt.');
      expect(s.state.errors).toEqual([]);
      const { cost_usd, ...tokens } = s.state.usage;
      expect(tokens).toEqual(want.tokens);
      expect(cost_usd).toBeCloseTo(want.cost, 8);
    }
    // The session file is named after the thread.
    expect(run.rolloutFiles).toHaveLength(1);
    expect(path.basename(run.rolloutFiles[0]!)).toContain(run.stdout.state.sessionId!);

    const events = run.stdoutLog.events;
    const calls = events.filter((e) => e.type === 'tool_call');
    const results = events.filter((e) => e.type === 'tool_result');
    expect(calls.map((e) => e.text)).toEqual([
      'Bash cat hello.txt',
      `Bash ${CHECK_ENV}`,
      `Edit ${path.join(run.repo, 'hello.txt')}`,
    ]);
    expect(results.map((e) => [e.name, e.is_error])).toEqual([
      ['Bash', false],
      ['Bash', false],
      ['Edit', false],
    ]);
    expect(results[0]!.output).toBe('hello wrold\n[exit code 0]');
    // The key is not in the commands' environment; their PATH is the one given.
    expect(results[1]!.output).toBe('key-visible=1\npath-kept\n1\n[exit code 0]');
    expect(results[2]!.text).toBe(`Edit: update ${path.join(run.repo, 'hello.txt')}`);
    expect(events.filter((e) => e.type === 'message').map((e) => e.text)).toEqual(['Fixed the typo in hello.txt.']);
    expect(events).toContainEqual({ type: 'log', text: 'reasoning: Look at the file first.' });
    // stdout: one usage event, at the end, for the whole run.
    expect(events.filter((e) => e.type === 'usage')).toHaveLength(1);
    expect(run.stdoutLog.progress.at(-1)).toMatchObject({ turn: 4, activity: 'finished' });
    expect(run.stdoutLog.progress.some((p) => p.activity === 'Bash cat hello.txt')).toBe(true);
    // Session file: one usage event per model request, each the server's.
    const perRequest = run.tailedLog.events.filter((e) => e.type === 'usage');
    expect(perRequest.map((e) => e.turn)).toEqual([1, 2, 3, 4]);
    expect(perRequest.map((e) => e.usage!.output_tokens)).toEqual(fake.requests.map((r) => r.usage!.output_tokens));
  });

  it('gives the usage of each model request mid-attempt through the session file, so a token cap can stop it', async () => {
    const fake = await startFake([
      {
        name: 'one',
        match: 'Count to three',
        reply: { output: [{ type: 'function_call', name: 'exec_command', arguments: { cmd: 'echo one' } }] },
      },
      {
        name: 'two',
        match: (r) => r.lastText.includes('one'),
        reply: { output: [{ type: 'function_call', name: 'exec_command', arguments: { cmd: 'echo two' } }] },
      },
      // The third answer would take a minute: the cap must stop Codex before it.
      {
        name: 'three',
        match: (r) => r.lastText.includes('two'),
        reply: { output: [{ type: 'message', text: 'three' }], delay_ms: 60_000 },
      },
    ]);
    let seenOnStdout = -1;
    const started = Date.now();
    const run = await runCodex({
      fake,
      prompt: 'Count to three.',
      stopWhen: (tailed, stdout) => {
        if (tailed.state.turns < 2) return false;
        seenOnStdout = totalTokens(stdout.state.usage);
        return true;
      },
    });
    expect(run.stopped).toBe(true);
    expect(Date.now() - started).toBeLessThan(30_000);
    expect(run.signal ?? run.code).toBeTruthy(); // stopped, not finished
    expect(run.stdout.state.end).toBeNull();
    // What stdout had when the cap was crossed: nothing.
    expect(seenOnStdout).toBe(0);
    expect(run.stdout.state.usage.input_tokens).toBe(0);
    // What the session file had: the two answered requests, exactly.
    const want = fakeUsage(fake);
    expect(want.requests).toBe(2);
    expect(run.tailed.state.turns).toBe(2);
    const { cost_usd, ...tokens } = run.tailed.state.usage;
    expect(tokens).toEqual(want.tokens);
    expect(cost_usd).toBeCloseTo(want.cost, 8);
  });

  it("stopping Codex's process group also ends the command it runs in its sandbox", async () => {
    const fake = await startFake([
      {
        match: 'Wait',
        reply: {
          output: [
            { type: 'function_call', name: 'exec_command', arguments: { cmd: 'sleep 31.5; echo late > late.txt' } },
          ],
        },
      },
    ]);
    const run = await runCodex({
      fake,
      prompt: 'Wait.',
      // Stopped once the command's `sleep` runs, not as Codex announces it. Stopped earlier, while
      // codex-linux-sandbox (a session of its own) probes bubblewrap, the probe can hang for good
      // (Codex 0.x with bubblewrap 0.8 here: the probe's inner bwrap waits on an eventfd of an
      // outer one that died), and that process, whose arguments hold the command, never ends.
      stopWhen: (_t, _s, seen) =>
        seen.some((l) => l.includes('"item.started"') && l.includes('sleep 31.5')) && sleepRunning(),
    });
    expect(run.stopped).toBe(true);
    // The sandbox runs the command in a session of its own, but bubblewrap's --die-with-parent ends it.
    await waitFor(() => processesMatching('sleep 31.5').length === 0, 10_000);
    expect(fs.existsSync(path.join(run.repo, 'late.txt'))).toBe(false);
    expect(processesMatching(run.repo)).toEqual([]);
  });

  it('ends with error on a 401 it gives up on, with the API message, exit 1', async () => {
    const fake = await startFake([{ reply: { output: [{ type: 'message', text: 'unreachable' }] } }]);
    const run = await runCodex({ fake, prompt: 'Say hi.', key: 'sk-wrong-key-0000' });

    expect(run.code).toBe(1);
    expect(fake.requests.map((r) => r.status)).toEqual([401]);
    for (const s of [run.stdout, run.tailed]) {
      expect(s.state.end?.kind).toBe('error');
      expect(s.state.end).toMatchObject({
        message: expect.stringContaining(
          'unexpected status 401 Unauthorized: Incorrect API key provided: sk-*****0000.',
        ),
      });
      expect(s.state.errors).toHaveLength(1);
      expect(s.state.turns).toBe(0);
      expect(s.state.usage.input_tokens).toBe(0);
      expect(s.state.sessionId).not.toBeNull();
    }
    expect(run.stdoutLog.events.filter((e) => e.type === 'error')).toHaveLength(1);
  });

  it('reports each retry of a failed stream, then ends with error when retries run out', async () => {
    const fake = await startFake([
      {
        times: Infinity,
        reply: {
          output: [],
          stream_error: { code: 'server_error', message: 'The model failed to generate a response.' },
        },
      },
    ]);
    const run = await runCodex({
      fake,
      prompt: 'Say hi.',
      extraArgs: [
        '-c',
        'model_providers.fileswarm.request_max_retries=0',
        '-c',
        'model_providers.fileswarm.stream_max_retries=1',
      ],
    });

    expect(run.code).toBe(1);
    expect(fake.requests).toHaveLength(2);
    const s = run.stdout.state;
    expect(s.errors).toEqual([
      expect.stringMatching(/^Reconnecting\.\.\. 1\/1 \(stream disconnected before completion: The model failed/),
      'stream disconnected before completion: The model failed to generate a response.',
    ]);
    expect(s.end).toEqual({
      kind: 'error',
      message: 'stream disconnected before completion: The model failed to generate a response.',
    });
  });

  it("without a base URL uses Codex's built-in OpenAI provider with the key in CODEX_API_KEY", async () => {
    const fake = await startFake([
      { reply: { output: [{ type: 'message', text: 'Hello from the default provider.' }] } },
    ]);
    // openai_base_url points the built-in provider at the fake; it tries WebSockets first (≈6 s).
    const run = await runCodex({
      fake,
      prompt: 'Say hi.',
      baseUrl: null,
      extraArgs: ['-c', `openai_base_url="${fake.url}"`],
    });

    expect(run.code, run.stderr).toBe(0);
    const posts = fake.requests.filter((r) => r.method === 'POST');
    expect(posts).toHaveLength(1);
    expect(posts[0]!.headers.authorization).toBe(`Bearer ${KEY}`);
    expect(run.stdout.state.end).toEqual({ kind: 'success', summary: 'Hello from the default provider.' });
    // The fallback from WebSockets is a warning item, seen as an error on the way.
    expect(run.stdout.state.errors.some((e) => e.startsWith('Falling back from WebSockets to HTTPS transport'))).toBe(
      true,
    );
    expect(CODEX_KEY_VARIABLE).toBe('CODEX_API_KEY');
  }, 60_000);
});
