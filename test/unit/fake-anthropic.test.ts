// The fake Anthropic Messages API server, driven by the real @anthropic-ai/sdk over 127.0.0.1.
import Anthropic from '@anthropic-ai/sdk';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeAnthropic, type FakeAnthropicOptions } from '../fixtures/fake-anthropic.js';

const MODEL = 'claude-test-model';
const servers: FakeAnthropic[] = [];
const tempDirs: string[] = [];

afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
  for (const dir of tempDirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

/** Starts a fake server that the test's afterEach closes. */
async function start(options?: FakeAnthropicOptions): Promise<FakeAnthropic> {
  const fake = await FakeAnthropic.start(options);
  servers.push(fake);
  return fake;
}

/** A real SDK client pointed at the fake. */
function clientFor(fake: FakeAnthropic, options: { apiKey?: string; maxRetries?: number } = {}): Anthropic {
  return new Anthropic({
    baseURL: fake.url,
    apiKey: options.apiKey ?? 'test-key',
    maxRetries: options.maxRetries ?? 0,
  });
}

/** A one-message non-streaming request. */
function ask(client: Anthropic, text: string): Promise<Anthropic.Message> {
  return client.messages.create({ model: MODEL, max_tokens: 100, messages: [{ role: 'user', content: text }] });
}

describe('replies', () => {
  it('answers a non-streaming request with a full Message', async () => {
    const fake = await start({
      rules: [{ name: 'hello', reply: { content: [{ type: 'text', text: 'Hello there.' }] } }],
    });
    const message = await ask(clientFor(fake), 'Say hello');

    expect(message.id).toMatch(/^msg_/);
    expect(message.type).toBe('message');
    expect(message.role).toBe('assistant');
    expect(message.model).toBe(MODEL);
    expect(message.content).toEqual([{ type: 'text', text: 'Hello there.' }]);
    expect(message.stop_reason).toBe('end_turn');
    expect(message.stop_sequence).toBeNull();
    expect(message.usage.input_tokens).toBeGreaterThan(0);
    expect(message.usage.output_tokens).toBeGreaterThan(0);
    expect(message.usage.cache_read_input_tokens).toBe(0);
    expect(message.usage.cache_creation_input_tokens).toBe(0);

    expect(fake.requests).toHaveLength(1);
    const [rec] = fake.requests;
    expect(rec).toMatchObject({ path: '/v1/messages', index: 0, rule: 'hello', status: 200, stream: false });
    expect(rec!.lastText).toBe('Say hello');
    expect(rec!.body.max_tokens).toBe(100);
    expect(rec!.usage).toEqual({ ...message.usage });
    expect(fake.unusedRules()).toEqual([]);
  });

  it('streams a tool_use reply that stream.finalMessage() assembles', async () => {
    const input = { path: 'src/a.ts', edits: [{ line: 3, text: 'const x = "ünïcode ✓";' }], dryRun: false };
    const fake = await start({
      rules: [
        {
          match: 'edit the file',
          reply: {
            content: [
              { type: 'text', text: 'I will edit src/a.ts now, carefully, in one step.' },
              { type: 'tool_use', name: 'edit_file', input },
            ],
            output_tokens: 42,
          },
        },
      ],
    });
    const stream = clientFor(fake).messages.stream({
      model: MODEL,
      max_tokens: 1000,
      tools: [{ name: 'edit_file', description: 'Edit a file', input_schema: { type: 'object', properties: {} } }],
      messages: [{ role: 'user', content: [{ type: 'text', text: 'Please edit the file.' }] }],
    });
    const textDeltas: string[] = [];
    const jsonDeltas: string[] = [];
    stream.on('text', (delta) => textDeltas.push(delta));
    stream.on('inputJson', (partial) => jsonDeltas.push(partial));
    const message = await stream.finalMessage();

    expect(message.stop_reason).toBe('tool_use');
    expect(message.content).toHaveLength(2);
    expect(message.content[0]).toMatchObject({
      type: 'text',
      text: 'I will edit src/a.ts now, carefully, in one step.',
    });
    const toolUse = message.content[1];
    if (toolUse?.type !== 'tool_use') throw new Error(`expected a tool_use block, got ${JSON.stringify(toolUse)}`);
    expect(toolUse.name).toBe('edit_file');
    expect(toolUse.id).toMatch(/^toolu_/);
    expect(toolUse.input).toEqual(input);
    expect(message.usage.output_tokens).toBe(42);
    expect(message.usage.input_tokens).toBeGreaterThan(0);
    // Really streamed: several deltas per block.
    expect(textDeltas.length).toBeGreaterThanOrEqual(2);
    expect(jsonDeltas.length).toBeGreaterThanOrEqual(2);
    expect(fake.requests[0]).toMatchObject({ stream: true, status: 200, rule: '0' });
  });

  it('keeps a given tool_use id and streams a plain text reply too', async () => {
    const fake = await start({
      rules: [
        { reply: { content: [{ type: 'tool_use', id: 'toolu_fixed', name: 'noop', input: {} }] } },
        { reply: { content: [{ type: 'text', text: 'done' }], stop_reason: 'max_tokens' } },
      ],
    });
    const client = clientFor(fake);
    const first = await client.messages
      .stream({ model: MODEL, max_tokens: 10, messages: [{ role: 'user', content: 'go' }] })
      .finalMessage();
    expect(first.content).toEqual([{ type: 'tool_use', id: 'toolu_fixed', name: 'noop', input: {} }]);
    const second = await client.messages
      .stream({ model: MODEL, max_tokens: 10, messages: [{ role: 'user', content: 'go on' }] })
      .finalMessage();
    expect(second.content).toMatchObject([{ type: 'text', text: 'done' }]);
    expect(second.stop_reason).toBe('max_tokens');
  });

  it('serves concurrent requests in parallel (delay_ms)', async () => {
    const fake = await start({
      rules: [{ times: Infinity, reply: { content: [{ type: 'text', text: 'ok' }], delay_ms: 400 } }],
    });
    const began = Date.now();
    // Separate clients, as separate worker processes would be.
    const replies = await Promise.all([1, 2, 3, 4].map((n) => ask(clientFor(fake), `worker ${n}`)));
    const elapsed = Date.now() - began;
    expect(replies.map((r) => r.content)).toEqual(Array(4).fill([{ type: 'text', text: 'ok' }]));
    expect(elapsed).toBeLessThan(1200); // serialized would be ≥ 1600 ms
    expect(fake.requests.map((r) => r.index).sort()).toEqual([0, 1, 2, 3]);
  });
});

describe('rules', () => {
  it('matches by substring, RegExp and predicate, in order, honouring times', async () => {
    const text = (t: string) => ({ content: [{ type: 'text' as const, text: t }] });
    const fake = await start({
      rules: [
        { name: 'sub', match: 'plan', reply: text('by substring'), times: 2 },
        { name: 're', match: /^run test #\d+$/, reply: text('by regexp') },
        { name: 'pred', match: (req) => req.body.max_tokens === 7, reply: (req) => text(`by predicate #${req.index}`) },
        { name: 'rest', match: /./g, times: Infinity, reply: (req) => text(`echo ${req.lastText}`) },
      ],
    });
    const client = clientFor(fake);
    const texts = async (p: Promise<Anthropic.Message>): Promise<string> => {
      const m = await p;
      return m.content.map((b) => (b.type === 'text' ? b.text : '')).join('');
    };

    expect(await texts(ask(client, 'make a plan'))).toBe('by substring');
    expect(await texts(ask(client, 'run test #12'))).toBe('by regexp');
    expect(await texts(ask(client, 'plan again'))).toBe('by substring');
    // 'sub' is used up after 2, so 'plan' now falls through.
    expect(await texts(ask(client, 'plan thrice'))).toBe('echo plan thrice');
    expect(await texts(ask(client, 'run test #13'))).toBe('echo run test #13'); // 're' had times 1
    const viaPredicate = client.messages.create({
      model: MODEL,
      max_tokens: 7,
      messages: [{ role: 'user', content: 'x' }],
    });
    expect(await texts(viaPredicate)).toBe('by predicate #5');
    // A /g RegExp is stateful; the fake resets it, so it keeps matching.
    expect(await texts(ask(client, 'again'))).toBe('echo again');
    expect(await texts(ask(client, 'and again'))).toBe('echo and again');

    expect(fake.requests.map((r) => r.rule)).toEqual(['sub', 're', 'sub', 'rest', 'rest', 'pred', 'rest', 'rest']);
    expect(fake.unusedRules()).toEqual([]);
  });

  it('matches against the last message: text blocks and tool_result contents', async () => {
    const fake = await start({
      rules: [{ match: 'exit code 0', reply: { content: [{ type: 'text', text: 'tests pass' }] } }],
    });
    await clientFor(fake).messages.create({
      model: MODEL,
      max_tokens: 100,
      messages: [
        { role: 'user', content: 'run the tests' },
        { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_1', name: 'bash', input: { cmd: 'npm test' } }] },
        {
          role: 'user',
          content: [
            { type: 'tool_result', tool_use_id: 'toolu_1', content: [{ type: 'text', text: 'exit code 0' }] },
            { type: 'text', text: 'what now?' },
          ],
        },
      ],
    });
    expect(fake.requests[0]!.lastText).toBe('exit code 0\nwhat now?');
  });

  it('lists rules not used up, and addRules appends to the script', async () => {
    const a = { name: 'a', reply: { content: [{ type: 'text' as const, text: 'A' }] } };
    const b = { name: 'b', times: 2, reply: { content: [{ type: 'text' as const, text: 'B' }] } };
    const fake = await start({ rules: [a] });
    fake.addRules(b);
    const client = clientFor(fake);
    await ask(client, 'one');
    expect(fake.unusedRules()).toEqual([b]);
    await ask(client, 'two');
    expect(fake.unusedRules()).toEqual([b]);
    await ask(client, 'three');
    expect(fake.unusedRules()).toEqual([]);
  });

  it('answers 500 naming the request when no rule matches, and the SDK does not retry it', async () => {
    const fake = await start({ rules: [{ match: 'never', reply: { content: [{ type: 'text', text: 'x' }] } }] });
    const longText = `unexpected request ${'z'.repeat(300)}`;
    const err = await ask(clientFor(fake, { maxRetries: 2 }), longText).catch((e: unknown) => e);

    expect(err).toBeInstanceOf(Anthropic.InternalServerError);
    const apiErr = err as InstanceType<typeof Anthropic.InternalServerError>;
    expect(apiErr.status).toBe(500);
    expect(apiErr.type).toBe('api_error');
    expect(apiErr.message).toContain(
      `fake-anthropic: no rule matched request #0; last message: ${longText.slice(0, 200)}`,
    );
    expect(apiErr.message).not.toContain(longText.slice(0, 201));
    expect(apiErr.requestID).toMatch(/^req_/);
    expect(fake.requests).toHaveLength(1); // not retried
    expect(fake.requests[0]).toMatchObject({ rule: null, status: 500, usage: null });
  });
});

describe('errors', () => {
  it('answers 529 overloaded, then succeeds on the SDK’s own retry', async () => {
    const fake = await start({
      rules: [
        { name: 'busy', error: { status: 529, type: 'overloaded_error', message: 'Overloaded' } },
        { name: 'ok', reply: { content: [{ type: 'text', text: 'finally' }] } },
      ],
    });
    const message = await ask(clientFor(fake, { maxRetries: 2 }), 'hi');
    expect(message.content).toEqual([{ type: 'text', text: 'finally' }]);
    expect(fake.requests.map((r) => [r.rule, r.status])).toEqual([
      ['busy', 529],
      ['ok', 200],
    ]);
    // The SDK counts its retries in a header.
    expect(fake.requests[1]!.headers['x-stainless-retry-count']).toBe('1');
  });

  it('answers 429 with the retry-after header the client sees', async () => {
    const fake = await start({
      rules: [
        {
          error: { status: 429, type: 'rate_limit_error', message: 'Slow down', headers: { 'retry-after': '1' } },
        },
      ],
    });
    const err = await ask(clientFor(fake), 'hi').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Anthropic.RateLimitError);
    const apiErr = err as InstanceType<typeof Anthropic.RateLimitError>;
    expect(apiErr.status).toBe(429);
    expect(apiErr.headers.get('retry-after')).toBe('1');
    expect(apiErr.type).toBe('rate_limit_error');
    expect(apiErr.error).toEqual({ type: 'error', error: { type: 'rate_limit_error', message: 'Slow down' } });

    // A streaming request gets the error as an HTTP status too, before any event.
    fake.addRules({ error: { status: 529, type: 'overloaded_error', message: 'Overloaded' } });
    const streamErr = await clientFor(fake)
      .messages.stream({ model: MODEL, max_tokens: 5, messages: [{ role: 'user', content: 'hi' }] })
      .finalMessage()
      .catch((e: unknown) => e);
    expect(streamErr).toBeInstanceOf(Anthropic.APIError);
    expect(streamErr).toMatchObject({ status: 529, type: 'overloaded_error' });
    expect(fake.requests.map((r) => [r.status, r.stream])).toEqual([
      [429, false],
      [529, true],
    ]);
  });

  it('answers 401 to a wrong key, before any rule is used', async () => {
    const fake = await start({ apiKey: 'right-key', rules: [{ reply: { content: [{ type: 'text', text: 'in' }] } }] });
    const err = await ask(clientFor(fake, { apiKey: 'wrong-key' }), 'hi').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Anthropic.AuthenticationError);
    expect((err as InstanceType<typeof Anthropic.AuthenticationError>).type).toBe('authentication_error');
    expect(fake.unusedRules()).toHaveLength(1);

    const ok = await ask(clientFor(fake, { apiKey: 'right-key' }), 'hi');
    expect(ok.content).toEqual([{ type: 'text', text: 'in' }]);
    // The x-api-key header is accepted too.
    const raw = await fetch(`${fake.url}/v1/messages`, {
      method: 'POST',
      headers: { 'x-api-key': 'wrong-key', 'content-type': 'application/json' },
      body: JSON.stringify({ model: MODEL, max_tokens: 5, messages: [{ role: 'user', content: 'hi' }] }),
    });
    expect(raw.status).toBe(401);
    expect(fake.requests.map((r) => r.status)).toEqual([401, 200, 401]);
  });

  it('answers 400 naming a missing field', async () => {
    const fake = await start({ rules: [{ times: Infinity, reply: { content: [{ type: 'text', text: 'x' }] } }] });
    const params = { model: MODEL, messages: [{ role: 'user', content: 'hi' }] };
    const err = await clientFor(fake)
      .messages.create(params as unknown as Anthropic.MessageCreateParamsNonStreaming)
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Anthropic.BadRequestError);
    const apiErr = err as InstanceType<typeof Anthropic.BadRequestError>;
    expect(apiErr.type).toBe('invalid_request_error');
    expect(apiErr.message).toContain('max_tokens');
    expect(fake.requests[0]).toMatchObject({ status: 400, rule: null, usage: null });

    const emptyMessages = await clientFor(fake)
      .messages.create({ model: MODEL, max_tokens: 5, messages: [] })
      .catch((e: unknown) => e);
    expect(emptyMessages).toBeInstanceOf(Anthropic.BadRequestError);
    expect((emptyMessages as Error).message).toContain('messages');
  });

  it('answers 400, as the API does, to a tool_use without its tool_result and to a tool_result without its tool_use', async () => {
    const fake = await start({ rules: [{ times: Infinity, reply: { content: [{ type: 'text', text: 'x' }] } }] });
    const call = { type: 'tool_use' as const, id: 'toolu_01', name: 'bash', input: {} };
    const unanswered = await clientFor(fake)
      .messages.create({
        model: MODEL,
        max_tokens: 5,
        messages: [
          { role: 'user', content: 'hi' },
          { role: 'assistant', content: [call] },
          { role: 'user', content: 'go on' },
        ],
      })
      .catch((e: unknown) => e);
    expect(unanswered).toBeInstanceOf(Anthropic.BadRequestError);
    expect((unanswered as Error).message).toContain('tool_use` ids were found without `tool_result` blocks');
    const stray = await clientFor(fake)
      .messages.create({
        model: MODEL,
        max_tokens: 5,
        messages: [{ role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_02', content: 'x' }] }],
      })
      .catch((e: unknown) => e);
    expect(stray).toBeInstanceOf(Anthropic.BadRequestError);
    expect((stray as Error).message).toContain('unexpected `tool_use_id`');
    const answered = await clientFor(fake).messages.create({
      model: MODEL,
      max_tokens: 5,
      messages: [
        { role: 'user', content: 'hi' },
        { role: 'assistant', content: [call] },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_01', content: 'done' }] },
      ],
    });
    expect(answered.content).toEqual([{ type: 'text', text: 'x' }]);
  });

  it('answers 404 in the Anthropic error shape off the /v1/messages route, ignoring query strings on it', async () => {
    const fake = await start({ rules: [{ reply: { content: [{ type: 'text', text: 'x' }] } }] });
    const res = await fetch(`${fake.url}/v1/complete`, { method: 'POST', body: '{}' });
    expect(res.status).toBe(404);
    expect(res.headers.get('request-id')).toMatch(/^req_/);
    expect(await res.json()).toMatchObject({ type: 'error', error: { type: 'not_found_error' } });

    const ok = await fetch(`${fake.url}/v1/messages?beta=true`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: MODEL, max_tokens: 5, messages: [{ role: 'user', content: 'hi' }] }),
    });
    expect(ok.status).toBe(200);
    expect(fake.requests.map((r) => [r.path, r.status])).toEqual([
      ['/v1/complete', 404],
      ['/v1/messages', 200],
    ]);
  });

  it('answers 400 to more than 4 cache_control breakpoints', async () => {
    const fake = await start({ rules: [{ reply: { content: [{ type: 'text', text: 'x' }] } }] });
    const cc = { type: 'ephemeral' as const };
    const content = [1, 2, 3, 4, 5].map((n) => ({ type: 'text' as const, text: `part ${n}`, cache_control: cc }));
    const err = await clientFor(fake)
      .messages.create({ model: MODEL, max_tokens: 5, messages: [{ role: 'user', content }] })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Anthropic.BadRequestError);
    expect((err as Error).message).toContain('A maximum of 4 blocks with cache_control');
  });
});

