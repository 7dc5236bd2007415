// End-to-end: kill -9 of the coordinator or of a worker, then `swarm resume`: every task's side
// effect happens exactly once for attempts that finished, and nothing is run twice.
import fs from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import {
  linesOf,
  makeWorld,
  processAlive,
  processesMatching,
  processesOf,
  readJson,
  readJsonlFile,
  runCli,
  startCli,
  waitFor,
  type World,
} from '../helpers.js';

let world: World;
afterEach(() => world?.cleanup());

/**
 * A DAG of 8 tasks in which every command appends its id to effects.log (its side effect), after
 * sleeping `sleep` seconds.
 */
function effectsConfig(dir: string, sleep: number, extra: Record<string, unknown> = {}) {
  const run = `sleep ${sleep}; echo $SWARM_TASK_ID >> ${dir}/effects.log`;
  return {
    version: 1,
    workers: 3,
    ...extra,
    tasks: [
      { id: 'a', run },
      { id: 'b', run },
      { id: 'c', run },
      { id: 'd', deps: ['a', 'b'], run },
      { id: 'e', deps: ['b', 'c'], run },
      { id: 'f', deps: ['d'], run },
      { id: 'g', deps: ['e', 'f'], run },
      { id: 'h', run },
    ],
  };
}

/** Each task's side effect happened exactly once. */
function expectEffectsOnce(world: World): void {
  const effects = linesOf(world.path('effects.log')).sort();
  expect(effects).toEqual(['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h']);
}

async function resume(world: World): Promise<void> {
  const res = await runCli(['resume', 'run'], { cwd: world.dir });
  expect(res.stderr).toBe('');
  expect(res.code).toBe(0);
  expect(res.stdout).toMatch(/^succeeded: 8 succeeded, 0 failed, 0 skipped, 0 cancelled in .+? \(this session\)$/m);
}

describe('kill -9 of the coordinator, then swarm resume', () => {
  it.each([
    ['before the first dispatch', 'after-plan'],
    ['between an attempt.assigned event and its assignment file', 'after-assign'],
    ['between a result.json and its attempt.finished event', 'after-result'],
  ])('completes the run with every side effect exactly once when killed %s', async (_name, point) => {
    world = makeWorld();
    world.write('swarm.yaml', effectsConfig(world.dir, 0.2));
    const first = await runCli(['run', 'swarm.yaml', '--run-dir', 'run'], {
      cwd: world.dir,
      env: { SWARM_TEST_CRASH_AT: point },
    });
    expect(first.signal).toBe('SIGKILL');
    const status = await runCli(['status', 'run'], { cwd: world.dir });
    expect(status.stdout).toContain('coordinator DEAD');
    expect(status.stdout).toContain(`swarm resume ${world.path('run')}`);
    fs.rmSync(world.path('swarm.yaml')); // resume needs only the run directory
    await resume(world);
    expectEffectsOnce(world);
  });

  it('adopts attempts still running in live workers instead of running them again', async () => {
    world = makeWorld();
    world.write('swarm.yaml', effectsConfig(world.dir, 1));
    const run = startCli(['run', 'swarm.yaml', '--run-dir', 'run'], { cwd: world.dir });
    // Wait until three attempts are running, then kill the coordinator in the middle of them.
    await waitFor(
      () => {
        const events = fs.existsSync(world.path('run/events.jsonl'))
          ? readJsonlFile<{ type: string }>(world.path('run/events.jsonl'))
          : [];
        return events.filter((e) => e.type === 'attempt.started').length >= 3;
      },
      20_000,
      'three attempts started',
    );
    run.child.kill('SIGKILL');
    await run.done;
    await resume(world);
    expectEffectsOnce(world);
    // The three attempts in flight were adopted: none of a, b, c has a second attempt.
    for (const id of ['a', 'b', 'c']) expect(fs.existsSync(world.path(`run/tasks/${id}/2`))).toBe(false);
  });

  it('survives repeated crashes at random moments until the run completes', async () => {
    world = makeWorld();
    world.write('swarm.yaml', effectsConfig(world.dir, 0.3));
    let res = await (async () => {
      const run = startCli(['run', 'swarm.yaml', '--run-dir', 'run'], { cwd: world.dir });
      // However slow the machine, the first crash comes once attempts are running.
      await waitFor(
        () =>
          fs.existsSync(world.path('run/events.jsonl')) &&
          readJsonlFile<{ type: string }>(world.path('run/events.jsonl')).some((e) => e.type === 'attempt.assigned'),
        20_000,
        'a dispatch',
      );
      await new Promise((r) => setTimeout(r, 200));
      run.child.kill('SIGKILL');
      return run.done;
    })();
    for (let i = 0; i < 4 && res.code !== 0; i++) {
      const run = startCli(['resume', 'run'], { cwd: world.dir });
      const timer = setTimeout(() => run.child.kill('SIGKILL'), 700 + i * 300);
      res = await run.done;
      clearTimeout(timer);
    }
    // A resume may be killed after its run.finished, before it exits: then the run is done already.
    const finished = (): boolean =>
      readJsonlFile<{ type: string }>(world.path('run/events.jsonl')).some((e) => e.type === 'run.finished');
    if (res.code !== 0 && !finished()) await resume(world);
    expectEffectsOnce(world);
    // From the log itself: state.json may lag it when the last session was killed.
    const events = readJsonlFile<{ type: string }>(world.path('run/events.jsonl'));
    expect(events.filter((e) => e.type === 'task.succeeded')).toHaveLength(8);
    expect(events.filter((e) => e.type === 'run.resumed').length).toBeGreaterThanOrEqual(1);
  });
});

