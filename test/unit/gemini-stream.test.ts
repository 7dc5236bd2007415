// Unit tests of the `gemini` backend's stream-json parser (src/worker/backends/gemini/stream.ts) on real
// Gemini CLI 0.61.0 output: the shared capture in ../shared/reference/captures/ and the captures of
// test/fixtures/captures/gemini-*.jsonl (runs of the real CLI against test/fixtures/fake-gemini.ts, paths
// rewritten), plus lines of unexpected shapes.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { ModelPrice } from '../../src/llm/prices.js';
import type { Usage } from '../../src/protocol/schemas.js';
import type { AgentProgress, AttemptEvent } from '../../src/worker/backends/backend.js';
import {
  describeGeminiError,
  GeminiStream,
  geminiUsage,
  statsTokenCounts,
} from '../../src/worker/backends/gemini/stream.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const CAPTURES = path.join(HERE, '..', 'fixtures', 'captures');
const SHARED = path.join(HERE, '..', '..', '..', 'shared', 'reference', 'captures', 'gemini-text-reply.jsonl');

/** A price with every rate distinct, so a token counted in the wrong field changes the cost. */
const PRICE: ModelPrice = { input: 1, output: 10, cache_read: 0.1, cache_write: 100 };

const lines = (file: string): string[] =>
  fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l !== '');

function parse(file: string, model = 'gemini-2.5-flash') {
  const events: AttemptEvent[] = [];
  const progress: AgentProgress[] = [];
  const stream = new GeminiStream({
    model,
    price: PRICE,
    sink: { emit: (e) => events.push(e), progress: (p) => progress.push(p) },
  });
  return { stream, events, progress, feed: (ls: string[]) => ls.forEach((l) => stream.push(l)) };
}

/** The usage of a stats block, computed by hand from the documented mapping. */
function expectedUsage(s: {
  input_tokens: number;
  output_tokens: number;
  cached: number;
  total_tokens: number;
}): Usage {
  const input = s.input_tokens - s.cached;
  const output = s.total_tokens - s.input_tokens; // answer + thinking
  return {
    input_tokens: input,
    output_tokens: output,
    cache_read_tokens: s.cached,
    cache_write_tokens: 0,
    cost_usd: Math.round(((input * 1 + output * 10 + s.cached * 0.1) / 1e6) * 1e9) / 1e9,
  };
}

const lastStats = (file: string) => JSON.parse(lines(file).at(-1)!).stats;

