// A terminal for blessed without a terminal: TTY-looking input and output streams, keys typed into
// the input, and the screen read back with blessed's own screenshot.
import { PassThrough, Writable } from 'node:stream';
import type blessed from 'blessed';

/** Fake TTY streams of a given size. */
export interface FakeTerminal {
  input: PassThrough;
  output: Writable;
  /** Everything blessed wrote to the terminal (escape sequences included). */
  written(): string;
  /** Types keys (raw bytes: 'j', '\r', '\t', '\x1b', '\x1b[A' ...) and lets blessed read them. */
  press(keys: string): Promise<void>;
  /** Changes the size and tells blessed, as SIGWINCH would. */
  resize(cols: number, rows: number): void;
}

/** Makes a fake terminal of `cols` × `rows`. */
export function fakeTerminal(cols = 80, rows = 24): FakeTerminal {
  const input = Object.assign(new PassThrough(), { isTTY: true, isRaw: false });
  (input as unknown as { setRawMode(mode: boolean): unknown }).setRawMode = (mode: boolean) => {
    input.isRaw = mode;
    return input;
  };
  let written = '';
  const output = Object.assign(
    new Writable({
      write(chunk: Buffer | string, _enc, cb) {
        written += chunk.toString();
        cb();
      },
    }),
    { isTTY: true, columns: cols, rows },
  );
  return {
    input,
    output,
    written: () => written,
    press: async (keys) => {
      for (const k of keys === '\x1b' ? [keys] : splitKeys(keys)) {
        input.write(k);
        await new Promise((r) => setImmediate(r));
        await new Promise((r) => setImmediate(r));
      }
    },
    resize: (c, r) => {
      output.columns = c;
      output.rows = r;
      output.emit('resize');
    },
  };
}

/** One write per key, so that blessed sees each (escape sequences stay whole). */
function splitKeys(keys: string): string[] {
  // eslint-disable-next-line no-control-regex
  return keys.match(/\x1b\[[0-9;]*[A-Za-z~]|\x1b.|[\s\S]/g) ?? [];
}

/** The screen as plain text lines (no colours), from blessed's screenshot. */
export function screenText(screen: blessed.Widgets.Screen): string[] {
  const shot = (screen.screenshot as unknown as (xi: number, xl: number, yi: number, yl: number) => string)(
    0,
    Number(screen.width),
    0,
    Number(screen.height),
  );
  const lines = shot
    // eslint-disable-next-line no-control-regex
    .replace(/\x1b\[[0-9;]*m/g, '')
    .split('\n')
    .map((l) => l.trimEnd());
  if (lines.at(-1) === '') lines.pop(); // the screenshot ends with a newline
  return lines;
}
