// CodexStream on real `codex exec --json` output of Codex 0.169.0 (test/fixtures/captures/codex-*.jsonl,
// captured against fake servers, paths rewritten) and on its session file's usage records.
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { costOf, type ModelPrice } from '../../src/llm/prices.js';
import type { AgentProgress, AttemptEvent } from '../../src/worker/backends/backend.js';
import { CodexStream, codexUsage, unwrapShell } from '../../src/worker/backends/codex/stream.js';

const PRICE: ModelPrice = { input: 1.25, output: 10, cache_read: 0.125, cache_write: 1.5 };

function lines(name: string): string[] {
  const file = fileURLToPath(new URL(`../fixtures/captures/${name}`, import.meta.url));
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l !== '');
}

function parser() {
  const events: AttemptEvent[] = [];
  const progress: AgentProgress[] = [];
  const stream = new CodexStream({
    model: 'gpt-5.5',
    price: PRICE,
    sink: { emit: (e) => events.push(e), progress: (p) => progress.push(p) },
  });
  return { stream, events, progress, of: (type: AttemptEvent['type']) => events.filter((e) => e.type === type) };
}

function feed(name: string) {
  const p = parser();
  for (const l of lines(name)) p.stream.push(l);
  return p;
}

/** fileswarm's Usage of Codex's token counts (input includes cached). */
function priced(input: number, cached: number, output: number, cacheWrite = 0) {
  const tokens = {
    input_tokens: input - cached - cacheWrite,
    output_tokens: output,
    cache_read_tokens: cached,
    cache_write_tokens: cacheWrite,
  };
  return { ...tokens, cost_usd: costOf(tokens, PRICE) };
}

