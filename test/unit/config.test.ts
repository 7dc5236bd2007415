// Loading swarm.yaml: durations, defaults, located issues with "did you mean", and their one-line format.
import { spawnSync } from 'node:child_process';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULTS } from '../../src/config/defaults.js';
import { Duration, parseDuration } from '../../src/config/duration.js';
import { envEntryProblem } from '../../src/config/env.js';
import { MAX_ARG_STRLEN } from '../../src/util/exec-limits.js';
import { RunConfigSchema } from '../../src/protocol/run-config.js';
import { loadConfig, type LoadedConfig } from '../../src/config/load.js';
import { loadPlan } from '../../src/plan/load-plan.js';
import { BACKEND_ROLE_KEYS as AGENT_ROLE_KEYS, ConfigSchema } from '../../src/config/schema.js';
import { formatIssue, formatPath, SourceDocument, type InputIssue } from '../../src/config/source.js';
import { knownKeysAt, suggest } from '../../src/config/zod-issues.js';
import { makeWorld, type World } from '../helpers.js';

let world: World;
beforeEach(() => {
  world = makeWorld('swarm-config-');
});
afterEach(() => world.cleanup());

/** Writes swarm.yaml with `text` and loads it. */
function load(text: string): ReturnType<typeof loadConfig> {
  return loadConfig(world.write('swarm.yaml', text));
}

/** Loads swarm.yaml and returns its issues (fails the test if it loads). */
function issuesOf(text: string): InputIssue[] {
  const result = load(text);
  if (result.ok) throw new Error('expected the config to be rejected');
  return result.error;
}

function loaded(text: string): LoadedConfig {
  const result = load(text);
  if (!result.ok) throw new Error(`expected the config to load, got ${result.error.map(formatIssue).join('; ')}`);
  return result.value;
}

describe('durations', () => {
  it('reads a bare number as seconds', () => {
    expect(parseDuration(5)).toBe(5_000);
    expect(parseDuration(0.5)).toBe(500);
    expect(parseDuration(0)).toBe(0);
  });

  it('reads strings with a unit', () => {
    expect(parseDuration('90s')).toBe(90_000);
    expect(parseDuration('500ms')).toBe(500);
    expect(parseDuration('5m')).toBe(300_000);
    expect(parseDuration('1h')).toBe(3_600_000);
    expect(parseDuration(' 2s ')).toBe(2_000);
  });

  it('rejects text that is not a duration, and negative durations', () => {
    expect(parseDuration('bogus')).toBeUndefined();
    expect(parseDuration(-1)).toBeUndefined();
    expect(parseDuration('-5s')).toBeUndefined();
    expect(parseDuration(Infinity)).toBeUndefined();
  });

  it('rejects an empty or blank string instead of throwing', () => {
    expect(parseDuration('')).toBeUndefined();
    expect(parseDuration('   ')).toBeUndefined();
    expect(Duration.safeParse('').success).toBe(false);
  });

  it('turns a duration field into milliseconds, and a bad one into an issue that quotes it', () => {
    expect(Duration.parse('90s')).toBe(90_000);
    expect(Duration.parse(5)).toBe(5_000);
    const bad = Duration.safeParse('bogus');
    expect(bad.success).toBe(false);
    expect(bad.error?.issues[0]?.message).toMatch(/expected a duration.*got "bogus"/);
  });

  it('refuses a duration longer than a timer can wait (it would fire at once), naming the limit', () => {
    expect(Duration.parse('24d')).toBe(24 * 86_400_000);
    for (const tooLong of ['10y', '25d', 2_147_484]) {
      const bad = Duration.safeParse(tooLong);
      expect(bad.success).toBe(false);
      expect(bad.error?.issues[0]?.message).toBe(
        `${JSON.stringify(tooLong)} is too long: a duration is at most about 24.8 days (2147483647 ms, the longest a timer can wait)`,
      );
    }
    const result = load('version: 1\ntasks:\n  - id: a\n    run: "true"\n    timeout: 10y\n');
    expect(result.ok).toBe(false);
    if (!result.ok) expect(formatIssue(result.error[0]!)).toMatch(/:5:14: tasks\[0\]\.timeout: "10y" is too long/);
  });

  it('converts every duration of swarm.yaml to milliseconds', () => {
    const { config } = loaded(
      'version: 1\nscheduling:\n  timeout: 90s\n  backoff: 5\n  backoff_max: 1m\n  kill_grace: 250ms\nliveness:\n  heartbeat: 2\n',
    );
    expect(config.scheduling).toMatchObject({ timeout: 90_000, backoff: 5_000, backoff_max: 60_000, kill_grace: 250 });
    expect(config.liveness.heartbeat).toBe(2_000);
  });
});

