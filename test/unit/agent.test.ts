// Unit tests of the LLM path's pure parts and the agent's tools on a real temporary directory:
// prices, budget caps and warnings, retry-after parsing, cache breakpoints, compaction, path
// confinement and the file tools.
import fs from 'node:fs';
import path from 'node:path';
import Anthropic from '@anthropic-ai/sdk';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { newWarnings, nextAttemptCaps } from '../../src/coordinator/budget.js';
import { costOf, modelInfo } from '../../src/llm/prices.js';
import { MIN_OUTPUT_TOKENS, responseCap } from '../../src/llm/response-cap.js';
import { describeApiError, retryable, retryAfterMs } from '../../src/llm/retry.js';
import { ZERO_USAGE } from '../../src/protocol/usage.js';
import { withRollingBreakpoint } from '../../src/llm/conversation.js';
import { compact } from '../../src/worker/agent/loop.js';
import { runTool, toolDefinitions, truncate, type ToolContext } from '../../src/worker/agent/tools.js';
import { resolveInside } from '../../src/worker/agent/workspace.js';
import { makeWorld, type World } from '../helpers.js';

describe('prices', () => {
  it('knows dated model ids by their family and prices tokens per million', () => {
    expect(modelInfo('claude-sonnet-4-5-20250929')?.price.input).toBe(3);
    expect(modelInfo('claude-opus-4-5')?.price.output).toBe(25);
    expect(modelInfo('claude-opus-4-1-20250805')?.price.output).toBe(75);
    expect(modelInfo('claude-sonnet-5-5')?.context).toBe(1_000_000);
    expect(modelInfo('gpt-5')).toBeUndefined();
    expect(modelInfo('claude-sonnet-4-50')).toBeUndefined();
    const price = modelInfo('claude-sonnet-4-5')!.price;
    expect(
      costOf({ input_tokens: 1_000_000, output_tokens: 0, cache_read_tokens: 0, cache_write_tokens: 0 }, price),
    ).toBe(3);
    expect(
      costOf({ input_tokens: 0, output_tokens: 1000, cache_read_tokens: 10_000, cache_write_tokens: 1000 }, price),
    ).toBeCloseTo(0.015 + 0.003 + 0.00375, 9);
  });
});

describe('budget', () => {
  const none = { max_cost_usd: null, max_tokens: null };
  it('gives no caps without a budget, and the role cap when it is smaller', () => {
    expect(nextAttemptCaps(none, { usd: 0, tokens: 0 }, 1, none)).toEqual({
      kind: 'ok',
      caps: none,
      source: { cost: null, tokens: null },
    });
    expect(
      nextAttemptCaps({ max_cost_usd: 10, max_tokens: null }, { usd: 2, tokens: 0 }, 1, {
        max_cost_usd: 1,
        max_tokens: null,
      }),
    ).toEqual({ kind: 'ok', caps: { max_cost_usd: 1, max_tokens: null }, source: { cost: 'role', tokens: null } });
  });
  it('says which cap came from where when the role caps one and the budget the other', () => {
    const r = nextAttemptCaps({ max_cost_usd: 1, max_tokens: null }, { usd: 0.5, tokens: 0 }, 1, {
      max_cost_usd: 2,
      max_tokens: 50_000,
    });
    expect(r).toEqual({
      kind: 'ok',
      caps: { max_cost_usd: 0.5, max_tokens: 50_000 },
      source: { cost: 'budget', tokens: 'role' },
    });
  });
  it('shares what is left among the attempts starting now', () => {
    const r = nextAttemptCaps({ max_cost_usd: 10, max_tokens: 100_000 }, { usd: 4, tokens: 40_000 }, 3, none);
    expect(r).toEqual({
      kind: 'ok',
      caps: { max_cost_usd: 2, max_tokens: 20_000 },
      source: { cost: 'budget', tokens: 'budget' },
    });
  });
  it('is exhausted when less than the minimum is left on either cap', () => {
    expect(nextAttemptCaps({ max_cost_usd: 1, max_tokens: null }, { usd: 0.995, tokens: 0 }, 1, none)).toEqual({
      kind: 'exhausted',
      cap: 'cost',
    });
    expect(nextAttemptCaps({ max_cost_usd: null, max_tokens: 5000 }, { usd: 0, tokens: 4000 }, 1, none)).toEqual({
      kind: 'exhausted',
      cap: 'tokens',
    });
  });
  it('warns once per threshold crossed, on the larger of the two shares', () => {
    expect(newWarnings({ max_cost_usd: 10, max_tokens: null }, { usd: 8.5, tokens: 0 }, [])).toEqual([50, 80]);
    expect(newWarnings({ max_cost_usd: 10, max_tokens: 100 }, { usd: 1, tokens: 96 }, [50])).toEqual([80, 95]);
    expect(newWarnings({ max_cost_usd: 10, max_tokens: null }, { usd: 4, tokens: 0 }, [])).toEqual([]);
  });
});

