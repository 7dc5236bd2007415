// End-to-end: the real CLI runs generated DAGs of shell commands; the commands' own files are the evidence.
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { replay } from '../../src/protocol/state.js';
import type { SwarmEvent } from '../../src/protocol/events.js';
import {
  linesOf,
  makeWorld,
  processAlive,
  randomDag,
  readJson,
  readJsonlFile,
  runCli,
  type World,
} from '../helpers.js';

let world: World;
afterEach(() => world?.cleanup());

/** A command that logs `start <id> <ns>`, sleeps, then logs `end <id> <ns>` to trace.log. */
const traced = (dir: string, sleep: string): string =>
  `echo "start $SWARM_TASK_ID $(date +%s%N)" >> ${dir}/trace.log; sleep ${sleep}; echo "end $SWARM_TASK_ID $(date +%s%N)" >> ${dir}/trace.log`;

function parseTrace(file: string): Map<string, { start: bigint; end: bigint }> {
  const spans = new Map<string, { start: bigint; end: bigint }>();
  for (const line of linesOf(file)) {
    const [kind, id, ns] = line.split(' ');
    const span = spans.get(id!) ?? { start: 0n, end: 0n };
    span[kind as 'start' | 'end'] = BigInt(ns!);
    spans.set(id!, span);
  }
  return spans;
}

