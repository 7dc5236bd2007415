// Following a file that another process appends lines to (an agent CLI's session file).
import fs from 'node:fs';
import { StringDecoder } from 'node:string_decoder';

/** Reads what was appended to a file since the last read, in complete lines. */
export class FileTail {
  readonly #file: string;
  #offset = 0;
  #partial = '';
  /** Keeps a character split between two reads whole. */
  readonly #decoder = new StringDecoder('utf8');

  constructor(file: string) {
    this.#file = file;
  }

  /** The complete lines appended since the last call ([] if the file is missing). */
  read(): string[] {
    let fd: number;
    try {
      fd = fs.openSync(this.#file, 'r');
    } catch {
      return [];
    }
    try {
      const size = fs.fstatSync(fd).size;
      if (size <= this.#offset) return [];
      const buf = Buffer.alloc(size - this.#offset);
      const n = fs.readSync(fd, buf, 0, buf.length, this.#offset);
      this.#offset += n;
      const lines = (this.#partial + this.#decoder.write(buf.subarray(0, n))).split('\n');
      this.#partial = lines.pop() ?? '';
      return lines.filter((l) => l.trim() !== '');
    } finally {
      fs.closeSync(fd);
    }
  }
}
