// Integration tests of the `gemini` backend's parts with the REAL Gemini CLI (node_modules/.bin/gemini,
// 0.61.0) against test/fixtures/fake-gemini.ts over real HTTP: the invocation starts it in a temporary git
// repository, its stdout goes line by line into GeminiStream, and what the parser says is checked against
// the disk and the fake's request log. Each run takes about 2 s.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ModelPrice } from '../../src/llm/prices.js';
import { addUsage, ZERO_USAGE } from '../../src/protocol/usage.js';
import type { Usage } from '../../src/protocol/schemas.js';
import type { AgentProgress, AttemptEvent } from '../../src/worker/backends/backend.js';
import type { CliInvocationInput } from '../../src/worker/backends/cli/invocation.js';
import { geminiChatFiles, geminiInvocation, geminiSettings } from '../../src/worker/backends/gemini/invocation.js';
import { GeminiStream, geminiUsage } from '../../src/worker/backends/gemini/stream.js';
import { FakeGemini, type FakeRequest, type FakeRule, type FakeUsage } from '../fixtures/fake-gemini.js';
import { GEMINI_BIN, groupAlive, killRunningGemini, runGemini, type GeminiRun } from '../fixtures/run-gemini.js';

const PRICE: ModelPrice = { input: 0.3, output: 2.5, cache_read: 0.03, cache_write: 0 };
const MODEL = 'gemini-2.5-flash';
const KEY = 'test-gemini-key';
const INSTRUCTIONS = 'Work only inside the repository. fileswarm-instructions-marker-7731';

let dir: string;
let repo: string;
let fake: FakeGemini | undefined;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fileswarm-gemini-'));
  repo = path.join(dir, 'repo');
  fs.mkdirSync(repo);
  fs.writeFileSync(path.join(repo, 'notes.txt'), 'alpha\nbeta\ngamma\n');
  const git = (...args: string[]): void => {
    execFileSync('git', args, { cwd: repo, stdio: 'ignore' });
  };
  git('init', '-q');
  git('add', '.');
  git('-c', 'user.email=test@example.com', '-c', 'user.name=test', 'commit', '-qm', 'init');
});

afterEach(async () => {
  killRunningGemini();
  await fake?.close();
  fake = undefined;
  fs.rmSync(dir, { recursive: true, force: true });
});

function input(over: Partial<CliInvocationInput> = {}): CliInvocationInput {
  const home = path.join(dir, 'cli-home');
  const tmp = path.join(dir, 'tmp');
  fs.mkdirSync(home, { recursive: true });
  fs.mkdirSync(tmp, { recursive: true });
  return {
    command: GEMINI_BIN,
    prompt: 'Change beta to BETA in notes.txt, then say what you did.',
    instructions: INSTRUCTIONS,
    model: MODEL,
    maxTurns: null,
    maxCostUsd: null,
    baseUrl: fake!.url,
    apiKey: { variable: 'MY_GEMINI_KEY', value: KEY },
    home,
    sessionId: '3f6c1b7e-9a2d-4c5e-8f10-2b3c4d5e6f70',
    extraArgs: [],
    // TMPDIR: the CLI writes an error report (with the request's contents) to os.tmpdir() on API errors.
    passEnv: { PATH: process.env.PATH ?? '/usr/bin:/bin', TMPDIR: tmp },
    ...over,
  };
}

/** The parser with its events and progress, and a run of the CLI feeding it. */
function parser() {
  const events: AttemptEvent[] = [];
  const progress: AgentProgress[] = [];
  const stream = new GeminiStream({
    model: MODEL,
    price: PRICE,
    sink: { emit: (e) => events.push(e), progress: (p) => progress.push(p) },
  });
  return { stream, events, progress };
}

async function run(
  inp: CliInvocationInput,
  stream: GeminiStream,
  patch?: (inv: ReturnType<typeof geminiInvocation>) => void,
) {
  const inv = geminiInvocation(inp);
  patch?.(inv);
  const r = await runGemini(inv, repo, { timeoutMs: 30_000, onLine: (l) => stream.push(l) });
  await expectGroupGone(r);
  return r;
}

/** The CLI exited by itself and left no process of its group behind. */
async function expectGroupGone(r: GeminiRun): Promise<void> {
  expect(r.signal, `the CLI was killed: ${r.stderr}`).toBeNull();
  // The CLI's own children may end a moment after it (and stay zombies until reaped) on a loaded
  // machine: a leftover is one still there seconds later.
  await expect.poll(() => groupAlive(r.pid), { timeout: 5_000 }).toBe(false);
}

