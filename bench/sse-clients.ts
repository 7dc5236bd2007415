// The SSE clients of bench/serve-sse.ts, in a process of their own (forked with an IPC channel), so
// that their work (50 sockets, parsing, bookkeeping) is neither counted as the server's nor slows
// the benchmark's own tail of events.jsonl, against which their lag is measured.
//
//   node dist/bench/sse-clients.js <events URL> <clients> <events.jsonl>
//
// Each client GETs the URL (its own TCP connection), parses the stream with SseParser and records,
// per event, its id, type, data and when it was received: the monotonic clock (`process.hrtime`,
// CLOCK_MONOTONIC, the same clock in every process of the machine, so it compares with the
// benchmark's times) and the wall clock (`Date.now()`, to compare with the event's `at`). A client
// whose stream closes before `event: end` reconnects with `Last-Event-ID`, as an EventSource would,
// and the reconnection is counted. When all have their `end`, each stream is checked against
// events.jsonl (checkStream) and the checks and receive times go to the parent ({@link ClientsMessage}).
import fs from 'node:fs';
import http from 'node:http';
import { isMain } from './lib.js';

/** One event as a client received it. */
export interface SseMessage {
  /** The `id:` field in force (the last one seen on the stream, per the SSE spec); '' if none yet. */
  id: string;
  /** The `event:` field; 'message' if there was none. */
  event: string;
  /** The `data:` lines joined with '\n'. */
  data: string;
}

/**
 * A parser of the `text/event-stream` format as the WHATWG HTML standard defines it (§9.2.6):
 * lines end with CRLF, LF or CR (also split across chunks); `:` starts a comment; `field: value`
 * with one leading space removed from the value; `data` lines accumulate; an empty line
 * dispatches the event, unless no data was given; `id` persists across events and is ignored
 * when it contains NUL; `retry` and unknown fields are ignored. Input is text: decode bytes with
 * a streaming TextDecoder first (a chunk may end inside a UTF-8 sequence).
 */
export class SseParser {
  #buffer = '';
  #lastCr = false;
  #data: string[] = [];
  #event = '';
  #id = '';
  #first = true;
  /** Comment lines seen (the server's greeting and keep-alives). */
  comments = 0;

  /** @param onMessage called for each dispatched event, synchronously, in order. */
  constructor(private readonly onMessage: (m: SseMessage) => void) {}

