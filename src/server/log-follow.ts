// A live tail of an attempt's log file as SSE messages: what was appended since a byte offset, in
// whole lines, until the attempt has finished and the file is read to its end.
import fs from 'node:fs';
import { sleep } from '../util/process.js';
import type { SseMessage } from './sse.js';

/** How often the file is looked at while the attempt runs, ms. */
const POLL_MS = 200;
/** The most a message carries, bytes. */
const CHUNK_BYTES = 256 * 1024;

/** Bytes of `file` from `offset`: at most {@link CHUNK_BYTES}, cut after the last newline unless `all`. */
function readChunk(file: string, offset: number, all: boolean): Buffer {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch {
    return Buffer.alloc(0); // not written yet
  }
  try {
    const size = fs.fstatSync(fd).size;
    const want = Math.min(Math.max(0, size - offset), CHUNK_BYTES);
    const buf = Buffer.alloc(want);
    const n = fs.readSync(fd, buf, 0, want, offset);
    const got = buf.subarray(0, n);
    const capped = size - offset > CHUNK_BYTES;
    if (all && !capped) return got;
    const nl = got.lastIndexOf(0x0a);
    if (nl >= 0) return got.subarray(0, nl + 1);
    if (!capped) return Buffer.alloc(0); // a line being written: wait for its end
    // A line longer than a chunk: cut it, but not inside a UTF-8 character.
    let end = got.length;
    if (got[end - 1]! >= 0x80) {
      while (end > 0 && (got[end - 1]! & 0xc0) === 0x80) end--; // continuation bytes
      end--; // and the character's first byte: it is sent whole with the next chunk
    }
    return end > 0 ? got.subarray(0, end) : got;
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Follows `file` from byte `from`: yields `event: output` messages whose `data` is the appended
 * text as a JSON string and whose `id` is the byte offset after it (a reconnecting client sends it
 * back as Last-Event-ID), in whole lines while the attempt runs; once `finished()` is true and the
 * file is read to its end (a last line without a newline included), returns `event: end` with
 * `{offset}`. Ends without `end` when `signal` aborts (the client went away).
 */
export async function* followLog(
  file: string,
  from: number,
  finished: () => boolean,
  signal: AbortSignal,
): AsyncGenerator<SseMessage, SseMessage | undefined, undefined> {
  let offset = from;
  while (!signal.aborted) {
    const done = finished(); // asked first: what the attempt wrote before finishing is read below
    const chunk = readChunk(file, offset, done);
    if (chunk.length > 0) {
      offset += chunk.length;
      yield { id: offset, event: 'output', data: JSON.stringify(chunk.toString('utf8')) };
      continue; // there may be more already
    }
    if (done) return { event: 'end', data: JSON.stringify({ offset }) };
    await sleep(POLL_MS);
  }
  return undefined;
}
