// What Linux starts a program with, checked against real spawns: the limits are the kernel's, to the byte.
import { execFileSync, spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { argumentProblem, MAX_ARG_STRLEN } from '../../src/util/exec-limits.js';

const LIMITS = new URL('../../dist/src/util/exec-limits.js', import.meta.url).href;

/**
 * Run in a node of its own under a stack limit: ARG_MAX by argMax, and whether /bin/true starts with
 * an environment of exactly that many bytes (by execBytes) and with one byte more.
 */
const PROBE = `
import { spawnSync } from 'node:child_process';
import { argMax, execBytes } from ${JSON.stringify(LIMITS)};
const args = ['/bin/true'];
function envOfSize(total) {
  const env = {};
  for (let i = 0; ; i++) {
    const name = 'V' + i;
    // name=value, its NUL and a pointer; the last variable takes what is left (each under MAX_ARG_STRLEN).
    const left = total - execBytes(args, env) - name.length - 2 - 8;
    if (!(left >= 0)) throw new Error('cannot build ' + total + ' bytes');
    const size = left <= 100000 ? left : Math.min(100000, left - 50000);
    env[name] = 'x'.repeat(size);
    if (size === left) return env;
  }
}
const max = argMax();
if (!Number.isSafeInteger(max?.bytes)) throw new Error('argMax() gave ' + JSON.stringify(max) + ': is dist/ built?');
const fits = envOfSize(max.bytes);
const over = envOfSize(max.bytes + 1);
const code = (env) => spawnSync('/bin/true', [], { env }).error?.code ?? 'started';
console.log(JSON.stringify({ ...max, counted: [execBytes(args, fits), execBytes(args, over)], fits: code(fits), over: code(over) }));
`;

describe('exec limits', () => {
  it('passes sh -c a command of exactly MAX_ARG_STRLEN bytes, and refuses one byte more', () => {
    const longest = `: ${'x'.repeat(MAX_ARG_STRLEN - 3)}`; // and its NUL
    expect(argumentProblem('`run`', longest)).toBeUndefined();
    expect(spawnSync('/bin/sh', ['-c', longest]).status).toBe(0);
    expect(argumentProblem('`run`', `${longest}x`)).toMatch(/^`run` is 131,073 bytes; Linux passes no program/);
    expect((spawnSync('/bin/sh', ['-c', `${longest}x`]).error as NodeJS.ErrnoException).code).toBe('E2BIG');
    // Bytes, not characters.
    expect(argumentProblem('`run`', '€'.repeat(50_000))).toMatch(/^`run` is 150,001 bytes/);
    expect(argumentProblem('`run`', 'echo a\0b')).toBe('`run` holds a NUL byte, which no program can be passed');
  });

  // Soft limits only (-S), which any user may set up to the hard one; 32 MiB's quarter is over the 6 MiB cap.
  it.each([
    [400, 131_072, 'the 128 KiB floor'],
    [8192, 2_097_152, 'a quarter of the stack size limit'],
    [32_768, 6_291_456, 'the 6 MiB cap'],
  ])(
    'counts arguments and environment as execve does under a stack limit of %i KiB: ARG_MAX bytes start, one more does not',
    (stack, bytes, rule) => {
      const script = `ulimit -S -s ${stack} && exec "$0" --input-type=module -e "$1"`;
      const out = execFileSync('/bin/sh', ['-c', script, process.execPath, PROBE], {
        encoding: 'utf8',
        timeout: 60_000,
      });
      expect(JSON.parse(out)).toEqual({ bytes, rule, counted: [bytes, bytes + 1], fits: 'started', over: 'E2BIG' });
    },
  );
});
