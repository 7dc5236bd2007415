// Unit tests of the `claude-code` backend's stream-json parser (src/worker/backends/claude-code/stream.ts) on
// real Claude Code 2.1.330 output: the shared captures in ../shared/reference/captures/ (without
// --include-partial-messages) and test/fixtures/captures/claude-code-*.jsonl (runs of the real CLI with
// claudeCodeInvocation against test/fixtures/fake-anthropic.ts, in /tmp/fileswarm-capture), plus lines of
// unexpected shapes.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { costOf, type ModelPrice, type TokenCounts } from '../../src/llm/prices.js';
import { ZERO_USAGE } from '../../src/protocol/usage.js';
import type { AgentProgress, AttemptEvent } from '../../src/worker/backends/backend.js';
import {
  anthropicTokens,
  ClaudeCodeStream,
  describeApiError,
  resultUsage,
} from '../../src/worker/backends/claude-code/stream.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const CAPTURES = path.join(HERE, '..', 'fixtures', 'captures');
const SHARED = path.join(HERE, '..', '..', '..', 'shared', 'reference', 'captures');

/** Claude Code's (and the table's) price of claude-opus-5-5, the model of every capture. */
const OPUS: ModelPrice = { input: 4, output: 20, cache_read: 0.2, cache_write: 5 };
/** A price with every rate distinct and unlike OPUS, to tell the parser's pricing from Claude Code's. */
const OTHER: ModelPrice = { input: 1, output: 10, cache_read: 0.1, cache_write: 100 };

const lines = (file: string): string[] =>
  fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l !== '');
const own = (name: string): string[] => lines(path.join(CAPTURES, `claude-code-${name}.jsonl`));
const shared = (name: string): string[] => lines(path.join(SHARED, `claude-code-${name}.jsonl`));

function parse(price: ModelPrice = OPUS) {
  const events: AttemptEvent[] = [];
  const progress: AgentProgress[] = [];
  const stream = new ClaudeCodeStream({
    model: 'claude-opus-5-5',
    price,
    sink: { emit: (e) => events.push(e), progress: (p) => progress.push(p) },
  });
  return { stream, events, progress, feed: (ls: string[]) => ls.forEach((l) => stream.push(l)) };
}

const t = (cache_write: number, cache_read: number, output: number, input = 0): TokenCounts => ({
  input_tokens: input,
  output_tokens: output,
  cache_read_tokens: cache_read,
  cache_write_tokens: cache_write,
});
const priced = (tokens: TokenCounts, price: ModelPrice = OPUS) => ({ ...tokens, cost_usd: costOf(tokens, price) });
const plus = (...ts: TokenCounts[]): TokenCounts =>
  ts.reduce((a, b) => ({
    input_tokens: a.input_tokens + b.input_tokens,
    output_tokens: a.output_tokens + b.output_tokens,
    cache_read_tokens: a.cache_read_tokens + b.cache_read_tokens,
    cache_write_tokens: a.cache_write_tokens + b.cache_write_tokens,
  }));
const tokensOnly = (u: TokenCounts): TokenCounts => ({
  input_tokens: u.input_tokens,
  output_tokens: u.output_tokens,
  cache_read_tokens: u.cache_read_tokens,
  cache_write_tokens: u.cache_write_tokens,
});

