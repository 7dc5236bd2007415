// Liveness by pid: a zombie (exited, not reaped) is not alive.
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { pidAlive } from '../../src/util/process.js';
import { waitFor } from '../helpers.js';

describe('pidAlive', () => {
  it('is true for a running process, false for a zombie and for a pid that is gone', async () => {
    // `sleep 1` exits after its parent has exec'd into `sleep 60`, which never reaps it (so the zombie
    // outlives every wait below). With `sleep 0`, a loaded machine let the shell reap it before its exec.
    const child = spawn('/bin/sh', ['-c', 'sleep 1 & echo $!; exec sleep 60'], { stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    try {
      const zombie = Number(await waitFor(() => out.trim(), 5000, 'the pid'));
      expect(pidAlive(child.pid!)).toBe(true);
      await waitFor(() => !pidAlive(zombie), 5000, 'the zombie');
      expect(() => process.kill(zombie, 0)).not.toThrow(); // it still exists, as a zombie
    } finally {
      child.kill('SIGKILL');
    }
    await new Promise((r) => child.once('close', r));
    expect(pidAlive(child.pid!)).toBe(false);
  });
});
