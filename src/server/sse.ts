// Server-Sent Events (https://html.spec.whatwg.org/multipage/server-sent-events.html): messages
// framed as `id:`, `event:` and `data:` lines; a comment now and then so proxies keep the
// connection; the stream ends with its source. A client that cannot keep up is disconnected rather
// than buffered without bound: it reconnects with Last-Event-ID and catches up from the file the
// stream is read from (events.jsonl, an attempt's log).
import type { FastifyReply } from 'fastify';

/** One message of a stream. `data` is one line (JSON, so it never holds a newline). */
export interface SseMessage {
  /** What a reconnecting client sends back as Last-Event-ID (a seq, a byte offset). */
  id?: number;
  /** The event's name; none: a plain `message` (what EventSource's `onmessage` gets). */
  event?: string;
  data: string;
}

/** Bytes a client may have unread before it is disconnected. */
export const MAX_BUFFERED = 4 * 1024 * 1024;

/** One message in the wire format. */
function frame(m: SseMessage): string {
  return `${m.id !== undefined ? `id: ${m.id}\n` : ''}${m.event !== undefined ? `event: ${m.event}\n` : ''}data: ${m.data}\n\n`;
}

/**
 * Streams `messages` to the client until they end (the generator's return value, if any, is sent
 * last, e.g. `event: end`), the client goes away (which aborts `abort`), or the client falls more
 * than {@link MAX_BUFFERED} bytes behind (then the connection is destroyed). An error of the
 * source becomes a last `event: error` with its message. Takes the reply over from Fastify.
 * @param options.keepAliveMs interval of the keep-alive comments, ms
 */
export async function sendSse(
  reply: FastifyReply,
  messages: AsyncGenerator<SseMessage, SseMessage | undefined, undefined>,
  abort: AbortController,
  options: { keepAliveMs: number },
): Promise<void> {
  reply.hijack();
  const res = reply.raw;
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
  });
  res.write(': fileswarm\n\n');
  const close = (): void => abort.abort();
  res.on('close', close);
  const keepAlive = setInterval(() => res.write(': keep-alive\n\n'), options.keepAliveMs);
  try {
    for (;;) {
      const next = await messages.next();
      if (next.done) {
        if (next.value) res.write(frame(next.value));
        break;
      }
      res.write(frame(next.value));
      if (res.writableLength > MAX_BUFFERED) {
        res.destroy(); // too slow: it reconnects with Last-Event-ID
        return;
      }
    }
  } catch (e) {
    res.write(frame({ event: 'error', data: JSON.stringify({ message: (e as Error).message }) }));
  } finally {
    clearInterval(keepAlive);
    res.off('close', close);
    await messages.return(undefined);
  }
  res.end();
}