describe('ClaudeCodeStream on real output with partial messages (the invocation)', () => {
  // Per request, from the capture's message_start and message_delta (= the fake's log of that run).
  const turns = [t(5271, 0, 38), t(77, 5271, 25), t(59, 5348, 47), t(119, 5407, 14)];

  it('reads a tool round trip: turns by message id, each turn usage before its tools run, the CLI USD at the end', () => {
    const { stream, events, progress } = parse(OTHER);
    const beforeTools: TokenCounts[] = [];
    for (const line of own('tool-roundtrip')) {
      if (line.startsWith('{"type":"user"')) beforeTools.push(tokensOnly(stream.state.usage));
      stream.push(line);
    }
    expect(stream.state.sessionId).toBe('6b1f0c2e-4d3a-4e5f-9a8b-7c6d5e4f3a21');
    expect(stream.model).toBe('claude-opus-5-5');
    expect(stream.state.turns).toBe(4);
    expect(beforeTools).toEqual([1, 2, 3].map((k) => plus(...turns.slice(0, k))));
    const repo = '/tmp/fileswarm-capture/repo';
    expect(events.map((e) => `${e.type} ${e.text}`)).toEqual([
      'message I will read notes.txt first.',
      `tool_call Read ${repo}/notes.txt`,
      `usage turn 1: 0 in, 0 cache read, 5271 cache write, 38 out, $${costOf(turns[0]!, OTHER).toFixed(4)}`,
      'tool_result Read: 1 alpha 2 beta 3 gamma 4',
      'tool_call Bash grep -c a notes.txt',
      `usage turn 2: 0 in, 5271 cache read, 77 cache write, 25 out, $${costOf(turns[1]!, OTHER).toFixed(4)}`,
      'tool_result Bash: 3',
      'message Three lines; now the edit.',
      `tool_call Edit ${repo}/notes.txt`,
      `usage turn 3: 0 in, 5348 cache read, 59 cache write, 47 out, $${costOf(turns[2]!, OTHER).toFixed(4)}`,
      `tool_result Edit: The file ${repo}/notes.txt has been updated successfully. (file state is current in your context — no need to Read it back)`,
      'message Done: notes.txt now says BETA.',
      `usage turn 4: 0 in, 5407 cache read, 119 cache write, 14 out, $${costOf(turns[3]!, OTHER).toFixed(4)}`,
    ]);
    const usage = events.filter((e) => e.type === 'usage');
    expect(usage.map((e) => e.usage)).toEqual(turns.map((x) => priced(x, OTHER)));
    expect(usage.map((e) => e.total)).toEqual([1, 2, 3, 4].map((k) => priced(plus(...turns.slice(0, k)), OTHER)));
    expect(events.find((e) => e.type === 'tool_call' && e.name === 'Edit')!.input).toEqual({
      replace_all: false,
      file_path: `${repo}/notes.txt`,
      old_string: 'beta',
      new_string: 'BETA',
    });
    expect(events.find((e) => e.type === 'tool_result' && e.name === 'Read')).toMatchObject({
      output: '1\talpha\n2\tbeta\n3\tgamma\n4\t',
      is_error: false,
    });
    // The end: Claude Code's own figures (its USD, not OTHER's), which agree with the turns' tokens.
    expect(stream.state.usage).toEqual({ ...plus(...turns), cost_usd: 0.0333152 });
    expect(stream.state.usage.cost_usd).toBe(costOf(plus(...turns), OPUS));
    expect(stream.state.end).toEqual({ kind: 'success', summary: 'Done: notes.txt now says BETA.' });
    expect(stream.state.lastText).toBe('Done: notes.txt now says BETA.');
    expect(stream.state.errors).toEqual([]);
    expect(progress.map((p) => `${p.turn} ${p.activity}`)).toEqual([
      '1 turn 1: model answering',
      '1 I will read notes.txt first.',
      `1 Read ${repo}/notes.txt`,
      `1 Read ${repo}/notes.txt`,
      `1 Read ${repo}/notes.txt`,
      '2 turn 2: model answering',
      '2 Bash grep -c a notes.txt',
      '2 Bash grep -c a notes.txt',
      '2 Bash grep -c a notes.txt',
      '3 turn 3: model answering',
      '3 Three lines; now the edit.',
      `3 Edit ${repo}/notes.txt`,
      `3 Edit ${repo}/notes.txt`,
      `3 Edit ${repo}/notes.txt`,
      '4 turn 4: model answering',
      '4 Done: notes.txt now says BETA.',
      '4 Done: notes.txt now says BETA.',
      '4 finished',
    ]);
    expect(progress.at(-1)!.usage).toEqual(stream.state.usage);
  });

  it('counts a cut answer (stream error mid-response) as a turn, reports the API error, names tool errors', () => {
    const { stream, events } = parse();
    const out = own('stream-error');
    stream.push(out[0]!);
    out.slice(1).forEach((l) => stream.push(l));
    expect(stream.state.turns).toBe(5);
    const message = 'API Error: Server error mid-response. The response above may be incomplete.';
    expect(stream.state.errors).toEqual([message]);
    expect(events.filter((e) => e.type !== 'usage').map((e) => `${e.type} ${e.text}`)).toEqual([
      'message Partial answer.',
      'tool_call Bash touch cut-answer-ran',
      `error ${message}`,
      'tool_result Bash: (Bash completed with no output)',
      'tool_call Read /tmp/fileswarm-capture/repo/notes.txt',
      'tool_result Read: 1 alpha 2 beta 3 gamma 4',
      'tool_call Edit /tmp/fileswarm-capture/repo/notes.txt',
      'tool_result Edit (error): <tool_use_error>String to replace not found in file. String: nope</tool_use_error>',
      'tool_call Bash echo out; echo err >&2; exit 3',
      'tool_result Bash (error): Exit code 3 out err',
      'message Gave up: beta is not there as expected.',
    ]);
    expect(events.find((e) => e.type === 'tool_result' && e.is_error && e.name === 'Bash')!.output).toBe(
      'Exit code 3\nout\nerr',
    );
    // The cut answer's usage is message_start's (1 output token), as the fake and Claude Code counted it.
    expect(events.find((e) => e.type === 'usage')!.usage).toEqual(priced(t(5271, 0, 1)));
    expect(stream.state.usage).toEqual({ ...t(5567, 21520, 101), cost_usd: 0.034159 });
    expect(stream.state.end).toEqual({ kind: 'success', summary: 'Gave up: beta is not there as expected.' });
    // The synthetic message is not the last text.
    expect(stream.state.lastText).toBe('Gave up: beta is not there as expected.');
  });

  it('ends max-turns at its --max-turns (2 requests, result.num_turns 3)', () => {
    const { stream, events, feed } = parse();
    feed(own('max-turns'));
    expect(stream.state.turns).toBe(2);
    expect(stream.state.end).toEqual({ kind: 'max-turns', message: 'Reached maximum number of turns (2)' });
    expect(stream.state.errors).toEqual([]);
    expect(events.at(-1)).toEqual({ type: 'error', text: 'Reached maximum number of turns (2)' });
    expect(stream.state.usage).toEqual({ ...plus(t(5271, 0, 29), t(65, 5271, 29)), cost_usd: 0.0288942 });
  });

  it('ends budget at its --max-budget-usd, with modelUsage (the result.usage lacks the last request)', () => {
    const { stream, events, feed } = parse();
    const out = own('max-budget');
    feed(out);
    expect(stream.state.turns).toBe(3);
    expect(stream.state.end).toEqual({ kind: 'budget', message: 'Reached maximum budget ($0.03)' });
    const turns = [t(5281, 0, 29), t(90, 5281, 29), t(90, 5371, 29)];
    expect(stream.state.usage).toEqual({ ...plus(...turns), cost_usd: 0.0311754 });
    const result = JSON.parse(out.at(-1)!);
    expect(result.usage.output_tokens).toBe(58); // not 87
    expect(events.filter((e) => e.type === 'tool_call')).toHaveLength(3);
    expect(events.filter((e) => e.type === 'tool_result')).toHaveLength(2); // the last answer's tool did not run
    // The crossing was visible to a cap before the result: the third turn's usage came with its answer.
    expect(events.filter((e) => e.type === 'usage').map((e) => e.total!.cost_usd)).toEqual(
      [1, 2, 3].map((k) => costOf(plus(...turns.slice(0, k)), OPUS)),
    );
  });

  it('ends error on a 401 (retries off): the status, the type and Claude Code text, no turn', () => {
    const { stream, events, feed } = parse();
    feed(own('api-error-401'));
    const message = 'API error 401 authentication_error: Invalid API key · Fix external API key';
    expect(stream.state.end).toEqual({ kind: 'error', message });
    expect(stream.state.errors).toEqual([message]);
    expect(events).toEqual([{ type: 'error', text: message }]);
    expect(stream.state.turns).toBe(0);
    expect(stream.state.usage).toEqual(ZERO_USAGE);
  });

  it('reports each retry of a 500 as an error on the way, then ends error with its text', () => {
    const { stream, feed } = parse();
    feed(own('api-retry-500'));
    expect(stream.state.errors).toEqual([
      'API error 500 (server_error): retry 1 of 2 in 615 ms',
      'API error 500 (server_error): retry 2 of 2 in 1136 ms',
      expect.stringMatching(/^API Error: 500 Internal server error\. This is a server-side issue/),
    ]);
    expect(stream.state.end).toEqual({ kind: 'error', message: stream.state.errors[2] });
    expect(stream.state.turns).toBe(0);
  });
});

