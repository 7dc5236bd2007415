// End-to-end: Ctrl-C (SIGINT) once and twice, and control requests applied while a run goes on.
import fs from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import {
  linesOf,
  makeWorld,
  processesMatching,
  readJson,
  readJsonlFile,
  runCli,
  startCli,
  waitFor,
  type World,
} from '../helpers.js';

let world: World;
afterEach(() => world?.cleanup());

type Ev = {
  type: string;
  task?: string;
  reason?: string;
  outcome?: string;
  action?: string;
  accepted?: boolean;
  message?: string;
};
const events = (w: World): Ev[] =>
  fs.existsSync(w.path('run/events.jsonl')) ? readJsonlFile<Ev>(w.path('run/events.jsonl')) : [];

/** Two slow roots and a dependent of both; commands log start and end of each task. */
function slowConfig(dir: string, seconds: number) {
  // The sleep is skipped once a file named `quick` exists, so a resumed run can finish fast.
  const run = `echo "start $SWARM_TASK_ID" >> ${dir}/trace.log; [ -f ${dir}/quick ] || sleep ${seconds}; echo "end $SWARM_TASK_ID" >> ${dir}/trace.log`;
  return {
    version: 1,
    workers: 2,
    tasks: [
      { id: 'one', run },
      { id: 'two', run },
      { id: 'three', deps: ['one', 'two'], run },
    ],
  };
}

describe('Ctrl-C', () => {
  it('once: stops dispatching, lets running attempts finish, exits resumable', async () => {
    world = makeWorld();
    world.write('swarm.yaml', slowConfig(world.dir, 1));
    const run = startCli(['run', 'swarm.yaml', '--run-dir', 'run'], { cwd: world.dir });
    await waitFor(() => linesOf(world.path('trace.log')).length === 2, 20_000, 'two attempts to start');
    run.child.kill('SIGINT');
    const res = await run.done;
    expect(res.code).toBe(130);
    expect(res.stdout).toContain('press Ctrl-C again to cancel them');
    expect(res.stdout).toContain(`swarm resume ${world.path('run')}`);
    // The running attempts finished; the dependent never started.
    expect(linesOf(world.path('trace.log')).sort()).toEqual(['end one', 'end two', 'start one', 'start two']);
    expect(events(world).some((e) => e.type === 'run.paused' && e.reason === 'interrupt')).toBe(true);
    expect(readJson<{ phase: string }>(world.path('run/state.json')).phase).toBe('stopping');

    const resumed = await runCli(['resume', 'run'], { cwd: world.dir });
    expect(resumed.code).toBe(0);
    expect(
      linesOf(world.path('trace.log'))
        .filter((l) => l.startsWith('start'))
        .sort(),
    ).toEqual(['start one', 'start three', 'start two']);
  });

  it('twice: kills running attempts, records them cancelled, and resume runs them again', async () => {
    world = makeWorld();
    world.write('swarm.yaml', slowConfig(world.dir, 29.5));
    const run = startCli(['run', 'swarm.yaml', '--run-dir', 'run'], { cwd: world.dir });
    await waitFor(() => linesOf(world.path('trace.log')).length === 2, 20_000, 'two attempts to start');
    run.child.kill('SIGINT');
    await waitFor(() => run.output().stdout.includes('press Ctrl-C again'), 10_000, 'the first Ctrl-C to be seen');
    run.child.kill('SIGINT');
    const res = await run.done;
    expect(res.code).toBe(130);
    for (const id of ['one', 'two']) {
      expect(readJson(world.path(`run/tasks/${id}/1/result.json`))).toMatchObject({
        outcome: 'cancelled',
        reason: 'interrupted',
      });
    }
    expect(linesOf(world.path('trace.log')).filter((l) => l.startsWith('end'))).toEqual([]);
    expect(processesMatching('sleep 29.5')).toEqual([]);
    expect(processesMatching(world.path('run'))).toEqual([]); // no worker left behind

    // Resume runs the cancelled attempts again (quickly this time), without using a retry.
    fs.writeFileSync(world.path('quick'), '');
    const resumed = await runCli(['resume', 'run'], { cwd: world.dir });
    expect(resumed.code).toBe(0);
    const state = readJson<{ tasks: Record<string, { state: string; attempts: number; failures: number }> }>(
      world.path('run/state.json'),
    );
    expect(state.tasks.one).toMatchObject({ state: 'succeeded', attempts: 2, failures: 0 });
  });
});

