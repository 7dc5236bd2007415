// Integration tests of the `claude-code` backend's parts with the REAL Claude Code (node_modules/.bin/claude,
// 2.1.330) against test/fixtures/fake-anthropic.ts over real HTTP: the invocation starts it in a temporary git
// repository, its stdout goes line by line into ClaudeCodeStream, and what the parser says is checked against
// the disk and the fake's request log. Each run takes about 1 s.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { costOf, modelInfo, type ModelPrice } from '../../src/llm/prices.js';
import { addUsage, ZERO_USAGE } from '../../src/protocol/usage.js';
import type { Usage } from '../../src/protocol/schemas.js';
import type { AgentProgress, AttemptEvent } from '../../src/worker/backends/backend.js';
import type { CliInvocationInput } from '../../src/worker/backends/cli/invocation.js';
import {
  CLAUDE_CODE_MAX_RETRIES,
  CLAUDE_CODE_TOOLS,
  claudeCodeDirs,
  claudeCodeInvocation,
} from '../../src/worker/backends/claude-code/invocation.js';
import { ClaudeCodeStream } from '../../src/worker/backends/claude-code/stream.js';
import { FakeAnthropic, type FakeRule, type FakeUsage } from '../fixtures/fake-anthropic.js';
// The runner of run-gemini.ts is the generic one (a CliInvocation in its own process group); only its name says Gemini.
import { groupAlive, killRunningGemini as killRunningClis, runGemini as runCli } from '../fixtures/run-gemini.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const CLAUDE_BIN = path.join(ROOT, 'node_modules', '.bin', 'claude');
/** Claude Code's default model in 2.1.330; it also ends its first request with a `role: 'system'` message. */
const MODEL = 'claude-opus-5-5';
const PRICE: ModelPrice = modelInfo(MODEL)!.price;
const KEY = 'test-anthropic-key';
const INSTRUCTIONS = 'Work only inside the repository. fileswarm-instructions-marker-5521';

let dir: string;
let repo: string;
let fake: FakeAnthropic | undefined;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fileswarm-claude-'));
  repo = path.join(dir, 'repo');
  fs.mkdirSync(repo);
  fs.writeFileSync(path.join(repo, 'notes.txt'), 'alpha\nbeta\ngamma\n');
  fs.writeFileSync(path.join(repo, 'CLAUDE.md'), 'Project rule: repo-claude-md-marker-4410\n');
  // Outside the worktree: must not be read.
  fs.writeFileSync(path.join(dir, 'CLAUDE.md'), 'Parent rule: parent-claude-md-marker-8826\n');
  const git = (...args: string[]): void => {
    execFileSync('git', args, { cwd: repo, stdio: 'ignore' });
  };
  git('init', '-q');
  git('add', '.');
  git('-c', 'user.email=test@example.com', '-c', 'user.name=test', 'commit', '-qm', 'init');
});

afterEach(async () => {
  killRunningClis();
  await fake?.close();
  fake = undefined;
  fs.rmSync(dir, { recursive: true, force: true });
});

function input(over: Partial<CliInvocationInput> = {}): CliInvocationInput {
  const home = path.join(dir, 'cli-home');
  const tmp = path.join(home, 'tmp');
  fs.mkdirSync(tmp, { recursive: true });
  return {
    command: CLAUDE_BIN,
    prompt: 'Change beta to BETA in notes.txt, then say what you did.',
    instructions: INSTRUCTIONS,
    model: MODEL,
    maxTurns: null,
    maxCostUsd: null,
    baseUrl: fake!.url,
    apiKey: { variable: 'MY_ANTHROPIC_KEY', value: KEY },
    home,
    sessionId: '6b1f0c2e-4d3a-4e5f-9a8b-7c6d5e4f3a21',
    extraArgs: [],
    passEnv: { PATH: process.env.PATH ?? '/usr/bin:/bin', TMPDIR: tmp },
    ...over,
  };
}

/** The parser with its events and progress. */
function parser() {
  const events: AttemptEvent[] = [];
  const progress: AgentProgress[] = [];
  const stream = new ClaudeCodeStream({
    model: MODEL,
    price: PRICE,
    sink: { emit: (e) => events.push(e), progress: (p) => progress.push(p) },
  });
  return { stream, events, progress };
}

