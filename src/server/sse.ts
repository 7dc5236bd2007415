// Server-Sent Events of a run's log: each event as `id: <seq>`, `event: <type>`, `data: <the JSON
// line>`; a comment now and then so proxies keep the connection; the stream ends with the run. A
// client that falls behind is waited for (a long log is megabytes: replaying it outruns any
// client), and one that reads nothing for a while is disconnected rather than buffered without
// bound: it reconnects with Last-Event-ID and catches up from the log.
import type { FastifyReply } from 'fastify';
import type { SwarmEvent } from '../protocol/events.js';
import type { FollowEnd } from '../protocol/follow.js';

/** Bytes a client may have unread before the stream waits for it to read. */
const MAX_BUFFERED = 4 * 1024 * 1024;

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

/**
 * Streams `events` to the client as SSE until they end (the run finished, or its coordinator is
 * gone: then a last `event: end` with why), the client goes away (which aborts `abort`), or the
 * client, more than {@link MAX_BUFFERED} bytes behind, reads nothing for {@link STALL_MS}
 * (disconnected).
 */
export async function sendEvents(
  reply: FastifyReply,
  events: AsyncGenerator<SwarmEvent, FollowEnd, undefined>,
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
  res.write(': fileswarm events\n\n');
  const close = (): void => abort.abort();
  res.on('close', close);
  const keepAlive = setInterval(() => res.write(': keep-alive\n\n'), options.keepAliveMs);
  try {
    for (;;) {
      const next = await events.next();
      if (next.done) {
        res.write(`event: end\ndata: ${JSON.stringify(next.value)}\n\n`);
        break;
      }
      const e = next.value;
      res.write(`id: ${e.seq}\nevent: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`);
      if (res.writableLength > MAX_BUFFERED && !(await drained(res))) {
        res.destroy(); // stalled: it reconnects with Last-Event-ID
        return;
      }
    }
  } catch (e) {
    res.write(`event: error\ndata: ${JSON.stringify({ message: (e as Error).message })}\n\n`);
  } finally {
    clearInterval(keepAlive);
    res.off('close', close);
    await events.return({ reason: 'aborted' });
  }
  res.end();
}