describe('prompt caching model', () => {
  const cc = { type: 'ephemeral' as const };
  const tools: Anthropic.Tool[] = ['read_file', 'write_file', 'run_tests'].map((name) => ({
    name,
    description: `${name}: ${'A tool the agent uses to do its work on the repository. '.repeat(8)}`,
    input_schema: { type: 'object', properties: { path: { type: 'string' } }, required: ['path'] },
  }));
  const systemText = `You are a careful coding agent. ${'Follow the plan; keep changes small; run the tests. '.repeat(80)}`;

  /** Tools with a breakpoint on the last one, when `cached`. */
  const toolsParam = (cached: boolean): Anthropic.Tool[] =>
    tools.map((t, i) => (cached && i === tools.length - 1 ? { ...t, cache_control: cc } : t));
  const systemParam = (cached: boolean): Anthropic.TextBlockParam[] => [
    cached ? { type: 'text', text: systemText, cache_control: cc } : { type: 'text', text: systemText },
  ];

  /** The history with a breakpoint on the last block of message `at` (default: the last message). */
  function withBreakpoint(history: Anthropic.MessageParam[], at = history.length - 1): Anthropic.MessageParam[] {
    return history.map((m, i) => {
      if (i !== at) return m;
      const blocks = typeof m.content === 'string' ? [{ type: 'text' as const, text: m.content }] : m.content;
      const last = blocks.length - 1;
      return {
        ...m,
        content: blocks.map((b, j) => (j === last ? { ...b, cache_control: cc } : b)),
      } as Anthropic.MessageParam;
    });
  }

  const total = (u: Anthropic.Usage): number =>
    u.input_tokens + (u.cache_read_input_tokens ?? 0) + (u.cache_creation_input_tokens ?? 0);

  /** A fake that answers every turn with a longish text. */
  async function agentFake(options: FakeAnthropicOptions = {}): Promise<FakeAnthropic> {
    return start({
      ...options,
      rules: [
        {
          name: 'turn',
          times: Infinity,
          reply: (req) => ({
            content: [{ type: 'text', text: `Done with "${req.lastText}". ${'Details. '.repeat(30)}` }],
          }),
        },
      ],
    });
  }

  /** Runs a 10-turn conversation with rolling breakpoints; returns the history and each turn's usage. */
  async function converse(
    client: Anthropic,
    turns = 10,
  ): Promise<{ history: Anthropic.MessageParam[]; usages: Anthropic.Usage[] }> {
    const history: Anthropic.MessageParam[] = [];
    const usages: Anthropic.Usage[] = [];
    for (let turn = 1; turn <= turns; turn++) {
      history.push({
        role: 'user',
        content: [{ type: 'text', text: `Step ${turn}: ${'do the next part. '.repeat(10)}` }],
      });
      const message = await client.messages
        .stream({
          model: MODEL,
          max_tokens: 1000,
          tools: toolsParam(true),
          system: systemParam(true),
          messages: withBreakpoint(history),
        })
        .finalMessage();
      usages.push(message.usage);
      history.push({
        role: 'assistant',
        content: message.content.map((b) =>
          b.type === 'text' ? { type: 'text', text: b.text } : b,
        ) as Anthropic.ContentBlockParam[],
      });
    }
    return { history, usages };
  }

  it('reads the cache on turns 2..10 of a conversation with rolling breakpoints', async () => {
    const fake = await agentFake();
    const client = clientFor(fake);
    const { history, usages } = await converse(client);

    expect(usages[0]!.cache_read_input_tokens).toBe(0);
    expect(usages[0]!.cache_creation_input_tokens).toBe(total(usages[0]!));
    for (let i = 1; i < usages.length; i++) {
      const u = usages[i]!;
      // The previous request's whole prompt (its last breakpoint) is read back …
      expect(u.cache_read_input_tokens).toBe(total(usages[i - 1]!));
      // … and only the new assistant reply and user message are written.
      expect(u.cache_creation_input_tokens).toBe(total(u) - total(usages[i - 1]!));
      expect(u.input_tokens).toBe(0);
    }
    const stats = fake.cacheStats();
    expect(stats.cacheShare).toBeGreaterThan(0.7);
    expect(stats.cache_read_input_tokens).toBe(usages.reduce((n, u) => n + (u.cache_read_input_tokens ?? 0), 0));

    // Moving the rolling breakpoint back one message (onto the last assistant reply) is still a hit:
    // the prefix up to the last user message was written by turn 10 and is within 20 blocks.
    history.push({ role: 'user', content: [{ type: 'text', text: 'Step 11: wrap up.' }] });
    const moved = await client.messages.create({
      model: MODEL,
      max_tokens: 1000,
      tools: toolsParam(true),
      system: systemParam(true),
      messages: withBreakpoint(history, history.length - 2),
    });
    expect(moved.usage.cache_read_input_tokens).toBe(total(usages[9]!));
    expect(moved.usage.cache_creation_input_tokens).toBeGreaterThan(0); // the turn-10 reply
    expect(moved.usage.input_tokens).toBeGreaterThan(0); // after the last breakpoint: 'Step 11'

    // A breakpoint moved far back, onto the first user message, hits what turn 1 wrote.
    const early = await client.messages.create({
      model: MODEL,
      max_tokens: 1000,
      tools: toolsParam(true),
      system: systemParam(true),
      messages: withBreakpoint(history, 0),
    });
    expect(early.usage.cache_read_input_tokens).toBe(total(usages[0]!));
    expect(early.usage.cache_creation_input_tokens).toBe(0);
    // Where the breakpoints sit never changes the total.
    expect(total(early.usage)).toBe(total(moved.usage));
  });

  it('reads nothing from the cache for a request without cache_control', async () => {
    const fake = await agentFake();
    const client = clientFor(fake);
    const { history, usages } = await converse(client, 3);
    history.pop(); // resend turn 3's request exactly, but with no breakpoints
    const plain = await client.messages.create({
      model: MODEL,
      max_tokens: 1000,
      tools: toolsParam(false),
      system: systemParam(false),
      messages: history,
    });
    expect(plain.usage.cache_read_input_tokens).toBe(0);
    expect(plain.usage.cache_creation_input_tokens).toBe(0);
    expect(plain.usage.input_tokens).toBe(total(usages[2]!));
  });

  it('looks back at most 20 blocks before a breakpoint', async () => {
    const fake = await agentFake();
    const client = clientFor(fake);
    const send = (blocks: number) =>
      client.messages.create({
        model: MODEL,
        max_tokens: 100,
        system: systemParam(false),
        messages: withBreakpoint([
          {
            role: 'user',
            content: Array.from({ length: blocks }, (_, i) => ({
              type: 'text' as const,
              text: `block ${i} of ${blocks}`,
            })),
          },
        ]),
      });
    // Write the prefix [system] alone.
    await client.messages.create({
      model: MODEL,
      max_tokens: 100,
      system: systemParam(true),
      messages: [{ role: 'user', content: 'hi' }],
    });
    // The system block is block 0; a breakpoint on block 20 still sees it, one on block 21 does not.
    expect((await send(20)).usage.cache_read_input_tokens).toBeGreaterThan(0);
    expect((await send(21)).usage.cache_read_input_tokens).toBe(0);
  });

  it('does not cache prefixes shorter than minCacheTokens', async () => {
    const fake = await agentFake({ minCacheTokens: 100_000 });
    const { usages } = await converse(clientFor(fake), 2);
    for (const u of usages) {
      expect(u.cache_read_input_tokens).toBe(0);
      expect(u.cache_creation_input_tokens).toBe(0);
    }
    expect(fake.cacheStats().cacheShare).toBe(0);
  });
});

