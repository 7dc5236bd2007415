// Tests of the fake Gemini API (test/fixtures/fake-gemini.ts) over real HTTP with fetch: routing, Google's
// error shapes, the script, SSE framing and the token estimate. The real Gemini CLI drives it in
// gemini-cli.test.ts.
import { afterEach, describe, expect, it } from 'vitest';
import { FakeGemini } from '../fixtures/fake-gemini.js';

let fake: FakeGemini | undefined;
afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

const body = (text: string, extra: Record<string, unknown> = {}) => ({
  contents: [{ role: 'user', parts: [{ text }] }],
  systemInstruction: { role: 'user', parts: [{ text: 'You are a test.' }] },
  ...extra,
});

async function post(path: string, value: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(`${fake!.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-goog-api-key': 'k', ...headers },
    body: JSON.stringify(value),
  });
  return { status: res.status, type: res.headers.get('content-type') ?? '', text: await res.text() };
}

describe('FakeGemini', () => {
  it('streams a scripted turn as SSE chunks, the last with finishReason and usageMetadata', async () => {
    fake = await FakeGemini.start({
      rules: [
        {
          match: 'hello',
          reply: {
            parts: [
              { text: 'thinking it over', thought: true },
              { text: 'Hello there, how are you today?' },
              { functionCall: { name: 'read_file', args: { file_path: 'a.txt' } } },
            ],
          },
        },
      ],
    });
    const r = await post('/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse', body('hello'));
    expect(r.status).toBe(200);
    expect(r.type).toBe('text/event-stream');
    const chunks = r.text
      .split('\r\n\r\n')
      .filter(Boolean)
      .map((f) => {
        expect(f.startsWith('data: ')).toBe(true);
        return JSON.parse(f.slice(6));
      });
    expect(chunks.length).toBeGreaterThan(3);
    const parts = chunks.flatMap((c) => c.candidates[0].content.parts);
    expect(
      parts
        .filter((p) => !p.thought && p.text)
        .map((p) => p.text)
        .join(''),
    ).toBe('Hello there, how are you today?');
    expect(parts.at(-1)).toEqual({ functionCall: { name: 'read_file', args: { file_path: 'a.txt' } } });
    expect(chunks.slice(0, -1).every((c) => c.usageMetadata === undefined && !c.candidates[0].finishReason)).toBe(true);
    const last = chunks.at(-1);
    expect(last.candidates[0].finishReason).toBe('STOP');
    expect(last.modelVersion).toBe('gemini-2.5-flash');
    const u = fake.requests[0]!.usage!;
    expect(last.usageMetadata).toEqual({
      promptTokenCount: u.promptTokenCount,
      candidatesTokenCount: u.candidatesTokenCount,
      thoughtsTokenCount: u.thoughtsTokenCount,
      totalTokenCount: u.promptTokenCount + u.candidatesTokenCount + u.thoughtsTokenCount,
    });
    expect(u.thoughtsTokenCount).toBeGreaterThan(0);
    expect(fake.requests[0]).toMatchObject({ conversation: true, stream: true, rule: '0', status: 200 });
  });

  it('reports a repeated prompt prefix as cached (implicit caching), included in the prompt count', async () => {
    fake = await FakeGemini.start({ rules: [{ times: Infinity, reply: { parts: [{ text: 'ok' }] } }] });
    const first = body('first question');
    await post('/v1beta/models/m:generateContent', first);
    const second = {
      ...first,
      contents: [
        ...first.contents,
        { role: 'model', parts: [{ text: 'ok' }] },
        { role: 'user', parts: [{ text: 'more' }] },
      ],
    };
    const r = await post('/v1beta/models/m:generateContent', second);
    expect(r.status, r.text).toBe(400); // generateContent is not answered by a default rule
    fake.addRules({ methods: ['generateContent'], times: Infinity, reply: { parts: [{ text: 'ok' }] } });
    const a = JSON.parse((await post('/v1beta/models/m:generateContent', first)).text);
    const b = JSON.parse((await post('/v1beta/models/m:generateContent', second)).text);
    expect(a.usageMetadata.cachedContentTokenCount).toBeUndefined();
    expect(b.usageMetadata.cachedContentTokenCount).toBe(a.usageMetadata.promptTokenCount);
    expect(b.usageMetadata.promptTokenCount).toBeGreaterThan(a.usageMetadata.promptTokenCount);
    expect(fake.requests.at(-1)).toMatchObject({ conversation: false, stream: false });
  });

  it("answers with Google's error shapes: scripted, unmatched, auth, unknown routes; counts tokens", async () => {
    fake = await FakeGemini.start({
      apiKey: 'k',
      rules: [{ match: /boom/, error: { status: 503, code: 'UNAVAILABLE', message: 'The model is overloaded.' } }],
    });
    const stream = '/v1beta/models/m:streamGenerateContent?alt=sse';
    let r = await post(stream, body('boom'));
    expect([r.status, JSON.parse(r.text)]).toEqual([
      503,
      { error: { code: 503, message: 'The model is overloaded.', status: 'UNAVAILABLE' } },
    ]);
    r = await post(stream, body('anything else'));
    expect(r.status).toBe(400);
    expect(JSON.parse(r.text).error.message).toMatch(
      /^fake-gemini: no rule matched request #1 \(streamGenerateContent\)/,
    );
    r = await post(stream, body('x'), { 'x-goog-api-key': 'wrong' });
    expect(JSON.parse(r.text).error).toMatchObject({ code: 400, status: 'INVALID_ARGUMENT' });
    expect(JSON.parse(r.text).error.details[0].reason).toBe('API_KEY_INVALID');
    const noKey = await fetch(`${fake.url}${stream}`, { method: 'POST', body: JSON.stringify(body('x')) });
    expect(noKey.status).toBe(403);
    r = await post('/v1/models/m:streamGenerateContent', body('x'));
    expect([r.status, JSON.parse(r.text).error.status]).toEqual([404, 'NOT_FOUND']);
    r = await post(stream, { contents: [] });
    expect(r.status).toBe(400);
    r = await post('/v1beta/models/m:countTokens', body('four'));
    expect(JSON.parse(r.text).totalTokens).toBeGreaterThan(0);
    expect(fake.requests.map((q) => q.status)).toEqual([503, 400, 400, 403, 404, 400, 200]);
    expect(fake.unusedRules()).toEqual([]);
  });
});