describe('CodexStream on captured stdout', () => {
  it('a text reply: thread id, one turn, usage priced from turn.completed, success', () => {
    const p = feed('codex-text-reply.jsonl');
    const s = p.stream.state;
    expect(s.sessionId).toBe('01a1fe56-7200-7d83-8a48-521431f2ba60');
    expect(s.turns).toBe(1);
    expect(s.usage).toEqual(priced(100, 10, 20));
    expect(s.lastText).toBe('Hello from fake responses server.');
    expect(s.end).toEqual({ kind: 'success', summary: 'Hello from fake responses server.' });
    // The unknown-model warning is an error item: reported, not fatal.
    expect(s.errors).toEqual([expect.stringMatching(/^Model metadata for `fake-model` not found/)]);
    expect(p.of('message')).toEqual([{ type: 'message', text: 'Hello from fake responses server.' }]);
    expect(p.of('usage')).toEqual([
      {
        type: 'usage',
        text: `turn 1: 90 in, 10 cache read, 0 cache write, 20 out, $${priced(100, 10, 20).cost_usd.toFixed(4)}`,
        turn: 1,
        usage: priced(100, 10, 20),
        total: priced(100, 10, 20),
      },
    ]);
    expect(p.progress.at(-1)).toEqual({ turn: 1, activity: 'finished', usage: priced(100, 10, 20) });
  });

  it('a command round trip: tool_call at start, tool_result with the exit code at completion', () => {
    const p = feed('codex-exec-command-roundtrip.jsonl');
    expect(p.of('tool_call')).toEqual([
      {
        type: 'tool_call',
        text: 'Bash echo codex-tool-ran > cx_out.txt',
        name: 'Bash',
        input: { command: 'echo codex-tool-ran > cx_out.txt' },
      },
    ]);
    expect(p.of('tool_result')).toEqual([
      { type: 'tool_result', text: 'Bash: [exit code 0]', name: 'Bash', output: '[exit code 0]', is_error: false },
    ]);
    // Two model requests (the command, then the answer): input 200 is their sum.
    expect(p.stream.state.turns).toBe(2);
    expect(p.stream.state.usage).toEqual(priced(200, 20, 40));
    expect(p.of('usage')[0]!.text).toMatch(/^turns 1-2 \(Codex reports usage per run\): 180 in/);
    expect(p.progress.map((x) => x.activity)).toContain('Bash echo codex-tool-ran > cx_out.txt');
  });

  it('reasoning, a message, a failing command, a patch of two files, and the answer', () => {
    const p = feed('codex-multi-tool.jsonl');
    const s = p.stream.state;
    expect(p.of('log').map((e) => e.text)).toContain('reasoning: **Planning** I will look at files.');
    expect(p.of('message').map((e) => e.text)).toEqual(['Let me look.', 'All done. Second line.']);
    expect(s.lastText).toBe('All done.\nSecond line.');
    expect(p.of('tool_call').map((e) => e.text)).toEqual([
      'Bash echo two; exit 3',
      'Bash sleep 0.3; echo one',
      'Edit /work/repo/new.txt (+1 more)',
    ]);
    expect(p.of('tool_result')).toEqual([
      {
        type: 'tool_result',
        text: 'Bash (error): two [exit code 3]',
        name: 'Bash',
        output: 'two\n[exit code 3]',
        is_error: true,
      },
      {
        type: 'tool_result',
        text: 'Bash: one [exit code 0]',
        name: 'Bash',
        output: 'one\n[exit code 0]',
        is_error: false,
      },
      {
        type: 'tool_result',
        text: 'Edit: add /work/repo/new.txt update /work/repo/notes.txt',
        name: 'Edit',
        output: 'add /work/repo/new.txt\nupdate /work/repo/notes.txt',
        is_error: false,
      },
    ]);
    expect(p.of('tool_call')[2]!.input).toEqual({
      path: '/work/repo/new.txt (+1 more)',
      changes: [
        { path: '/work/repo/new.txt', kind: 'add' },
        { path: '/work/repo/notes.txt', kind: 'update' },
      ],
    });
    // Three requests were made (both commands came in the first); Codex ran them one after the
    // other, which stdout cannot tell from two requests: the estimate says 4.
    expect(s.turns).toBe(4);
    expect(s.usage).toEqual(priced(600, 30, 60));
    expect(s.end).toEqual({ kind: 'success', summary: 'All done.\nSecond line.' });
  });

  it('a command still running when the turn ends: its call, no result, and success', () => {
    const p = feed('codex-command-left-running.jsonl');
    expect(p.of('tool_call').map((e) => e.text)).toEqual([
      'Bash sleep 47.5',
      'Bash nohup setsid sleep 48.5 >/dev/null 2>&1 & echo started',
    ]);
    expect(p.of('tool_result').map((e) => e.text)).toEqual(['Bash: started [exit code 0]']);
    expect(p.stream.state.end).toEqual({ kind: 'success', summary: 'Done.' });
  });

  it("the default provider's WebSocket retries and fallback are errors on the way, not the end", () => {
    const p = feed('codex-default-provider-websocket-fallback.jsonl');
    const s = p.stream.state;
    expect(s.end).toEqual({ kind: 'success', summary: 'Hello.' });
    // Codex 0.169.0 numbers them from 2.
    expect(s.errors.map((e) => e.slice(0, 20))).toEqual([
      'Reconnecting... 2/5 ',
      'Reconnecting... 3/5 ',
      'Reconnecting... 4/5 ',
      'Reconnecting... 5/5 ',
      'Falling back from We',
    ]);
    expect(p.of('error')).toHaveLength(5);
  });
});

describe('CodexStream on errors Codex gave up on (exit 1)', () => {
  it('a 401 retried 5 times: each retry is an error on the way, the end has the API message', () => {
    const p = feed('codex-error-401-retried.jsonl');
    const s = p.stream.state;
    const final =
      'unexpected status 401 Unauthorized: Incorrect API key provided: sk-bad. You can find your API key at https://platform.openai.com/account/api-keys., url: http://127.0.0.1:18100/v1/responses';
    expect(s.end).toEqual({ kind: 'error', message: final });
    expect(s.errors).toHaveLength(6);
    expect(s.errors[0]).toBe(`Reconnecting... 1/5 (${final})`);
    expect(s.errors.at(-1)).toBe(final);
    expect(s.turns).toBe(0);
    expect(s.usage.cost_usd).toBe(0);
    expect(s.sessionId).toBe('01a242d7-0459-7452-b1ea-9e5c2fc33b99');
    expect(p.progress.at(-1)).toMatchObject({ turn: 0, activity: 'failed' });
  });

  it.each([
    ['codex-error-500-retried.jsonl', 'We’re currently experiencing high demand, which may cause temporary errors.', 3],
    [
      'codex-error-context-window.jsonl',
      "Codex ran out of room in the model's context window. Start a new thread or clear earlier history before retrying.",
      1,
    ],
    ['codex-error-quota.jsonl', 'Quota exceeded. Check your plan and billing details.', 1],
    [
      'codex-error-400.jsonl',
      '{"error":{"message":"Invalid value: \'foo\'.","type":"invalid_request_error","param":"input","code":"invalid_value"}}',
      1,
    ],
  ])('%s ends with error: %s', (name, message, errors) => {
    const s = feed(name).stream.state;
    expect(s.end).toEqual({ kind: 'error', message });
    expect(s.errors).toHaveLength(errors);
    expect(s.errors.at(-1)).toBe(message);
  });
});