/** Runs the CLI in the repository, each stdout line to `onLine` then to the parser; checks nothing is left running. */
async function run(inp: CliInvocationInput, stream: ClaudeCodeStream, onLine?: (line: string) => void) {
  const r = await runCli(claudeCodeInvocation(inp), repo, {
    timeoutMs: 30_000,
    onLine: (l) => {
      onLine?.(l);
      stream.push(l);
    },
  });
  expect(r.signal, `the CLI was killed: ${r.stderr}`).toBeNull();
  // The CLI's own children may end a moment after it (and stay zombies until reaped) on a loaded
  // machine: a leftover is one still there seconds later.
  await expect.poll(() => groupAlive(r.pid), { timeout: 5_000 }).toBe(false);
  return r;
}

/** fileswarm usage of what the fake reported, priced at PRICE. */
function usageOf(u: FakeUsage): Usage {
  const tokens = {
    input_tokens: u.input_tokens,
    output_tokens: u.output_tokens,
    cache_read_tokens: u.cache_read_input_tokens,
    cache_write_tokens: u.cache_creation_input_tokens,
  };
  return { ...tokens, cost_usd: costOf(tokens, PRICE) };
}

const sum = (us: Usage[]): Usage => us.reduce(addUsage, { ...ZERO_USAGE });
/** Token fields only (USD is priced per request in `sum`, once over the total by the parser). */
const tokensOf = (u: Usage) => ({
  input_tokens: u.input_tokens,
  output_tokens: u.output_tokens,
  cache_read_tokens: u.cache_read_tokens,
  cache_write_tokens: u.cache_write_tokens,
});
const resultLine = (lines: string[]) => JSON.parse(lines.find((l) => l.includes('"type":"result"'))!);