describe('SIGTERM and a third Ctrl-C', () => {
  it('SIGTERM acts as Ctrl-C twice: running attempts cancelled (interrupted), exit 130, nothing left running', async () => {
    world = makeWorld();
    world.write('swarm.yaml', slowConfig(world.dir, 28.5));
    const run = startCli(['run', 'swarm.yaml', '--run-dir', 'run'], { cwd: world.dir });
    await waitFor(() => linesOf(world.path('trace.log')).length === 2, 20_000, 'two attempts to start');
    run.child.kill('SIGTERM');
    const res = await run.done;
    expect(res.code).toBe(130);
    for (const id of ['one', 'two'])
      expect(readJson(world.path(`run/tasks/${id}/1/result.json`))).toMatchObject({
        outcome: 'cancelled',
        reason: 'interrupted',
      });
    expect(processesMatching('sleep 28.5')).toEqual([]);
    expect(processesMatching(world.path('run'))).toEqual([]);
  });

  it('a third Ctrl-C exits at once, without waiting for attempts that ignore SIGTERM', async () => {
    world = makeWorld();
    // Commands that ignore SIGTERM, and a long grace before SIGKILL: the second Ctrl-C would wait 40 s.
    const run = `trap '' TERM; echo "start $SWARM_TASK_ID" >> ${world.dir}/trace.log; sleep 27.5`;
    world.write('swarm.yaml', {
      version: 1,
      workers: 2,
      scheduling: { kill_grace: '40s' },
      tasks: [
        { id: 'one', run },
        { id: 'two', run },
      ],
    });
    const cli = startCli(['run', 'swarm.yaml', '--run-dir', 'run'], { cwd: world.dir });
    await waitFor(() => linesOf(world.path('trace.log')).length === 2, 20_000, 'two attempts to start');
    cli.child.kill('SIGINT');
    await waitFor(() => cli.output().stdout.includes('press Ctrl-C again'), 10_000, 'the first Ctrl-C to be seen');
    cli.child.kill('SIGINT');
    await waitFor(() => cli.output().stdout.includes('cancelling'), 10_000, 'the second Ctrl-C to be seen');
    const third = Date.now();
    cli.child.kill('SIGINT');
    const res = await cli.done;
    expect(res.code).toBe(130);
    expect(Date.now() - third).toBeLessThan(15_000); // not the 40 s grace
    // The workers go on stopping the attempts on their own: SIGKILL after the grace, nothing left.
    await waitFor(() => processesMatching('sleep 27.5').length === 0, 90_000, 'the attempts to be killed');
    await waitFor(() => processesMatching(world.path('run')).length === 0, 30_000, 'the workers to exit');
  });
});

describe('swarm resume --retry-failed', () => {
  it("runs a finished run's failed task and its skipped dependents again, and nothing that succeeded", async () => {
    world = makeWorld();
    const log = `${world.dir}/trace.log`;
    world.write('swarm.yaml', {
      version: 1,
      tasks: [
        { id: 'good', run: `echo good >> ${log}` },
        // Fails until the file `fixed` exists.
        { id: 'flaky', run: `echo flaky >> ${log}; test -f ${world.dir}/fixed` },
        { id: 'after', deps: ['flaky'], run: `echo after >> ${log}` },
      ],
    });
    const first = await runCli(['run', 'swarm.yaml', '--run-dir', 'run'], { cwd: world.dir });
    expect(first.code).toBe(1);
    expect(readJson<{ tasks: Record<string, { state: string }> }>(world.path('run/state.json')).tasks).toMatchObject({
      good: { state: 'succeeded' },
      flaky: { state: 'failed' },
      after: { state: 'skipped' },
    });
    // Without --retry-failed a finished run has nothing left to do.
    const plain = await runCli(['resume', 'run'], { cwd: world.dir });
    expect(plain.stdout + plain.stderr).toContain('already finished');
    fs.writeFileSync(world.path('fixed'), '');
    const again = await runCli(['resume', 'run', '--retry-failed'], { cwd: world.dir });
    expect(again.code, again.stdout + again.stderr).toBe(0);
    expect(linesOf(log).sort()).toEqual(['after', 'flaky', 'flaky', 'good']);
    const state = readJson<{ tasks: Record<string, { state: string; attempts: number }> }>(
      world.path('run/state.json'),
    );
    expect(state.tasks).toMatchObject({
      good: { state: 'succeeded', attempts: 1 },
      flaky: { state: 'succeeded', attempts: 2 },
      after: { state: 'succeeded', attempts: 1 },
    });
  });
});