describe('response caps', () => {
  // $1/M in, $10/M out, $0.10/M cache read, $1.25/M cache write.
  const price = { input: 1, output: 10, cache_read: 0.1, cache_write: 1.25 };
  const none = { max_cost_usd: null, max_tokens: null };
  it("asks for the conversation's own max_tokens when nothing caps it", () => {
    expect(
      responseCap({ maxOutput: 8000, caps: none, spent: ZERO_USAGE, price, promptTokens: 10_000, cachedTokens: 0 }),
    ).toEqual({ kind: 'ok', maxTokens: 8000 });
  });
  it('prices the prompt as cached up to the last prompt and written beyond it, +10 %, and gives the rest to the answer', () => {
    // Left $0.10; prompt 1.1 × (10,000 × 0.1 + 2,000 × 1.25) / 1e6 = $0.00385; (0.1 − 0.00385) × 1e6 / 10 = 9615 tokens.
    const spent = { ...ZERO_USAGE, cost_usd: 0.4 };
    const cap = responseCap({
      maxOutput: 50_000,
      caps: { max_cost_usd: 0.5, max_tokens: null },
      spent,
      price,
      promptTokens: 12_000,
      cachedTokens: 10_000,
    });
    expect(cap.kind === 'ok' && cap.maxTokens).toBeOneOf([9614, 9615]); // 0.5 − 0.4 is 0.0999… in floating point
  });
  it('takes off the prompt (+10 %) and what was used from a token cap', () => {
    const spent = { ...ZERO_USAGE, input_tokens: 1000, output_tokens: 2000, cache_read_tokens: 7000 };
    expect(
      responseCap({
        maxOutput: 50_000,
        caps: { max_cost_usd: null, max_tokens: 30_000 },
        spent,
        price,
        promptTokens: 10_000,
        cachedTokens: 0,
      }),
    ).toEqual({ kind: 'ok', maxTokens: 9000 });
  });
  it(`stops, naming the cap, when less than ${MIN_OUTPUT_TOKENS} tokens could be afforded`, () => {
    const spent = { ...ZERO_USAGE, cost_usd: 0.498 }; // $0.002 left, the prompt $0.00011: 189 tokens
    expect(
      responseCap({
        maxOutput: 50_000,
        caps: { max_cost_usd: 0.5, max_tokens: 1e9 },
        spent,
        price,
        promptTokens: 1000,
        cachedTokens: 1000,
      }),
    ).toEqual({ kind: 'stop', cap: 'cost' });
    expect(
      responseCap({
        maxOutput: 50_000,
        caps: { max_cost_usd: 100, max_tokens: 11_200 },
        spent: ZERO_USAGE,
        price,
        promptTokens: 10_000,
        cachedTokens: 0,
      }),
    ).toEqual({ kind: 'stop', cap: 'tokens' });
  });
  it(`lets a conversation that asks for fewer than ${MIN_OUTPUT_TOKENS} tokens have them while its caps can pay`, () => {
    const caps = { max_cost_usd: 100, max_tokens: 1e9 };
    expect(
      responseCap({ maxOutput: 200, caps, spent: ZERO_USAGE, price, promptTokens: 1000, cachedTokens: 0 }),
    ).toEqual({ kind: 'ok', maxTokens: 200 });
    expect(
      responseCap({
        maxOutput: 200,
        caps: { max_cost_usd: null, max_tokens: 1300 },
        spent: ZERO_USAGE,
        price,
        promptTokens: 1000,
        cachedTokens: 0,
      }),
    ).toEqual({ kind: 'ok', maxTokens: 200 });
    expect(
      responseCap({
        maxOutput: 200,
        caps: { max_cost_usd: null, max_tokens: 1250 },
        spent: ZERO_USAGE,
        price,
        promptTokens: 1000,
        cachedTokens: 0,
      }),
    ).toEqual({ kind: 'stop', cap: 'tokens' });
  });
});