describe('defaults', () => {
  it('fills in every default of defaults.ts for a config that gives only its version', () => {
    const { config } = loaded('version: 1\n');
    expect(config).toEqual({
      version: 1,
      run: { dir: DEFAULTS.runDir },
      workers: DEFAULTS.workers,
      scheduling: {
        mode: DEFAULTS.mode,
        retries: DEFAULTS.retries,
        backoff: parseDuration(DEFAULTS.backoff),
        backoff_max: parseDuration(DEFAULTS.backoffMax),
        timeout: parseDuration(DEFAULTS.timeout),
        kill_grace: parseDuration(DEFAULTS.killGrace),
      },
      liveness: { heartbeat: parseDuration(DEFAULTS.heartbeat), stale_after: parseDuration(DEFAULTS.staleAfter) },
      git: { isolation: DEFAULTS.isolation, required: false, include_uncommitted: false },
      merge: { on_conflict: DEFAULTS.onConflict },
      integration: { timeout: parseDuration(DEFAULTS.integrationTimeout) },
      sandbox: { network: DEFAULTS.sandboxNetwork, allow_hosts: [], writable: [], hidden: [] },
      launcher: {
        kind: DEFAULTS.launcher,
        podman: {
          image: DEFAULTS.podmanImage,
          mounts: [],
          network: DEFAULTS.podmanNetwork,
          runtime: DEFAULTS.podmanRuntime,
          ulimits: [...DEFAULTS.podmanUlimits],
        },
        kubernetes: {
          namespace: DEFAULTS.kubernetesNamespace,
          command: [...DEFAULTS.kubernetesCommand],
          image_pull_secrets: [],
          env_from_secrets: [],
          node_selector: {},
          tolerations: [],
          resources: {},
          scratch: DEFAULTS.kubernetesScratch,
          ttl_seconds_after_finished: DEFAULTS.kubernetesJobTtl,
        },
      },
      roles: {},
      planner: {
        model: DEFAULTS.model,
        max_tokens: DEFAULTS.plannerMaxTokens,
        max_repairs: DEFAULTS.maxRepairs,
        context_tokens: DEFAULTS.plannerContextTokens,
        api_key_env: DEFAULTS.apiKeyEnv,
      },
      budget: {},
      publish: {
        enabled: false,
        forge: DEFAULTS.publishForge,
        token_env: DEFAULTS.publishTokenEnv,
        remote: DEFAULTS.publishRemote,
        branch: DEFAULTS.publishBranch,
        draft: DEFAULTS.publishDraft,
        labels: [],
        reviewers: [],
      },
    });
  });

  it('uses the documented default values', () => {
    const { config } = loaded('version: 1\n');
    expect(config.workers).toBe(4);
    expect(config.scheduling).toEqual({
      mode: 'eager',
      retries: 0,
      backoff: 1_000,
      backoff_max: 30_000,
      timeout: 1_800_000,
      kill_grace: 5_000,
    });
    expect(config.liveness).toEqual({ heartbeat: 1_000, stale_after: 15_000 });
  });

  it('keeps the defaults of a section when only some of its fields are given', () => {
    const { config } = loaded('version: 1\nscheduling:\n  mode: waves\n');
    expect(config.scheduling).toEqual({ ...ConfigSchema.parse({ version: 1 }).scheduling, mode: 'waves' });
  });

  it('fills in task defaults such as an empty deps list', () => {
    const { config } = loaded('version: 1\ntasks:\n  - id: a\n    run: make\n');
    expect(config.tasks).toEqual([{ id: 'a', run: 'make', deps: [] }]);
  });
});