describe('swarm run', () => {
  it('respects every dependency and never runs more attempts than workers', async () => {
    world = makeWorld();
    const dag = randomDag(30, 7);
    world.write('swarm.yaml', {
      version: 1,
      workers: 3,
      tasks: dag.map((t, i) => ({ ...t, run: traced(world.dir, i % 3 === 0 ? '0.15' : '0.05') })),
    });
    const res = await runCli(['run', 'swarm.yaml', '--run-dir', 'run'], { cwd: world.dir });
    expect(res.stderr).toMatch(/^swarm: warning: \S+ is not a git repository: tasks run in place/);
    expect(res.code).toBe(0);
    expect(res.stdout).toContain(`run directory: ${world.path('run')}`);

    const spans = parseTrace(world.path('trace.log'));
    expect(spans.size).toBe(30);
    for (const t of dag) {
      for (const d of t.deps)
        expect(spans.get(d)!.end, `${d} must end before ${t.id} starts`).toBeLessThanOrEqual(spans.get(t.id)!.start);
    }
    // Sweep over start/end points: the number of commands running at once.
    const points = [...spans.values()].flatMap((s) => [
      { at: s.start, delta: 1 },
      { at: s.end, delta: -1 },
    ]);
    points.sort((a, b) => (a.at === b.at ? a.delta - b.delta : a.at < b.at ? -1 : 1));
    let running = 0;
    let peak = 0;
    for (const p of points) peak = Math.max(peak, (running += p.delta));
    expect(peak).toBeLessThanOrEqual(3);
    expect(peak).toBeGreaterThan(1); // the DAG has parallelism; the pool used it
  });

  it('retries a failing task, then skips its dependents while independent tasks finish', async () => {
    world = makeWorld();
    world.write('swarm.yaml', {
      version: 1,
      workers: 2,
      scheduling: { retries: 2, backoff: 0.1 },
      tasks: [
        {
          id: 'flaky',
          run: `echo "attempt $SWARM_ATTEMPT" >> ${world.dir}/flaky.log; echo "broken on $SWARM_ATTEMPT" >&2; exit 7`,
        },
        { id: 'child', deps: ['flaky'], run: `touch ${world.dir}/child-ran` },
        { id: 'grandchild', deps: ['child'], run: `touch ${world.dir}/grandchild-ran` },
        { id: 'independent', run: `sleep 0.3; touch ${world.dir}/independent-ran` },
        { id: 'after-independent', deps: ['independent'], run: `touch ${world.dir}/after-independent-ran` },
      ],
    });
    const res = await runCli(['run', 'swarm.yaml', '--run-dir', 'run'], { cwd: world.dir });
    expect(res.code).toBe(1);
    expect(linesOf(world.path('flaky.log'))).toEqual(['attempt 1', 'attempt 2', 'attempt 3']);
    expect(fs.existsSync(world.path('child-ran'))).toBe(false);
    expect(fs.existsSync(world.path('grandchild-ran'))).toBe(false);
    expect(fs.existsSync(world.path('independent-ran'))).toBe(true);
    expect(fs.existsSync(world.path('after-independent-ran'))).toBe(true);

    const state = readJson<{
      tasks: Record<string, { state: string; attempts: number; skipped_because: string | null }>;
    }>(world.path('run/state.json'));
    expect(state.tasks.flaky).toMatchObject({ state: 'failed', attempts: 3 });
    expect(state.tasks.child).toMatchObject({ state: 'skipped', skipped_because: 'flaky' });
    expect(state.tasks.grandchild).toMatchObject({ state: 'skipped', skipped_because: 'flaky' });
    expect(state.tasks['after-independent']!.state).toBe('succeeded');

    // The failure of attempt n is passed to attempt n+1.
    const assignment = readJson<{ previous: { attempt: number; exit_code: number; stderr_tail: string[] }[] }>(
      world.path('run/tasks/flaky/3/assignment.json'),
    );
    expect(assignment.previous.map((p) => [p.attempt, p.exit_code, p.stderr_tail])).toEqual([
      [1, 7, ['broken on 1']],
      [2, 7, ['broken on 2']],
    ]);
  });

  it('starts no more workers than the run has tasks left, also on resume', async () => {
    world = makeWorld();
    world.write('swarm.yaml', {
      version: 1,
      workers: 4,
      tasks: [
        { id: 'a', run: 'true' },
        // Fails until the file `fixed` exists.
        { id: 'b', deps: ['a'], run: `test -e ${world.dir}/fixed` },
        { id: 'c', run: 'true' },
      ],
    });
    const workers = (): number => fs.readdirSync(world.path('run/workers')).length;
    // A worker lost on a slow machine (too slow to report) is replaced: one more directory.
    const lost = (): number =>
      linesOf(world.path('run/logs/coordinator.log')).filter((l) => l.includes('"msg":"worker lost"')).length;
    const first = await runCli(['run', 'swarm.yaml', '--run-dir', 'run'], { cwd: world.dir });
    expect(first.code).toBe(1);
    // Three tasks, of which at most two can run at once: two workers, not four.
    expect(workers()).toBe(2 + lost());
    fs.writeFileSync(world.path('fixed'), '');
    const again = await runCli(['resume', 'run', '--retry-failed'], { cwd: world.dir });
    expect(again.code).toBe(0);
    // One task left to run: one more worker.
    expect(workers()).toBe(3 + lost());
    const events = readJsonlFile<SwarmEvent>(world.path('run/events.jsonl'));
    const lastB = events.filter((e) => e.type === 'attempt.assigned' && e.task === 'b').at(-1);
    expect(lastB).toMatchObject({ worker: `w${3 + lost()}` });
  });

  it('starts one worker per chain of tasks, however many workers are allowed', async () => {
    world = makeWorld();
    // Two chains of three: at most two tasks can ever run at once (tasks − waves + 1 would allow 4).
    const chains = [
      ['a', 'b', 'c'],
      ['x', 'y', 'z'],
    ];
    world.write('swarm.yaml', {
      version: 1,
      workers: 4,
      tasks: chains.flatMap((ids) =>
        ids.map((id, i) => ({ id, deps: i === 0 ? [] : [ids[i - 1]!], run: `echo ${id} >> ${world.dir}/order` })),
      ),
    });
    const run = await runCli(['run', 'swarm.yaml', '--run-dir', 'run'], { cwd: world.dir });
    expect(run.code).toBe(0);
    const order = linesOf(world.path('order'));
    for (const ids of chains) expect(order.filter((id) => ids.includes(id))).toEqual(ids);
    const lost = linesOf(world.path('run/logs/coordinator.log')).filter((l) => l.includes('"msg":"worker lost"'));
    expect(fs.readdirSync(world.path('run/workers')).length).toBe(2 + lost.length);
  });

  it('kills a timed-out attempt with its whole process group, grandchildren included', async () => {
    world = makeWorld();
    // The grandchild is a background subshell that records its pid and sleeps; sh waits on a sleep of its own.
    world.write('swarm.yaml', {
      version: 1,
      scheduling: { kill_grace: 0.5 },
      tasks: [
        {
          id: 'hang',
          timeout: 0.5,
          run: `(sh -c 'echo $$ > ${world.dir}/grandchild.pid; exec sleep 300') & sleep 300`,
        },
      ],
    });
    const res = await runCli(['run', 'swarm.yaml', '--run-dir', 'run'], { cwd: world.dir });
    expect(res.code).toBe(1);
    const result = readJson<{ outcome: string; reason: string }>(world.path('run/tasks/hang/1/result.json'));
    expect(result).toMatchObject({ outcome: 'timed-out', reason: 'timed-out' });
    const grandchild = Number(world.read('grandchild.pid').trim());
    expect(grandchild).toBeGreaterThan(0);
    expect(processAlive(grandchild)).toBe(false);
    const status = readJson<{ pgid: number }>(world.path('run/tasks/hang/1/status.json'));
    for (const entry of fs.readdirSync('/proc').filter((e) => /^\d+$/.test(e))) {
      let stat: string;
      try {
        stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      } catch {
        continue;
      }
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (fields[0] !== 'Z')
        expect(Number(fields[2]), `process ${entry} of the attempt's group is alive`).not.toBe(status.pgid);
    }
  });

  it('kills what an attempt left running outside its process group (setsid) soon after it ended, while the worker lives on', async () => {
    world = makeWorld();
    // `a` starts a daemon in a session of its own and ends at once: the group kill at its end misses
    // it. `b` runs next on the same (only) worker and succeeds only if the daemon dies meanwhile.
    const daemon = `setsid sh -c 'echo $$ > ${world.dir}/daemon.pid; exec sleep 301' < /dev/null > /dev/null 2>&1 &`;
    const waitGone = `for i in $(seq 40); do kill -0 "$(cat ${world.dir}/daemon.pid)" 2>/dev/null || { echo gone > ${world.dir}/b.txt; exit 0; }; sleep 0.25; done; exit 1`;
    world.write('swarm.yaml', {
      version: 1,
      workers: 1,
      git: { isolation: 'none' },
      tasks: [
        {
          id: 'a',
          run: `${daemon} for i in $(seq 40); do [ -s ${world.dir}/daemon.pid ] && exit 0; sleep 0.1; done; exit 1`,
        },
        { id: 'b', deps: ['a'], run: waitGone },
      ],
    });
    const res = await runCli(['run', 'swarm.yaml', '--run-dir', 'run'], { cwd: world.dir });
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    const pid = Number(world.read('daemon.pid').trim());
    expect(pid).toBeGreaterThan(0);
    expect(processAlive(pid)).toBe(false);
    expect(world.read('b.txt')).toBe('gone\n');
    // Said in the worker's log, with the attempt.
    expect(world.read('run/logs/worker-w1.log')).toMatch(/killed processes an ended attempt left running/);
  });

  it('writes a gap-free event log whose replay rebuilds state.json exactly', async () => {
    world = makeWorld();
    world.write('swarm.yaml', {
      version: 1,
      workers: 2,
      scheduling: { retries: 1, backoff: 0.05 },
      tasks: [
        ...randomDag(12, 3).map((t) => ({ ...t, run: 'true' })),
        { id: 'bad', run: 'exit 1' },
        { id: 'after-bad', deps: ['bad'], run: 'true' },
      ],
    });
    const res = await runCli(['run', 'swarm.yaml', '--run-dir', 'run'], { cwd: world.dir });
    expect(res.code).toBe(1);
    const events = readJsonlFile<SwarmEvent>(world.path('run/events.jsonl'));
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
    expect(events.at(-1)).toMatchObject({ type: 'run.finished', outcome: 'failed' });
    expect(replay(events)).toEqual(readJson(world.path('run/state.json')));
  });

  it('gives command tasks the run directory, task id and attempt in their environment, in their cwd', async () => {
    world = makeWorld();
    fs.mkdirSync(world.path('repo/sub'), { recursive: true });
    world.write('repo/swarm.yaml', {
      version: 1,
      run: { repo: '.' },
      tasks: [
        {
          id: 'where',
          cwd: 'sub',
          env: { EXTRA: 'yes' },
          run: 'echo "$SWARM_RUN_DIR|$SWARM_TASK_ID|$SWARM_ATTEMPT|$EXTRA|$(pwd)" > out.txt',
        },
        { id: 'root', run: 'pwd > root.txt' },
      ],
    });
    const res = await runCli(['run', 'swarm.yaml'], { cwd: world.path('repo') });
    expect(res.code).toBe(0);
    const runDir = /run directory: (.*)/.exec(res.stdout)![1]!;
    expect(path.dirname(runDir)).toBe(world.path('repo/.swarm/runs'));
    expect(world.read('repo/sub/out.txt').trim()).toBe(`${runDir}|where|1|yes|${world.path('repo/sub')}`);
    expect(world.read('repo/root.txt').trim()).toBe(world.path('repo'));
    expect(fs.readFileSync(path.join(runDir, 'tasks/where/1/prompt.md'), 'utf8')).toContain('echo "$SWARM_RUN_DIR');
  });

  it('runs waves with strict barriers: no task starts before the previous wave has finished', async () => {
    world = makeWorld();
    world.write('swarm.yaml', {
      version: 1,
      workers: 4,
      scheduling: { mode: 'waves' },
      tasks: [
        { id: 'a-slow', run: traced(world.dir, '0.4') },
        { id: 'b-fast', run: traced(world.dir, '0.05') },
        { id: 'c-after-b', deps: ['b-fast'], run: traced(world.dir, '0.05') },
      ],
    });
    const res = await runCli(['run', 'swarm.yaml', '--run-dir', 'run'], { cwd: world.dir });
    expect(res.code).toBe(0);
    const spans = parseTrace(world.path('trace.log'));
    // In eager mode c-after-b would start right after b-fast; in waves it waits for a-slow too.
    expect(spans.get('a-slow')!.end).toBeLessThanOrEqual(spans.get('c-after-b')!.start);
  });

  it('reports the run in swarm status, as text and as JSON', async () => {
    world = makeWorld();
    world.write('swarm.yaml', {
      version: 1,
      tasks: [
        { id: 'one', run: 'true' },
        { id: 'two', deps: ['one'], run: 'exit 3' },
      ],
    });
    await runCli(['run', 'swarm.yaml', '--run-dir', 'run'], { cwd: world.dir });
    const text = await runCli(['status', 'run'], { cwd: world.dir });
    expect(text.code).toBe(0);
    expect(text.stdout).toContain('phase: finished (failed)');
    expect(text.stdout).toMatch(/two\s+failed\s+1\s+\S+\s+exited with code 3/);
    const json = await runCli(['status', 'run', '--json'], { cwd: world.dir });
    const report = JSON.parse(json.stdout) as {
      phase: string;
      counts: Record<string, number>;
      tasks: { id: string; state: string }[];
      resume_command: string | null;
    };
    expect(report.phase).toBe('finished');
    expect(report.counts).toMatchObject({ succeeded: 1, failed: 1 });
    expect(report.tasks.map((t) => [t.id, t.state])).toEqual([
      ['one', 'succeeded'],
      ['two', 'failed'],
    ]);
    expect(report.resume_command).toBeNull();
  });
});
