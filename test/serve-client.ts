// A client of `swarm serve` for tests: the server as its own process, and a reader of its
// Server-Sent Events.
import { expect } from 'vitest';
import { startCli, waitFor, type CliProcess } from './helpers.js';

/** Servers started by {@link serve}; a test's afterEach stops them with {@link stopServers}. */
export const servers: CliProcess[] = [];

/** Stops every server {@link serve} started (SIGTERM, then waits for its exit). */
export async function stopServers(): Promise<void> {
  for (const s of servers.splice(0)) {
    s.child.kill('SIGTERM');
    await s.done;
  }
}

/** Starts `swarm serve --port 0` and returns its base URL once it listens. */
export async function serve(cwd: string, args: string[] = [], env: Record<string, string> = {}): Promise<string> {
  const s = startCli(['serve', '--port', '0', ...args], { cwd, env });
  servers.push(s);
  const line = await waitFor(() => /http:\/\/[\d.]+:\d+/.exec(s.output().stdout)?.[0], 20_000, 'the server to listen');
  return line;
}

/** One SSE message. */
export interface Message {
  id?: string;
  event?: string;
  data: string;
}

/**
 * Reads an SSE stream until it ends, or until `stopAfter` messages (then disconnects). Comments
 * are skipped.
 */
export async function readSse(
  url: string,
  headers: Record<string, string> = {},
  stopAfter = Infinity,
): Promise<Message[]> {
  const abort = new AbortController();
  const res = await fetch(url, { headers, signal: abort.signal });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  const messages: Message[] = [];
  let buf = '';
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      buf += decoder.decode(value, { stream: true });
      let i: number;
      while ((i = buf.indexOf('\n\n')) >= 0) {
        const block = buf.slice(0, i);
        buf = buf.slice(i + 2);
        const m: Message = { data: '' };
        let hasData = false;
        for (const l of block.split('\n')) {
          if (l.startsWith(':')) continue;
          const [field, ...rest] = l.split(': ');
          const value = rest.join(': ');
          if (field === 'id') m.id = value;
          else if (field === 'event') m.event = value;
          else if (field === 'data') {
            m.data = value;
            hasData = true;
          }
        }
        if (hasData) messages.push(m);
        if (messages.length >= stopAfter) {
          abort.abort();
          return messages;
        }
      }
    }
  } catch (e) {
    if (!abort.signal.aborted) throw e;
  }
  return messages;
}

/** POSTs `body` as JSON to `url`. */
export function postJson(url: string, body?: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    ...(body !== undefined
      ? { headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) }
      : { headers }),
  });
}
