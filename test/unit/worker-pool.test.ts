// The worker pool's crash-loop check with real worker processes (the local launcher, the built
// CLI) that never write worker.json: each blocks at start-up reading a run.json that is a FIFO no
// one writes. Time is moved on through reap's `now`, so the 30 s never-reported limit costs nothing.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { LostWorker, WorkerPool as Pool } from '../../src/coordinator/worker-pool.js';
import { RunPaths } from '../../src/protocol/paths.js';
import { makeWorld, processesOf, type World } from '../helpers.js';

// From the build, as `swarm run` runs it: the local launcher starts the worker next to its own file
// (dist/src/cli.js). Types from the source.
const { WorkerPool } = (await import(
  new URL('../../dist/src/coordinator/worker-pool.js', import.meta.url).href
)) as typeof import('../../src/coordinator/worker-pool.js');
const { LocalLauncher } = (await import(
  new URL('../../dist/src/coordinator/launcher.js', import.meta.url).href
)) as typeof import('../../src/coordinator/launcher.js');

let world: World | undefined;
let pool: Pool | undefined;

afterEach(async () => {
  await pool?.shutdown(500);
  pool = undefined;
  world?.cleanup();
  world = undefined;
});

describe('WorkerPool', () => {
  it('counts workers lost without ever writing worker.json as crashes, and kills them', async () => {
    const w = (world = makeWorld());
    const runDir = w.path('run');
    fs.mkdirSync(runDir);
    execFileSync('mkfifo', [path.join(runDir, 'run.json')]);
    const paths = new RunPaths(runDir);
    pool = new WorkerPool(paths, new LocalLauncher(), 'S', pino({ level: 'silent' }), {
      onWorker: () => {},
      onExit: () => {},
    });
    pool.grow(2);
    const lost: LostWorker[] = [];
    let now = Date.now();
    // Before the limit nothing is lost; each round past it loses the two hung workers and replaces them.
    expect(pool.reap(10_000, true, 0, now + 5_000)).toEqual([]);
    for (let round = 0; round < 3; round++) {
      now += 31_000;
      lost.push(...pool.reap(10_000, true, 0, now));
    }
    expect(lost.map((l) => l.why)).toEqual(new Array(6).fill('never reported (no worker.json)'));
    // Five such ends in a row, and no worker that did report is running: a crash loop, although
    // each of them lived past the 5 s that counts an exit as a crash.
    expect(pool.crashLooping).toBe(true);
    // They were started (and hung): no start error to name.
    expect(pool.crashLoopWhy()).toBe(
      `workers exit as soon as they start; see ${paths.logsDir}/worker-*.log and worker-*.stderr`,
    );
    // The replacements count as launched; growing to two launches nothing more.
    expect(pool.launched).toBe(2);
    pool.grow(2);
    expect(pool.launched).toBe(2);
    // The lost ones were killed (SIGKILL of the local child): only the two last replacements remain.
    await expect.poll(() => processesOf(runDir).length, { timeout: 10_000 }).toBe(2);
  }, 30_000);

  it('counts a worker that cannot be started as ended at once, and says why', async () => {
    const w = (world = makeWorld());
    const runDir = w.path('run');
    fs.mkdirSync(runDir);
    const paths = new RunPaths(runDir);
    let exits = 0;
    pool = new WorkerPool(paths, new LocalLauncher(), 'S', pino({ level: 'silent' }), {
      onWorker: () => {},
      onExit: () => exits++,
    });
    // A variable longer than Linux's MAX_ARG_STRLEN: node's spawn of the worker fails (E2BIG).
    process.env.SWARM_TEST_TOO_BIG = 'x'.repeat(200_000);
    try {
      pool.grow(1);
    } finally {
      delete process.env.SWARM_TEST_TOO_BIG;
    }
    await expect.poll(() => exits, { timeout: 5_000 }).toBe(1);
    const lost = pool.reap(10_000, false, 0);
    const why =
      'spawn E2BIG: the environment variable SWARM_TEST_TOO_BIG is 200,020 bytes, over the 131,072 Linux allows one';
    expect(lost.map((l) => [l.id, l.why])).toEqual([['w1', `could not be started (${why})`]]);
    expect(pool.lastStartError).toBe(why);
    expect(pool.crashLoopWhy()).toMatch(
      `workers exit as soon as they start (the last could not be started: ${why}); see `,
    );
    expect(fs.readFileSync(paths.workerStderr('w1'), 'utf8')).toBe(`could not start the worker: ${why}\n`);
    expect(processesOf(runDir)).toEqual([]);
  }, 30_000);
});
