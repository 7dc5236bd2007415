// The state reducer (events.jsonl → state.json) and the JSONL reader that tolerates torn lines.
import fs from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { NewEvent, SwarmEvent } from '../../src/protocol/events.js';
import { readJsonl, truncateTornTail } from '../../src/protocol/jsonl.js';
import type { Usage } from '../../src/protocol/schemas.js';
import { applyEvent, initialState, replay, StateSchema, type RunState } from '../../src/protocol/state.js';
import { makeWorld, type World } from '../helpers.js';

/** Numbers events from seq 1, one second apart. */
function numbered(events: NewEvent[]): SwarmEvent[] {
  return events.map(
    (e, i) => ({ ...e, seq: i + 1, at: new Date(Date.UTC(2025, 0, 1, 0, 0, i)).toISOString() }) as SwarmEvent,
  );
}

/** A usage of `usd` dollars and 1000 tokens of each kind. */
const U = (usd: number): Usage => ({
  input_tokens: 1000,
  output_tokens: 1000,
  cache_read_tokens: 1000,
  cache_write_tokens: 1000,
  cost_usd: usd,
});

const at = (i: number): string => new Date(Date.UTC(2025, 0, 1, 0, 0, i)).toISOString();

// A run of a → b → c plus an independent d: a succeeds; b fails once, is retried, fails again;
// c is skipped because of b; d is cancelled while ready; the run finishes failed.
const story: NewEvent[] = [
  {
    type: 'run.started',
    run_id: 'run-1',
    goal: 'test',
    pid: 100,
    host: 'h',
    base_commit: null,
    integration_branch: null,
    budget: { max_cost_usd: 2, max_tokens: null },
    planner_usage: U(0.25),
  }, // 1
  { type: 'plan.created', tasks: ['a', 'b', 'c', 'd'], waves: 3, critical_path: ['a', 'b', 'c'] }, // 2
  { type: 'task.ready', task: 'a', not_before: null }, // 3
  { type: 'task.ready', task: 'd', not_before: null }, // 4
  { type: 'attempt.assigned', task: 'a', attempt: 1, worker: 'w1' }, // 5
  { type: 'attempt.started', task: 'a', attempt: 1, worker: 'w1' }, // 6
  { type: 'task.cancelled', task: 'd' }, // 7
  {
    type: 'attempt.finished',
    task: 'a',
    attempt: 1,
    outcome: 'succeeded',
    reason: 'exit-zero',
    exit_code: 0,
    duration_ms: 1000,
    summary: 'ok',
    usage: U(0.5),
  }, // 8
  { type: 'task.succeeded', task: 'a' }, // 9
  { type: 'task.ready', task: 'b', not_before: null }, // 10
  { type: 'attempt.assigned', task: 'b', attempt: 1, worker: 'w2' }, // 11
  {
    type: 'attempt.finished',
    task: 'b',
    attempt: 1,
    outcome: 'failed',
    reason: 'exit-non-zero',
    exit_code: 1,
    duration_ms: 500,
    summary: 'exit 1',
    usage: null,
  }, // 12
  { type: 'task.ready', task: 'b', not_before: at(20) }, // 13
  { type: 'attempt.assigned', task: 'b', attempt: 2, worker: 'w1' }, // 14
  {
    type: 'attempt.finished',
    task: 'b',
    attempt: 2,
    outcome: 'failed',
    reason: 'exit-non-zero',
    exit_code: 2,
    duration_ms: 400,
    summary: 'exit 2',
    usage: null,
  }, // 15
  { type: 'task.failed', task: 'b', reason: 'exit-non-zero' }, // 16
  { type: 'task.skipped', task: 'c', because: 'b' }, // 17
  { type: 'run.finished', outcome: 'failed' }, // 18
];