describe('CodexStream with the session file', () => {
  const stdout = lines('codex-three-requests.jsonl');
  const rollout = lines('codex-three-requests.rollout.jsonl');
  // The three requests reported 100, 200 and 300 input tokens, 10 cached and 20 out each.
  const perRequest = [priced(100, 10, 20), priced(200, 10, 20), priced(300, 10, 20)];

  it('stdout alone: usage only at the end, for the whole run', () => {
    const p = parser();
    for (const l of stdout.slice(0, -1)) p.stream.push(l);
    expect(p.stream.state.usage.input_tokens).toBe(0);
    expect(p.of('usage')).toEqual([]);
    p.stream.push(stdout.at(-1)!);
    expect(p.stream.state.usage).toEqual(priced(600, 30, 60));
    expect(p.stream.state.turns).toBe(3);
  });

  it('session-file records give each request as it comes, exact turns, and agree with turn.completed', () => {
    const p = parser();
    const records = rollout.filter((l) => l.includes('"token_usage_record"'));
    expect(records).toHaveLength(3);
    // As written: the first record before Codex ran the first command, and so on.
    p.stream.push(stdout[0]!);
    p.stream.push(stdout[1]!);
    for (const l of rollout.slice(0, 4)) p.stream.pushRollout(l);
    expect(p.stream.state.turns).toBe(1);
    expect(p.stream.state.usage).toEqual(perRequest[0]);
    for (const l of rollout.slice(4)) p.stream.pushRollout(l);
    expect(p.stream.state.turns).toBe(3);
    for (const l of stdout.slice(2)) p.stream.push(l);

    const usage = p.of('usage');
    expect(usage.map((e) => [e.turn, e.usage])).toEqual(perRequest.map((u, i) => [i + 1, u]));
    expect(usage.at(-1)!.total!.input_tokens).toBe(570);
    expect(p.stream.state.turns).toBe(3);
    expect(p.stream.state.usage.input_tokens).toBe(570);
    expect(p.stream.state.usage.cost_usd).toBeCloseTo(priced(600, 30, 60).cost_usd, 9);
    expect(p.stream.state.end).toEqual({ kind: 'success', summary: 'Done.' });
  });

  it('a record the backend missed is made up for by turn.completed', () => {
    const p = parser();
    const records = rollout.filter((l) => l.includes('"token_usage_record"'));
    for (const l of records.slice(0, 2)) p.stream.pushRollout(l);
    for (const l of stdout) p.stream.push(l);
    const usage = p.of('usage');
    expect(usage).toHaveLength(3);
    expect(usage[2]!.text).toMatch(/^turn 2, usage not in the session file: 290 in, 10 cache read/);
    expect(p.stream.state.usage).toMatchObject({ input_tokens: 570, cache_read_tokens: 30, output_tokens: 60 });
    // A record read after the end changes the count of requests, not the total.
    p.stream.pushRollout(records[2]!);
    expect(p.stream.state.turns).toBe(3);
    expect(p.stream.state.usage.input_tokens).toBe(570);
  });

  it('ignores other session-file lines, repeats and garbage', () => {
    const p = parser();
    const record = rollout.find((l) => l.includes('"token_usage_record"'))!;
    p.stream.pushRollout(record);
    p.stream.pushRollout(record);
    for (const l of [
      '',
      'not json',
      '[]',
      '{"type":"token_usage_record"}',
      '{"type":"token_usage_record","payload":{}}',
    ])
      p.stream.pushRollout(l);
    for (const l of rollout.filter((x) => !x.includes('"token_usage_record"'))) p.stream.pushRollout(l);
    expect(p.stream.state.turns).toBe(1);
    expect(p.of('usage')).toHaveLength(1);
  });
});

