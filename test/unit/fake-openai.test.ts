// The fake OpenAI Responses API over real HTTP on 127.0.0.1 (Codex itself drives it in codex-cli.test.ts).
import { afterEach, describe, expect, it } from 'vitest';
import { FakeOpenAI, type FakeOpenAIOptions } from '../fixtures/fake-openai.js';

const servers: FakeOpenAI[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function start(options: FakeOpenAIOptions): Promise<FakeOpenAI> {
  const fake = await FakeOpenAI.start(options);
  servers.push(fake);
  return fake;
}

function post(fake: FakeOpenAI, body: unknown, key = 'k', path = '/responses'): Promise<Response> {
  return fetch(`${fake.url}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
}

/** The SSE frames of a response: [event line, parsed data]. */
async function frames(res: Response): Promise<Array<[string, Record<string, unknown>]>> {
  const text = await res.text();
  return text
    .split('\n\n')
    .filter((f) => f.trim())
    .map((f) => {
      const [event, data] = f.split('\n');
      return [event!.replace(/^event: /, ''), JSON.parse(data!.replace(/^data: /, '')) as Record<string, unknown>];
    });
}

const userInput = (text: string) => [{ type: 'message', role: 'user', content: [{ type: 'input_text', text }] }];

describe('FakeOpenAI', () => {
  it('streams a reply as the Responses API does: created, items with deltas, completed with usage', async () => {
    const fake = await start({
      apiKey: 'k',
      rules: [
        {
          name: 'hi',
          match: 'hello',
          reply: {
            output: [
              { type: 'reasoning', summary: 'thinking' },
              { type: 'message', text: 'Hi there, friend.' },
              { type: 'function_call', name: 'exec_command', arguments: { cmd: 'ls' }, call_id: 'call_1' },
            ],
          },
        },
      ],
    });
    const res = await post(fake, { model: 'm', stream: true, input: userInput('hello') });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    const fs = await frames(res);
    for (const [event, data] of fs) expect(data.type).toBe(event);
    expect(fs.map(([e]) => e).filter((e) => !e.endsWith('.delta'))).toEqual([
      'response.created',
      'response.in_progress',
      'response.output_item.added',
      'response.reasoning_summary_part.added',
      'response.reasoning_summary_text.done',
      'response.reasoning_summary_part.done',
      'response.output_item.done',
      'response.output_item.added',
      'response.content_part.added',
      'response.output_text.done',
      'response.content_part.done',
      'response.output_item.done',
      'response.output_item.added',
      'response.function_call_arguments.done',
      'response.output_item.done',
      'response.completed',
    ]);
    expect(fs.map(([, d]) => d.sequence_number)).toEqual(fs.map((_, i) => i));
    const text = fs
      .filter(([e]) => e === 'response.output_text.delta')
      .map(([, d]) => d.delta)
      .join('');
    expect(text).toBe('Hi there, friend.');
    const done = fs.filter(([e]) => e === 'response.output_item.done').map(([, d]) => d.item);
    expect(done[2]).toMatchObject({
      type: 'function_call',
      call_id: 'call_1',
      name: 'exec_command',
      arguments: '{"cmd":"ls"}',
    });
    const completed = fs.at(-1)![1].response as { usage: unknown; status: string };
    expect(completed.status).toBe('completed');
    expect(completed.usage).toEqual(fake.requests[0]!.usage);
    expect(fake.requests[0]).toMatchObject({ rule: 'hi', status: 200, lastType: 'message', lastText: 'hello' });
    expect(fake.totals()).toMatchObject({ requests: 1, reasoning_tokens: 2 });
  });

  it('models prefix caching per prompt_cache_key: ≥ 1024 tokens, in steps of 128', async () => {
    const fake = await start({ rules: [{ times: Infinity, reply: { output: [{ type: 'message', text: 'ok' }] } }] });
    const long = 'x'.repeat(8000); // 2000 tokens
    const first = [...userInput(long)];
    const second = [...first, { type: 'function_call_output', call_id: 'c', output: 'result text' }];
    await (await post(fake, { model: 'm', stream: true, input: first, prompt_cache_key: 'a' })).text();
    await (await post(fake, { model: 'm', stream: true, input: second, prompt_cache_key: 'a' })).text();
    await (await post(fake, { model: 'm', stream: true, input: second, prompt_cache_key: 'b' })).text();
    const [u1, u2, u3] = fake.requests.map((r) => r.usage!);
    expect(u1!.input_tokens_details.cached_tokens).toBe(0);
    const prefix = u1!.input_tokens;
    expect(u2!.input_tokens_details.cached_tokens).toBe(Math.floor(prefix / 128) * 128);
    expect(u2!.input_tokens).toBeGreaterThan(prefix);
    expect(u3!.input_tokens_details.cached_tokens).toBe(0);
    expect(fake.requests[1]!.lastType).toBe('function_call_output');
    expect(fake.requests[1]!.lastText).toBe('result text');
  });

  it("answers errors in OpenAI's shape: a scripted one, a wrong key, no rule, a wrong path", async () => {
    const fake = await start({
      apiKey: 'right-key-1234',
      rules: [
        {
          match: 'boom',
          error: { status: 429, type: 'insufficient_quota', code: 'insufficient_quota', message: 'quota' },
        },
      ],
    });
    const scripted = await post(fake, { model: 'm', input: userInput('boom') }, 'right-key-1234');
    expect(scripted.status).toBe(429);
    expect(await scripted.json()).toEqual({
      error: { message: 'quota', type: 'insufficient_quota', param: null, code: 'insufficient_quota' },
    });
    const wrong = await post(fake, { model: 'm', input: userInput('x') }, 'sk-wrong-key-9999');
    expect(wrong.status).toBe(401);
    expect(await wrong.json()).toMatchObject({
      error: { code: 'invalid_api_key', message: expect.stringContaining('Incorrect API key provided: sk-*****9999.') },
    });
    const none = await post(fake, { model: 'm', input: userInput('unscripted') }, 'right-key-1234');
    expect(none.status).toBe(400);
    expect(((await none.json()) as { error: { message: string } }).error.message).toBe(
      'fake-openai: no rule matched request #2; last input (message): unscripted',
    );
    const path = await post(fake, {}, 'right-key-1234', '/chat/completions');
    expect(path.status).toBe(404);
    expect(fake.requests.map((r) => r.status)).toEqual([429, 401, 400, 404]);
  });

  it('fails a stream midway with response.failed, or drops it before response.completed', async () => {
    const fake = await start({
      rules: [
        {
          match: 'fail',
          reply: {
            output: [{ type: 'message', text: 'part' }],
            stream_error: { code: 'server_error', message: 'oops' },
          },
        },
        { match: 'cut', reply: { output: [{ type: 'message', text: 'part' }], truncate: true } },
      ],
    });
    const failed = await frames(await post(fake, { model: 'm', stream: true, input: userInput('fail') }));
    expect(failed.at(-1)![0]).toBe('response.failed');
    expect(failed.at(-1)![1].response).toMatchObject({
      status: 'failed',
      error: { code: 'server_error', message: 'oops' },
    });
    const cut = await frames(await post(fake, { model: 'm', stream: true, input: userInput('cut') }));
    expect(cut.at(-1)![0]).toBe('response.output_item.done');
    expect(fake.requests.map((r) => r.usage)).toEqual([null, null]);
    expect(fake.totals().requests).toBe(0);
  });

  it('answers a non-streaming request with the response object', async () => {
    const fake = await start({
      rules: [{ reply: { output: [{ type: 'message', text: 'plain' }], usage: { output_tokens: 7 } } }],
    });
    const res = await post(fake, { model: 'm', input: 'just a string' });
    const body = (await res.json()) as {
      object: string;
      output: Array<{ content: Array<{ text: string }> }>;
      usage: { output_tokens: number };
    };
    expect(body.object).toBe('response');
    expect(body.output[0]!.content[0]!.text).toBe('plain');
    expect(body.usage.output_tokens).toBe(7);
    expect(fake.unusedRules()).toEqual([]);
  });
});