/** fileswarm usage of what the fake reported, priced like the parser prices it. */
function usageOf(u: FakeUsage): Usage {
  return geminiUsage(
    {
      prompt: u.promptTokenCount,
      cached: u.cachedContentTokenCount,
      candidates: u.candidatesTokenCount,
      thoughts: u.thoughtsTokenCount,
    },
    PRICE,
  );
}

/** Reads the lines the CLI appended to its chat recordings since the last call. */
function chatTailer(inp: CliInvocationInput): () => string[] {
  const offsets = new Map<string, number>();
  return () => {
    const out: string[] = [];
    for (const file of geminiChatFiles(inp)) {
      const text = fs.readFileSync(file, 'utf8');
      const from = offsets.get(file) ?? 0;
      const end = text.lastIndexOf('\n') + 1;
      if (end <= from) continue;
      out.push(...text.slice(from, end).split('\n').filter(Boolean));
      offsets.set(file, end);
    }
    return out;
  };
}

describe('Gemini CLI 0.61.0 against the fake Gemini API', () => {
  it('reads a file, runs a command, edits a file and finishes: the parser agrees with the disk and the fake', async () => {
    const { stream, events, progress } = parser();
    let tail: () => string[] = () => [];
    /** The parser's usage when each request arrived, after reading the chat records written so far. */
    const usageAtRequest: Usage[] = [];
    const at = (req: FakeRequest): void => {
      for (const line of tail()) stream.pushChatRecord(line);
      usageAtRequest[req.index] = { ...stream.state.usage };
    };
    const rules: FakeRule[] = [
      {
        name: 'read',
        match: 'Change beta to BETA',
        reply: (req) => (
          at(req),
          {
            parts: [
              { text: 'I will read notes.txt first.' },
              { functionCall: { name: 'read_file', args: { file_path: 'notes.txt' } } },
            ],
            usage: { thoughtsTokenCount: 21 },
          }
        ),
      },
      {
        name: 'shell',
        match: (req) => req.functionResponses[0]?.name === 'read_file' && req.lastText.includes('gamma'),
        reply: (req) => (
          at(req),
          { parts: [{ functionCall: { name: 'run_shell_command', args: { command: 'grep -c a notes.txt' } } }] }
        ),
      },
      {
        name: 'edit',
        match: (req) => req.functionResponses[0]?.name === 'run_shell_command' && req.lastText.includes('3'),
        reply: (req) => (
          at(req),
          {
            parts: [
              { text: 'Three lines; now the edit.' },
              {
                functionCall: {
                  name: 'replace',
                  args: {
                    file_path: 'notes.txt',
                    old_string: 'beta',
                    new_string: 'BETA',
                    instruction: 'Change the word beta to BETA.',
                  },
                },
              },
            ],
          }
        ),
      },
      {
        name: 'done',
        match: (req) => req.functionResponses[0]?.name === 'replace' && /Successfully modified/.test(req.lastText),
        reply: (req) => (at(req), { parts: [{ text: 'Done: notes.txt now says BETA.' }] }),
      },
    ];
    fake = await FakeGemini.start({ rules, apiKey: KEY, logFile: path.join(dir, 'requests.jsonl') });
    const inp = input();
    tail = chatTailer(inp);

    const r = await run(inp, stream);

    expect(r.code, r.stderr).toBe(0);
    expect(fs.readFileSync(path.join(repo, 'notes.txt'), 'utf8')).toBe('alpha\nBETA\ngamma\n');
    expect(fake.unusedRules()).toEqual([]);
    // Every request was a conversation turn (no side requests with an explicit model).
    expect(fake.requests.map((q) => `${q.method} ${q.model} ${q.status}`)).toEqual(
      Array(4).fill(`streamGenerateContent ${MODEL} 200`),
    );
    expect(stream.state.turns).toBe(fake.conversationRequests().length);
    const reported = fake.requests.map((q) => usageOf(q.usage!));
    const sum = reported.reduce(addUsage, { ...ZERO_USAGE });
    expect(stream.state.usage).toEqual(sum);
    expect(stream.state.usage.output_tokens).toBe(fake.totals().candidatesTokenCount + 21);
    expect(stream.state.usage.cache_read_tokens).toBe(fake.totals().cachedContentTokenCount);
    expect(stream.state.usage.cache_read_tokens).toBeGreaterThan(0);
    // Usage during the attempt: when request k arrived, the chat records had shown requests 0..k-1.
    expect(usageAtRequest).toEqual(reported.map((_, k) => reported.slice(0, k).reduce(addUsage, { ...ZERO_USAGE })));

    expect(stream.state.sessionId).toBe(inp.sessionId);
    expect(geminiChatFiles(inp).map((f) => path.basename(f))).toEqual([
      expect.stringMatching(new RegExp(`^session-.*-${inp.sessionId.slice(0, 8)}\\.jsonl$`)),
    ]);
    expect(JSON.parse(r.lines[0]!)).toMatchObject({ type: 'init', session_id: stream.state.sessionId, model: MODEL });
    expect(stream.state.end).toEqual({ kind: 'success', summary: 'Done: notes.txt now says BETA.' });
    expect(stream.state.errors).toEqual([]);
    const kinds = events.map((e) => `${e.type}${e.name ? ` ${e.name}` : ''}`);
    expect(kinds.filter((k) => k !== 'usage')).toEqual([
      'message',
      'tool_call read_file',
      'tool_result read_file',
      'tool_call run_shell_command',
      'tool_result run_shell_command',
      'message',
      'tool_call replace',
      'tool_result replace',
      'message',
    ]);
    expect(events.filter((e) => e.type === 'usage').map((e) => e.turn)).toEqual([1, 2, 3, 4]);
    expect(events.find((e) => e.name === 'run_shell_command' && e.type === 'tool_result')).toMatchObject({
      output: expect.stringMatching(/^3\b/),
      is_error: false,
    });
    expect(progress.some((p) => p.activity === 'run_shell_command grep -c a notes.txt')).toBe(true);

    // The instructions reached the system instruction, the key its header, and only the fake was asked.
    const first = fake.requests[0]!;
    expect(JSON.stringify(first.body.systemInstruction)).toContain('fileswarm-instructions-marker-7731');
    expect(first.headers['x-goog-api-key']).toBe(KEY);
    expect(first.headers['x-gemini-api-privileged-user-id']).toBeUndefined();
  });

  it('gives up on a 401 at once: end error with the status, exit code 401 & 0xff', async () => {
    fake = await FakeGemini.start({
      rules: [
        {
          times: Infinity,
          error: { status: 401, code: 'UNAUTHENTICATED', message: 'Request had invalid authentication credentials.' },
        },
      ],
    });
    const { stream } = parser();
    const r = await run(input(), stream);
    expect(r.code).toBe(145);
    expect(fs.readdirSync(path.join(dir, 'tmp')).filter((f) => f.startsWith('gemini-client-error-'))).toHaveLength(1);
    expect(fake.requests).toHaveLength(1);
    expect(stream.state.end).toEqual({
      kind: 'error',
      message: 'API error 401 UNAUTHENTICATED: Request had invalid authentication credentials.',
    });
    expect(stream.state.errors).toEqual([(stream.state.end as { message: string }).message]);
    expect(stream.state.turns).toBe(0);
    expect(fs.readFileSync(path.join(repo, 'notes.txt'), 'utf8')).toBe('alpha\nbeta\ngamma\n');
  });

  it('gives up on a 500 without retrying when general.maxAttempts is 1', async () => {
    fake = await FakeGemini.start({
      rules: [
        { times: Infinity, error: { status: 500, code: 'INTERNAL', message: 'An internal error has occurred.' } },
      ],
    });
    const { stream } = parser();
    const r = await run(input(), stream, (inv) => {
      const file = Object.keys(inv.files).find((f) => f.endsWith('settings.json'))!;
      inv.files[file] = JSON.stringify(geminiSettings({ maxTurns: null, maxAttempts: 1 }));
    });
    expect(r.code).toBe(500 & 0xff);
    expect(fake.requests).toHaveLength(1);
    expect(stream.state.end).toEqual({
      kind: 'error',
      message: 'API error 500 INTERNAL: An internal error has occurred.',
    });
  });

  it('stops at its own turn limit (model.maxSessionTurns): end max-turns, exit 53', async () => {
    fake = await FakeGemini.start({
      apiKey: KEY,
      rules: [
        {
          times: Infinity,
          reply: { parts: [{ functionCall: { name: 'run_shell_command', args: { command: 'echo again' } } }] },
        },
      ],
    });
    const { stream, events } = parser();
    const r = await run(input({ maxTurns: 2 }), stream);
    expect(r.code).toBe(53);
    expect(fake.requests).toHaveLength(2);
    expect(stream.state.turns).toBe(2);
    expect(stream.state.end?.kind).toBe('max-turns');
    expect(events.filter((e) => e.type === 'tool_result')).toHaveLength(2);
    expect(stream.state.usage).toEqual(fake.requests.map((q) => usageOf(q.usage!)).reduce(addUsage, { ...ZERO_USAGE }));
  });
});
