// The dashboard's model and its reader, without a terminal, on run directories recorded from real
// runs (test/dashboard-fixtures.ts): finished, live, with a dead coordinator, and 10,000 tasks.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventLog } from '../../src/coordinator/event-log.js';
import { parseFilter } from '../../src/dashboard/filter.js';
import { describeEvent } from '../../src/presenter/event-text.js';
import { describeAttemptEvent } from '../../src/dashboard/detail.js';
import { RunModel } from '../../src/dashboard/model.js';
import { STATE_STYLE } from '../../src/dashboard/theme.js';
import type { TaskFiles } from '../../src/dashboard/facts.js';
import { RunSource } from '../../src/dashboard/source.js';
import { formatStatus } from '../../src/commands/status.js';
import { statusReport } from '../../src/presenter/status-report.js';
import { readJsonlTail } from '../../src/protocol/follow.js';
import { NotARunError, loadRun, parseEvents } from '../../src/protocol/run-reader.js';
import { RunPaths } from '../../src/protocol/paths.js';
import { replay, TaskStateName } from '../../src/protocol/state.js';
import { PROTOCOL_VERSION } from '../../src/protocol/schemas.js';
import {
  copyWithDeadCoordinator,
  recordFinishedRun,
  startLiveRun,
  writeLargeRun,
  type LiveRun,
} from '../dashboard-fixtures.js';
import { makeWorld, readJsonlFile, type World } from '../helpers.js';

let world: World;
let finished: string;
let live: LiveRun;
let dead: string;
let large: string;

beforeAll(async () => {
  world = makeWorld('swarm-dash-model-');
  [finished, live] = await Promise.all([recordFinishedRun(world), startLiveRun(world)]);
  dead = copyWithDeadCoordinator(live.dir, world.path('dead'));
  large = await writeLargeRun(world.path('large'));
}, 120_000);

afterAll(async () => {
  await live?.finish();
  world?.cleanup();
});

/** A copy of the finished run, for tests that alter it. */
function copyOf(dir: string, name: string): string {
  const to = world.path(name);
  fs.cpSync(dir, to, { recursive: true });
  return to;
}