describe('CodexStream robustness', () => {
  it('a line that is not a JSON object is a log event; unknown and malformed events are ignored without throwing', () => {
    const p = parser();
    for (const l of [
      'Reading additional input from stdin...',
      '',
      '[1,2]',
      '42',
      '{"type":"some.future.event","x":1}',
      '{"type":"item.completed","item":null}',
      '{"type":"item.started","item":{"type":"command_execution"}}',
      '{"type":"item.completed","item":{"id":"x","type":"command_execution","exit_code":"?"}}',
      '{"type":"item.completed","item":{"id":"y","type":"file_change","changes":"nope","status":"failed"}}',
      '{"type":"item.completed","item":{"id":"z","type":"mcp_tool_call","server":"s","tool":"t","error":{"message":"boom"},"status":"failed"}}',
      '{"type":"item.completed","item":{"id":"t","type":"todo_list","items":[{"text":"a","completed":true},{"text":"b","completed":false}]}}',
      '{"type":"turn.completed","usage":{"input_tokens":"many"}}',
    ])
      p.stream.push(l);
    expect(p.of('log').map((e) => e.text)).toEqual([
      'Reading additional input from stdin...',
      '[1,2]',
      '42',
      'plan 1/2: [x] a; [ ] b',
    ]);
    expect(p.of('tool_result').map((e) => [e.text, e.is_error])).toEqual([
      ['Bash (error): [no exit code]', true],
      ['Edit (error): patch failed:', true],
      ['s.t (error): boom', true],
    ]);
    expect(p.stream.state.usage.input_tokens).toBe(0);
    expect(p.stream.state.end).toEqual({ kind: 'success', summary: '' });
  });
});

describe('unwrapShell', () => {
  it.each([
    ["/bin/bash -lc 'cat hello.txt'", 'cat hello.txt'],
    ["/bin/bash -c 'cat hello.txt'", 'cat hello.txt'],
    ["/bin/zsh -lc 'ls -la'", 'ls -la'],
    // As Codex 0.169.0 printed `echo "it's" && printf 'a\\nb'` + newline + `echo $HOME`.
    [
      "/bin/bash -lc \"echo \\\"it's\\\" && printf 'a\\\\nb'\necho \"'$HOME'",
      "echo \"it's\" && printf 'a\\nb'\necho $HOME",
    ],
    ['git status', 'git status'],
    ["/bin/bash -lc 'unclosed", "/bin/bash -lc 'unclosed"],
  ])('%s → %s', (command, want) => {
    expect(unwrapShell(command)).toBe(want);
  });
});

describe('codexUsage', () => {
  it('takes cached and cache-write tokens out of the input and prices the rest', () => {
    const u = codexUsage(
      {
        input_tokens: 1000,
        cached_input_tokens: 600,
        cache_write_input_tokens: 100,
        output_tokens: 50,
        reasoning_output_tokens: 20,
      },
      PRICE,
    );
    expect(u).toEqual({
      input_tokens: 300,
      cache_read_tokens: 600,
      cache_write_tokens: 100,
      output_tokens: 50,
      cost_usd: (300 * 1.25 + 600 * 0.125 + 100 * 1.5 + 50 * 10) / 1e6,
    });
  });

  it('reads missing or odd fields as 0', () => {
    expect(codexUsage({ input_tokens: 10, cached_input_tokens: 20, output_tokens: -1 }, PRICE)).toEqual({
      input_tokens: 0,
      cache_read_tokens: 20,
      cache_write_tokens: 0,
      output_tokens: 0,
      cost_usd: costOf({ input_tokens: 0, cache_read_tokens: 20, cache_write_tokens: 0, output_tokens: 0 }, PRICE),
    });
  });
});