describe('API retries', () => {
  const error = (status: number, headers: Record<string, string> = {}) =>
    Anthropic.APIError.generate(
      status,
      { type: 'error', error: { type: 'x', message: 'm' } },
      'm',
      new Headers(headers),
    );
  it('retries 429, 5xx, 529 and lost connections, not 400 or 401', () => {
    expect([429, 500, 503, 529].map((s) => retryable(error(s)))).toEqual([true, true, true, true]);
    expect([400, 401, 403, 404].map((s) => retryable(error(s)))).toEqual([false, false, false, false]);
    expect(retryable(new Anthropic.APIConnectionError({ message: 'reset' }))).toBe(true);
    expect(retryable(new Anthropic.APIUserAbortError())).toBe(false);
    // The server's x-should-retry decides, as in the SDK, on error responses only (an error event
    // in a stream has no status and carries the 200's headers).
    expect(retryable(error(500, { 'x-should-retry': 'false' }))).toBe(false);
    expect(retryable(error(400, { 'x-should-retry': 'true' }))).toBe(true);
    // (built as the SDK's stream builds it: APIError(undefined, the event's data, undefined, the response's headers)).
    const midStream = new Anthropic.APIError(
      undefined,
      { type: 'error', error: { type: 'overloaded_error', message: 'm' } },
      undefined,
      new Headers({ 'x-should-retry': 'false' }),
    );
    expect(midStream).not.toBeInstanceOf(Anthropic.APIConnectionError);
    expect(retryable(midStream)).toBe(true);
    // A stream that broke off (a reset mid-body is the SDK's AnthropicError "terminated").
    expect(retryable(new Anthropic.AnthropicError('terminated'))).toBe(true);
  });
  it('says why a connection failed', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });
    const e = new Anthropic.APIConnectionError({
      message: 'Connection error.',
      cause: new Error('fetch failed', { cause: refused }),
    });
    expect(describeApiError(e)).toBe('connection error: ECONNREFUSED: connect ECONNREFUSED 127.0.0.1:1');
    expect(describeApiError(error(529))).toBe('HTTP 529: x: m');
  });
  it('honours retry-after-ms, retry-after in seconds and as an HTTP date', () => {
    expect(retryAfterMs(error(429, { 'retry-after-ms': '250' }))).toBe(250);
    expect(retryAfterMs(error(429, { 'retry-after': '2' }))).toBe(2000);
    const at = retryAfterMs(error(429, { 'retry-after': new Date(Date.now() + 5000).toUTCString() }))!;
    expect(at).toBeGreaterThan(3000);
    expect(at).toBeLessThanOrEqual(5000);
    expect(retryAfterMs(error(529))).toBeUndefined();
  });
});

describe('the conversation', () => {
  it('puts one cache breakpoint on the last block of the newest message, without changing the history', () => {
    const history: Anthropic.Messages.MessageParam[] = [
      { role: 'user', content: 'start' },
      { role: 'assistant', content: [{ type: 'tool_use', id: 't1', name: 'list_files', input: {} }] },
      {
        role: 'user',
        content: [
          { type: 'tool_result', tool_use_id: 't1', content: 'a' },
          { type: 'text', text: 'go on' },
        ],
      },
    ];
    const before = JSON.stringify(history);
    const sent = withRollingBreakpoint(history);
    expect(JSON.stringify(history)).toBe(before);
    expect(JSON.stringify(sent).match(/cache_control/g)).toHaveLength(1);
    expect((sent[2]!.content as { cache_control?: unknown }[])[1]!.cache_control).toEqual({ type: 'ephemeral' });
  });

  it('compacts all but the newest tool results, once', () => {
    const messages: Anthropic.Messages.MessageParam[] = [];
    for (let i = 0; i < 10; i++) {
      messages.push({
        role: 'assistant',
        content: [{ type: 'tool_use', id: `t${i}`, name: 'read_file', input: { path: `f${i}` } }],
      });
      messages.push({
        role: 'user',
        content: [{ type: 'tool_result', tool_use_id: `t${i}`, content: `line one of f${i}\n${'x'.repeat(5000)}` }],
      });
    }
    expect(compact(messages)).toBe(4);
    expect(compact(messages)).toBe(0);
    const contents = messages
      .filter((m) => m.role === 'user')
      .map((m) => (m.content as { content: string }[])[0]!.content);
    expect(contents[0]).toMatch(
      /^\[compacted to save context: 5\d{3} characters, starting "line one of f0 x+…"; run the tool again if you need it\]$/,
    );
    expect(contents[4]!.length).toBeGreaterThan(5000);
  });

  it('gives every tool an object input schema made from its zod schema, in a fixed order', () => {
    const defs = toolDefinitions();
    expect(defs.map((d) => d.name)).toEqual([
      'read_file',
      'write_file',
      'edit_file',
      'list_files',
      'search',
      'bash',
      'finish',
    ]);
    expect(defs.find((d) => d.name === 'edit_file')!.input_schema).toMatchObject({
      type: 'object',
      required: ['path', 'old_text', 'new_text'],
    });
    expect(JSON.stringify(defs)).not.toContain('$schema');
  });

  it('cuts long outputs to head and tail with a note', () => {
    const t = truncate('a'.repeat(100) + 'b'.repeat(100), 50);
    expect(t).toBe(`${'a'.repeat(25)}\n[... 150 characters left out ...]\n${'b'.repeat(25)}`);
  });
});