describe('GeminiStream on real output', () => {
  it('reads a text reply (shared capture): one turn, one message, the session, usage priced', () => {
    const { stream, events, progress, feed } = parse(SHARED);
    feed(lines(SHARED));
    expect(stream.state.sessionId).toBe('a666b2a5-eaa1-43cb-be07-0dda8d6d6b38');
    expect(stream.model).toBe('auto');
    expect(stream.state.turns).toBe(1);
    expect(stream.state.end).toEqual({ kind: 'success', summary: 'Hello from fake gemini.' });
    expect(stream.state.lastText).toBe('Hello from fake gemini.');
    expect(stream.state.usage).toEqual({
      input_tokens: 200,
      output_tokens: 40,
      cache_read_tokens: 0,
      cache_write_tokens: 0,
      cost_usd: 0.0006,
    });
    expect(events.map((e) => e.type)).toEqual(['message', 'usage']);
    expect(events[0]!.text).toBe('Hello from fake gemini.');
    expect(events[1]).toMatchObject({ turn: 1, usage: stream.state.usage, total: stream.state.usage });
    expect(progress.at(-1)).toMatchObject({ turn: 1, activity: 'finished', usage: stream.state.usage });
    expect(stream.state.errors).toEqual([]);
  });

  it('reads a tool round trip: chunks joined per turn, tool calls named by id, usage from the stats', () => {
    const file = path.join(CAPTURES, 'gemini-tool-roundtrip.jsonl');
    const { stream, events, progress, feed } = parse(file);
    feed(lines(file));
    expect(stream.state.sessionId).toBe('f0823f1b-f2ea-4e5e-90d2-3ee2af8dd38b');
    expect(stream.state.turns).toBe(4);
    expect(events.map((e) => `${e.type} ${e.text}`)).toEqual([
      'message I will read the file first.',
      'tool_call read_file notes.txt',
      'tool_result read_file: ',
      'tool_call run_shell_command wc -l notes.txt',
      'tool_result run_shell_command: 3 notes.txt',
      'message Now editing.',
      'tool_call replace notes.txt',
      'tool_result replace: ',
      'message Done: beta is now BETA in notes.txt.',
      'usage 4 turns: 12768 in, 37583 cache read, 117 out, $0.0177',
    ]);
    const call = events.find((e) => e.type === 'tool_call' && e.name === 'replace')!;
    expect(call.input).toEqual({
      file_path: 'notes.txt',
      old_string: 'beta',
      new_string: 'BETA',
      instruction: 'Change beta to BETA',
    });
    const shell = events.find((e) => e.type === 'tool_result' && e.name === 'run_shell_command')!;
    expect(shell).toMatchObject({ output: '3 notes.txt', is_error: false });
    // 7 thinking tokens (total − prompt − answer) are billed as output.
    expect(stream.state.usage).toEqual(expectedUsage(lastStats(file)));
    expect(stream.state.usage.output_tokens).toBe(110 + 7);
    expect(stream.state.end).toEqual({ kind: 'success', summary: 'Done: beta is now BETA in notes.txt.' });
    // Live activity: each tool call as it is seen, the turn number counting up.
    expect(progress.map((p) => `${p.turn} ${p.activity}`)).toEqual([
      '1 read_file notes.txt',
      '1 read_file notes.txt',
      '2 run_shell_command wc -l notes.txt',
      '2 run_shell_command wc -l notes.txt',
      '3 replace notes.txt',
      '3 replace notes.txt',
      '4 Done: beta is now BETA in notes.txt.',
      '4 finished',
    ]);
  });

  it('takes usage per model turn from chat records, then the exact total from the result', () => {
    const file = path.join(CAPTURES, 'gemini-tool-roundtrip.jsonl');
    const records = lines(path.join(CAPTURES, 'gemini-chat-record.jsonl'));
    const { stream, events, feed } = parse(file);
    const out = lines(file);
    // As a backend tailing the chat file would see them: each record before the next turn's output.
    const tokenRecords = records.filter((r) => JSON.parse(r).tokens !== undefined);
    expect(tokenRecords).toHaveLength(7); // 4 model turns, 3 of them written twice (same id)
    feed(out.slice(0, 5)); // init .. tool_use read_file
    records.slice(0, 6).forEach((r) => stream.pushChatRecord(r));
    const afterFirst = stream.state.usage;
    expect(afterFirst).toEqual(
      geminiUsage({ prompt: 12427, cached: 0, candidates: 28, thoughts: 7 }, PRICE), // the fake's request #0
    );
    expect(stream.state.turns).toBe(1);
    records.slice(6).forEach((r) => stream.pushChatRecord(r));
    expect(stream.state.turns).toBe(4);
    const recorded = stream.state.usage;
    feed(out.slice(5));
    expect(stream.state.usage).toEqual(expectedUsage(lastStats(file)));
    expect(recorded).toEqual(stream.state.usage); // the records held every request of this run
    const usageEvents = events.filter((e) => e.type === 'usage');
    expect(usageEvents.map((e) => e.turn)).toEqual([1, 2, 3, 4]);
    expect(usageEvents.at(-1)!.total).toEqual(stream.state.usage);
    // After the result, a late record changes nothing.
    stream.pushChatRecord(JSON.stringify({ id: 'late', type: 'gemini', tokens: { input: 5, output: 5 } }));
    expect(stream.state.usage).toEqual(expectedUsage(lastStats(file)));
  });

  it('reports what the records missed (the model router of -m auto) as a last usage event', () => {
    const file = path.join(CAPTURES, 'gemini-auto-routing.jsonl');
    const { stream, events, feed } = parse(file, 'auto');
    const record = (id: string, input: number, output: number, cached: number) =>
      JSON.stringify({
        id,
        type: 'gemini',
        tokens: { input, output, cached, thoughts: 0, tool: 0, total: input + output },
      });
    stream.pushChatRecord(record('a', 12427, 28, 0));
    feed(lines(file));
    const final = expectedUsage(lastStats(file));
    expect(stream.state.usage).toEqual(final);
    const last = events.filter((e) => e.type === 'usage').at(-1)!;
    expect(last.text).toMatch(/^requests not in the chat record/);
    expect(last.total).toEqual(final);
    expect(last.usage!.input_tokens).toBe(final.input_tokens - 12427);
  });

  it("ends max-turns on its own turn limit (exit 53's result)", () => {
    const file = path.join(CAPTURES, 'gemini-max-turns.jsonl');
    const { stream, events, feed } = parse(file);
    feed(lines(file));
    expect(stream.state.turns).toBe(2);
    expect(stream.state.end?.kind).toBe('max-turns');
    expect(stream.state.end).toMatchObject({ message: expect.stringContaining('maxSessionTurns') });
    expect(stream.state.errors).toEqual([]);
    expect(events.at(-1)).toMatchObject({ type: 'error', text: expect.stringContaining('max session turns') });
    expect(stream.state.usage).toEqual(expectedUsage(lastStats(file)));
  });

  it('ends error on an API error, with the status and Google message', () => {
    const file = path.join(CAPTURES, 'gemini-api-error-401.jsonl');
    const { stream, events, feed } = parse(file);
    feed(lines(file));
    const message = 'API error 401 UNAUTHENTICATED: Request had invalid authentication credentials.';
    expect(stream.state.end).toEqual({ kind: 'error', message });
    expect(stream.state.errors).toEqual([message]);
    expect(stream.state.turns).toBe(0);
    expect(stream.state.usage.input_tokens).toBe(0);
    expect(events).toEqual([{ type: 'error', text: message }]);
  });

  it('marks a failed tool error with its message, and a failing shell command as a result', () => {
    const file = path.join(CAPTURES, 'gemini-tool-error.jsonl');
    const { stream, events, feed } = parse(file);
    feed(lines(file));
    const results = events.filter((e) => e.type === 'tool_result');
    expect(results).toEqual([
      {
        type: 'tool_result',
        text: 'read_file (error): File not found: /work/repo/missing.txt',
        name: 'read_file',
        output: 'File not found: /work/repo/missing.txt',
        is_error: true,
      },
      {
        type: 'tool_result',
        text: 'run_shell_command: Command exited with code: 3',
        name: 'run_shell_command',
        output: 'Command exited with code: 3',
        is_error: false,
      },
    ]);
    expect(stream.state.turns).toBe(2);
    expect(stream.state.end).toEqual({ kind: 'success', summary: 'Could not do it.' });
  });

  it('ends error on an empty answer (a result without an error of its own, exit code 0)', () => {
    const file = path.join(CAPTURES, 'gemini-empty-answer.jsonl');
    const { stream, feed } = parse(file);
    feed(lines(file));
    expect(stream.state.end?.kind).toBe('error');
    expect(stream.state.end).toMatchObject({ message: expect.stringContaining('empty response') });
    expect(stream.state.errors).toHaveLength(1);
    // Three requests (the CLI retried the empty answer twice) show in the usage, not in the turns.
    expect(stream.state.turns).toBe(0);
    expect(stream.state.usage).toEqual(expectedUsage(lastStats(file)));
  });
});