describe('logging', () => {
  it('appends every request to logFile as a JSON line, credentials redacted', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fake-anthropic-'));
    tempDirs.push(dir);
    const logFile = path.join(dir, 'requests.jsonl');
    const fake = await start({ logFile, rules: [{ name: 'only', reply: { content: [{ type: 'text', text: 'x' }] } }] });
    const client = clientFor(fake);
    await ask(client, 'first');
    await ask(client, 'second').catch(() => undefined);

    const lines = fs
      .readFileSync(logFile, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.map((l) => [l.index, l.rule, l.status, l.lastText])).toEqual([
      [0, 'only', 200, 'first'],
      [1, null, 500, 'second'],
    ]);
    expect(lines[0].headers.authorization).toBe('<redacted>');
    expect(JSON.stringify(lines)).not.toContain('test-key');
  });
});

describe('system messages (Claude Code 2.1.330)', () => {
  it('matches a request ending with a role: system message on its last other message (turnText)', async () => {
    const fake = await start({
      rules: [
        { name: 'prompt', match: 'Change beta', reply: { content: [{ type: 'text', text: 'ok' }] } },
        { name: 'env', match: /Environment/, reply: { content: [{ type: 'text', text: 'env' }] } },
      ],
    });
    const post = (messages: unknown[]): Promise<Response> =>
      fetch(`${fake.url}/v1/messages?beta=true`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: MODEL, max_tokens: 5, messages }),
      });
    const first = await post([
      { role: 'user', content: [{ type: 'text', text: 'Change beta to BETA.' }] },
      { role: 'system', content: [{ type: 'text', text: '# Environment\nPlatform: linux' }] },
    ]);
    expect(first.status).toBe(200);
    const second = await post([{ role: 'user', content: '# Environment of a user message' }]);
    expect(second.status).toBe(200);

    expect(fake.requests.map((r) => [r.rule, r.lastText, r.turnText])).toEqual([
      ['prompt', '# Environment\nPlatform: linux', 'Change beta to BETA.'],
      ['env', '# Environment of a user message', '# Environment of a user message'],
    ]);
  });
});
