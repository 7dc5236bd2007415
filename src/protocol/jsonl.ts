// Append-only JSONL logs: one writer appends whole lines; readers tolerate a torn last line.
import fs from 'node:fs';

/**
 * Appends JSON lines to a file with one `write(2)` per call, so a line is in the kernel (and
 * survives kill -9 of the writer) as soon as `append` returns. `fdatasync` is batched: at most one
 * every `syncEveryMs` (group commit), plus on `close()`.
 */
export class JsonlWriter {
  readonly #fd: number;
  readonly #syncEveryMs: number;
  #syncTimer: NodeJS.Timeout | undefined;
  #closed = false;

  /** @param file opened for appending (created if missing). */
  constructor(file: string, syncEveryMs = 20) {
    this.#fd = fs.openSync(file, 'a');
    this.#syncEveryMs = syncEveryMs;
  }

  /** Appends one record as a line. */
  append(record: unknown): void {
    this.appendLines([record]);
  }

  /** Appends records as lines with a single write. */
  appendLines(records: unknown[]): void {
    if (this.#closed) throw new Error('JsonlWriter: append after close');
    if (records.length === 0) return;
    const buf = Buffer.from(records.map((r) => JSON.stringify(r)).join('\n') + '\n');
    // write(2) on a regular file writes everything unless the disk is full; loop all the same.
    for (let off = 0; off < buf.length;) off += fs.writeSync(this.#fd, buf, off, buf.length - off);
    if (!this.#syncTimer && this.#syncEveryMs >= 0) {
      this.#syncTimer = setTimeout(() => {
        this.#syncTimer = undefined;
        if (!this.#closed) fs.fdatasyncSync(this.#fd);
      }, this.#syncEveryMs);
    }
  }

  /** Syncs and closes the file. */
  close(): void {
    if (this.#closed) return;
    if (this.#syncTimer) clearTimeout(this.#syncTimer);
    this.#syncTimer = undefined;
    fs.fdatasyncSync(this.#fd);
    fs.closeSync(this.#fd);
    this.#closed = true;
  }
}

/** Lines read from a JSONL file, and where the next read should start. */
export interface JsonlChunk {
  /** Parsed records of the complete lines read. */
  records: unknown[];
  /** Byte offset just after the last complete line: pass it back to read on (a torn line is re-read). */
  offset: number;
  /** True if the file ends with an incomplete line (a writer died mid-line, or is mid-write). */
  torn: boolean;
}

/**
 * Reads complete lines of a JSONL file from byte `offset`. An incomplete last line (no newline) is
 * not returned and `offset` stays before it. A missing file reads as empty.
 * @throws SyntaxError (with the line's byte offset) if a complete line is not JSON.
 */
export function readJsonl(file: string, offset = 0): JsonlChunk {
  let buf: Buffer;
  try {
    const fd = fs.openSync(file, 'r');
    try {
      const size = fs.fstatSync(fd).size;
      if (size <= offset) return { records: [], offset, torn: false };
      buf = Buffer.alloc(size - offset);
      let read = 0;
      while (read < buf.length) {
        const n = fs.readSync(fd, buf, read, buf.length - read, offset + read);
        if (n === 0) break;
        read += n;
      }
      buf = buf.subarray(0, read);
    } finally {
      fs.closeSync(fd);
    }
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { records: [], offset, torn: false };
    throw e;
  }
  const end = buf.lastIndexOf(0x0a) + 1; // 0 if no newline at all
  return { records: parseJsonlLines(file, buf.subarray(0, end), offset), offset: offset + end, torn: end < buf.length };
}

/**
 * Parses the JSON lines of `buf` (blank lines skipped; the end of `buf` ends its last line), which
 * starts at byte `base` of `file`.
 * @throws SyntaxError naming the file and the byte offset of a line that is not JSON.
 */
export function parseJsonlLines(file: string, buf: Buffer, base: number): unknown[] {
  const records: unknown[] = [];
  let start = 0;
  while (start < buf.length) {
    let nl = buf.indexOf(0x0a, start);
    if (nl < 0) nl = buf.length;
    const line = buf.toString('utf8', start, nl);
    if (line.trim() !== '') {
      try {
        records.push(JSON.parse(line));
      } catch (e) {
        throw new SyntaxError(`${file}: bad JSON line at byte ${base + start}: ${(e as Error).message}`);
      }
    }
    start = nl + 1;
  }
  return records;
}

/** How much of a file's end truncateTornTail reads at a time, bytes. */
const TAIL_CHUNK = 64 * 1024;

/**
 * Cuts a torn last line off a JSONL file (only the one writer may do this, before appending): the
 * bytes after its last newline. Reads the file's end only, backwards in 64 KiB chunks until a
 * newline, so that resuming a large run does not parse its log twice. A missing file is not torn.
 * @returns whether a torn line was cut
 */
export function truncateTornTail(file: string): boolean {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw e;
  }
  let cut: number | undefined;
  try {
    const size = fs.fstatSync(fd).size;
    const buf = Buffer.alloc(TAIL_CHUNK);
    let end = size;
    while (end > 0 && cut === undefined) {
      const start = Math.max(0, end - TAIL_CHUNK);
      // A read may return fewer bytes than asked: read until the chunk is whole (or the file ends).
      let n = 0;
      for (let got = -1; n < end - start && got !== 0; n += got)
        got = fs.readSync(fd, buf, n, end - start - n, start + n);
      const nl = buf.subarray(0, n).lastIndexOf(0x0a);
      if (nl >= 0) cut = start + nl + 1;
      end = start;
    }
    cut ??= 0; // no newline at all: the one line there is torn
    if (cut === size) return false;
  } finally {
    fs.closeSync(fd);
  }
  fs.truncateSync(file, cut);
  return true;
}