describe('GeminiStream on unexpected lines', () => {
  it('turns non-JSON into log events, ignores unknown types, and never throws', () => {
    const { stream, events, feed } = parse('');
    feed([
      'Loaded cached credentials.',
      '',
      '[1,2]',
      'null',
      '{"type":"stats_v2","x":1}',
      '{"type":"tool_result"}',
      '{"type":"tool_use","tool_name":7}',
      '{"type":"message","role":"assistant"}',
      '{"type":"error"}',
      '{"type":"result","status":"success","stats":"none"}',
    ]);
    expect(events.filter((e) => e.type === 'log').map((e) => e.text)).toEqual([
      'Loaded cached credentials.',
      '[1,2]',
      'null',
    ]);
    expect(stream.state.end).toEqual({ kind: 'success', summary: '' });
    expect(stream.state.usage.input_tokens).toBe(0);
    stream.pushChatRecord('not json');
    stream.pushChatRecord('{"type":"gemini","id":"x","tokens":{"input":"many"}}');
  });

  it('a stream that stops without a result has no end (a crash)', () => {
    const file = path.join(CAPTURES, 'gemini-tool-roundtrip.jsonl');
    const { stream, feed } = parse(file);
    feed(lines(file).slice(0, 6));
    expect(stream.state.end).toBeNull();
    expect(stream.state.turns).toBe(1);
    expect(stream.state.usage.input_tokens).toBe(0);
  });

  it('an error result after "Maximum session turns exceeded" is max-turns', () => {
    const { stream, feed } = parse('');
    feed([
      '{"type":"error","severity":"error","message":"Maximum session turns exceeded"}',
      '{"type":"result","status":"error","stats":{"input_tokens":10,"output_tokens":2,"cached":0,"total_tokens":12}}',
    ]);
    expect(stream.state.end).toEqual({ kind: 'max-turns', message: 'Maximum session turns exceeded' });
  });

  it('a warning goes to errors marked as one', () => {
    const { stream, events, feed } = parse('');
    feed(['{"type":"error","severity":"warning","message":"Loop detected, stopping execution"}']);
    expect(stream.state.errors).toEqual(['warning: Loop detected, stopping execution']);
    expect(events).toEqual([{ type: 'error', text: 'warning: Loop detected, stopping execution' }]);
  });
});

describe('Gemini usage functions', () => {
  it('maps stats: thinking from total_tokens, cached out of the input', () => {
    expect(statsTokenCounts({ input_tokens: 100, output_tokens: 10, cached: 60, total_tokens: 125 })).toEqual({
      prompt: 100,
      cached: 60,
      candidates: 10,
      thoughts: 15,
    });
    expect(statsTokenCounts({ output_tokens: 1 })).toBeNull();
    expect(geminiUsage({ prompt: 100, cached: 60, candidates: 10, thoughts: 15 }, PRICE)).toEqual({
      input_tokens: 40,
      output_tokens: 25,
      cache_read_tokens: 60,
      cache_write_tokens: 0,
      cost_usd: (40 + 250 + 6) / 1e6,
    });
  });

  it("makes the CLI's wrapped API errors readable and keeps other messages", () => {
    expect(
      describeGeminiError(
        '[API Error: {"error":{"code":500,"message":"An internal error has occurred.","status":"INTERNAL"}}]',
      ),
    ).toBe('API error 500 INTERNAL: An internal error has occurred.');
    expect(describeGeminiError('[API Error: not json]')).toBe('API error: not json');
    expect(describeGeminiError('Reached max session turns')).toBe('Reached max session turns');
  });
});
