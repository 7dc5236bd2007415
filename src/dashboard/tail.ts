// Reading the end of a file without reading all of it: the last lines of a log, and the last
// events of events.jsonl (the dashboard starts from state.json and needs only the events after
// its `last_seq`, plus a few before for the feed).
import fs from 'node:fs';
import { parseJsonlLines } from '../protocol/jsonl.js';

const CHUNK = 64 * 1024;

/**
 * The last `n` lines of a text file, reading at most its last `maxBytes`. A line cut by that
 * limit is dropped; an unfinished last line (no newline yet) is kept. Missing file → [].
 */
export function lastLines(file: string, n: number, maxBytes = 64 * 1024): string[] {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch {
    return [];
  }
  try {
    const size = fs.fstatSync(fd).size;
    const len = Math.min(size, maxBytes);
    if (len === 0) return [];
    const buf = Buffer.alloc(len);
    const read = fs.readSync(fd, buf, 0, len, size - len);
    const lines = buf.toString('utf8', 0, read).split('\n');
    if (len < size) lines.shift(); // the first line is cut
    if (lines.at(-1) === '') lines.pop();
    return lines.slice(-n);
  } finally {
    fs.closeSync(fd);
  }
}

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
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { records: [], offset: 0, fromStart: true };
    throw e;
  }
  try {
    const size = fs.fstatSync(fd).size;
    let pos = size;
    let carry = Buffer.alloc(0); // bytes after the chunk being read, up to the last newline seen
    let end = -1; // offset after the last complete line
    let records: unknown[] = [];
    while (pos > 0) {
      const len = Math.min(CHUNK, pos);
      pos -= len;
      const chunk = Buffer.alloc(len);
      fs.readSync(fd, chunk, 0, len, pos);
      let buf = Buffer.concat([chunk, carry]);
      if (end < 0) {
        const nl = buf.lastIndexOf(0x0a);
        if (nl < 0) {
          carry = buf;
          continue;
        }
        end = pos + nl + 1;
        buf = buf.subarray(0, nl + 1);
      }
      // Lines wholly inside `buf`: from the first newline on (unless at the file's start).
      const first = pos === 0 ? 0 : buf.indexOf(0x0a) + 1;
      if (pos > 0 && first === 0) {
        carry = buf;
        continue;
      }
      records = [...parseJsonlLines(file, buf.subarray(first), pos + first), ...records];
      carry = buf.subarray(0, first);
      if (pos > 0 && enough(records)) return { records, offset: end, fromStart: false };
    }
    return { records, offset: Math.max(0, end), fromStart: true };
  } finally {
    fs.closeSync(fd);
  }
}
