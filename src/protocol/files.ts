// Reading and writing the run directory's JSON files: atomic replacement, schema-checked reads.
import fs from 'node:fs';
import { onExit } from 'signal-exit';
import writeFileAtomic from 'write-file-atomic';
import type { z } from 'zod';

// write-file-atomic registers a handler with signal-exit for each write (to remove its temporary
// file if the process exits mid-write) and removes it after. When the last handler goes,
// signal-exit uninstalls its listeners on 15 signals, and the next write installs them again: 30
// sigaction calls and listener bookkeeping per file written, a measurable share of a worker's CPU
// per task (bench/README.md, make-j8). One handler that stays keeps signal-exit installed. It does
// nothing, and changes no signal's outcome: signal-exit re-raises a signal only when no other
// listener handles it, as the default would.
onExit(() => {});

/**
 * Writes `value` as JSON to `file` atomically: temp file in the same directory, fsync, rename
 * (write-file-atomic). Readers see the old or the new content, never a mix.
 */
export async function writeJsonAtomic(file: string, value: unknown): Promise<void> {
  await writeFileAtomic(file, JSON.stringify(value, null, 2) + '\n');
}

/** Writes `text` to `file` atomically (see {@link writeJsonAtomic}). */
export async function writeTextAtomic(file: string, text: string): Promise<void> {
  await writeFileAtomic(file, text);
}

/** Synchronous form of {@link writeTextAtomic}. */
export function writeTextAtomicSync(file: string, text: string): void {
  writeFileAtomic.sync(file, text);
}

/** Synchronous form of {@link writeJsonAtomic}, for the few places that must not yield. */
export function writeJsonAtomicSync(file: string, value: unknown, options: { fsync?: boolean } = {}): void {
  writeFileAtomic.sync(file, JSON.stringify(value, null, 2) + '\n', { fsync: options.fsync ?? true });
}

/** A file that exists but does not hold what its schema says. */
export class ProtocolFileError extends Error {
  constructor(
    readonly file: string,
    message: string,
  ) {
    super(`${file}: ${message}`);
    this.name = 'ProtocolFileError';
  }
}

/**
 * Reads and validates a JSON file. Returns undefined if the file does not exist.
 * @throws ProtocolFileError if it exists but is not valid JSON or does not match `schema`.
 */
export function readJsonFile<S extends z.ZodType>(file: string, schema: S): z.output<S> | undefined {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    throw new ProtocolFileError(file, `not valid JSON (${(e as Error).message})`);
  }
  const parsed = schema.safeParse(data);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ProtocolFileError(file, `${issue?.path.join('.') || '(root)'}: ${issue?.message}`);
  }
  return parsed.data;
}