describe('located issues', () => {
  it('locates an issue in a JSON config (read with JSON.parse, located by parsing it again as YAML)', () => {
    const issues = issuesOf('{\n  "version": 1,\n  "workers": 2,\n  "scheduling": {\n    "mode": "wave"\n  }\n}\n');
    expect(issues).toHaveLength(1);
    expect(issues[0]).toMatchObject({ line: 5, col: 13, field: 'scheduling.mode' });
    // Text that only looks like JSON is YAML (flow style), and a broken one is YAML's to refuse.
    expect(loaded('{version: 1, workers: 3}\n').config.workers).toBe(3);
    expect(issuesOf('{"version": 1,\n "workers": [}\n')[0]!.message).toMatch(/^invalid YAML/);
  });

  it('suggests the nearest key for an unknown top-level key, at the key', () => {
    expect(issuesOf('version: 1\nworker: 2\n')).toEqual([
      {
        file: world.path('swarm.yaml'),
        line: 2,
        col: 1,
        field: 'worker',
        message: 'unknown key "worker" (did you mean "workers"?)',
      },
    ]);
  });

  it('suggests the nearest key for an unknown nested key, at the key', () => {
    const [issue] = issuesOf('version: 1\nscheduling:\n  mode: waves\n  retires: 2\n');
    expect(issue).toMatchObject({
      line: 4,
      col: 3,
      field: 'scheduling.retires',
      message: 'unknown key "retires" (did you mean "retries"?)',
    });
  });

  it('suggests `deps` for `dep:` in a task', () => {
    const [issue] = issuesOf('version: 1\ntasks:\n  - id: a\n    run: make\n    dep: [b]\n');
    expect(issue).toMatchObject({
      line: 5,
      col: 5,
      field: 'tasks[0].dep',
      message: 'unknown key "dep" (did you mean "deps"?)',
    });
  });

  it('lists the known keys when no key is close', () => {
    const [issue] = issuesOf('version: 1\nliveness:\n  zzzzzzzz: 1\n');
    expect(issue?.message).toBe('unknown key "zzzzzzzz" (known keys: heartbeat, stale_after)');
  });

  it('points a wrong type at the value', () => {
    const [issue] = issuesOf('version: 1\nworkers: "many"\n');
    expect(issue).toMatchObject({ line: 2, col: 10, field: 'workers' });
    expect(issue?.message).toMatch(/expected number/);
  });

  it('points a bad duration in a task at the value and quotes it', () => {
    const [issue] = issuesOf('version: 1\ntasks:\n  - id: a\n    run: make\n    timeout: soon\n');
    expect(issue).toMatchObject({ line: 5, col: 14, field: 'tasks[0].timeout' });
    expect(issue?.message).toContain('"soon"');
  });

  it('lists the allowed values of an enum', () => {
    const [issue] = issuesOf('version: 1\nscheduling:\n  mode: fast\n');
    expect(issue).toMatchObject({
      line: 3,
      col: 9,
      field: 'scheduling.mode',
      message: 'expected one of "eager", "waves"',
    });
  });

  it('reports a missing required field at its parent, saying that it is missing', () => {
    const [issue] = issuesOf('workers: 2\n');
    expect(issue).toMatchObject({ line: 1, col: 1, field: 'version' });
    expect(issue?.message).toMatch(/missing/);
  });

  it('reports every issue of a file, not only the first', () => {
    const issues = issuesOf('version: 1\nworkers: 0\nscheduling:\n  mode: fast\n');
    expect(issues.map((i) => i.field)).toEqual(['workers', 'scheduling.mode']);
  });

  it('locates broken YAML at the line and column the parser gives', () => {
    const [issue] = issuesOf('version: 1\nworkers: 2\nworkers: 3\n');
    expect(issue).toMatchObject({ line: 3, col: 1, field: '' });
    expect(issue?.message).toMatch(/^invalid YAML: .*unique/);
  });

  it('reports an empty file', () => {
    expect(issuesOf('')).toEqual([{ file: world.path('swarm.yaml'), field: '', message: 'the file is empty' }]);
  });

  it('reports a missing file and a directory without a location', () => {
    expect(loadConfig(world.path('nope.yaml'))).toEqual({
      ok: false,
      error: [{ file: world.path('nope.yaml'), field: '', message: 'cannot read: no such file' }],
    });
    const dir = world.path('');
    const result = loadConfig(dir);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error[0]?.message).toBe('cannot read: is a directory, not a file');
  });

  it('locates plan issues in the file the tasks came from', () => {
    const config = loaded('version: 1\n');
    const plan = world.write(
      'plan.json',
      '{\n  "tasks": [\n    {"id": "a", "run": "x"},\n    {"id": "b", "run": "x", "deps": ["aa"]}\n  ]\n}\n',
    );
    const result = loadPlan(config, plan);
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.error).toEqual([
        { file: plan, line: 4, col: 38, field: 'tasks[1].deps[0]', message: 'unknown task "aa" (did you mean "a"?)' },
      ]);
    }
  });

  it('suggests the nearest key for an unknown key in a plan file', () => {
    const config = loaded('version: 1\n');
    const plan = world.write('plan.yaml', 'tasks:\n  - id: a\n    run: x\n    dpes: []\n');
    const result = loadPlan(config, plan);
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.error).toEqual([
        { file: plan, line: 4, col: 5, field: 'tasks[0].dpes', message: 'unknown key "dpes" (did you mean "deps"?)' },
      ]);
    }
  });
});

