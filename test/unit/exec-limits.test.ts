// What Linux starts a program with, checked against real spawns: the limits are the kernel's, to the byte.
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { argMax, argumentProblem, execBytes, MAX_ARG_STRLEN } from '../../src/util/exec-limits.js';

/** An environment of variables of 100 KB at most whose execBytes with `args` is exactly `total`. */
function envOfSize(args: string[], total: number): Record<string, string> {
  const env: Record<string, string> = {};
  for (let i = 0; ; i++) {
    const name = `V${i}`;
    // name=value, its NUL and a pointer; the last variable takes what is left.
    const left = total - execBytes(args, env) - name.length - 2 - 8;
    const size = left <= 100_000 ? left : Math.min(100_000, left - 50_000);
    env[name] = 'x'.repeat(size);
    if (size === left) return env;
  }
}

describe('exec limits', () => {
  it('passes sh -c a command of exactly MAX_ARG_STRLEN bytes, and refuses one byte more', () => {
    const longest = `: ${'x'.repeat(MAX_ARG_STRLEN - 3)}`; // and its NUL
    expect(argumentProblem('`run`', longest)).toBeUndefined();
    expect(spawnSync('/bin/sh', ['-c', longest]).status).toBe(0);
    expect(argumentProblem('`run`', `${longest}x`)).toMatch(/^`run` is 131,073 bytes; Linux passes no program/);
    expect((spawnSync('/bin/sh', ['-c', `${longest}x`]).error as NodeJS.ErrnoException).code).toBe('E2BIG');
    // Bytes, not characters.
    expect(argumentProblem('`run`', '€'.repeat(50_000))).toMatch(/^`run` is 150,001 bytes/);
  });

  it('counts arguments and environment as execve does: argMax bytes start, one more does not', () => {
    const args = ['/bin/true'];
    const max = argMax()!;
    expect(max).toBeGreaterThanOrEqual(128 * 1024);
    const fits = envOfSize(args, max);
    expect(execBytes(args, fits)).toBe(max);
    expect(spawnSync('/bin/true', [], { env: fits }).status).toBe(0);
    const over = envOfSize(args, max + 1);
    expect(execBytes(args, over)).toBe(max + 1);
    expect((spawnSync('/bin/true', [], { env: over }).error as NodeJS.ErrnoException).code).toBe('E2BIG');
  });
});