describe('the state reducer', () => {
  it('starts with no tasks and no events', () => {
    const s = initialState();
    expect(s).toMatchObject({ last_seq: 0, phase: 'starting', outcome: null, tasks: {} });
    expect(Object.values(s.counts).every((n) => n === 0)).toBe(true);
  });

  it('counts every task in exactly one state after a sequence of events', () => {
    const s = replay(numbered(story));
    expect(s.counts).toEqual({
      pending: 0,
      ready: 0,
      running: 0,
      verifying: 0,
      succeeded: 1,
      failed: 1,
      skipped: 1,
      cancelled: 1,
    });
    expect(Object.fromEntries(Object.entries(s.tasks).map(([id, t]) => [id, t.state]))).toEqual({
      a: 'succeeded',
      b: 'failed',
      c: 'skipped',
      d: 'cancelled',
    });
    expect(s).toMatchObject({
      run_id: 'run-1',
      last_seq: story.length,
      phase: 'finished',
      outcome: 'failed',
      started_at: at(0),
      finished_at: at(17),
    });
  });

  it('keeps each state count equal to the number of tasks in that state after every event', () => {
    const s = initialState();
    for (const e of numbered(story)) {
      applyEvent(s, e);
      const actual: Record<string, number> = {
        pending: 0,
        ready: 0,
        running: 0,
        verifying: 0,
        succeeded: 0,
        failed: 0,
        skipped: 0,
        cancelled: 0,
      };
      for (const t of Object.values(s.tasks)) actual[t.state]!++;
      expect(s.counts).toEqual(actual);
    }
  });

  it('records attempts, failures, the last outcome and why a task was skipped', () => {
    const s = replay(numbered(story));
    expect(s.tasks.a).toMatchObject({ attempts: 1, failures: 0, current: null, started_at: at(4), finished_at: at(8) });
    expect(s.tasks.b).toMatchObject({
      attempts: 2,
      failures: 2,
      lost: 0,
      current: null,
      not_before: null,
      last: {
        attempt: 2,
        outcome: 'failed',
        reason: 'exit-non-zero',
        exit_code: 2,
        duration_ms: 400,
        summary: 'exit 2',
      },
    });
    expect(s.tasks.c).toMatchObject({ state: 'skipped', skipped_because: 'b', attempts: 0 });
  });

  it('sums usage per task and for the run (planner included) and records budget events', () => {
    const s = replay(numbered(story));
    expect(s.tasks.a!.usage).toEqual(U(0.5));
    expect(s.tasks.b!.usage.cost_usd).toBe(0);
    expect(s.usage).toEqual({
      input_tokens: 2000,
      output_tokens: 2000,
      cache_read_tokens: 2000,
      cache_write_tokens: 2000,
      cost_usd: 0.75,
    });
    expect(s.budget).toEqual({ max_cost_usd: 2, max_tokens: null, exhausted: false, warned: [] });
    const more = replay(
      numbered([
        ...story,
        { type: 'budget.warning', percent: 50, cost_usd: 1, tokens: 10 },
        { type: 'budget.exhausted', cost_usd: 1.99, tokens: 10, max_cost_usd: 2, max_tokens: null },
      ]),
    );
    expect(more.budget).toEqual({ max_cost_usd: 2, max_tokens: null, exhausted: true, warned: [50] });
    const raised = replay(
      numbered([
        ...story,
        { type: 'budget.exhausted', cost_usd: 2, tokens: 0, max_cost_usd: 2, max_tokens: null },
        { type: 'budget.changed', max_cost_usd: 5, max_tokens: 1000 },
      ]),
    );
    expect(raised.budget).toEqual({ max_cost_usd: 5, max_tokens: 1000, exhausted: false, warned: [] });
  });

  it('does not count an attempt stopped by the run budget as a failure', () => {
    const s = replay(
      numbered([
        ...story.slice(0, 2),
        { type: 'task.ready', task: 'a', not_before: null },
        { type: 'attempt.assigned', task: 'a', attempt: 1, worker: 'w1' },
        {
          type: 'attempt.finished',
          task: 'a',
          attempt: 1,
          outcome: 'failed',
          reason: 'budget-exhausted',
          exit_code: null,
          duration_ms: 5,
          summary: 'cap',
          usage: U(1),
        },
      ]),
    );
    expect(s.tasks.a).toMatchObject({ failures: 0, usage: U(1) });
  });

  it('tracks the attempt in flight and a retry waiting out its backoff', () => {
    const events = numbered(story);
    const running = replay(events.slice(0, 6));
    expect(running.tasks.a!.current).toEqual({ attempt: 1, worker: 'w1', assigned_at: at(4), started_at: at(5) });
    expect(running.counts).toMatchObject({ running: 1, ready: 1, pending: 2 });

    const backingOff = replay(events.slice(0, 13));
    expect(backingOff.tasks.b).toMatchObject({ state: 'ready', not_before: at(20), failures: 1, current: null });
  });

  it('does not count a worker-lost attempt as a failure', () => {
    const s = replay(
      numbered([
        ...story.slice(0, 2),
        { type: 'task.ready', task: 'a', not_before: null },
        { type: 'attempt.assigned', task: 'a', attempt: 1, worker: 'w1' },
        {
          type: 'attempt.finished',
          task: 'a',
          attempt: 1,
          outcome: 'failed',
          reason: 'worker-lost',
          exit_code: null,
          duration_ms: null,
          summary: 'lost',
          usage: null,
        },
      ]),
    );
    expect(s.tasks.a).toMatchObject({ failures: 0, lost: 1 });
  });

  it('puts a failed task back to pending on task.reset and reopens a finished run', () => {
    const events = numbered([...story, { type: 'task.reset', task: 'b' }]);
    const s = replay(events);
    expect(s.tasks.b).toMatchObject({
      state: 'pending',
      failures: 0,
      lost: 0,
      finished_at: null,
      not_before: null,
      attempts: 2,
    });
    expect(s.counts).toMatchObject({ failed: 0, pending: 1 });
    expect(s.phase).toBe('running');
  });

  it('puts a skipped task back to pending on task.reset and forgets why it was skipped', () => {
    const s = replay(numbered([...story, { type: 'task.reset', task: 'c' }]));
    expect(s.tasks.c).toMatchObject({ state: 'pending', skipped_because: null });
  });

  it('follows pause, unpause and resume', () => {
    const base = story.slice(0, 2);
    expect(replay(numbered([...base, { type: 'run.paused', reason: 'control' }])).phase).toBe('paused');
    expect(replay(numbered([...base, { type: 'run.paused', reason: 'interrupt' }])).phase).toBe('stopping');
    expect(replay(numbered([...base, { type: 'run.paused', reason: 'control' }, { type: 'run.unpaused' }])).phase).toBe(
      'running',
    );
    const resumed = replay(numbered([...story, { type: 'run.resumed', pid: 1, host: 'h', retry_failed: true }]));
    expect(resumed).toMatchObject({ phase: 'running', outcome: null, finished_at: null, resumes: 1 });
  });

  it('throws on a gap in seq', () => {
    const [first, second] = numbered(story);
    const s = applyEvent(initialState(), first!);
    expect(() => applyEvent(s, { ...second!, seq: 3 })).toThrow(/gap: expected seq 2, got 3/);
  });

  it('throws on a repeated seq', () => {
    const [first] = numbered(story);
    const s = applyEvent(initialState(), first!);
    expect(() => applyEvent(s, first!)).toThrow(/gap/);
  });

  it('throws on an event about a task the plan does not have', () => {
    const events = numbered([...story.slice(0, 2), { type: 'task.ready', task: 'zzz', not_before: null }]);
    expect(() => replay(events)).toThrow(/unknown task "zzz"/);
  });

  it('replays the log to the same state as applying the events one by one', () => {
    const events = numbered([
      ...story,
      { type: 'task.reset', task: 'b' },
      { type: 'run.resumed', pid: 2, host: 'h', retry_failed: true },
    ]);
    const oneByOne: RunState = initialState();
    for (const e of events) applyEvent(oneByOne, e);
    expect(replay(events)).toEqual(oneByOne);
  });

  it('produces a state that survives a JSON round trip and matches the state.json schema', () => {
    const s = replay(numbered(story));
    const roundTrip = JSON.parse(JSON.stringify(s)) as unknown;
    expect(roundTrip).toEqual(s);
    expect(StateSchema.parse(roundTrip)).toEqual(s);
  });
});