describe('the dashboard model', () => {
  it('opens a finished run from state.json and shows its outcome, counts and rows', () => {
    const source = RunSource.open(finished);
    expect(source.openStats).toEqual({ mode: 'snapshot', applied: 0 });
    const m = source.model;
    const h = m.header(Date.now());
    expect(h).toMatchObject({
      phase: 'finished',
      outcome: 'failed',
      done: 6,
      total: 6,
      liveness: 'stopped',
      resumeCommand: null,
      goal: 'dashboard fixture',
      branch: null,
      usage: null,
      budget: null,
    });
    expect(h.counts).toMatchObject({ succeeded: 4, failed: 1, skipped: 1 });
    expect(h.elapsedMs).toBeGreaterThan(0);
    expect(h.criticalTotal).toBeGreaterThan(0);
    const now = Date.now();
    expect(m.row('flaky', now)).toMatchObject({
      state: 'succeeded',
      glyph: '✓',
      attempts: 2,
      note: null,
      cost_usd: null,
    });
    expect(m.row('fail', now)).toMatchObject({
      state: 'failed',
      glyph: '✗',
      tone: 'bad',
      attempts: 2,
      note: 'exited with code 3',
    });
    expect(m.row('after-fail', now)).toMatchObject({
      state: 'skipped',
      attempts: 0,
      note: 'fail did not succeed',
      duration_ms: null,
    });
    expect(m.row('fetch', now)).toMatchObject({ title: 'Fetch the inputs', critical: true, wave: 0 });
    // Grouped by wave, plan order within a wave.
    expect(m.lines(null)).toEqual([
      { kind: 'wave', wave: 0 },
      { kind: 'task', id: 'fetch' },
      { kind: 'task', id: 'fail' },
      { kind: 'wave', wave: 1 },
      { kind: 'task', id: 'flaky' },
      { kind: 'task', id: 'bounded' },
      { kind: 'task', id: 'after-fail' },
      { kind: 'wave', wave: 2 },
      { kind: 'task', id: 'report' },
    ]);
    expect(m.wave(0)).toEqual({ wave: 0, total: 2, done: 2, running: 0, failed: 1 });
    // The feed starts with the events already in state.json.
    expect(m.feed().at(-1)).toMatchObject({ text: 'run finished: failed', tone: 'bad' });
    expect(m.workerRows(now).every((w) => w.state === 'exited')).toBe(true);
  });

  it('shows the same rows as a full replay of the log (loadRun, as swarm status reads it)', () => {
    const fast = RunSource.open(finished).model;
    const full = RunModel.fromSnapshot(loadRun(finished));
    const now = Date.now();
    for (const t of full.plan.tasks) expect(fast.row(t.id, now)).toEqual(full.row(t.id, now));
    expect(fast.state).toEqual(full.state);
  });

  it('applies only the events after state.json, and tails the log from a byte offset, waiting out a torn line', () => {
    const dir = copyOf(finished, 'lagging');
    const paths = new RunPaths(dir);
    const lines = fs.readFileSync(paths.eventsJsonl, 'utf8').split('\n').filter(Boolean);
    const events = parseEvents(
      paths.eventsJsonl,
      lines.map((l) => JSON.parse(l)),
    );
    // state.json lags the log by 10 events (it is throttled), and the log ends in a torn line.
    fs.writeFileSync(paths.stateJson, JSON.stringify(replay(events.slice(0, 10))) + '\n');
    const torn = lines[20]!;
    fs.writeFileSync(paths.eventsJsonl, lines.slice(0, 20).join('\n') + '\n' + torn.slice(0, 15));
    const source = RunSource.open(dir);
    expect(source.openStats).toEqual({ mode: 'snapshot', applied: 10 });
    expect(source.model.state.last_seq).toBe(20);
    expect(source.model.feed().map((f) => f.seq)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));

    fs.appendFileSync(paths.eventsJsonl, torn.slice(15) + '\n');
    expect(source.poll()).toBe(true);
    expect(source.model.state.last_seq).toBe(21);
    fs.appendFileSync(paths.eventsJsonl, lines.slice(21).join('\n') + '\n');
    source.poll();
    expect(source.model.state).toEqual(replay(events));
    expect(source.model.error).toBeNull();
  });

  it('replays from seq 1 when state.json is missing or does not continue the log', () => {
    const missing = copyOf(finished, 'no-state');
    fs.rmSync(path.join(missing, 'state.json'));
    const a = RunSource.open(missing);
    expect(a.openStats.mode).toBe('replay');
    expect(a.model.state.phase).toBe('finished');

    const other = copyOf(finished, 'foreign-state');
    const s = JSON.parse(fs.readFileSync(path.join(other, 'state.json'), 'utf8')) as { last_seq: number };
    s.last_seq += 5; // a snapshot the log does not reach
    fs.writeFileSync(path.join(other, 'state.json'), JSON.stringify(s));
    const b = RunSource.open(other);
    expect(b.openStats.mode).toBe('replay');
    expect(b.model.state).toEqual(loadRun(finished).state);
  });

  it('reports a broken log instead of following it', () => {
    const dir = copyOf(finished, 'broken');
    const source = RunSource.open(dir);
    const last = source.model.state.last_seq;
    fs.appendFileSync(
      path.join(dir, 'events.jsonl'),
      JSON.stringify({ seq: last + 2, at: new Date().toISOString(), type: 'run.unpaused' }) + '\n',
    );
    source.poll();
    expect(source.model.error).toMatch(/event log gap: expected seq \d+, got \d+; no longer following the log/);
    expect(source.model.header(Date.now()).error).toBe(source.model.error);
  });

  it('shows a live run: the running task, its activity from status.json, busy workers', () => {
    const source = RunSource.open(live.dir);
    const m = source.model;
    const now = Date.now();
    const h = m.header(now);
    expect(h).toMatchObject({ phase: 'running', liveness: 'alive', resumeCommand: null, done: 1, total: 3 });
    expect(h.coordinator).toMatch(/^coordinator alive \(pid \d+\)$/);
    expect(m.running()).toEqual(['wait']);
    expect(m.live.get('wait')).toMatchObject({
      attempt: 1,
      state: 'running',
      activity: 'waiting for release',
      usage: null,
    });
    const row = m.row('wait', now);
    expect(row).toMatchObject({ state: 'running', glyph: '▶', worker: expect.stringMatching(/^w\d$/), attempts: 1 });
    expect(row.duration_ms).toBeGreaterThan(0);
    const workers = m.workerRows(now);
    expect(workers.find((w) => w.task === 'wait')).toMatchObject({
      state: 'busy',
      attempt: 1,
      stale: false,
      tone: 'active',
    });
    // The detail of the running task: its live output.
    const detail = m.detail('wait', source.readTask('wait'), now).map((l) => l.text);
    expect(detail).toContain('   waiting for release');
    // Its newest output line is the one the detail pane keeps in view (the anchor).
    expect(
      m
        .detail('wait', source.readTask('wait'), now)
        .filter((l) => l.anchor)
        .map((l) => l.text),
    ).toEqual(['   waiting for release']);
    expect(detail.find((l) => l.startsWith('── #1 running'))).toBeDefined();
  });

  it('shows a dead coordinator and the command that continues the run', () => {
    const m = RunSource.open(dead).model;
    const h = m.header(Date.now());
    expect(h.liveness).toBe('dead');
    expect(h.coordinator).toMatch(/^coordinator DEAD \(pid \d+ is gone\)$/);
    expect(h.resumeCommand).toBe(`swarm resume ${dead}`);
    expect(h.phase).toBe('running');
    // Elapsed time stops at the dead coordinator's last heartbeat.
    const a = m.header(Date.now()).elapsedMs;
    const b = m.header(Date.now() + 60_000).elapsedMs;
    expect(b).toBe(a);
  });

  it("details a task's attempts newest first: output, earlier failures, stderr", () => {
    const source = RunSource.open(finished);
    const m = source.model;
    const flaky = m.detail('flaky', source.readTask('flaky'), Date.now()).map((l) => l.text);
    const second = flaky.findIndex((l) => l.startsWith('── #2 succeeded'));
    const first = flaky.findIndex((l) => l.startsWith('── #1 failed (exit-non-zero)'));
    expect(second).toBeGreaterThan(0);
    expect(first).toBeGreaterThan(second);
    expect(flaky).toContain('   try 2');
    expect(flaky).toContain('deps: ✓ fetch');
    expect(flaky).toContain('dependents: report');
    const fail = m.detail('fail', source.readTask('fail'), Date.now()).map((l) => l.text);
    expect(fail).toContain('   oops');
    expect(fail).toContain('   exited with code 3');
    const bounded = m.detail('bounded', undefined, Date.now()).map((l) => l.text);
    expect(bounded).toContain('Bounded work.');
    expect(bounded).toContain('It has a second line.');
    const skipped = m.detail('after-fail', source.readTask('after-fail'), Date.now()).map((l) => l.text);
    expect(skipped).toContain('skipped: fail did not succeed');
    // The full log (pager) has every attempt.
    const log = source.readLog('flaky').map((l) => l.text);
    expect(log.filter((l) => l.startsWith('════ attempt'))).toHaveLength(2);
    expect(log).toContain('try 1');
  });

  it('filters tasks by state names, prefixes and text', () => {
    const m = RunSource.open(finished).model;
    const ids = (input: string): string[] =>
      m.lines(parseFilter(input)).flatMap((l) => (l.kind === 'task' ? [l.id] : []));
    expect(parseFilter('  ')).toBeNull();
    expect(ids('failed')).toEqual(['fail']);
    expect(ids('fail')).toEqual(['fail']); // a prefix of a state name
    expect(ids('skip succ')).toEqual(['fetch', 'flaky', 'bounded', 'after-fail', 'report']);
    expect(ids('inputs')).toEqual(['fetch']); // title text
    expect(ids('succeeded re')).toEqual(['report']);
    expect(m.lines(parseFilter('nothing-matches'))).toEqual([]);
  });

  it('reads usage, cost and budget once the protocol has them, and shows blanks before', () => {
    const dir = copyOf(finished, 'with-usage');
    const before = RunSource.open(dir).model;
    expect(before.header(Date.now()).usage).toBeNull();
    expect(before.row('fetch', Date.now()).cost_usd).toBeNull();
    // The fields the LLM backends add (state.json `usage`, `budget`, per-task `usage`).
    const stateFile = path.join(dir, 'state.json');
    const s = JSON.parse(fs.readFileSync(stateFile, 'utf8')) as Record<string, unknown> & {
      tasks: Record<string, Record<string, unknown>>;
    };
    const usage = (cost: number, tokens: number): Record<string, number> => ({
      input_tokens: tokens,
      output_tokens: tokens / 2,
      cache_read_tokens: 7,
      cache_write_tokens: 0,
      cost_usd: cost,
    });
    s.usage = usage(1.5, 1000);
    s.budget = { max_cost_usd: 10, max_tokens: null, exhausted: false };
    s.tasks.fetch!.usage = usage(0.25, 200);
    const m = new RunModel({
      dir,
      run: before.run,
      plan: {
        protocol: PROTOCOL_VERSION,
        tasks: [...before.plan.tasks],
        critical_path: [...before.plan.criticalPath],
        waves: before.plan.waves.length,
        planner: null,
      },
      state: s as never,
    });
    const h = m.header(Date.now());
    expect(h.usage).toEqual({
      input_tokens: 1000,
      output_tokens: 500,
      cache_read_tokens: 7,
      cache_write_tokens: 0,
      cost_usd: 1.5,
    });
    expect(h.budget).toEqual({ max_cost_usd: 10, max_tokens: null, exhausted: false });
    expect(m.row('fetch', Date.now()).cost_usd).toBe(0.25);
    expect(m.row('flaky', Date.now()).cost_usd).toBeNull();
    // A budget event (a type this branch's schema does not have yet) is described, not dropped.
    expect(
      describeEvent({
        seq: 1,
        at: new Date().toISOString(),
        type: 'budget.warning',
        percent: 80,
        cost_usd: 8,
        tokens: 5000,
      } as never),
    ).toEqual({ text: 'budget 80% used ($8.00, 5000 tokens)', tone: 'warn' });
  });

  it('adds a running attempt’s usage so far (status.json) to its task and to the run', () => {
    const source = RunSource.open(live.dir);
    const m = source.model;
    m.setLive('wait', {
      attempt: 1,
      state: 'running',
      started_at: null,
      heartbeat_at: null,
      turn: 3,
      activity: 'edit',
      usage: { input_tokens: 10, output_tokens: 5, cache_read_tokens: 0, cache_write_tokens: 0, cost_usd: 0.02 },
    });
    expect(m.row('wait', Date.now()).cost_usd).toBe(0.02);
    expect(m.header(Date.now()).usage?.cost_usd).toBe(0.02);
    m.setLive('quick', {
      attempt: 1,
      state: 'running',
      started_at: null,
      heartbeat_at: null,
      turn: null,
      activity: null,
      usage: null,
    });
    expect(m.live.has('quick')).toBe(false); // not running: ignored
  });

  it("shows a running agent's current step in its row and in swarm status, with its spend so far", () => {
    // The dead-coordinator copy: its task `wait` is running, and its status.json is ours to edit.
    const dir = copyWithDeadCoordinator(live.dir, world.path('agent-step'));
    const status = path.join(dir, 'tasks/wait/1/status.json');
    const usage = { input_tokens: 100, output_tokens: 50, cache_read_tokens: 0, cache_write_tokens: 0, cost_usd: 0.25 };
    fs.writeFileSync(
      status,
      JSON.stringify({
        ...JSON.parse(fs.readFileSync(status, 'utf8')),
        turn: 4,
        activity: 'edit_file src/a.ts',
        usage,
      }),
    );
    expect(RunSource.open(dir).model.row('wait', Date.now()).activity).toBe('edit_file src/a.ts');
    const report = statusReport(loadRun(dir));
    expect(report.tasks.find((t) => t.id === 'wait')).toMatchObject({ activity: 'edit_file src/a.ts', cost_usd: 0.25 });
    expect(report.usage?.cost_usd).toBe(0.25);
    expect(formatStatus(report)).toMatch(/^wait +running .* on w\d+: edit_file src\/a\.ts$/m);
    // A command's status.json has no turn: its last output line stays in the detail pane, not the row.
    fs.writeFileSync(
      status,
      JSON.stringify({ ...JSON.parse(fs.readFileSync(status, 'utf8')), turn: null, activity: 'waiting for release' }),
    );
    expect(RunSource.open(dir).model.row('wait', Date.now()).activity).toBeNull();
  });

  it("formats an agent attempt's events: messages, tool calls and results, errors", () => {
    expect(describeAttemptEvent({ type: 'message', text: 'I will fix the test.\nMore.' })).toEqual({
      text: '» I will fix the test.',
      tone: 'normal',
    });
    expect(describeAttemptEvent({ type: 'tool_call', name: 'edit', input: { path: 'a.ts' } })).toEqual({
      text: '→ edit {"path":"a.ts"}',
      tone: 'active',
    });
    expect(describeAttemptEvent({ type: 'tool_result', name: 'bash', is_error: true, output: 'exit 1' })).toEqual({
      text: '✗ bash: exit 1',
      tone: 'bad',
    });
    expect(
      describeAttemptEvent({ type: 'tool_result', name: 'bash', is_error: false, output: '\u001b[32mok\u001b[0m' }),
    ).toEqual({ text: '← bash: ok', tone: 'muted' });
    expect(describeAttemptEvent({ type: 'usage', input_tokens: 3 })).toBeNull();
    // A turn's usage: its text, muted (the pager shows it; the detail pane's activity leaves muted lines out).
    expect(
      describeAttemptEvent({
        type: 'usage',
        text: 'turn 1: 0 in, 1025 cache read, 112 cache write, 28 out, $0.0008',
        usage: {},
      }),
    ).toEqual({ text: 'turn 1: 0 in, 1025 cache read, 112 cache write, 28 out, $0.0008', tone: 'muted' });
    expect(describeAttemptEvent({ type: 'log', text: 'exited with code 0' })).toEqual({
      text: 'exited with code 0',
      tone: 'muted',
    });
    // Agent events replace stdout as the live activity of an attempt.
    const m = RunSource.open(finished).model;
    const files: TaskFiles = {
      task: 'report',
      attempts: [
        {
          attempt: 1,
          assignment: null,
          status: null,
          result: null,
          events: [
            { type: 'log', text: 'started' },
            { type: 'tool_call', name: 'read', input: 'x' },
          ],
          stdout: ['ignored'],
          stderr: [],
          verify: [],
        },
      ],
    };
    const text = m.detail('report', files, Date.now()).map((l) => l.text);
    expect(text).toContain('   → read x');
    expect(text).not.toContain('   ignored');
    // A running attempt's activity comes before the task's description (a small pane shows it first).
    const bounded = m.detail('bounded', { ...files, task: 'bounded' }, Date.now()).map((l) => l.text);
    expect(bounded.indexOf('   → read x')).toBeGreaterThan(0);
    expect(bounded.indexOf('   → read x')).toBeLessThan(bounded.indexOf('the task:'));
    expect(bounded.slice(bounded.indexOf('the task:') + 1)).toEqual(['Bounded work.', 'It has a second line.']);
    // No line is anchored: the state does not have this attempt in flight (bounded succeeded).
    expect(m.detail('bounded', { ...files, task: 'bounded' }, Date.now()).some((l) => l.anchor)).toBe(false);
  });

  it('tracks its control requests until the coordinator applies them', () => {
    const dir = copyWithDeadCoordinator(finished, world.path('requests'));
    const source = RunSource.open(dir);
    const m = source.model;
    const id = 'REQUEST0000000000000000001';
    m.trackRequest(id, 'pause', null, new Date().toISOString());
    expect(m.lastRequest()).toMatchObject({ status: 'pending' });
    fs.mkdirSync(source.paths.controlDoneDir, { recursive: true });
    fs.writeFileSync(source.paths.controlDone(id), '{}');
    source.poll();
    expect(m.lastRequest()?.status).toBe('archived');
    // The coordinator's record of it, appended by the coordinator's own writer.
    const log = new EventLog(source.paths, loadRun(dir).state);
    log.append({
      type: 'control.applied',
      request: id,
      action: 'pause',
      task: null,
      by: 'dashboard',
      accepted: false,
      message: 'the run is finished, not running',
    });
    void log.close();
    source.poll();
    expect(m.lastRequest()).toMatchObject({ status: 'rejected', message: 'the run is finished, not running' });
  });

  it('describes every event type of the log in one line', () => {
    const events = readJsonlFile(path.join(finished, 'events.jsonl'));
    const parsed = parseEvents('events.jsonl', events);
    const described = parsed.map((e) => describeEvent(e));
    expect(described.every((d) => d.text.length > 0 && !d.text.includes('\n'))).toBe(true);
    expect(described.map((d) => d.text)).toContain('✗ fail failed (exit-non-zero)');
    expect(described.map((d) => d.text)).toContain('– after-fail skipped: fail did not succeed');
    expect(Object.keys(STATE_STYLE)).toEqual(TaskStateName.options);
  });

  it('opens a 10,000-task run from its snapshot and builds any window of rows', () => {
    const t0 = performance.now();
    const source = RunSource.open(large);
    const openMs = performance.now() - t0;
    const m = source.model;
    expect(source.openStats.mode).toBe('snapshot');
    expect(m.plan.tasks).toHaveLength(10_000);
    const h = m.header(Date.now());
    expect(h.total).toBe(10_000);
    expect(h.done).toBe(h.counts.succeeded + h.counts.failed + h.counts.skipped + h.counts.cancelled);
    expect(h.counts.failed).toBeGreaterThan(0);
    const t1 = performance.now();
    const lines = m.lines(null);
    const rows = lines.slice(-40).flatMap((l) => (l.kind === 'task' ? [m.row(l.id, Date.now())] : []));
    const windowMs = performance.now() - t1;
    expect(lines.length).toBe(10_000 + m.plan.waves.length);
    expect(rows.at(-1)?.id).toBe(m.plan.tasks.filter((t) => t.wave === m.plan.waves.length - 1).at(-1)?.id);
    const failed = m.lines(parseFilter('failed')).filter((l) => l.kind === 'task');
    expect(failed).toHaveLength(h.counts.failed);
    // Not a timing test: the numbers are for the reader (bench/dashboard.ts measures properly).
    console.log(
      `10,000 tasks: opened in ${openMs.toFixed(0)} ms (${source.openStats.applied} events after the snapshot); lines + last window in ${windowMs.toFixed(1)} ms`,
    );
  });

  it('refuses a directory that is not a run', () => {
    expect(() => RunSource.open(world.path('nowhere'))).toThrow(NotARunError);
    fs.mkdirSync(world.path('empty'));
    expect(() => RunSource.open(world.path('empty'))).toThrow(/not a run directory \(no run.json\)/);
  });
});