describe('control requests across a crash', () => {
  it('never applies a request twice: applied, then the coordinator killed before archiving it, then resume', async () => {
    world = makeWorld();
    world.write('swarm.yaml', {
      version: 1,
      tasks: [{ id: 'slow', run: `[ -f ${world.dir}/quick ] || sleep 20` }],
    });
    const run = startCli(['run', 'swarm.yaml', '--run-dir', 'run'], {
      cwd: world.dir,
      env: { SWARM_TEST_CRASH_AT: 'after-control' },
    });
    await waitFor(() => events(world).some((e) => e.type === 'attempt.started'), 20_000, 'the task to start');
    const sent = await runCli(['control', 'run', 'cancel-task', 'slow'], { cwd: world.dir });
    expect(sent.code).toBe(0);
    const killed = await run.done;
    expect(killed.signal).toBe('SIGKILL');
    // Applied and recorded, not yet archived: still in control/.
    const pending = fs.readdirSync(world.path('run/control')).filter((f) => f.endsWith('.json'));
    expect(pending).toHaveLength(1);
    fs.writeFileSync(world.path('quick'), '');
    const resumed = await runCli(['resume', 'run'], { cwd: world.dir });
    expect([0, 1]).toContain(resumed.code);
    const applied = events(world).filter((e) => e.type === 'control.applied');
    expect(applied).toHaveLength(1); // the resumed coordinator archived it without applying it again
    expect(applied[0]).toMatchObject({ action: 'cancel-task', accepted: true });
    expect(fs.readdirSync(world.path('run/control')).filter((f) => f.endsWith('.json'))).toEqual([]);
    expect(fs.readdirSync(world.path('run/control/done'))).toEqual(pending);
  });
});