describe('Claude Code 2.1.330 against the fake Anthropic API', () => {
  it('reads a file, runs a command, edits a file and finishes: the parser agrees with the disk and the fake', async () => {
    const file = path.join(repo, 'notes.txt');
    const rules: FakeRule[] = [
      {
        name: 'read',
        match: 'Change beta to BETA',
        reply: {
          content: [
            { type: 'text', text: 'I will read notes.txt first.' },
            { type: 'tool_use', name: 'Read', input: { file_path: file } },
          ],
        },
      },
      {
        name: 'shell',
        match: (req) => req.turnText.includes('3\tgamma'),
        reply: {
          content: [
            { type: 'tool_use', name: 'Bash', input: { command: 'grep -c a notes.txt', description: 'count' } },
          ],
        },
      },
      {
        name: 'edit',
        match: (req) => /^3$/m.test(req.turnText),
        reply: {
          content: [
            { type: 'text', text: 'Three lines; now the edit.' },
            { type: 'tool_use', name: 'Edit', input: { file_path: file, old_string: 'beta', new_string: 'BETA' } },
          ],
        },
      },
      {
        name: 'done',
        match: 'has been updated successfully',
        reply: { content: [{ type: 'text', text: 'Done: notes.txt now says BETA.' }] },
      },
    ];
    fake = await FakeAnthropic.start({ rules, apiKey: KEY, logFile: path.join(dir, 'requests.jsonl') });
    const inp = input();
    const { stream, events, progress } = parser();
    /** The parser's usage just before each tool result line: what it knew before the tool ran. */
    const beforeTools: Usage[] = [];
    const r = await run(inp, stream, (line) => {
      if (line.includes('"type":"user"') && line.includes('tool_result')) beforeTools.push({ ...stream.state.usage });
    });

    expect(r.code, r.stderr).toBe(0);
    expect(fs.readFileSync(file, 'utf8')).toBe('alpha\nBETA\ngamma\n');
    expect(fake.unusedRules()).toEqual([]);
    // Every request was a model turn of the conversation: no side requests.
    expect(fake.requests.map((q) => `${q.path} ${q.status} ${q.body.model}`)).toEqual(
      Array(4).fill(`/v1/messages 200 ${MODEL}`),
    );
    expect(stream.state.turns).toBe(fake.requests.length);

    const reported = fake.requests.map((q) => usageOf(q.usage!));
    expect(tokensOf(stream.state.usage)).toEqual(tokensOf(sum(reported)));
    expect(stream.state.usage.cache_read_tokens).toBeGreaterThan(0);
    expect(stream.state.usage.cache_write_tokens).toBeGreaterThan(0);
    // USD: Claude Code's own figure, which for this model is the table's price of the same tokens.
    const result = resultLine(r.lines);
    expect(stream.state.usage.cost_usd).toBe(Math.round(result.total_cost_usd * 1e9) / 1e9);
    expect(stream.state.usage.cost_usd).toBe(costOf(stream.state.usage, PRICE));
    // During the attempt: before turn k's tools ran, the parser had the prompt side of requests 0..k;
    // their output tokens too, unless Claude Code started the tool before the response's last event
    // (it can: it runs a tool call as soon as its block is complete, which a loaded machine shows).
    const promptSide = (t: ReturnType<typeof tokensOf>) => ({ ...t, output_tokens: 0 });
    expect(beforeTools.map((u) => promptSide(tokensOf(u)))).toEqual(
      [1, 2, 3].map((k) => promptSide(tokensOf(sum(reported.slice(0, k))))),
    );
    beforeTools.forEach((u, i) =>
      expect(u.output_tokens).toBeLessThanOrEqual(tokensOf(sum(reported.slice(0, i + 1))).output_tokens),
    );
    // One usage event per request, each with its request's prompt side; its output tokens too, unless
    // the result line came before that response's last event (a loaded machine shows it): then one
    // more event, from Claude Code's totals, carries what the per-request events missed.
    const usageEvents = events.filter((e) => e.type === 'usage');
    const perTurn = usageEvents.filter((e) => /^turn \d+:/.test(e.text));
    expect(perTurn.map((e) => e.turn)).toEqual([1, 2, 3, 4]);
    expect(perTurn.map((e) => promptSide(tokensOf(e.usage!)))).toEqual(reported.map((u) => promptSide(tokensOf(u))));
    expect(usageEvents.length - perTurn.length).toBeLessThanOrEqual(1);
    expect(tokensOf(sum(usageEvents.map((e) => e.usage!)))).toEqual(tokensOf(sum(reported)));

    expect(stream.state.sessionId).toBe(inp.sessionId);
    expect(stream.state.end).toEqual({ kind: 'success', summary: 'Done: notes.txt now says BETA.' });
    expect(stream.state.lastText).toBe('Done: notes.txt now says BETA.');
    expect(stream.state.errors).toEqual([]);
    expect(events.filter((e) => e.type !== 'usage').map((e) => `${e.type}${e.name ? ` ${e.name}` : ''}`)).toEqual([
      'message',
      'tool_call Read',
      'tool_result Read',
      'tool_call Bash',
      'tool_result Bash',
      'message',
      'tool_call Edit',
      'tool_result Edit',
      'message',
    ]);
    expect(events.find((e) => e.type === 'tool_result' && e.name === 'Bash')).toMatchObject({
      text: 'Bash: 3',
      output: '3',
      is_error: false,
    });
    expect(events.find((e) => e.type === 'tool_call' && e.name === 'Edit')).toMatchObject({
      text: `Edit ${file}`,
      input: { file_path: file, old_string: 'beta', new_string: 'BETA' },
    });
    expect(progress.some((p) => p.activity === 'Bash grep -c a notes.txt' && p.turn === 2)).toBe(true);
    expect(progress.at(-1)).toEqual({ turn: 4, activity: 'finished', usage: stream.state.usage });

    // What the CLI was told and how it ran.
    const init = JSON.parse(r.lines.find((l) => l.includes('"subtype":"init"'))!);
    expect(init).toMatchObject({ session_id: inp.sessionId, model: MODEL, permissionMode: 'acceptEdits' });
    expect(init.apiKeySource).toBe('ANTHROPIC_API_KEY');
    expect([...init.tools].sort()).toEqual([...CLAUDE_CODE_TOOLS].sort());
    const first = fake.requests[0]!;
    expect(first.headers['x-api-key']).toBe(KEY);
    expect(JSON.stringify(first.body.system)).toContain('fileswarm-instructions-marker-5521');
    const body = JSON.stringify(first.body);
    expect(body).toContain('repo-claude-md-marker-4410');
    expect(body).not.toContain('parent-claude-md-marker-8826');
    expect(first.body.messages.at(-1).role).toBe('system'); // what turnText is for
    // Its files went to the attempt's home: the session under CLAUDE_CONFIG_DIR, nothing of the worker's HOME.
    const projects = path.join(claudeCodeDirs(inp).config, 'projects');
    expect(fs.readdirSync(projects).flatMap((p) => fs.readdirSync(path.join(projects, p)))).toContain(
      `${inp.sessionId}.jsonl`,
    );
  });

  it('gives up on a 401 at once (it retries a 401 otherwise): end error with the status, exit code 1', async () => {
    fake = await FakeAnthropic.start({ apiKey: KEY });
    const { stream, events } = parser();
    const inp = input({
      apiKey: { variable: 'MY_ANTHROPIC_KEY', value: 'wrong-key' },
      passEnv: { ...input().passEnv, CLAUDE_CODE_MAX_RETRIES: '0' },
    });
    const r = await run(inp, stream);
    expect(r.code).toBe(1);
    expect(fake.requests.map((q) => q.status)).toEqual([401]);
    const message = 'API error 401 authentication_error: Invalid API key · Fix external API key';
    expect(stream.state.end).toEqual({ kind: 'error', message });
    expect(stream.state.errors).toEqual([message]);
    expect(events).toEqual([{ type: 'error', text: message }]);
    expect(stream.state.turns).toBe(0);
    expect(stream.state.usage).toEqual(ZERO_USAGE);
    expect(fs.readFileSync(path.join(repo, 'notes.txt'), 'utf8')).toBe('alpha\nbeta\ngamma\n');
  });

  it(`retries a 500 ${CLAUDE_CODE_MAX_RETRIES} times (the invocation's CLAUDE_CODE_MAX_RETRIES), then ends error`, async () => {
    fake = await FakeAnthropic.start({
      apiKey: KEY,
      rules: [{ times: Infinity, error: { status: 500, type: 'api_error', message: 'Internal server error' } }],
    });
    const { stream } = parser();
    const r = await run(input(), stream);
    expect(r.code).toBe(1);
    expect(fake.requests).toHaveLength(CLAUDE_CODE_MAX_RETRIES + 1);
    expect(stream.state.errors.slice(0, -1)).toEqual(
      Array.from({ length: CLAUDE_CODE_MAX_RETRIES }, (_, i) =>
        expect.stringMatching(
          new RegExp(`^API error 500 \\(server_error\\): retry ${i + 1} of ${CLAUDE_CODE_MAX_RETRIES} in \\d+ ms$`),
        ),
      ),
    );
    expect(stream.state.end).toEqual({
      kind: 'error',
      message: expect.stringMatching(/^API Error: 500 Internal server error\./),
    });
    expect(stream.state.turns).toBe(0);
  });

  it('stops at its own turn limit (--max-turns): end max-turns, exit 1, usage of the requests made', async () => {
    fake = await FakeAnthropic.start({
      apiKey: KEY,
      rules: [
        {
          times: Infinity,
          reply: { content: [{ type: 'tool_use', name: 'Bash', input: { command: 'echo again', description: 'x' } }] },
        },
      ],
    });
    const { stream, events } = parser();
    const r = await run(input({ maxTurns: 2 }), stream);
    expect(r.code).toBe(1);
    expect(fake.requests).toHaveLength(2);
    expect(stream.state.turns).toBe(2);
    expect(resultLine(r.lines).num_turns).toBe(3); // Claude Code counts the turn it refused
    expect(stream.state.end).toEqual({ kind: 'max-turns', message: 'Reached maximum number of turns (2)' });
    expect(events.filter((e) => e.type === 'tool_result')).toHaveLength(2); // the last turn's tools ran
    expect(tokensOf(stream.state.usage)).toEqual(tokensOf(sum(fake.requests.map((q) => usageOf(q.usage!)))));
  });

  it('stops at its own budget (--max-budget-usd) after the answer that reached it', async () => {
    fake = await FakeAnthropic.start({
      apiKey: KEY,
      rules: [
        {
          times: Infinity,
          reply: { content: [{ type: 'tool_use', name: 'Bash', input: { command: 'echo again', description: 'x' } }] },
        },
      ],
    });
    const { stream, events } = parser();
    // The first request writes the ≈5k-token prompt to the cache (≈ $0.027), later ones cost ≈ $0.002.
    const cap = 0.03;
    const r = await run(input({ maxCostUsd: cap }), stream);
    expect(r.code).toBe(1);
    expect(stream.state.end).toEqual({ kind: 'budget', message: `Reached maximum budget ($${cap})` });
    const reported = fake.requests.map((q) => usageOf(q.usage!));
    expect(reported.length).toBeGreaterThan(1);
    expect(stream.state.turns).toBe(reported.length);
    expect(tokensOf(stream.state.usage)).toEqual(tokensOf(sum(reported)));
    expect(stream.state.usage.cost_usd).toBeGreaterThanOrEqual(cap);
    expect(costOf(sum(reported.slice(0, -1)), PRICE)).toBeLessThan(cap);
    // The tools of every answer before the last ran; the last answer's usually not (Claude Code checks
    // its budget when the answer ends), but it may have started one already (it runs a tool call as
    // soon as its block is complete, which a loaded machine shows).
    const results = events.filter((e) => e.type === 'tool_result').length;
    expect(results).toBeGreaterThanOrEqual(reported.length - 1);
    expect(results).toBeLessThanOrEqual(reported.length);
  });
});
