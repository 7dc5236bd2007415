// Following a run: the events of events.jsonl after a point (a seq, or a byte offset), in order, as
// the coordinator appends them, until the run ends or the reader stops. Every reader that tails a
// run uses this: the dashboard (its poll), `swarm status --follow`, and the HTTP event stream.
//
//   readJsonlTail   complete JSON lines read backwards from the end (a reader's start-up, a seq)
//   EventTail       the events appended since the last read: synchronous, one batch per call
//   followRun       an async iterator over an EventTail: waits for changes, ends with the run
//
//   ┌─▶ read ──▶ yield each ──▶ run.finished read last? ── yes ──────────────────▶ finished
//   │                              │ no
//   │                       coordinator alive? ── no: read once more, yield ─────▶ coordinator-gone
//   │                              │ yes (or coordinator.json being replaced,      (or finished)
//   │                              │      or not written yet, for stale_after)
//   └──── a change in the run directory, or the rescan ◀┘     signal aborted ────▶ aborted
import { DirectoryWatcher } from '../util/watch.js';
import type { SwarmEvent } from './events.js';
import { readJsonFile } from './files.js';
import { parseJsonlLines, readJsonl } from './jsonl.js';
import type { RunPaths } from './paths.js';
import { coordinatorLiveness, parseEvents, type CoordinatorLiveness } from './run-reader.js';
import { CoordinatorJsonSchema } from './schemas.js';
import { readLinesBackwards } from '../util/tail.js';

/** Where following starts: after the event with this `seq` (0: from the first), or at a byte offset of events.jsonl. */
export type FollowFrom = { seq: number } | { offset: number };

/** The end of an events.jsonl: its last complete lines, and where to tail from. */
export interface JsonlTail {
  /** Parsed records of the lines read, in file order. */
  records: unknown[];
  /** Byte offset just after the last complete line (a torn last line is left for the next read). */
  offset: number;
  /** True if the records start at the beginning of the file. */
  fromStart: boolean;
}

/**
 * Reads complete JSON lines backwards from the end of `file` until `enough(records)` says so
 * (checked after each chunk of 64 KiB; the records it sees start with a whole line) or the
 * file's start. So opening a run reads only the events after state.json's `last_seq`, whatever
 * the log's size. Missing file → no records, offset 0.
 * @throws SyntaxError for a complete line that is not JSON.
 */
export function readJsonlTail(file: string, enough: (records: unknown[]) => boolean): JsonlTail {
  const tail = readLinesBackwards(file, (buf, base) => parseJsonlLines(file, buf, base), enough);
  return { records: tail.items, offset: tail.offset, fromStart: tail.fromStart };
}

/** The `seq` of a record read loosely (undefined: it has none). */
export function seqOf(record: unknown): number | undefined {
  const s = (record as { seq?: unknown } | null)?.seq;
  return typeof s === 'number' ? s : undefined;
}

/**
 * The events appended to an events.jsonl since the last read. A torn last line (being written)
 * is left for a later read; the position moves only past events that parsed. It does not check
 * that `seq` goes on without gaps: the reducer (`applyEvent`) does, for the readers that apply.
 */
export class EventTail {
  readonly file: string;
  #offset: number;
  /** Records read when positioning at a seq, not yet returned. */
  #pending: unknown[] = [];

  /**
   * @param file the run's events.jsonl (it may not exist yet)
   * @param from after a seq (read backwards from the end as far as needed), or a byte offset
   *   (just after a complete line, as `loadRun` and `readJsonl` give it)
   * @throws SyntaxError when positioning at a seq meets a line that is not JSON.
   */
  constructor(file: string, from: FollowFrom) {
    this.file = file;
    if ('offset' in from) {
      this.#offset = from.offset;
      return;
    }
    const after = from.seq;
    if (after <= 0) {
      this.#offset = 0;
      return;
    }
    const tail = readJsonlTail(file, (records) => {
      const first = seqOf(records[0]);
      return first !== undefined && first <= after + 1;
    });
    // Everything after the last record at or before `after` (a malformed one after it is kept, to be reported).
    let last = -1;
    tail.records.forEach((r, i) => {
      const s = seqOf(r);
      if (s !== undefined && s <= after) last = i;
    });
    this.#pending = tail.records.slice(last + 1);
    this.#offset = tail.offset;
  }