describe('worker failures', () => {
  it("retries the attempt of a worker killed with -9, and kills that attempt's orphaned command", async () => {
    world = makeWorld();
    world.write('swarm.yaml', {
      version: 1,
      workers: 1,
      // Attempt 1 runs until killed, however slow the machine; attempt 2 is quick.
      tasks: [
        {
          id: 'slow',
          run: `echo "start $SWARM_ATTEMPT" >> ${world.dir}/slow.log; [ $SWARM_ATTEMPT = 1 ] && sleep 29.3; echo "done $SWARM_ATTEMPT" >> ${world.dir}/slow.log`,
        },
      ],
    });
    const run = startCli(['run', 'swarm.yaml', '--run-dir', 'run'], { cwd: world.dir });
    await waitFor(() => linesOf(world.path('slow.log')).includes('start 1'), 20_000, 'attempt 1 to start');
    const worker = readJson<{ pid: number }>(world.path('run/workers/w1/worker.json'));
    process.kill(worker.pid, 'SIGKILL');
    const res = await run.done;
    expect(res.code).toBe(0);
    // Attempt 1's command was killed with its worker's loss: only attempt 2 finished, and no sleep is left.
    expect(linesOf(world.path('slow.log'))).toEqual(['start 1', 'start 2', 'done 2']);
    await waitFor(() => processesMatching('sleep 29.3').length === 0, 10_000, "attempt 1's sleep to be gone");
    const events = readJsonlFile<{ type: string; task?: string; reason?: string; attempt?: number }>(
      world.path('run/events.jsonl'),
    );
    expect(events.find((e) => e.type === 'attempt.finished' && e.attempt === 1)).toMatchObject({
      reason: 'worker-lost',
    });
    // The pool replaced the worker.
    expect(fs.existsSync(world.path('run/workers/w2/worker.json'))).toBe(true);
  });

  it('treats a worker whose heartbeat goes stale (stopped with SIGSTOP) as lost', async () => {
    world = makeWorld();
    world.write('swarm.yaml', {
      version: 1,
      workers: 1,
      liveness: { heartbeat: 0.2, stale_after: 1.5 },
      // Attempt 1 runs long enough to be stopped mid-way whatever the machine's load; attempt 2 is quick.
      tasks: [
        {
          id: 'slow',
          run: `echo "start $SWARM_ATTEMPT" >> ${world.dir}/slow.log; [ $SWARM_ATTEMPT = 1 ] && sleep 10; echo "done $SWARM_ATTEMPT" >> ${world.dir}/slow.log`,
        },
      ],
    });
    const run = startCli(['run', 'swarm.yaml', '--run-dir', 'run'], { cwd: world.dir });
    await waitFor(() => linesOf(world.path('slow.log')).includes('start 1'), 20_000, 'attempt 1 to start');
    const worker = readJson<{ pid: number }>(world.path('run/workers/w1/worker.json'));
    process.kill(worker.pid, 'SIGSTOP');
    try {
      const res = await run.done;
      expect(res.code).toBe(0);
      // Attempt 1's `sleep 10` was killed with the lost worker's attempt, not left to finish: only
      // the stopped worker itself is still there.
      expect(processesOf(world.path('run')).filter((pid) => pid !== worker.pid)).toEqual([]);
    } finally {
      if (processAlive(worker.pid)) process.kill(worker.pid, 'SIGKILL');
    }
    const events = readJsonlFile<{ type: string; reason?: string; attempt?: number; summary?: string }>(
      world.path('run/events.jsonl'),
    );
    expect(events.find((e) => e.type === 'attempt.finished' && e.attempt === 1)).toMatchObject({
      reason: 'worker-lost',
    });
    expect(linesOf(world.path('slow.log'))).toEqual(['start 1', 'start 2', 'done 2']);
  });

  it('fails a task that keeps killing its worker after a bounded number of reruns', async () => {
    world = makeWorld();
    // The shell's parent is the worker process: this command kills its own worker every time.
    world.write('swarm.yaml', {
      version: 1,
      workers: 1,
      tasks: [
        { id: 'killer', run: 'kill -9 $PPID; sleep 5' },
        { id: 'fine', run: 'true' },
      ],
    });
    const res = await runCli(['run', 'swarm.yaml', '--run-dir', 'run'], { cwd: world.dir });
    expect(res.code).toBe(1);
    const state = readJson<{
      tasks: Record<string, { state: string; attempts: number; lost: number; failures: number }>;
    }>(world.path('run/state.json'));
    expect(state.tasks.killer).toMatchObject({ state: 'failed', attempts: 4, lost: 4, failures: 0 });
    expect(state.tasks.fine!.state).toBe('succeeded');
  });
});

