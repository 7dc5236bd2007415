// runShell with real /bin/sh processes: an exit status already received is the command's outcome,
// even if the attempt is stopped while the worker waits for what the shell left in its group.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runShell } from '../../src/worker/shell.js';
import { groupAlive } from '../../src/util/process.js';
import { argMax } from '../../src/util/exec-limits.js';

let dir: string | undefined;
afterEach(() => {
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

describe('runShell', () => {
  it('keeps the exit status when the stop comes while a leftover child is being killed', async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'run-shell-'));
    const out = path.join(dir, 'out.log');
    const controller = new AbortController();
    let pgid: number | undefined;
    // The shell exits 0 at once; its child ignores SIGTERM, so the group kill after the exit waits
    // its grace (3 s) before SIGKILL. The stop arrives during that wait.
    const running = runShell({
      command: `(trap '' TERM; echo ready; sleep 30) & sleep 0.3; exit 0`,
      cwd: dir,
      env: { PATH: process.env.PATH },
      stdout: out,
      stderr: out,
      signal: controller.signal,
      killGraceMs: 3000,
      onSpawn: (g) => (pgid = g),
    });
    const deadline = Date.now() + 10_000;
    while (!fs.readFileSync(out, 'utf8').includes('ready') && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 20));
    await new Promise((r) => setTimeout(r, 1000)); // the shell has exited; the group kill is waiting
    expect(pgid).toBeDefined();
    expect(groupAlive(pgid!)).toBe(true);
    controller.abort('timed-out');
    const exit = await running;
    expect(exit).toEqual({ kind: 'exited', exitCode: 0 });
    expect(groupAlive(pgid!)).toBe(false);
  }, 20_000);

  it('kills the group and rejects when onSpawn throws (the group could not be recorded)', async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'run-shell-'));
    const out = path.join(dir, 'out.log');
    let pgid: number | undefined;
    const running = runShell({
      command: 'sleep 30',
      cwd: dir,
      env: { PATH: process.env.PATH },
      stdout: out,
      stderr: out,
      signal: new AbortController().signal,
      killGraceMs: 500,
      onSpawn: (g) => {
        pgid = g;
        throw new Error('ENOSPC: no space left on device');
      },
    });
    await expect(running).rejects.toThrow('ENOSPC');
    expect(pgid).toBeDefined();
    expect(groupAlive(pgid!)).toBe(false);
  }, 20_000);

  it('says which variable, or what total, made Linux refuse to start the shell (E2BIG), and refuses a NUL byte the same way', async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'run-shell-'));
    const out = path.join(dir, 'out.log');
    const run = (env: Record<string, string>, command = 'true'): ReturnType<typeof runShell> =>
      runShell({
        command,
        cwd: dir!,
        env: { PATH: process.env.PATH, ...env },
        stdout: out,
        stderr: out,
        signal: new AbortController().signal,
        killGraceMs: 500,
      });
    // A NUL byte is refused by Node before any system call: the same kind of failure.
    expect(await run({}, 'echo a\0b')).toMatchObject({
      kind: 'spawn-failed',
      message: expect.stringMatching(/without null bytes/),
    });
    expect(await run({ BIG: 'x'.repeat(200_000) })).toEqual({
      kind: 'spawn-failed',
      message: 'spawn E2BIG: the environment variable BIG is 200,005 bytes, over the 131,072 Linux allows one',
    });
    // Each variable fits, all of them together do not: one more than ARG_MAX holds of 100 KB each.
    const max = argMax()!;
    const many = Object.fromEntries(
      Array.from({ length: Math.ceil(max.bytes / 100_000) + 1 }, (_, i) => [`V${i}`, 'x'.repeat(100_000)]),
    );
    const res = await run(many);
    expect(res.kind).toBe('spawn-failed');
    expect(res.kind === 'spawn-failed' && res.message).toMatch(
      new RegExp(
        `^spawn E2BIG: the arguments and the \\d+ environment variables are [\\d,]+ bytes in all; Linux allows ${max.bytes.toLocaleString('en')} here \\(${max.rule}\\)$`,
      ),
    );
  });
});
