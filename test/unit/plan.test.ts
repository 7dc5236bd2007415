// validatePlan: the one plan validator. Every issue has a path relative to the task list.
import { describe, expect, it } from 'vitest';
import { DEFAULTS } from '../../src/config/defaults.js';
import { parseDuration } from '../../src/config/duration.js';
import { ConfigSchema, TaskSpec } from '../../src/config/schema.js';
import { validatePlan, type PlanContext, type PlanIssue, type ResolvedPlan } from '../../src/plan/plan.js';

/** A config (as after loading swarm.yaml) with `extra` merged in. */
function context(extra: Record<string, unknown> = {}): PlanContext {
  return ConfigSchema.parse({ version: 1, ...extra });
}

/** Tasks as the zod TaskSpec schema shapes them (defaults such as `deps: []` filled in). */
function specs(...tasks: Record<string, unknown>[]): TaskSpec[] {
  return tasks.map((t) => TaskSpec.parse(t));
}

function issuesOf(tasks: TaskSpec[], ctx = context()): PlanIssue[] {
  const result = validatePlan(tasks, ctx);
  if (result.ok) throw new Error('expected the plan to be rejected');
  return result.error;
}

function planOf(tasks: TaskSpec[], ctx = context()): ResolvedPlan {
  const result = validatePlan(tasks, ctx);
  if (!result.ok) throw new Error(`expected a valid plan, got ${JSON.stringify(result.error)}`);
  return result.value;
}

describe('validatePlan rejects', () => {
  it('an empty plan', () => {
    expect(issuesOf([])).toEqual([{ path: [], message: 'the plan has no tasks' }]);
  });

  it('a duplicate id, naming the task that used it first', () => {
    const issues = issuesOf(specs({ id: 'a', run: 'x' }, { id: 'b', run: 'x' }, { id: 'a', run: 'y' }));
    expect(issues).toEqual([{ path: [2, 'id'], message: 'duplicate task id "a" (first used by tasks[0])' }]);
  });

  it("`files` and `cwd` that are absolute or climb out of the repository (a planner's plan too)", () => {
    const issues = issuesOf(
      specs(
        {
          id: 'a',
          run: 'x',
          files: ['src/ok.ts', 'src/../lib/ok.ts', '../../etc/passwd', '/etc/passwd', 'a/../../x', ''],
        },
        { id: 'b', run: 'x', cwd: '..' },
      ),
    );
    expect(issues).toEqual([
      { path: [0, 'files', 2], message: '"../../etc/passwd" points outside the repository' },
      { path: [0, 'files', 3], message: '"/etc/passwd" is an absolute path: give it relative to the repository root' },
      { path: [0, 'files', 4], message: '"a/../../x" points outside the repository' },
      { path: [0, 'files', 5], message: 'an empty path' },
      { path: [1, 'cwd'], message: '".." points outside the repository' },
    ]);
    expect(
      planOf(specs({ id: 'a', run: 'x', files: ['..hidden', './src/a.ts'], cwd: 'pkg/../pkg' })).tasks[0]!.files,
    ).toEqual(['..hidden', './src/a.ts']);
  });

  it('an unknown dependency, suggesting the nearest id', () => {
    const issues = issuesOf(specs({ id: 'build', run: 'x' }, { id: 'test', run: 'x', deps: ['biuld'] }));
    expect(issues).toEqual([{ path: [1, 'deps', 0], message: 'unknown task "biuld" (did you mean "build"?)' }]);
  });

  it('an unknown dependency without a suggestion when no id is close', () => {
    const issues = issuesOf(specs({ id: 'build', run: 'x', deps: ['zzzzzzzzzz'] }));
    expect(issues).toEqual([{ path: [0, 'deps', 0], message: 'unknown task "zzzzzzzzzz"' }]);
  });

  it('a task that depends on itself', () => {
    const issues = issuesOf(specs({ id: 'a', run: 'x' }, { id: 'b', run: 'x', deps: ['a', 'b'] }));
    expect(issues).toEqual([{ path: [1, 'deps', 1], message: 'task "b" depends on itself' }]);
  });

  it('a dependency listed twice, at its second mention', () => {
    const issues = issuesOf(specs({ id: 'a', run: 'x' }, { id: 'b', run: 'x', deps: ['a', 'a'] }));
    expect(issues).toEqual([{ path: [1, 'deps', 1], message: 'dependency "a" is listed twice' }]);
  });

  it('an unknown role, suggesting the nearest role', () => {
    const ctx = context({ roles: { reviewer: { backend: 'command' } } });
    const issues = issuesOf(specs({ id: 'a', run: 'x', role: 'reviewr' }), ctx);
    expect(issues).toEqual([{ path: [0, 'role'], message: 'unknown role "reviewr" (did you mean "reviewer"?)' }]);
  });

  it('an unknown role, listing the known roles when none is close', () => {
    const ctx = context({ roles: { coder: { backend: 'command' }, tester: { backend: 'command' } } });
    const issues = issuesOf(specs({ id: 'a', run: 'x', role: 'architect' }), ctx);
    expect(issues).toEqual([{ path: [0, 'role'], message: 'unknown role "architect" (known roles: coder, tester)' }]);
  });

  it('a role when the config defines none', () => {
    const issues = issuesOf(specs({ id: 'a', run: 'x', role: 'architect' }));
    expect(issues).toEqual([{ path: [0, 'role'], message: 'unknown role "architect" (the config defines no roles)' }]);
  });

  it('a task with neither `run:` nor a role', () => {
    const issues = issuesOf(specs({ id: 'a' }));
    expect(issues).toEqual([{ path: [0], message: 'a task needs `run:` (a shell command) or a `role:`' }]);
  });

  it('a task whose role uses the command backend but has no `run:`', () => {
    const ctx = context({ roles: { coder: { backend: 'command' } } });
    const issues = issuesOf(specs({ id: 'a', role: 'coder' }), ctx);
    expect(issues).toEqual([{ path: [0], message: 'role "coder" uses the command backend, which needs `run:`' }]);
  });

  it('a cycle, named in dependency order and placed at the deps of its first task', () => {
    const issues = issuesOf(
      specs({ id: 'a', run: 'x', deps: ['b'] }, { id: 'b', run: 'x', deps: ['c'] }, { id: 'c', run: 'x', deps: ['a'] }),
    );
    expect(issues).toEqual([{ path: [0, 'deps'], message: 'dependency cycle: a → b → c → a' }]);
  });

  it('every cycle of the plan, not only the first', () => {
    const issues = issuesOf(
      specs(
        { id: 'ok', run: 'x' },
        { id: 'a', run: 'x', deps: ['b'] },
        { id: 'b', run: 'x', deps: ['a'] },
        { id: 'c', run: 'x', deps: ['d', 'ok'] },
        { id: 'd', run: 'x', deps: ['c'] },
      ),
    );
    expect(issues.map((i) => i.message).sort()).toEqual(['dependency cycle: a → b → a', 'dependency cycle: c → d → c']);
  });

  it('with every issue found, not only the first', () => {
    const issues = issuesOf(specs({ id: 'a', run: 'x', deps: ['nope'] }, { id: 'a', run: 'x' }, { id: 'c' }));
    expect(issues.map((i) => i.path)).toEqual([[1, 'id'], [0, 'deps', 0], [2]]);
  });
});