describe('suggest and knownKeysAt', () => {
  it('suggests a close name and nothing for a distant one', () => {
    expect(suggest('worker', ['workers', 'version'])).toBe('workers');
    expect(suggest('xyzzy', ['workers', 'version'])).toBeUndefined();
    expect(suggest('anything', [])).toBeUndefined();
  });

  it('lists the keys a schema accepts at a path', () => {
    expect(knownKeysAt(ConfigSchema, [])).toContain('workers');
    expect(knownKeysAt(ConfigSchema, ['scheduling'])).toEqual([
      'mode',
      'retries',
      'backoff',
      'backoff_max',
      'timeout',
      'kill_grace',
    ]);
    expect(knownKeysAt(ConfigSchema, ['tasks', 0])).toContain('deps');
    expect(knownKeysAt(ConfigSchema, ['roles', 'coder'])).toEqual([
      'backend',
      'timeout',
      'retries',
      'env',
      'sandbox',
      ...AGENT_ROLE_KEYS,
    ]);
    expect(knownKeysAt(ConfigSchema, ['workers'])).toEqual([]);
  });
});

describe('formatIssue', () => {
  it('formats an issue as file:line:col: field: message', () => {
    expect(
      formatIssue({ file: 'swarm.yaml', line: 12, col: 5, field: 'tasks[2].deps[0]', message: 'unknown task "x"' }),
    ).toBe('swarm.yaml:12:5: tasks[2].deps[0]: unknown task "x"');
  });

  it('leaves out the field when the issue is about the whole document', () => {
    expect(formatIssue({ file: 'swarm.yaml', line: 1, col: 1, field: '', message: 'the plan has no tasks' })).toBe(
      'swarm.yaml:1:1: the plan has no tasks',
    );
  });

  it('leaves out line and column when they are not known, and takes column 1 when only the line is', () => {
    expect(formatIssue({ file: 'swarm.yaml', field: '', message: 'cannot read: no such file' })).toBe(
      'swarm.yaml: cannot read: no such file',
    );
    expect(formatIssue({ file: 'swarm.yaml', line: 3, field: 'workers', message: 'bad' })).toBe(
      'swarm.yaml:3:1: workers: bad',
    );
  });

  it('renders field paths with dots for keys and brackets for indexes', () => {
    expect(formatPath(['tasks', 2, 'deps', 0])).toBe('tasks[2].deps[0]');
    expect(formatPath([0, 'id'])).toBe('[0].id');
    expect(formatPath([])).toBe('');
  });

  it('formats issues of a parsed document with the location of the field', () => {
    const parsed = SourceDocument.parse('swarm.yaml', 'version: 1\ntasks:\n  - id: a\n    deps: [x, y]\n');
    if (!('doc' in parsed)) throw new Error('expected the YAML to parse');
    expect(formatIssue(parsed.doc.issue(['tasks', 0, 'deps', 1], 'unknown task "y"'))).toBe(
      'swarm.yaml:4:15: tasks[0].deps[1]: unknown task "y"',
    );
    expect(formatIssue(parsed.doc.issue(['tasks', 0], 'unknown key "deps"', 'deps'))).toBe(
      'swarm.yaml:4:5: tasks[0].deps: unknown key "deps"',
    );
  });
});

describe('env entries', () => {
  it("accepts exactly what Linux's execve accepts, and refuses one byte more", () => {
    // "BIG=" + value + NUL: MAX_ARG_STRLEN is the longest entry a program starts with.
    const longest = 'x'.repeat(MAX_ARG_STRLEN - 'BIG='.length - 1);
    expect(envEntryProblem('BIG', longest)).toBeUndefined();
    expect(spawnSync('/bin/true', [], { env: { BIG: longest } }).error).toBeUndefined();
    expect(envEntryProblem('BIG', longest + 'x')).toMatch(/^BIG is 131,073 bytes/);
    expect((spawnSync('/bin/true', [], { env: { BIG: longest + 'x' } }).error as NodeJS.ErrnoException).code).toBe(
      'E2BIG',
    );
    // Bytes, not characters: 65,534 "é" are 131,068 bytes.
    expect(envEntryProblem('BIG', 'é'.repeat(65_534))).toMatch(/^BIG is 131,073 bytes/);
  });

  it('refuses an empty name, "=" in a name and NUL bytes, naming the variable quoted when it is odd', () => {
    expect(envEntryProblem('', 'x')).toBe('an environment variable needs a name');
    expect(envEntryProblem('A=B', 'x')).toBe('"A=B": the name of an environment variable cannot contain "="');
    expect(envEntryProblem('A', 'x\0y')).toBe('A: an environment variable cannot hold a NUL byte');
    expect(envEntryProblem('A\0', 'x')).toBe('"A\\u0000": an environment variable cannot hold a NUL byte');
    expect(envEntryProblem('NODE_ENV', 'production')).toBeUndefined();
  });

  it('still reads a run.json snapshot whose env a newer fileswarm would refuse (a run started before the check)', () => {
    const config = { version: 1, roles: { coder: { backend: 'command', env: { 'A=B': 'x' } } } };
    expect(RunConfigSchema.safeParse(config).success).toBe(true);
    expect(ConfigSchema.safeParse(config).success).toBe(false);
  });
});