  /** Byte offset in the file just after the last event returned (or positioned past). */
  get offset(): number {
    return this.#offset;
  }

  /**
   * The events appended since the last read, in file order; [] when there are none.
   * @throws SyntaxError for a complete line that is not JSON; ProtocolFileError for a record that
   *   is not an event. The position stays before the batch, so a later read meets it again.
   */
  read(): SwarmEvent[] {
    const chunk = readJsonl(this.file, this.#offset);
    if (chunk.records.length === 0 && this.#pending.length === 0) return [];
    const records = this.#pending.length ? [...this.#pending, ...chunk.records] : chunk.records;
    const events = parseEvents(this.file, records);
    this.#pending = [];
    this.#offset = chunk.offset;
    return events;
  }
}

/** Why following a run ended. */
export type FollowEnd =
  /** `run.finished` was the log's last word. */
  | { reason: 'finished' }
  /** The coordinator is not running (exited, crashed, silent on another host, or never started), and the run did not finish. */
  | { reason: 'coordinator-gone'; liveness: Exclude<CoordinatorLiveness, 'alive'> }
  /** The caller's signal aborted. */
  | { reason: 'aborted' };

/** How to follow a run. */
export interface FollowOptions {
  paths: RunPaths;
  from: FollowFrom;
  /** run.json `liveness.stale_after`, ms: a coordinator on another host whose heartbeat is older is not alive. */
  staleAfterMs: number;
  /** The run was finished at `from` (the caller's state says so): the end comes at the first look. Default false. */
  finished?: boolean;
  /** Ends the iteration (with `aborted`) at the next event or wait. */
  signal?: AbortSignal;
  /** The rescan behind the directory watcher, ms (default 500). */
  rescanMs?: number;
}

/**
 * Yields the run's events from `options.from` on, in order, as they are appended; returns (the
 * iterator's final value) why it ended: the run finished, its coordinator is gone, or the signal
 * aborted. It reads at once, then after each change in the run directory (and every `rescanMs`).
 * Breaking out of a `for await` stops it too.
 * @throws SyntaxError / ProtocolFileError for a broken log (see {@link EventTail.read}).
 */
export async function* followRun(options: FollowOptions): AsyncGenerator<SwarmEvent, FollowEnd, undefined> {
  const { paths, signal } = options;
  const tail = new EventTail(paths.eventsJsonl, options.from);
  let finished = options.finished ?? false;
  const read = (): SwarmEvent[] => {
    const events = tail.read();
    for (const e of events)
      if (e.type === 'run.finished') finished = true;
      else if (e.type === 'run.resumed') finished = false;
    return events;
  };
  const began = Date.now();
  let changed = true; // the first read is at once
  let wake: (() => void) | undefined;
  const poke = (): void => {
    changed = true;
    wake?.();
  };
  const watcher = new DirectoryWatcher([paths.root], poke, options.rescanMs ?? 500, { create: false });
  signal?.addEventListener('abort', poke);
  try {
    for (;;) {
      while (!changed && !signal?.aborted) await new Promise<void>((resolve) => (wake = resolve));
      if (signal?.aborted) return { reason: 'aborted' };
      changed = false;
      yield* read();
      if (finished) return { reason: 'finished' };
      const liveness = liveNow(options);
      if (liveness === undefined || liveness === 'alive') continue;
      // No coordinator.json yet: `swarm run` wrote run.json and is starting its coordinator. Give it
      // `staleAfterMs` from when following began before calling it gone.
      if (liveness === 'none' && Date.now() - began < options.staleAfterMs) continue;
      // What the coordinator appended between the read and its going: its last events (a run.finished among them).
      yield* read();
      return finished ? { reason: 'finished' } : { reason: 'coordinator-gone', liveness };
    }
  } finally {
    signal?.removeEventListener('abort', poke);
    void watcher.close();
  }
}

/** The coordinator's liveness now; undefined while coordinator.json is being replaced (look again at the next change). */
function liveNow(options: FollowOptions): CoordinatorLiveness | undefined {
  try {
    return coordinatorLiveness(
      readJsonFile(options.paths.coordinatorJson, CoordinatorJsonSchema),
      options.staleAfterMs,
    );
  } catch {
    return undefined;
  }
}