describe('ClaudeCodeStream on real output without partial messages', () => {
  it('counts usage once per message id (output 1 each), then takes the rest from the result', () => {
    const { stream, events } = parse(OTHER);
    const out = own('tool-roundtrip-no-partial');
    out.slice(0, -1).forEach((l) => stream.push(l));
    expect(stream.state.turns).toBe(4);
    // message_start's usage per request: output_tokens 1 each until the end.
    const seen = plus(t(5271, 0, 1), t(77, 5271, 1), t(59, 5348, 1), t(119, 5407, 1));
    expect(stream.state.usage).toEqual(priced(seen, OTHER));
    expect(events.filter((e) => e.type === 'usage').map((e) => e.turn)).toEqual([1, 2, 3]); // the 4th is still open
    stream.push(out.at(-1)!);
    const total = t(5526, 16026, 124);
    expect(stream.state.usage).toEqual({ ...total, cost_usd: 0.0333152 });
    const usage = events.filter((e) => e.type === 'usage');
    expect(usage.map((e) => e.turn)).toEqual([1, 2, 3, 4, 4]);
    expect(usage.at(-1)).toMatchObject({
      text: expect.stringMatching(/^usage shown only at the end/),
      usage: priced(t(0, 0, 124 - 4), OTHER),
      total: stream.state.usage,
    });
    expect(stream.state.end).toEqual({ kind: 'success', summary: 'Done: notes.txt now says BETA.' });
  });

  it('reads the shared tool round trip capture', () => {
    const { stream, events, feed } = parse();
    feed(shared('tool-roundtrip'));
    expect(stream.state.sessionId).toBe('bfc334e6-cf8a-461a-97eb-533305f8e027');
    expect(stream.state.turns).toBe(2);
    expect(events.filter((e) => e.type !== 'usage').map((e) => `${e.type} ${e.text}`)).toEqual([
      'message Running a command.',
      'tool_call Bash echo fake-tool-ran > out.txt && cat out.txt',
      'tool_result Bash: fake-tool-ran',
      'message Done after tool.',
    ]);
    expect(stream.state.usage).toEqual({ ...t(0, 0, 40, 200), cost_usd: 0.0016 });
    expect(stream.state.end).toEqual({ kind: 'success', summary: 'Done after tool.' });
  });

  it('reads the shared max-turns and max-budget captures (the latter with an all-zero result.usage)', () => {
    const turns = parse();
    turns.feed(shared('max-turns'));
    expect(turns.stream.state.end).toEqual({ kind: 'max-turns', message: 'Reached maximum number of turns (1)' });
    expect(turns.stream.state.turns).toBe(1);
    const budget = parse();
    budget.feed(shared('max-budget'));
    expect(budget.stream.state.end).toEqual({ kind: 'budget', message: 'Reached maximum budget ($0.0001)' });
    expect(budget.stream.state.usage).toEqual({ ...t(0, 0, 20, 100), cost_usd: 0.0008 });
  });
});

