// What Linux starts a program with: the size of one argument or environment entry, and of all of them.
import fs from 'node:fs';

/**
 * The longest single argument or `NAME=value` environment entry a Linux process can be started
 * with, in bytes, its final NUL included: MAX_ARG_STRLEN, 32 pages (include/uapi/linux/binfmts.h).
 * This is the value for 4 KiB pages, the smallest Linux uses (x86-64 always; arm64 kernels with
 * 16 or 64 KiB pages allow more, which this limit then refuses). With a longer one, execve fails
 * with E2BIG.
 */
export const MAX_ARG_STRLEN = 131_072;

/**
 * Why `text` cannot be passed to a program as one argument (a NUL byte, or over
 * {@link MAX_ARG_STRLEN}), or undefined if it can.
 * @param what how the message names it, e.g. "the command".
 */
export function argumentProblem(what: string, text: string): string | undefined {
  if (text.includes('\0')) return `${what} holds a NUL byte, which no program can be passed`;
  const bytes = Buffer.byteLength(text) + 1;
  if (bytes <= MAX_ARG_STRLEN) return undefined;
  return `${what} is ${bytes.toLocaleString('en')} bytes; Linux passes no program an argument over ${MAX_ARG_STRLEN.toLocaleString('en')} bytes (E2BIG): put it in a script and run that`;
}

/**
 * What execve counts against ARG_MAX for a program started with `args` (the program's path first)
 * and `env`, in bytes: the path, then each string with its NUL and a pointer (8 bytes) for each
 * (fs/exec.c; where spawn starts failing on Linux 6.18 with Node 20, to the byte: test/unit/exec-limits.test.ts).
 */
export function execBytes(args: readonly string[], env: Record<string, string | undefined>): number {
  let bytes = args.length > 0 ? Buffer.byteLength(args[0]!) + 1 : 0;
  for (const a of args) bytes += Buffer.byteLength(a) + 1 + 8;
  for (const [name, value] of Object.entries(env))
    if (value !== undefined) bytes += Buffer.byteLength(name) + Buffer.byteLength(value) + 2 + 8;
  return bytes;
}

/** ARG_MAX here, and which of the kernel's rules set it. */
export interface ArgMax {
  /** bytes */
  bytes: number;
  rule: 'a quarter of the stack size limit' | 'the 6 MiB cap' | 'the 128 KiB floor';
}

/**
 * The most bytes of arguments and environment this process's children may be started with
 * (ARG_MAX): a quarter of the stack size limit, at most 6 MiB and at least 128 KiB (fs/exec.c,
 * Linux 4.13 and later), from the limit in /proc/self/limits (which children inherit); undefined
 * where it cannot be read.
 */
export function argMax(): ArgMax | undefined {
  let limits: string;
  try {
    limits = fs.readFileSync('/proc/self/limits', 'utf8');
  } catch {
    return undefined;
  }
  const soft = /^Max stack size\s+(\d+|unlimited)\s/m.exec(limits)?.[1];
  if (soft === undefined) return undefined;
  const quarter = soft === 'unlimited' ? Infinity : Math.floor(Number(soft) / 4);
  if (quarter > 6 * 1024 * 1024) return { bytes: 6 * 1024 * 1024, rule: 'the 6 MiB cap' };
  if (quarter < 128 * 1024) return { bytes: 128 * 1024, rule: 'the 128 KiB floor' };
  return { bytes: quarter, rule: 'a quarter of the stack size limit' };
}

/** Whether `e` is a failed system call's error (it has an errno), not a bug's. */
export function isSystemError(e: unknown): e is NodeJS.ErrnoException {
  return e instanceof Error && typeof (e as NodeJS.ErrnoException).errno === 'number';
}

/**
 * Whether `e`, thrown by `child_process.spawn`, says the process could not be started with what it
 * was given: a system call's error, or an argument or variable with a NUL byte (Node 20 refuses
 * those itself, ERR_INVALID_ARG_VALUE), rather than a bug in the caller.
 */
export function isSpawnRefusal(e: unknown): e is NodeJS.ErrnoException {
  return isSystemError(e) || (e instanceof Error && (e as NodeJS.ErrnoException).code === 'ERR_INVALID_ARG_VALUE');
}

/**
 * Says why starting `args` with `env` failed with E2BIG: which argument or variable is over
 * {@link MAX_ARG_STRLEN}, or else the total by {@link execBytes}'s count and {@link argMax} (a
 * bare program name that spawn resolved through PATH makes the kernel's count a little longer).
 * @returns one line, e.g. `the environment variable BIG is 200,001 bytes, over the 131,072 Linux allows one`.
 */
export function explainE2big(args: readonly string[], env: Record<string, string | undefined>): string {
  const over = (bytes: number): boolean => bytes > MAX_ARG_STRLEN;
  const limit = MAX_ARG_STRLEN.toLocaleString('en');
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined) continue;
    const bytes = Buffer.byteLength(name) + Buffer.byteLength(value) + 2;
    if (over(bytes))
      return `the environment variable ${name} is ${bytes.toLocaleString('en')} bytes, over the ${limit} Linux allows one`;
  }
  for (const [i, a] of args.entries()) {
    const bytes = Buffer.byteLength(a) + 1;
    if (over(bytes)) return `argument ${i} is ${bytes.toLocaleString('en')} bytes, over the ${limit} Linux allows one`;
  }
  const total = execBytes(args, env);
  const max = argMax();
  const count = Object.values(env).filter((v) => v !== undefined).length;
  const allowed = max === undefined ? '' : `; Linux allows ${max.bytes.toLocaleString('en')} here (${max.rule})`;
  return `the arguments and the ${count} environment variables are ${total.toLocaleString('en')} bytes in all${allowed}`;
}

/**
 * The message for a failed spawn of `file` with `args` and `env`: the error's own (`spawn sh
 * ENOENT`), and for E2BIG also {@link explainE2big}'s reason.
 */
export function spawnFailure(
  error: Error,
  file: string,
  args: readonly string[],
  env: Record<string, string | undefined>,
): string {
  if (!isSystemError(error) || error.code !== 'E2BIG') return error.message;
  return `${error.message}: ${explainE2big([file, ...args], env)}`;
}
