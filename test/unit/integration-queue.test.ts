// The merge queue's decisions, driven through the real reducer: merges land, checks pass or fail
// as a model of the code says, and the queue's steps are applied as the coordinator applies them.
import { describe, expect, it } from 'vitest';
import { heldBack, nextQueueStep, settle, type QueueStep } from '../../src/coordinator/integration-queue.js';
import type { NewEvent, SwarmEvent } from '../../src/protocol/events.js';
import { applyEvent, initialState, type RunState } from '../../src/protocol/state.js';

const BASE = 'base';

/** A run's state with the given tasks, fed events the way the event log does. */
class Run {
  readonly state: RunState = initialState();
  readonly log: SwarmEvent[] = [];
  constructor(tasks: string[]) {
    this.emit({
      type: 'run.started',
      run_id: 'r',
      goal: null,
      pid: 1,
      host: 'h',
      base_commit: BASE,
      integration_branch: 'swarm/r',
      budget: { max_cost_usd: null, max_tokens: null },
      planner_usage: null,
    });
    this.emit({ type: 'plan.created', tasks, waves: 1, critical_path: [] });
  }
  emit(e: NewEvent): void {
    const event = { ...e, seq: this.state.last_seq + 1, at: new Date(0).toISOString() } as SwarmEvent;
    this.log.push(event);
    applyEvent(this.state, event);
  }
  /** A task's attempt `attempt` succeeded and merged; the branch tip becomes `tip`. */
  merge(task: string, attempt: number, tip: string): void {
    this.emit({ type: 'task.ready', task, not_before: null });
    this.emit({ type: 'attempt.assigned', task, attempt, worker: 'w1' });
    this.emit({
      type: 'attempt.finished',
      task,
      attempt,
      outcome: 'succeeded',
      reason: 'exit-zero',
      exit_code: 0,
      duration_ms: 1,
      summary: '',
      usage: null,
    });
    this.emit({ type: 'merge.succeeded', task, attempt, commit: `c-${task}-${attempt}`, tip, files: [] });
    this.emit({ type: 'task.merged', task });
  }
  step(): QueueStep {
    return nextQueueStep(this.state.integration, BASE, this.state.tasks);
  }
}

/**
 * Runs the queue until it is idle, as the coordinator does: a check's verdict comes from `passes`
 * (which tips pass); a rewind remakes the other merges with new tips. Returns the checks run.
 */
function drive(run: Run, passes: (tip: string) => boolean): { tip: string; kind: string }[] {
  const checks: { tip: string; kind: string }[] = [];
  for (let guard = 0; guard < 100; guard++) {
    const step = run.step();
    switch (step.kind) {
      case 'idle':
        return checks;
      case 'base-failed':
        throw new Error(step.summary);
      case 'verified-failed':
        throw new Error(`verified tip failed: ${step.summary}`);
      case 'check': {
        const check = (run.state.integration?.checks ?? 0) + 1;
        run.emit({
          type: 'integration.check.started',
          check,
          tip: step.tip,
          kind: step.check,
          merges: step.merges,
          command: 'test',
        });
        checks.push({ tip: step.tip, kind: step.check });
        const ok = passes(step.tip);
        run.emit({
          type: 'integration.check.finished',
          check,
          tip: step.tip,
          outcome: ok ? 'passed' : 'failed',
          exit_code: ok ? 0 : 1,
          duration_ms: 10,
          summary: ok ? 'passed' : 'failed',
        });
        break;
      }
      case 'verify':
        run.emit({
          type: 'integration.verified',
          tip: step.tip,
          check: step.check,
          tasks: step.merges.map((m) => m.task),
        });
        break;
      case 'culprit': {
        const last = step.verified.at(-1);
        if (last)
          run.emit({
            type: 'integration.verified',
            tip: last.tip,
            check: step.verifiedBy!,
            tasks: step.verified.map((m) => m.task),
          });
        run.emit({
          type: 'integration.culprit',
          task: step.culprit.task,
          attempt: step.culprit.attempt,
          check: step.check,
          tip: step.culprit.tip,
        });
        break;
      }
      case 'rewind': {
        const q = run.state.integration!;
        const kept = q.queue.filter((m) => m.task !== step.culprit.task).map((m) => ({ ...m, tip: `${m.tip}'` }));
        run.emit({
          type: 'integration.rewound',
          from: run.state.git!.tip,
          base: q.verified!.tip,
          to: kept.at(-1)?.tip ?? q.verified!.tip,
          culprit: step.culprit.task,
          kept,
          conflicted: [],
        });
        break;
      }
    }
  }
  throw new Error('the queue did not settle');
}