describe('ClaudeCodeStream on unexpected lines', () => {
  const start = (id: string, usage: object) =>
    JSON.stringify({ type: 'stream_event', event: { type: 'message_start', message: { id, model: 'm', usage } } });
  const delta = (usage: object) => JSON.stringify({ type: 'stream_event', event: { type: 'message_delta', usage } });
  const assistant = (id: string, block: object, usage: object = {}) =>
    JSON.stringify({ type: 'assistant', message: { id, model: 'm', content: [block], usage } });

  it('turns a non-JSON line into a log event, ignores unknown types and odd shapes, never throws', () => {
    const { stream, events } = parse();
    const odd = [
      'Claude Code is starting…',
      '[1,2]',
      '"text"',
      '{"type":"something_new","x":1}',
      '{"type":"system","subtype":"ui_invalidate"}',
      '{"type":"assistant"}',
      '{"type":"assistant","message":{"content":"not a list"}}',
      '{"type":"user","message":{"content":"a string"}}',
      '{"type":"user","message":{"content":[{"type":"tool_result","content":[{"type":"text","text":"a"},{"type":"image"}]}]}}',
      '{"type":"stream_event","event":null}',
      '{"type":"stream_event","event":{"type":"message_delta","usage":{"output_tokens":5}}}',
      '{"type":"system","subtype":"api_retry"}',
      '',
    ];
    expect(() => odd.forEach((l) => stream.push(l))).not.toThrow();
    expect(events).toEqual([
      { type: 'log', text: 'Claude Code is starting…' },
      { type: 'log', text: '[1,2]' },
      { type: 'log', text: '"text"' },
      { type: 'tool_result', text: 'tool: a [image]', name: 'tool', output: 'a\n[image]', is_error: false },
      { type: 'error', text: 'API error: retry' },
    ]);
    expect(stream.state.turns).toBe(0);
    expect(stream.state.usage).toEqual(ZERO_USAGE);
    expect(stream.state.end).toBeNull();
  });

  it('counts a message id once: its usage from message_start, message_delta setting (not adding) fields', () => {
    const { stream, events } = parse();
    stream.push(start('msg_a', { input_tokens: 10, output_tokens: 1, cache_read_input_tokens: 5 }));
    expect(stream.state.usage).toEqual(priced(t(0, 5, 1, 10)));
    stream.push(assistant('msg_a', { type: 'text', text: 'hi' }, { input_tokens: 999, output_tokens: 1 }));
    stream.push(assistant('msg_a', { type: 'tool_use', id: 'tu', name: 'Bash', input: { command: 'ls' } }));
    stream.push(delta({ output_tokens: 50 }));
    stream.push(delta({ output_tokens: 60, input_tokens: 12 }));
    expect(stream.state.turns).toBe(1);
    expect(stream.state.usage).toEqual(priced(t(0, 5, 60, 12)));
    stream.push(JSON.stringify({ type: 'stream_event', event: { type: 'message_stop' } }));
    stream.push(start('msg_b', { input_tokens: 3, output_tokens: 1 }));
    expect(stream.state.turns).toBe(2);
    expect(stream.state.usage).toEqual(priced(t(0, 5, 61, 15)));
    expect(events.filter((e) => e.type === 'usage').map((e) => e.usage)).toEqual([priced(t(0, 5, 60, 12))]);
  });

  it('maps result subtypes: error_during_execution and is_error without text, and an absent modelUsage', () => {
    const end = (result: object) => {
      const { stream } = parse();
      stream.push(JSON.stringify({ type: 'result', ...result }));
      return stream.state;
    };
    expect(end({ subtype: 'error_during_execution', is_error: true, errors: ['a', 'b'] }).end).toEqual({
      kind: 'error',
      message: 'a; b',
    });
    expect(end({ subtype: 'success', is_error: true }).end).toEqual({
      kind: 'error',
      message: 'Claude Code ended with success',
    });
    expect(end({ subtype: 'error_max_turns' }).end).toEqual({
      kind: 'max-turns',
      message: 'Reached the maximum number of turns',
    });
    expect(end({ subtype: 'success', result: 'ok', total_cost_usd: 0.5 })).toMatchObject({
      end: { kind: 'success', summary: 'ok' },
      usage: { ...ZERO_USAGE, cost_usd: 0.5 },
      errors: [],
    });
  });
});

