// What a command does with an error nothing else handled (a bug, or a system failure no check
// foresaw): one line on stderr naming a file that holds the details, never a raw stack trace.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Output } from '../presenter/console.js';
import { EXIT, type ExitCode } from '../run/exit-codes.js';

/**
 * Writes `error`'s stack (and the command line) to a new file under the system's temporary
 * directory, and prints `swarm: unexpected error: <first line of its message> (details: <file>)`
 * to `err`; if the file cannot be written, prints the stack instead.
 * @returns {@link EXIT.unexpected}, the exit code the command should end with.
 */
export function reportUnexpected(error: unknown, err: Output): ExitCode {
  const e = error instanceof Error ? error : new Error(String(error));
  const message = (e.message.split('\n')[0] ?? '').trim() || e.name;
  const details = [`${new Date().toISOString()} swarm ${process.argv.slice(2).join(' ')}`, e.stack ?? String(e), ''];
  try {
    const file = path.join(os.tmpdir(), `fileswarm-error-${process.pid}-${Date.now()}.log`);
    fs.writeFileSync(file, details.join('\n'));
    err.write(`swarm: unexpected error: ${message} (details: ${file})\n`);
  } catch {
    err.write(`swarm: unexpected error: ${message}\n${e.stack ?? ''}\n`);
  }
  return EXIT.unexpected;
}