describe('the agent tools in a workspace', () => {
  let w: World;
  let ctx: ToolContext;
  beforeEach(() => {
    w = makeWorld();
    fs.mkdirSync(w.path('ws'));
    w.write('ws/a.txt', 'one\ntwo\none\n');
    w.write('ws/.gitignore', 'build/\n');
    w.write('ws/build/out.txt', 'built\n');
    w.write('outside.txt', 'secret\n');
    fs.symlinkSync(w.path('outside.txt'), w.path('ws/link-out'));
    fs.symlinkSync(w.path('nowhere/new.txt'), w.path('ws/dangling'));
    ctx = {
      root: w.path('ws'),
      sandbox: null,
      env: { PATH: process.env.PATH },
      bashTimeoutMs: 5000,
      killGraceMs: 500,
      bashLog: w.path('bash.log'),
      signal: new AbortController().signal,
      onSpawn: () => {},
    };
  });
  afterEach(() => w.cleanup());

  it('confines paths: no .., no absolute paths elsewhere, no symlinks out (dangling ones too), no .git', () => {
    const root = w.path('ws');
    expect(resolveInside(root, 'a.txt')).toEqual({ ok: true, value: path.join(root, 'a.txt') });
    expect(resolveInside(root, path.join(root, 'new/dir/f.txt')).ok).toBe(true);
    for (const p of [
      '../outside.txt',
      '/etc/passwd',
      'sub/../../outside.txt',
      'link-out',
      'dangling',
      '.git/config',
      '',
    ]) {
      expect(resolveInside(root, p).ok, p).toBe(false);
    }
  });

  it('writes through none of the refused paths', async () => {
    for (const p of ['../escape.txt', 'link-out', 'dangling']) {
      const r = await runTool('write_file', { path: p, content: 'x' }, ctx);
      expect(r.is_error, p).toBe(true);
    }
    expect(fs.readFileSync(w.path('outside.txt'), 'utf8')).toBe('secret\n');
    expect(fs.existsSync(w.path('escape.txt'))).toBe(false);
    expect(fs.existsSync(w.path('nowhere'))).toBe(false);
  });

  it('edits one exact occurrence, and explains a missing or repeated old text', async () => {
    expect(await runTool('edit_file', { path: 'a.txt', old_text: 'one', new_text: '1' }, ctx)).toEqual({
      output: 'a.txt: old_text occurs 2 times (lines 1, 3); include more surrounding text so it matches once',
      is_error: true,
    });
    expect((await runTool('edit_file', { path: 'a.txt', old_text: 'three', new_text: '3' }, ctx)).output).toContain(
      'old_text not found',
    );
    expect(await runTool('edit_file', { path: 'a.txt', old_text: 'two\none', new_text: '2\n1' }, ctx)).toEqual({
      output: 'edited a.txt at line 2',
      is_error: false,
    });
    expect(fs.readFileSync(w.path('ws/a.txt'), 'utf8')).toBe('one\n2\n1\n');
  });

  it('lists and searches files with .gitignore respected', async () => {
    expect((await runTool('list_files', {}, ctx)).output.split('\n')).toEqual(['.gitignore', 'a.txt']);
    expect((await runTool('search', { pattern: '^o' }, ctx)).output).toBe('a.txt:1: one\na.txt:3: one');
    expect((await runTool('search', { pattern: '(' }, ctx)).is_error).toBe(true);
  });

  it('runs bash in the workspace with a time limit that kills the command', async () => {
    const ok = await runTool('bash', { command: 'pwd; echo err >&2; exit 3' }, ctx);
    expect(ok).toEqual({ output: `${w.path('ws')}\nerr\n[exit code 3]`, is_error: true });
    const slow = await runTool('bash', { command: 'sleep 30', timeout_ms: 300 }, ctx);
    expect(slow.is_error).toBe(true);
    expect(slow.output).toContain('timed out after 300 ms');
  });

  it('answers unknown tools and bad inputs with errors for the model', async () => {
    expect(await runTool('rm_rf', {}, ctx)).toMatchObject({
      is_error: true,
      output: expect.stringContaining('unknown tool "rm_rf"'),
    });
    expect(await runTool('read_file', { path: 3 }, ctx)).toMatchObject({
      is_error: true,
      output: expect.stringContaining('invalid input for read_file: path:'),
    });
  });
});