  /** Feeds the next piece of the stream's text. */
  push(text: string): void {
    if (this.#first && text.length > 0) {
      this.#first = false;
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    }
    // A CR that ended the previous chunk already ended its line: skip an LF right after it.
    if (this.#lastCr && text.startsWith('\n')) text = text.slice(1);
    this.#lastCr = false;
    let buf = this.#buffer + text;
    let start = 0;
    for (;;) {
      const lf = buf.indexOf('\n', start);
      const cr = buf.indexOf('\r', start);
      if (lf < 0 && cr < 0) break;
      let end: number;
      let next: number;
      if (cr >= 0 && (lf < 0 || cr < lf)) {
        end = cr;
        if (cr + 1 < buf.length) next = buf[cr + 1] === '\n' ? cr + 2 : cr + 1;
        else {
          next = cr + 1;
          this.#lastCr = true; // an LF may begin the next chunk
        }
      } else {
        end = lf;
        next = lf + 1;
      }
      this.#line(buf.slice(start, end));
      start = next;
    }
    buf = buf.slice(start);
    this.#buffer = buf;
  }

  #line(line: string): void {
    if (line === '') {
      if (this.#data.length > 0)
        this.onMessage({ id: this.#id, event: this.#event || 'message', data: this.#data.join('\n') });
      this.#data = [];
      this.#event = '';
      return;
    }
    if (line.startsWith(':')) {
      this.comments++;
      return;
    }
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'data') this.#data.push(value);
    else if (field === 'event') this.#event = value;
    else if (field === 'id' && !value.includes('\0')) this.#id = value;
  }
}

/** What one client received (internal: the parent gets a {@link ClientSummary}). */
interface Received {
  /** Every event but `end`, in the order received: id, event type, data. */
  ids: string[];
  types: string[];
  data: string[];
  /** When each of them was received: monotonic ms (`hrtime` ÷ 1e6) and wall-clock ms (`Date.now()`). */
  recvMs: number[];
  recvWallMs: number[];
  /** When the first response's headers came (monotonic ms): the server had loaded the run. */
  openMs: number;
  /** The `end` event's data (`{"reason":"finished"}` when the run finished); null if none came. */
  end: string | null;
  /** Streams that closed before `end`, each followed by a reconnection with Last-Event-ID. */
  reconnects: number;
  /** Comment lines (the greeting `: fileswarm events` once per connection, keep-alives). */
  comments: number;
  /** HTTP statuses other than 200, socket errors, giving up: empty when all went well. */
  errors: string[];
}

/** One client's stream, checked against events.jsonl, with its receive times. */
export interface ClientSummary extends Omit<Received, 'ids' | 'types' | 'data'> {
  client: number;
  /** The seq (`id:`) of each event received, in order; NaN for an id that is not a seq. */
  seqs: number[];
  check: StreamCheck;
}

/** How a stream of events compares with events.jsonl. */
export interface StreamCheck {
  /** Events received / lines of events.jsonl after `from` (what should have been received). */
  received: number;
  expected: number;
  /** Seqs never received; received again or going back; received with bytes other than the file's line; with another type. */
  missing: number;
  duplicates: number;
  dataMismatches: number;
  typeMismatches: number;
  /** Every event after `from` once, in order (seq contiguous), byte-equal to its line, of its type. */
  ok: boolean;
  /** The first few problems, for the report. */
  problems: string[];
}

/** events.jsonl of a finished run: its lines (without newline) and each line's `type`. */
export function readLog(file: string): { lines: string[]; types: string[] } {
  const lines = fs.readFileSync(file, 'utf8').split('\n');
  if (lines.at(-1) === '') lines.pop();
  return { lines, types: lines.map((l) => String((JSON.parse(l) as { type?: unknown }).type)) };
}

/**
 * Checks a stream of events against events.jsonl: seqs (ids) `from + 1` … last line, each once and
 * in order; each event's data byte-equal to the line of its seq (line `seq - 1`) and its type the
 * line's `type`. `types` may be omitted (a reader that prints only data, like `status --json`).
 */
export function checkStream(
  log: { lines: string[]; types: string[] },
  from: number,
  got: { seqs: number[]; data: string[]; types?: string[] },
): StreamCheck {
  const c: StreamCheck = {
    received: got.seqs.length,
    expected: Math.max(0, log.lines.length - from),
    missing: 0,
    duplicates: 0,
    dataMismatches: 0,
    typeMismatches: 0,
    ok: false,
    problems: [],
  };
  const problem = (p: string): void => void (c.problems.length < 5 && c.problems.push(p));
  let next = from + 1;
  got.seqs.forEach((seq, i) => {
    if (!Number.isInteger(seq) || seq < next) {
      c.duplicates++;
      return problem(`event #${i + 1}: seq ${seq} after ${next - 1}`);
    }
    if (seq > next) {
      c.missing += seq - next;
      problem(`event #${i + 1}: seq ${seq}, expected ${next}`);
    }
    next = seq + 1;
    const line = log.lines[seq - 1];
    if (line === undefined) return problem(`seq ${seq} is not in events.jsonl (${log.lines.length} lines)`);
    if (got.data[i] !== line) {
      c.dataMismatches++;
      problem(
        `seq ${seq}: data ${JSON.stringify(got.data[i]?.slice(0, 80))} ≠ line ${JSON.stringify(line.slice(0, 80))}`,
      );
    }
    if (got.types && got.types[i] !== log.types[seq - 1]) {
      c.typeMismatches++;
      problem(`seq ${seq}: event ${got.types[i]}, line's type ${log.types[seq - 1]}`);
    }
  });
  if (next - 1 < log.lines.length) {
    c.missing += log.lines.length - (next - 1);
    problem(`the last ${log.lines.length - (next - 1)} events never came (last received ${next - 1})`);
  }
  c.ok =
    c.missing === 0 &&
    c.duplicates === 0 &&
    c.dataMismatches === 0 &&
    c.typeMismatches === 0 &&
    c.received === c.expected;
  return c;
}

/** Messages from the clients' process to the benchmark. */
export type ClientsMessage =
  /** Every client's request has been written to its connected socket. */
  | { type: 'sent' }
  /** Every client has its response headers (the server found run.json and began the stream). */
  | { type: 'open' }
  /** Every client got `end` (or gave up); the checks come next (their CPU is not the window's). */
  | { type: 'ended' }
  /** The results. The process then stays until the parent disconnects (so /proc can still be read). */
  | { type: 'done'; results: ClientSummary[] };

/** Reconnections a client makes before it gives up. */
const MAX_RECONNECTS = 20;

/** Runs one client until its stream's `end` event (reconnecting with Last-Event-ID meanwhile). */
function runClient(url: string, onSent: () => void, onOpen: () => void): Promise<Received> {
  const r: Received = {
    ids: [],
    types: [],
    data: [],
    recvMs: [],
    recvWallMs: [],
    openMs: NaN,
    end: null,
    reconnects: 0,
    comments: 0,
    errors: [],
  };
  let sent = false;
  let opened = false;
  return new Promise((resolve) => {
    const connect = (): void => {
      let recv = 0;
      let wall = 0;
      const parser = new SseParser((m) => {
        if (m.event === 'end') {
          r.end = m.data;
          return;
        }
        r.ids.push(m.id);
        r.types.push(m.event);
        r.data.push(m.data);
        r.recvMs.push(recv);
        r.recvWallMs.push(wall);
      });
      const lastId = r.ids.at(-1);
      const req = http.get(url, {
        agent: false,
        headers: { accept: 'text/event-stream', ...(lastId !== undefined ? { 'last-event-id': lastId } : {}) },
      });
      req.on('socket', (s) =>
        s.once('connect', () => {
          if (!sent) {
            sent = true;
            onSent();
          }
        }),
      );
      const retry = (why: string): void => {
        r.comments += parser.comments;
        parser.comments = 0;
        if (r.end !== null) return resolve(r);
        if (r.reconnects >= MAX_RECONNECTS) {
          r.errors.push(`gave up after ${r.reconnects} reconnections: ${why}`);
          return resolve(r);
        }
        r.reconnects++;
        setTimeout(connect, 100);
      };
      req.on('error', (e) => retry(`request error: ${e.message}`));
      req.on('response', (res) => {
        if (res.statusCode !== 200) {
          r.errors.push(`HTTP ${res.statusCode}`);
          res.resume();
          res.on('end', () => resolve(r));
          return;
        }
        if (!opened) {
          opened = true;
          r.openMs = Number(process.hrtime.bigint()) / 1e6;
          onOpen();
        }
        const decoder = new TextDecoder('utf-8');
        res.on('data', (chunk: Buffer) => {
          recv = Number(process.hrtime.bigint()) / 1e6;
          wall = Date.now();
          parser.push(decoder.decode(chunk, { stream: true }));
        });
        res.on('error', () => undefined); // 'close' follows
        res.on('close', () => {
          parser.push(decoder.decode());
          retry('the stream closed before its end event');
        });
      });
    };
    connect();
  });
}

async function main(): Promise<void> {
  const [url, count, eventsFile] = process.argv.slice(2);
  const n = Number(count);
  if (!url || !eventsFile || !Number.isInteger(n) || n < 1 || !process.send)
    throw new Error('usage (forked with IPC): sse-clients.js <events URL> <clients> <events.jsonl>');
  const send = (m: ClientsMessage): void => void process.send!(m);
  // A 'disconnect' listener keeps the IPC channel referenced: the process stays after its last
  // message until the parent disconnects (the parent reads its /proc entry first).
  process.on('disconnect', () => undefined);
  let sent = 0;
  let opened = 0;
  const received = await Promise.all(
    Array.from({ length: n }, () =>
      runClient(
        url,
        () => ++sent === n && send({ type: 'sent' }),
        () => ++opened === n && send({ type: 'open' }),
      ),
    ),
  );
  send({ type: 'ended' });
  // Every stream ended, so the run has finished and events.jsonl is complete.
  const log = readLog(eventsFile);
  const results = received.map(({ ids, types, data, ...rest }, client): ClientSummary => {
    const seqs = ids.map((id) => (/^[1-9][0-9]*$/.test(id) ? Number(id) : NaN));
    return { client, seqs, check: checkStream(log, 0, { seqs, data, types }), ...rest };
  });
  send({ type: 'done', results });
}

if (isMain(import.meta.url)) await main();