describe('validatePlan resolves a valid plan', () => {
  it('with the scheduling defaults when neither role nor task overrides them', () => {
    const [t] = planOf(specs({ id: 'a', run: 'make' })).tasks;
    expect(t).toEqual({
      id: 'a',
      title: 'a',
      description: '',
      deps: [],
      role: null,
      backend: 'command',
      run: 'make',
      cwd: null,
      env: {},
      files: [],
      verify: null,
      estimate: DEFAULTS.estimate,
      timeout_ms: parseDuration(DEFAULTS.timeout),
      retries: DEFAULTS.retries,
      wave: 0,
      rank: DEFAULTS.estimate,
    });
  });

  it('with timeout and retries from `scheduling:`', () => {
    const ctx = context({ scheduling: { timeout: '10m', retries: 3 } });
    const [t] = planOf(specs({ id: 'a', run: 'x' }), ctx).tasks;
    expect(t).toMatchObject({ timeout_ms: 600_000, retries: 3 });
  });

  it('with the role overriding the scheduling defaults', () => {
    const ctx = context({
      scheduling: { timeout: '10m', retries: 3 },
      roles: { quick: { backend: 'command', timeout: '90s', retries: 1, env: { LEVEL: 'role', ROLE: 'yes' } } },
    });
    const [t] = planOf(specs({ id: 'a', run: 'x', role: 'quick' }), ctx).tasks;
    expect(t).toMatchObject({
      role: 'quick',
      backend: 'command',
      timeout_ms: 90_000,
      retries: 1,
      env: { LEVEL: 'role', ROLE: 'yes' },
    });
  });

  it('with the task overriding its role and the scheduling defaults', () => {
    const ctx = context({
      scheduling: { timeout: '10m', retries: 3 },
      roles: { quick: { backend: 'command', timeout: '90s', retries: 1, env: { LEVEL: 'role', ROLE: 'yes' } } },
    });
    const [t] = planOf(
      specs({ id: 'a', run: 'x', role: 'quick', timeout: 5, retries: 0, env: { LEVEL: 'task' } }),
      ctx,
    ).tasks;
    expect(t).toMatchObject({ timeout_ms: 5_000, retries: 0, env: { LEVEL: 'task', ROLE: 'yes' } });
  });

  it('keeping the fields the task gives', () => {
    const [t] = planOf(
      specs({
        id: 'a',
        run: 'x',
        title: 'Build it',
        description: 'do it',
        cwd: 'pkg',
        files: ['a.ts'],
        verify: 'make check',
        estimate: 3,
      }),
    ).tasks;
    expect(t).toMatchObject({
      title: 'Build it',
      description: 'do it',
      cwd: 'pkg',
      files: ['a.ts'],
      verify: 'make check',
      estimate: 3,
    });
  });

  it('in the order the user wrote it, with waves, ranks and the critical path computed', () => {
    // root[2] → left[5] → join[1]; root → right[1] → join.
    const plan = planOf(
      specs(
        { id: 'join', run: 'x', deps: ['left', 'right'], estimate: 1 },
        { id: 'root', run: 'x', estimate: 2 },
        { id: 'left', run: 'x', deps: ['root'], estimate: 5 },
        { id: 'right', run: 'x', deps: ['root'], estimate: 1 },
      ),
    );
    expect(plan.tasks.map((t) => [t.id, t.wave, t.rank])).toEqual([
      ['join', 2, 1],
      ['root', 0, 8],
      ['left', 1, 6],
      ['right', 1, 2],
    ]);
    expect(plan.waves).toBe(3);
    expect(plan.critical_path).toEqual(['root', 'left', 'join']);
  });

  it('using the default estimate for ranks when tasks give none', () => {
    const plan = planOf(
      specs({ id: 'a', run: 'x' }, { id: 'b', run: 'x', deps: ['a'] }, { id: 'c', run: 'x', deps: ['b'] }),
    );
    expect(plan.tasks.map((t) => t.rank)).toEqual([3, 2, 1].map((n) => n * DEFAULTS.estimate));
    expect(plan.waves).toBe(3);
  });
});