describe('swarm control', () => {
  it('pauses and resumes dispatch, and cancels a running task and its dependents', async () => {
    world = makeWorld();
    world.write('swarm.yaml', {
      version: 1,
      workers: 2,
      tasks: [
        // Runs until the test releases it, so the pause is applied while it runs however slow the machine.
        {
          id: 'first',
          run: `touch ${world.dir}/first-ran; while [ ! -f ${world.dir}/release-first ]; do sleep 0.05; done`,
        },
        { id: 'second', deps: ['first'], run: `touch ${world.dir}/second-ran` },
        { id: 'long', run: `sleep 30` },
        { id: 'after-long', deps: ['long'], run: `touch ${world.dir}/after-long-ran` },
      ],
    });
    const run = startCli(['run', 'swarm.yaml', '--run-dir', 'run'], { cwd: world.dir });
    await waitFor(() => fs.existsSync(world.path('first-ran')), 20_000, 'first to start');
    const pause = await runCli(['control', 'run', 'pause', '--wait', '10000'], { cwd: world.dir });
    expect(pause.stdout).toContain('applied: dispatch paused');
    // While paused, first finishes but second is not dispatched.
    fs.writeFileSync(world.path('release-first'), '');
    await waitFor(
      () => events(world).some((e) => e.type === 'task.succeeded' && e.task === 'first'),
      20_000,
      'first to succeed',
    );
    await new Promise((r) => setTimeout(r, 500));
    expect(fs.existsSync(world.path('second-ran'))).toBe(false);
    expect(events(world).some((e) => e.type === 'attempt.assigned' && e.task === 'second')).toBe(false);

    const resume = await runCli(['control', 'run', 'resume', '--wait', '10000'], { cwd: world.dir });
    expect(resume.stdout).toContain('applied: dispatch resumed');
    await waitFor(() => fs.existsSync(world.path('second-ran')), 20_000, 'second to run after resume');

    const cancel = await runCli(['control', 'run', 'cancel-task', 'long', '--wait', '10000'], { cwd: world.dir });
    expect(cancel.stdout).toContain('applied: cancelling attempt 1 of long');
    const res = await run.done;
    expect(res.code).toBe(1);
    const state = readJson<{ tasks: Record<string, { state: string }> }>(world.path('run/state.json'));
    expect(state.tasks.long!.state).toBe('cancelled');
    expect(state.tasks['after-long']!.state).toBe('skipped');
    expect(readJson(world.path('run/tasks/long/1/result.json'))).toMatchObject({
      outcome: 'cancelled',
      reason: 'cancel-requested',
    });
    // Applied requests are archived.
    expect(fs.readdirSync(world.path('run/control')).filter((n) => n.endsWith('.json'))).toEqual([]);
    expect(fs.readdirSync(world.path('run/control/done'))).toHaveLength(3);
  });

  it('retries a failed task and its skipped dependents, and rejects what it cannot do', async () => {
    world = makeWorld();
    world.write('swarm.yaml', {
      version: 1,
      workers: 2,
      tasks: [
        // Fails until the flag file exists.
        { id: 'needs-flag', run: `test -f ${world.dir}/flag` },
        { id: 'dependent', deps: ['needs-flag'], run: 'true' },
        { id: 'keeps-run-open', run: `while [ ! -f ${world.dir}/release ]; do sleep 0.05; done` },
      ],
    });
    const run = startCli(['run', 'swarm.yaml', '--run-dir', 'run'], { cwd: world.dir });
    await waitFor(
      () => events(world).some((e) => e.type === 'task.skipped' && e.task === 'dependent'),
      20_000,
      'the failure to skip the dependent',
    );
    const rejected = await runCli(['control', 'run', 'retry-task', 'dependent', '--wait', '10000'], { cwd: world.dir });
    expect(rejected.code).toBe(1);
    expect(rejected.stdout).toContain('rejected: dependent was skipped because needs-flag did not succeed');
    // A task the plan does not have is refused before a request is made.
    const unknown = await runCli(['control', 'run', 'cancel-task', 'nope', '--wait', '10000'], { cwd: world.dir });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('the run has no task "nope"');

    fs.writeFileSync(world.path('flag'), '');
    const retry = await runCli(['control', 'run', 'retry-task', 'needs-flag', '--wait', '10000'], { cwd: world.dir });
    expect(retry.stdout).toContain('applied: retrying needs-flag and 1 skipped dependent(s)');
    await waitFor(
      () => events(world).some((e) => e.type === 'task.succeeded' && e.task === 'dependent'),
      20_000,
      'the dependent to run',
    );
    fs.writeFileSync(world.path('release'), '');
    const res = await run.done;
    expect(res.code).toBe(0);
  });

  it('stops the run on stop-run, resumably', async () => {
    world = makeWorld();
    world.write('swarm.yaml', slowConfig(world.dir, 3));
    const run = startCli(['run', 'swarm.yaml', '--run-dir', 'run'], { cwd: world.dir });
    await waitFor(() => linesOf(world.path('trace.log')).length === 2, 20_000, 'two attempts to start');
    const stop = await runCli(['control', 'run', 'stop-run'], { cwd: world.dir });
    expect(stop.code).toBe(0);
    const res = await run.done;
    expect(res.code).toBe(130);
    expect(linesOf(world.path('trace.log'))).not.toContain('start three');
    fs.writeFileSync(world.path('quick'), '');
    const resumed = await runCli(['resume', 'run'], { cwd: world.dir });
    expect(resumed.code).toBe(0);
  });
});
