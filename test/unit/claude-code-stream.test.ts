// ClaudeCodeStream on real Claude Code 2.1.330 output (../shared/reference/captures/claude-code-*.jsonl,
// recorded against a fake server): turns once per API response, usage, the session id, and how the
// `result` line says the attempt ended; lines that are not JSON or of unknown types are not fatal.
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { AgentProgress, AttemptEvent } from '../../src/worker/backends/backend.js';
import { ClaudeCodeStream } from '../../src/worker/backends/claude-code/stream.js';

const PRICE = { input: 5, output: 25, cache_read: 0.5, cache_write: 6.25 };
const capture = (name: string): string[] =>
  fs
    .readFileSync(new URL(`../../../shared/reference/captures/${name}`, import.meta.url), 'utf8')
    .split('\n')
    .filter(Boolean);

function parse(lines: string[]) {
  const events: AttemptEvent[] = [];
  const progress: AgentProgress[] = [];
  const stream = new ClaudeCodeStream({
    model: 'claude-opus-5-5',
    price: PRICE,
    sink: { emit: (e) => events.push(e), progress: (p) => progress.push(p) },
  });
  for (const l of lines) stream.push(l);
  return { stream, events, progress };
}

describe('ClaudeCodeStream', () => {
  it('a tool round trip: two responses, a Bash call and its result, success with Claude Code’s own cost', () => {
    const { stream, events, progress } = parse(capture('claude-code-tool-roundtrip.jsonl'));
    expect(stream.state).toMatchObject({
      turns: 2,
      sessionId: 'bfc334e6-cf8a-461a-97eb-533305f8e027',
      lastText: 'Done after tool.',
      end: { kind: 'success', summary: 'Done after tool.' },
      usage: { input_tokens: 200, output_tokens: 40, cache_read_tokens: 0, cache_write_tokens: 0, cost_usd: 0.0016 },
    });
    expect(events.map((e) => e.type)).toEqual([
      'message',
      'usage',
      'tool_call',
      'tool_result',
      'message',
      'usage',
      'usage',
    ]);
    expect(events[2]).toMatchObject({ name: 'Bash', text: 'Bash echo fake-tool-ran > out.txt && cat out.txt' });
    expect(events[3]).toMatchObject({ name: 'Bash', output: 'fake-tool-ran', is_error: false });
    expect(progress.map((p) => p.activity)).toContain('Bash echo fake-tool-ran > out.txt && cat out.txt');
  });

  it('its own turn and budget limits end max-turns and budget', () => {
    expect(parse(capture('claude-code-max-turns.jsonl')).stream.state.end).toEqual({
      kind: 'max-turns',
      message: 'Reached maximum number of turns (1)',
    });
    const budget = parse(capture('claude-code-max-budget.jsonl')).stream.state;
    expect(budget.end).toEqual({ kind: 'budget', message: 'Reached maximum budget ($0.0001)' });
    // The result's `usage` is zero there; its modelUsage has the real counts.
    expect(budget.usage).toMatchObject({ input_tokens: 100, output_tokens: 20, cost_usd: 0.0008 });
  });

  it('raw stream events give each response’s final output tokens as soon as it ends', () => {
    const { stream } = parse([
      JSON.stringify({
        type: 'stream_event',
        event: { type: 'message_start', message: { id: 'm1', usage: { input_tokens: 10, output_tokens: 1 } } },
      }),
      JSON.stringify({
        type: 'assistant',
        message: { id: 'm1', content: [{ type: 'text', text: 'hi' }], usage: { input_tokens: 10, output_tokens: 1 } },
      }),
      JSON.stringify({ type: 'stream_event', event: { type: 'message_delta', usage: { output_tokens: 300 } } }),
    ]);
    expect(stream.state.turns).toBe(1);
    expect(stream.state.usage).toMatchObject({ input_tokens: 10, output_tokens: 300 });
    expect(stream.state.usage.cost_usd).toBeCloseTo((10 * 5 + 300 * 25) / 1e6, 12);
  });

  it('a 401 it would retry is fatal at once; an API error result is an error with the status', () => {
    const retry = parse([
      JSON.stringify({
        type: 'system',
        subtype: 'api_retry',
        attempt: 1,
        max_retries: 4,
        retry_delay_ms: 600,
        error_status: 401,
        error: 'authentication_failed',
      }),
    ]).stream.state;
    expect(retry.fatal).toMatch(/^authentication failed \(401\).*ANTHROPIC_API_KEY/);
    const failed = parse([
      JSON.stringify({
        type: 'result',
        subtype: 'error_during_execution',
        is_error: true,
        api_error_status: 529,
        errors: ['Overloaded'],
      }),
    ]).stream.state;
    expect(failed.end).toEqual({ kind: 'error', message: 'API error 529: Overloaded' });
  });

  it('a line that is not JSON becomes a log event; unknown types are ignored', () => {
    const { stream, events } = parse(['not json', JSON.stringify({ type: 'something_new', x: 1 })]);
    expect(events).toEqual([{ type: 'log', text: 'not json' }]);
    expect(stream.state.end).toBeNull();
  });
});