describe('readJsonl', () => {
  let world: World;
  let file: string;
  beforeEach(() => {
    world = makeWorld('swarm-jsonl-');
    file = world.path('events.jsonl');
  });
  afterEach(() => world.cleanup());

  it('reads every complete line', () => {
    fs.writeFileSync(file, '{"n":1}\n{"n":2}\n');
    expect(readJsonl(file)).toEqual({ records: [{ n: 1 }, { n: 2 }], offset: 16, torn: false });
  });

  it('ignores a torn last line and returns the byte offset before it', () => {
    const complete = '{"n":1,"s":"é"}\n{"n":2}\n';
    fs.writeFileSync(file, complete + '{"n":3,"s":');
    const chunk = readJsonl(file);
    expect(chunk.records).toEqual([{ n: 1, s: 'é' }, { n: 2 }]);
    expect(chunk.offset).toBe(Buffer.byteLength(complete));
    expect(chunk.torn).toBe(true);
  });

  it('reads on from an offset, picking up the line once it is complete', () => {
    fs.writeFileSync(file, '{"n":1}\n{"n":');
    const first = readJsonl(file);
    fs.appendFileSync(file, '2}\n{"n":3}\n');
    const next = readJsonl(file, first.offset);
    expect(next.records).toEqual([{ n: 2 }, { n: 3 }]);
    expect(next.offset).toBe(fs.statSync(file).size);
    expect(next.torn).toBe(false);
  });

  it('returns nothing new when nothing was appended since the offset', () => {
    fs.writeFileSync(file, '{"n":1}\n');
    const { offset } = readJsonl(file);
    expect(readJsonl(file, offset)).toEqual({ records: [], offset, torn: false });
  });

  it('skips blank lines', () => {
    fs.writeFileSync(file, '{"n":1}\n\n{"n":2}\n');
    expect(readJsonl(file).records).toEqual([{ n: 1 }, { n: 2 }]);
  });

  it('reads a missing file as empty', () => {
    expect(readJsonl(world.path('missing.jsonl'))).toEqual({ records: [], offset: 0, torn: false });
  });

  it('throws a SyntaxError naming the byte offset of a complete line that is not JSON', () => {
    fs.writeFileSync(file, '{"n":1}\nnot json\n');
    expect(() => readJsonl(file)).toThrow(SyntaxError);
    expect(() => readJsonl(file)).toThrow(/bad JSON line at byte 8/);
  });
});

