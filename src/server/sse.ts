// Server-Sent Events (https://html.spec.whatwg.org/multipage/server-sent-events.html): messages
// framed as `id:`, `event:` and `data:` lines; a comment now and then so proxies keep the
// connection; the stream ends with its source. A client that falls behind is waited for (a long
// log is megabytes: replaying it outruns any client), and one that reads nothing for a while is
// disconnected rather than buffered without bound: it reconnects with Last-Event-ID and catches up
// from the file the stream is read from (events.jsonl, an attempt's log).
import type { FastifyReply } from 'fastify';

/** One message of a stream. `data` is one line (JSON, so it never holds a newline). */
export interface SseMessage {
  /** What a reconnecting client sends back as Last-Event-ID (a seq, a byte offset). */
  id?: number;
  /** The event's name; none: a plain `message` (what EventSource's `onmessage` gets). */
  event?: string;
  data: string;
}

/** Bytes a client may have unread before the stream waits for it to read. */
export const MAX_BUFFERED = 4 * 1024 * 1024;

/** How long a client that is {@link MAX_BUFFERED} behind may read nothing before it is disconnected, ms. */
const STALL_MS = 30_000;

/** Resolves true once `res` drained its buffer, false if it did not within {@link STALL_MS} or closed. */
function drained(res: FastifyReply['raw']): Promise<boolean> {
  return new Promise((resolve) => {
    const done = (ok: boolean): void => {
      clearTimeout(timer);
      res.off('drain', onDrain);
      res.off('close', onClose);
      resolve(ok);
    };
    const onDrain = (): void => done(true);
    const onClose = (): void => done(false);
    const timer = setTimeout(() => done(false), STALL_MS);
    res.on('drain', onDrain);
    res.on('close', onClose);
  });
}

/** One message in the wire format. */
function frame(m: SseMessage): string {
  return `${m.id !== undefined ? `id: ${m.id}\n` : ''}${m.event !== undefined ? `event: ${m.event}\n` : ''}data: ${m.data}\n\n`;
}

/**
 * Streams `messages` to the client until they end (the generator's return value, if any, is sent
 * last, e.g. `event: end`), the client goes away (which aborts `abort`), or the client, more than
 * {@link MAX_BUFFERED} bytes behind, reads nothing for {@link STALL_MS} (then the connection is
 * destroyed). An error of the
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
      if (res.writableLength > MAX_BUFFERED && !(await drained(res))) {
        res.destroy(); // stalled: it reconnects with Last-Event-ID
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
