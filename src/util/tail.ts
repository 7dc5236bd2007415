// Reading the end of a file without reading all of it: the last lines of a log (the dashboard's
// detail pane and pager; a worker's stderr and verify tails could use it too), and whole lines read
// backwards from the end until the caller has enough (events.jsonl after state.json's `last_seq`).
import fs from 'node:fs';

const CHUNK = 64 * 1024;

/**
 * The last `n` lines of a text file, reading at most its last `maxBytes` (bytes). A line cut by
 * that limit is dropped; an unfinished last line (no newline yet) is kept. Missing or unreadable
 * file → []. Never throws.
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

/** What {@link readLinesBackwards} read: the items of the complete lines, and where they end. */
export interface LinesTail<T> {
  /** What `parse` made of the complete lines read, in file order. */
  items: T[];
  /** Byte offset just after the last complete line (a torn last line is left for the next read). */
  offset: number;
  /** True if the items start at the beginning of the file. */
  fromStart: boolean;
}

/**
 * Reads complete lines backwards from the end of `file`, 64 KiB at a time, until `enough(items)`
 * says so (checked after each chunk; the items it sees start with a whole line) or the file's
 * start. A last line without its newline (being written) is left out.
 * @param parse turns a buffer of whole lines, which starts at byte `base` of the file, into items
 *   (it may throw, e.g. for a line that is not JSON; the error goes to the caller)
 * @returns the items read; a missing file → no items, offset 0
 * @throws what `parse` throws; a file system error other than ENOENT
 */
export function readLinesBackwards<T>(
  file: string,
  parse: (buf: Buffer, base: number) => T[],
  enough: (items: T[]) => boolean,
): LinesTail<T> {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { items: [], offset: 0, fromStart: true };
    throw e;
  }
  try {
    const size = fs.fstatSync(fd).size;
    let pos = size;
    let carry = Buffer.alloc(0); // bytes after the chunk being read, up to the last newline seen
    let end = -1; // offset after the last complete line
    let items: T[] = [];
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
      items = [...parse(buf.subarray(first), pos + first), ...items];
      carry = buf.subarray(0, first);
      if (pos > 0 && enough(items)) return { items, offset: end, fromStart: false };
    }
    return { items, offset: Math.max(0, end), fromStart: true };
  } finally {
    fs.closeSync(fd);
  }
}