describe('merge queue decisions', () => {
  it('checks the base first, then verifies a passing batch in one check', () => {
    const run = new Run(['a', 'b', 'c']);
    expect(run.step()).toEqual({ kind: 'check', check: 'base', tip: BASE, merges: 0 });
    drive(run, () => true);
    expect(run.state.integration!.verified).toEqual({ tip: BASE, check: 1 });
    run.merge('a', 1, 't1');
    run.merge('b', 1, 't2');
    run.merge('c', 1, 't3');
    const checks = drive(run, () => true);
    expect(checks).toEqual([{ tip: 't3', kind: 'batch' }]);
    expect(run.state.integration!.verified).toEqual({ tip: 't3', check: 2 });
    expect(run.state.integration!.queue).toEqual([]);
    for (const id of ['a', 'b', 'c']) expect(settle(id, run.state.tasks[id]!, run.state.integration!)).toBe('succeed');
  });

  it('holds a sent-back task until the merges queued before it leave the queue, not until the queue is empty', () => {
    const run = new Run(['a', 'b', 'c']);
    drive(run, () => true);
    run.merge('a', 1, 'ta');
    run.merge('b', 1, 'tab');
    const broken = new Set(['ta', 'tab']);
    let heldWhileOnlyLaterMergesQueued: boolean | undefined;
    drive(run, (tip) => {
      const a = run.state.tasks.a!;
      // a was blamed and taken off; b's merge, queued before, is being checked again.
      if (tip === "tab'") {
        expect(a.held_for).toEqual({ task: 'b', attempt: 1 });
        expect(heldBack(a, run.state.integration)).toBe(true);
        run.merge('c', 1, 'tabc'); // lands during that check
      }
      // b is verified; only c, merged after a was sent back, is in the queue.
      if (tip === 'tabc') heldWhileOnlyLaterMergesQueued = heldBack(a, run.state.integration);
      return !broken.has(tip);
    });
    expect(run.log.filter((e) => e.type === 'integration.culprit').map((e) => (e as { task: string }).task)).toEqual([
      'a',
    ]);
    expect(heldWhileOnlyLaterMergesQueued).toBe(false);
  });

  for (let culprit = 1; culprit <= 4; culprit++) {
    // Three checks (the batch's and two of bisection), and a fourth where the bisection alone would
    // not be evidence enough: merge 1 is blamed only once the verified tip passes again (the
    // environment may have broken since it was verified), merge 4 only once its tip fails again in
    // a check besides the batch's (which may have been a flaky failure).
    const most = culprit === 1 || culprit === 4 ? 4 : 3;
    it(`finds the culprit among four merges (merge ${culprit}) in ${most} checks, and rewinds without it`, () => {
      const run = new Run(['m1', 'm2', 'm3', 'm4']);
      drive(run, () => true);
      for (let i = 1; i <= 4; i++) run.merge(`m${i}`, 1, `t${i}`);
      // A tip is broken once it includes the culprit (t<culprit> and every later tip).
      const broken = (tip: string): boolean => /^t\d$/.test(tip) && Number(tip[1]) >= culprit;
      const checks = drive(run, (tip) => !broken(tip));
      expect(checks[0]).toEqual({ tip: 't4', kind: 'batch' });
      // The failed batch's check and the bisection's: every check started before the culprit was named.
      const named = run.log.findIndex((e) => e.type === 'integration.culprit');
      const before = run.log.slice(0, named).filter((e) => e.type === 'integration.check.started' && e.kind !== 'base');
      expect(before.length).toBe(most);
      const culprits = run.log.filter((e) => e.type === 'integration.culprit');
      expect(culprits.map((e) => (e as { task: string }).task)).toEqual([`m${culprit}`]);
      const t = run.state.tasks[`m${culprit}`]!;
      expect(t.failures).toBe(1);
      expect(settle(`m${culprit}`, t, run.state.integration!)).toBe('culprit');
      // The others are verified: before the culprit by bisection, after it by a check of the rewound branch.
      expect(run.state.integration!.queue).toEqual([]);
      for (let i = 1; i <= 4; i++)
        if (i !== culprit) expect(settle(`m${i}`, run.state.tasks[`m${i}`]!, run.state.integration!)).toBe('succeed');
      const rewound = run.log.find((e) => e.type === 'integration.rewound') as { base: string } | undefined;
      expect(rewound?.base).toBe(culprit === 1 ? BASE : `t${culprit - 1}`);
    });
  }

  it('keeps merges made during a check for the next batch, and bisects only the checked ones', () => {
    const run = new Run(['a', 'b', 'c']);
    drive(run, () => true);
    run.merge('a', 1, 't1');
    run.merge('b', 1, 't2');
    const step = run.step();
    expect(step).toMatchObject({ kind: 'check', check: 'batch', tip: 't2', merges: 2 });
    run.emit({ type: 'integration.check.started', check: 2, tip: 't2', kind: 'batch', merges: 2, command: 'test' });
    run.merge('c', 1, 't3'); // lands while the check runs
    run.emit({
      type: 'integration.check.finished',
      check: 2,
      tip: 't2',
      outcome: 'passed',
      exit_code: 0,
      duration_ms: 1,
      summary: '',
    });
    expect(run.step()).toMatchObject({ kind: 'verify', tip: 't2' });
    const checks = drive(run, () => true);
    expect(checks).toEqual([{ tip: 't3', kind: 'batch' }]);
    expect(run.state.integration!.verified?.tip).toBe('t3');
  });

  it('takes the same next step after any prefix of the log is replayed (a resumed coordinator)', () => {
    const run = new Run(['m1', 'm2', 'm3', 'm4']);
    drive(run, () => true);
    for (let i = 1; i <= 4; i++) run.merge(`m${i}`, 1, `t${i}`);
    drive(run, (tip) => tip !== 't3' && tip !== 't4');
    // Replaying every prefix gives a state whose next step is the step the live run took next.
    for (let n = 1; n < run.log.length; n++) {
      const replayed = initialState();
      for (const e of run.log.slice(0, n)) applyEvent(replayed, e);
      const next = run.log[n]!;
      const step = nextQueueStep(replayed.integration, BASE, replayed.tasks);
      if (next.type === 'integration.check.started' && !replayed.integration?.check)
        expect(step).toMatchObject({ kind: 'check', tip: next.tip, merges: next.merges });
      if (next.type === 'integration.culprit')
        expect(step).toMatchObject({ kind: 'culprit', culprit: { task: next.task } });
      if (next.type === 'integration.rewound')
        expect(step).toMatchObject({ kind: 'rewind', culprit: { task: next.culprit } });
    }
  });

  it('reports a base commit that fails its check', () => {
    const run = new Run(['a']);
    expect(() => drive(run, () => false)).toThrow('failed');
    expect(run.step()).toEqual({ kind: 'base-failed', summary: 'failed' });
    // A resume checks the base again (the failure may have been the environment's), once per resume.
    run.emit({ type: 'run.resumed', pid: 2, host: 'h', retry_failed: false });
    expect(run.step()).toEqual({ kind: 'check', check: 'base', tip: BASE, merges: 0 });
  });

  it('merges a resumed coordinator makes again once, in place', () => {
    const run = new Run(['a']);
    drive(run, () => true);
    run.merge('a', 1, 't1');
    run.emit({ type: 'merge.succeeded', task: 'a', attempt: 1, commit: 'c-a-1', tip: 't1', files: [] });
    expect(run.state.integration!.queue).toHaveLength(1);
  });

  /** A check model that fails once on `tip` (the first time it is checked) and passes everywhere else. */
  const failsOnceOn = (tip: string): ((t: string) => boolean) => {
    let failed = false;
    return (t) => {
      if (t !== tip || failed) return true;
      failed = true;
      return false;
    };
  };

  it('a batch of one that fails once and passes when checked again verifies its merge and blames nobody', () => {
    const run = new Run(['a']);
    drive(run, () => true);
    run.merge('a', 1, 't1');
    const checks = drive(run, failsOnceOn('t1'));
    expect(checks).toEqual([
      { tip: 't1', kind: 'batch' },
      { tip: 't1', kind: 'bisect' },
    ]);
    expect(run.log.some((e) => e.type === 'integration.culprit')).toBe(false);
    expect(run.state.integration!.verified?.tip).toBe('t1');
    expect(run.state.integration!.bisect).toBeNull();
    expect(run.state.tasks.a!.failures).toBe(0);
    expect(settle('a', run.state.tasks.a!, run.state.integration!)).toBe('succeed');
  });

  it('a batch of four that fails once while every bisection check passes verifies the four and blames nobody', () => {
    const run = new Run(['m1', 'm2', 'm3', 'm4']);
    drive(run, () => true);
    for (let i = 1; i <= 4; i++) run.merge(`m${i}`, 1, `t${i}`);
    const checks = drive(run, failsOnceOn('t4'));
    expect(checks.map((c) => c.tip)).toEqual(['t4', 't2', 't3', 't4']);
    expect(run.log.some((e) => e.type === 'integration.culprit')).toBe(false);
    expect(run.state.integration!.verified?.tip).toBe('t4');
    expect(run.state.integration!.queue).toEqual([]);
    for (let i = 1; i <= 4; i++) {
      expect(run.state.tasks[`m${i}`]!.failures).toBe(0);
      expect(settle(`m${i}`, run.state.tasks[`m${i}`]!, run.state.integration!)).toBe('succeed');
    }
  });

  it('a check that fails on the verified tip too blames no merge; a resume checks the batch again', () => {
    const run = new Run(['m1', 'm2', 'm3', 'm4']);
    drive(run, () => true);
    for (let i = 1; i <= 4; i++) run.merge(`m${i}`, 1, `t${i}`);
    // The environment breaks: every check fails from now on, on any tip.
    expect(() => drive(run, () => false)).toThrow('verified tip failed');
    const started = run.log.filter((e) => e.type === 'integration.check.started').slice(1);
    expect(started.map((e) => [e.tip, e.merges])).toEqual([
      ['t4', 4],
      ['t2', 2],
      ['t1', 1],
      [BASE, 0],
    ]);
    expect(run.step()).toMatchObject({ kind: 'verified-failed', tip: BASE });
    expect(run.log.some((e) => e.type === 'integration.culprit')).toBe(false);
    for (let i = 1; i <= 4; i++) expect(run.state.tasks[`m${i}`]!.failures).toBe(0);
    // Fixed, and resumed: the batch is checked again and passes.
    run.emit({ type: 'run.resumed', pid: 2, host: 'h', retry_failed: false });
    expect(run.step()).toEqual({ kind: 'check', check: 'batch', tip: 't4', merges: 4 });
    expect(drive(run, () => true)).toEqual([{ tip: 't4', kind: 'batch' }]);
    expect(run.state.integration!.verified?.tip).toBe('t4');
    expect(run.log.some((e) => e.type === 'integration.culprit')).toBe(false);
  });

  it('a real culprit that is the first merge is blamed once the verified tip passes again', () => {
    const run = new Run(['a']);
    drive(run, () => true);
    run.merge('a', 1, 't1');
    const checks = drive(run, (tip) => tip !== 't1');
    expect(checks).toEqual([
      { tip: 't1', kind: 'batch' },
      { tip: 't1', kind: 'bisect' },
      { tip: BASE, kind: 'bisect' },
    ]);
    const culprit = run.log.find((e) => e.type === 'integration.culprit');
    expect(culprit).toMatchObject({ task: 'a', check: 3 });
    expect(run.state.tasks.a!.failures).toBe(1);
  });
});