describe('truncateTornTail', () => {
  let world: World;
  beforeEach(() => {
    world = makeWorld('swarm-jsonl-');
  });
  afterEach(() => world.cleanup());

  it('cuts a torn last line off, so the next append starts on a fresh line', () => {
    const file = world.write('events.jsonl', '{"n":1}\n{"n":2}\n{"n":3,');
    expect(truncateTornTail(file)).toBe(true);
    expect(fs.readFileSync(file, 'utf8')).toBe('{"n":1}\n{"n":2}\n');
    fs.appendFileSync(file, '{"n":4}\n');
    expect(readJsonl(file).records).toEqual([{ n: 1 }, { n: 2 }, { n: 4 }]);
  });

  it('leaves a file without a torn line untouched', () => {
    const file = world.write('events.jsonl', '{"n":1}\n');
    expect(truncateTornTail(file)).toBe(false);
    expect(fs.readFileSync(file, 'utf8')).toBe('{"n":1}\n');
  });

  it('finds the last newline before a torn line longer than the part of the file it reads at once', () => {
    const long = `{"n":2,"pad":"${'x'.repeat(200_000)}`;
    const file = world.write('events.jsonl', `{"n":1}\n${long}`);
    expect(truncateTornTail(file)).toBe(true);
    expect(fs.readFileSync(file, 'utf8')).toBe('{"n":1}\n');
    world.write('events2.jsonl', `${long}"}\n`);
    expect(truncateTornTail(world.path('events2.jsonl'))).toBe(false);
  });

  it('empties a file whose only line is torn', () => {
    const file = world.write('events.jsonl', '{"n":1');
    expect(truncateTornTail(file)).toBe(true);
    expect(fs.readFileSync(file, 'utf8')).toBe('');
  });
});