describe('helpers', () => {
  it('anthropicTokens renames the fields and leaves absent ones null', () => {
    expect(anthropicTokens({ output_tokens: 7 })).toEqual({
      input_tokens: null,
      output_tokens: 7,
      cache_read_tokens: null,
      cache_write_tokens: null,
    });
    expect(anthropicTokens({ input_tokens: 1, cache_read_input_tokens: 2, cache_creation_input_tokens: 3 })).toEqual({
      input_tokens: 1,
      output_tokens: null,
      cache_read_tokens: 2,
      cache_write_tokens: 3,
    });
  });

  it('resultUsage sums models, takes total_cost_usd, else the models costUSD, else the price', () => {
    const models = {
      a: { inputTokens: 1, outputTokens: 2, cacheReadInputTokens: 3, cacheCreationInputTokens: 4, costUSD: 0.1 },
      b: { inputTokens: 10, outputTokens: 20, cacheReadInputTokens: 30, cacheCreationInputTokens: 40, costUSD: 0.2 },
    };
    const tokens = t(44, 33, 22, 11);
    expect(resultUsage({ modelUsage: models, total_cost_usd: 0.30000000000000004 }, OTHER)).toEqual({
      ...tokens,
      cost_usd: 0.3,
    });
    expect(resultUsage({ modelUsage: models }, OTHER)).toEqual({ ...tokens, cost_usd: 0.3 });
    expect(resultUsage({ modelUsage: { a: { inputTokens: 1000000 } } }, OTHER)).toEqual({
      ...t(0, 0, 0, 1000000),
      cost_usd: 1,
    });
    expect(resultUsage({ modelUsage: {} }, OTHER)).toBeNull();
  });

  it('describeApiError adds the status and type only when the text lacks the status', () => {
    expect(describeApiError('Invalid API key', 401, 'authentication_error')).toBe(
      'API error 401 authentication_error: Invalid API key',
    );
    expect(describeApiError('API Error: 500 boom', 500, 'api_error')).toBe('API Error: 500 boom');
    expect(describeApiError(' text ', null, null)).toBe('text');
  });
});

describe('ClaudeCodeStream and a refused key', () => {
  it('a 401 or 403 Claude Code would retry is fatal at once, with which key to check', () => {
    const stream = new ClaudeCodeStream({
      model: 'claude-sonnet-5-5',
      price: { input: 2, output: 10, cache_read: 0.2, cache_write: 2.5 },
      sink: { emit: () => {}, progress: () => {} },
    });
    stream.push(
      JSON.stringify({
        type: 'system',
        subtype: 'api_retry',
        attempt: 1,
        max_retries: 2,
        retry_delay_ms: 600,
        error_status: 500,
        error: 'server_error',
      }),
    );
    expect(stream.state.fatal ?? null).toBeNull();
    stream.push(
      JSON.stringify({
        type: 'system',
        subtype: 'api_retry',
        attempt: 2,
        max_retries: 2,
        retry_delay_ms: 600,
        error_status: 401,
        error: 'authentication_failed',
      }),
    );
    expect(stream.state.fatal).toMatch(/^authentication failed \(401\): authentication_failed — .*ANTHROPIC_API_KEY/);
  });
});
