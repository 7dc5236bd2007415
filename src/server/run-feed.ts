// One follower per run, shared by every event stream of that run. Fifty clients of a busy run cost
// one directory watch, one read and parse of each new line, one liveness check per change and one
// JSON text per event, instead of fifty of each (bench/serve-sse.ts measured the difference).
//
// A client never depends on the shared follower for completeness: it starts by reading the log
// itself from its Last-Event-ID, takes the shared events after that, and whenever the next shared
// event is not the one after its last (it joined late, or fell behind and its queue was dropped),
// reads the missing ones from the log again. So no event is lost or sent twice, whatever the timing.
import type { SwarmEvent } from '../protocol/events.js';
import { EventTail, followRun, readJsonlTail, seqOf, type FollowEnd } from '../protocol/follow.js';
import type { RunPaths } from '../protocol/paths.js';
import type { SseMessage } from './sse.js';

/** Shared events a client may have queued before its queue is dropped (it then reads them from the log). */
const MAX_QUEUED = 10_000;

/** An event as a stream sends it: made once, shared by every client. */
function messageOf(e: SwarmEvent): SseMessage & { id: number } {
  return { id: e.seq, event: e.type, data: JSON.stringify(e) };
}

/** What a client gets from the shared follower. */
interface Listener {
  onEvents(batch: (SseMessage & { id: number })[]): void;
  onEnd(end: FollowEnd): void;
}

/** The shared follower of one run. */
class RunFeed {
  readonly #listeners = new Set<Listener>();
  readonly #abort = new AbortController();
  #end: FollowEnd | undefined;

  constructor(
    paths: RunPaths,
    staleAfterMs: number,
    private readonly onIdle: () => void,
  ) {
    // From the log's end as it is now: what came before, each client reads for itself.
    const last = readJsonlTail(paths.eventsJsonl, (records) => records.length > 0).records.at(-1);
    const lastSeq = seqOf(last) ?? 0;
    const finished = (last as { type?: string } | undefined)?.type === 'run.finished';
    void this.#run(followRun({ paths, from: { seq: lastSeq }, staleAfterMs, finished, signal: this.#abort.signal }));
  }

  async #run(events: AsyncGenerator<SwarmEvent, FollowEnd, undefined>): Promise<void> {
    let end: FollowEnd;
    try {
      for (;;) {
        const next = await events.next();
        if (next.done) {
          end = next.value;
          break;
        }
        const batch = [messageOf(next.value)];
        for (const l of this.#listeners) l.onEvents(batch);
      }
    } catch {
      // A broken log: each client meets the error again when it reads the log itself.
      end = { reason: 'aborted' };
    }
    this.#end = end;
    for (const l of this.#listeners) l.onEnd(end);
    this.#listeners.clear();
    this.onIdle();
  }

  /** Adds a client; told the end at once if the follower has ended. */
  add(l: Listener): void {
    if (this.#end) l.onEnd(this.#end);
    else this.#listeners.add(l);
  }

  remove(l: Listener): void {
    this.#listeners.delete(l);
    if (this.#listeners.size === 0 && !this.#end) {
      this.#abort.abort();
      this.onIdle();
    }
  }
}

/** The shared followers of a server, one per run that has clients. */
export class RunFeeds {
  readonly #feeds = new Map<string, RunFeed>();

  /**
   * The events of the run at `paths` after `after` (a seq; 0: from the first) as SSE messages, in
   * order, then live ones, until the run finishes or its coordinator is gone (the return value:
   * `event: end` with `{reason}`) or `signal` aborts.
   * @throws SyntaxError / ProtocolFileError for a broken log (from EventTail.read)
   */
  async *events(
    paths: RunPaths,
    after: number,
    staleAfterMs: number,
    signal: AbortSignal,
  ): AsyncGenerator<SseMessage, SseMessage | undefined, undefined> {
    let queue: (SseMessage & { id: number })[] = [];
    let end: FollowEnd | undefined;
    let wake: (() => void) | undefined;
    const listener: Listener = {
      onEvents: (batch) => {
        if (queue.length < MAX_QUEUED) queue.push(...batch);
        else queue = []; // far behind: what it misses it reads from the log
        wake?.();
      },
      onEnd: (e) => {
        end = e;
        wake?.();
      },
    };
    const onAbort = (): void => wake?.();
    signal.addEventListener('abort', onAbort);
    this.#feedOf(paths, staleAfterMs).add(listener);
    const tail = new EventTail(paths.eventsJsonl, { seq: after });
    let last = after;
    // Events read from the log and not sent yet (a read returns whatever the log has by then).
    let read: SwarmEvent[] = [];
    /** The log's events after the last one sent and before `before`, read as needed. */
    const fromLog = function* (before: number): Generator<SseMessage> {
      read.push(...tail.read());
      let i = 0;
      for (; i < read.length && read[i]!.seq < before; i++) {
        const e = read[i]!;
        if (e.seq <= last) continue;
        yield messageOf(e);
        last = e.seq;
      }
      read = read.slice(i);
    };
    try {
      yield* fromLog(Infinity); // what the log has now
      for (;;) {
        if (signal.aborted) return undefined;
        const batch = queue;
        queue = [];
        for (const m of batch) {
          if (m.id <= last) continue;
          if (m.id > last + 1) yield* fromLog(m.id); // joined late, or the queue was dropped
          yield m;
          last = m.id;
        }
        if (end && queue.length === 0) {
          yield* fromLog(Infinity); // what a dropped queue held
          return { event: 'end', data: JSON.stringify(end) };
        }
        if (queue.length === 0 && !end && !signal.aborted) await new Promise<void>((resolve) => (wake = resolve));
      }
    } finally {
      signal.removeEventListener('abort', onAbort);
      this.#feeds.get(paths.root)?.remove(listener);
    }
  }

  #feedOf(paths: RunPaths, staleAfterMs: number): RunFeed {
    let feed = this.#feeds.get(paths.root);
    if (!feed) {
      const created: RunFeed = new RunFeed(paths, staleAfterMs, () => {
        if (this.#feeds.get(paths.root) === created) this.#feeds.delete(paths.root);
      });
      feed = created;
      this.#feeds.set(paths.root, feed);
    }
    return feed;
  }
}