describe('readJsonlTail', () => {
  it('reads backwards only as far as asked, from whole lines, and leaves a torn line', () => {
    const w = makeWorld('swarm-tail-');
    try {
      const file = w.path('log.jsonl');
      const lines = Array.from({ length: 5000 }, (_, i) => JSON.stringify({ seq: i + 1, pad: 'x'.repeat(i % 97) }));
      fs.writeFileSync(file, lines.join('\n') + '\n{"seq":5001,"pa');
      const size = fs.statSync(file).size;
      const tail = readJsonlTail(file, (r) => (r[0] as { seq: number }).seq <= 4900);
      expect(tail.fromStart).toBe(false);
      expect(tail.offset).toBe(size - '{"seq":5001,"pa'.length);
      const seqs = tail.records.map((r) => (r as { seq: number }).seq);
      expect(seqs.at(-1)).toBe(5000);
      expect(seqs[0]).toBeLessThanOrEqual(4900);
      expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => seqs[0]! + i));
      expect(seqs.length).toBeLessThan(3000); // did not read the whole file
      const all = readJsonlTail(file, () => false);
      expect(all.fromStart).toBe(true);
      expect(all.records).toHaveLength(5000);
      expect(readJsonlTail(w.path('missing.jsonl'), () => true)).toEqual({ records: [], offset: 0, fromStart: true });
    } finally {
      w.cleanup();
    }
  });
});