describe('the run lock', () => {
  it('stays with a coordinator that is stopped (Ctrl-Z) but alive', async () => {
    world = makeWorld();
    world.write('swarm.yaml', { version: 1, tasks: [{ id: 'wait', run: 'sleep 1' }] });
    const run = startCli(['run', 'swarm.yaml', '--run-dir', 'run'], { cwd: world.dir });
    await waitFor(() => fs.existsSync(world.path('run/coordinator.json')), 20_000, 'the first coordinator');
    run.child.kill('SIGSTOP');
    try {
      await new Promise((r) => setTimeout(r, 5000)); // longer than any mtime-based staleness would allow
      const second = await runCli(['resume', 'run'], { cwd: world.dir });
      expect(second.code).toBe(2);
      expect(second.stderr).toContain(`already being coordinated by pid ${run.child.pid}`);
    } finally {
      run.child.kill('SIGCONT');
    }
    expect((await run.done).code).toBe(0);
  });

  it('refuses a second coordinator on a run directory while the first is alive', async () => {
    world = makeWorld();
    // The task waits for the test, so the first coordinator is still running when the second tries.
    world.write('swarm.yaml', {
      version: 1,
      tasks: [{ id: 'wait', run: `while [ ! -f ${world.dir}/release ]; do sleep 0.05; done` }],
    });
    const run = startCli(['run', 'swarm.yaml', '--run-dir', 'run'], { cwd: world.dir });
    await waitFor(() => fs.existsSync(world.path('run/coordinator.json')), 20_000, 'the first coordinator');
    const second = await runCli(['resume', 'run'], { cwd: world.dir });
    expect(second.code).toBe(2);
    expect(second.stderr).toMatch(/already being coordinated by pid \d+/);
    fs.writeFileSync(world.path('release'), '');
    const first = await run.done;
    expect(first.code).toBe(0);
    const events = readJsonlFile<{ type: string }>(world.path('run/events.jsonl'));
    expect(events.filter((e) => e.type === 'run.resumed')).toHaveLength(0);
  });
});
