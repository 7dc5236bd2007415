// Bad inputs through the real CLI: each must exit 2 with a located message (`file:line:col: field:
// message`) and leave the world exactly as it was: no run directory, no .swarm/, nothing touched.
// Line and column numbers below were counted by hand from the YAML/JSON written by each case.
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeWorld, runCli, type World } from '../helpers.js';

/** One bad input. */
interface Case {
  /** Read as "swarm refuses <name>". */
  name: string;
  /** Files written into the world before running (path → text). */
  files?: Record<string, string>;
  /** Directories created in the world before running (may hold files given in `files`). */
  dirs?: string[];
  /** Arguments of `swarm`, run in the world's directory. */
  args: string[];
  /** Environment variables set for it (over the test's own); `<world>` stands for the world's directory. */
  env?: Record<string, string>;
  /**
   * Where stderr must say the problem is: `file:line:col` or just `file` for whole-file problems.
   * `<world>` stands for the world's directory. Null for command-line usage errors.
   */
  where: string | null;
  /** The field path printed after the place (empty or absent: none). */
  field?: string;
  /** What the message must contain or match. */
  message?: string | RegExp;
}

const OK_TASKS = 'tasks:\n  - id: a\n    run: "true"\n';
const OK_CONFIG = `version: 1\n${OK_TASKS}`;

const cases: Case[] = [
  // ── YAML that does not parse ────────────────────────────────────────────────────────────────
  {
    name: 'broken YAML (a task key indented one space too little)',
    files: {
      'swarm.yaml':
        [
          'version: 1', //   1
          'tasks:', //       2
          '  - id: a', //    3
          '   run: "true"', // 4  ← one space short of "id"
        ].join('\n') + '\n',
    },
    args: ['run', 'swarm.yaml'],
    where: 'swarm.yaml:4:1',
    message: /^invalid YAML: /,
  },
  {
    name: 'broken YAML (a flow list whose bracket is never closed)',
    files: {
      'swarm.yaml':
        [
          'version: 1', //                     1
          'tasks: [{id: a, run: "true"}', //   2  ← no "]"
          'workers: 2', //                     3  ← the parser notices here
        ].join('\n') + '\n',
    },
    args: ['run', 'swarm.yaml'],
    where: 'swarm.yaml:3:1',
    message: /^invalid YAML: .*end with a \]/,
  },
  {
    name: 'a YAML alias bomb (nested anchors that expand to millions of nodes), at the alias that passes the limit',
    files: {
      'swarm.yaml':
        [
          'version: 1', //                                                  1
          'a: &a [x, x, x, x, x, x, x, x, x, x]', //                        2  11 nodes
          'b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]', //              3  +110 = 110
          'c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]', //              4  +1110 = 1220
          'd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]', //              5  +11110 = 12330
          'e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]', //              6  the 8th *d (column 36) passes 100000
          'f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]', //              7
          'g: [*f, *f, *f, *f, *f, *f, *f, *f, *f, *f]', //                 8  ~10^7 nodes in all
        ].join('\n') + '\n',
    },
    args: ['run', 'swarm.yaml'],
    where: 'swarm.yaml:6:36',
    message: /^invalid YAML: the aliases up to here expand to more than 100000 nodes/,
  },
  {
    name: 'an alias bomb in a --plan file',
    files: {
      'swarm.yaml': 'version: 1\n',
      'plan.yaml':
        [
          'x: &x [[1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1]]', // 1  22 nodes
          'y: &y [*x, *x, *x, *x, *x, *x, *x, *x, *x, *x, *x, *x, *x, *x, *x, *x]', // 2  +16·22 = 352
          'z: &z [*y, *y, *y, *y, *y, *y, *y, *y, *y, *y, *y, *y, *y, *y, *y, *y]', // 3  +16·353 = 6000
          'w: &w [*z, *z, *z, *z, *z, *z, *z, *z, *z, *z, *z, *z, *z, *z, *z, *z]', // 4  +16·5649 = 96384
          'tasks: [*w, *w, *w, *w]', //                                               5  the 1st *w (column 9) adds 90385
        ].join('\n') + '\n',
    },
    args: ['run', 'swarm.yaml', '--plan', 'plan.yaml', '--run-dir', 'out'],
    where: 'plan.yaml:5:9',
    message: /^invalid YAML: the aliases up to here expand to more than 100000 nodes/,
  },
  {
    name: 'a YAML alias inside its own anchor',
    files: { 'swarm.yaml': 'version: 1\nworkers: &w [1, *w]\n' },
    args: ['run', 'swarm.yaml'],
    where: 'swarm.yaml:2:17',
    message: 'invalid YAML: this alias is inside its own anchor, so it expands without end',
  },
  {
    name: 'a duplicate YAML key',
    files: { 'swarm.yaml': 'version: 1\nworkers: 2\nworkers: 3\n' },
    args: ['run', 'swarm.yaml'],
    where: 'swarm.yaml:3:1',
    message: /^invalid YAML: Map keys must be unique/,
  },

  // ── Config schema ───────────────────────────────────────────────────────────────────────────
  {
    name: 'an unknown top-level key, suggesting the nearest one',
    files: { 'swarm.yaml': `version: 1\nworker: 2\n${OK_TASKS}` },
    args: ['run', 'swarm.yaml'],
    where: 'swarm.yaml:2:1',
    field: 'worker',
    message: 'unknown key "worker" (did you mean "workers"?)',
  },
  {
    name: 'an unknown task key `dep:`, suggesting `deps`',
    files: {
      'swarm.yaml':
        [
          'version: 1', //    1
          'tasks:', //        2
          '  - id: a', //     3
          '    run: "true"', // 4
          '  - id: b', //     5
          '    run: "true"', // 6
          '    dep: [a]', //  7  ← key at column 5
        ].join('\n') + '\n',
    },
    args: ['run', 'swarm.yaml'],
    where: 'swarm.yaml:7:5',
    field: 'tasks[1].dep',
    message: 'unknown key "dep" (did you mean "deps"?)',
  },
  {
    name: 'a string where a number is expected (`workers: "many"`)',
    files: { 'swarm.yaml': `version: 1\nworkers: "many"\n${OK_TASKS}` },
    args: ['run', 'swarm.yaml'],
    where: 'swarm.yaml:2:10',
    field: 'workers',
    message: /expected number/,
  },
  {
    name: 'zero workers in the config',
    files: { 'swarm.yaml': `version: 1\nworkers: 0\n${OK_TASKS}` },
    args: ['run', 'swarm.yaml'],
    where: 'swarm.yaml:2:10',
    field: 'workers',
    message: />=\s*1/,
  },
  {
    name: 'a config without `version`',
    files: { 'swarm.yaml': `workers: 2\n${OK_TASKS}` },
    args: ['run', 'swarm.yaml'],
    // A missing field is reported at its parent: the document, which starts at 1:1.
    where: 'swarm.yaml:1:1',
    field: 'version',
  },
  {
    name: 'version 2',
    files: { 'swarm.yaml': `version: 2\n${OK_TASKS}` },
    args: ['run', 'swarm.yaml'],
    where: 'swarm.yaml:1:10',
    field: 'version',
    message: 'expected one of 1',
  },
  {
    name: 'a duration that is not one (`timeout: soon`)',
    files: { 'swarm.yaml': `version: 1\nscheduling:\n  timeout: soon\n${OK_TASKS}` },
    args: ['run', 'swarm.yaml'],
    where: 'swarm.yaml:3:12',
    field: 'scheduling.timeout',
    message: /expected a duration.*got "soon"/,
  },
  {
    name: 'an empty duration (`timeout: ""`)',
    files: { 'swarm.yaml': `version: 1\nscheduling:\n  timeout: ""\n${OK_TASKS}` },
    args: ['run', 'swarm.yaml'],
    where: 'swarm.yaml:3:12',
    field: 'scheduling.timeout',
    message: /expected a duration/,
  },
  {
    name: 'an unknown scheduling mode',
    files: { 'swarm.yaml': `version: 1\nscheduling:\n  mode: fast\n${OK_TASKS}` },
    args: ['run', 'swarm.yaml'],
    where: 'swarm.yaml:3:9',
    field: 'scheduling.mode',
    message: 'expected one of "eager", "waves"',
  },

  // ── The plan in swarm.yaml ──────────────────────────────────────────────────────────────────
  {
    name: 'a cycle of three tasks, naming it a → b → c → a',
    files: {
      'swarm.yaml':
        [
          'version: 1', //     1
          'tasks:', //         2
          '  - id: a', //      3
          '    run: "true"', // 4
          '    deps: [b]', //  5  ← "[" at column 11
          '  - id: b', //      6
          '    run: "true"', // 7
          '    deps: [c]', //  8
          '  - id: c', //      9
          '    run: "true"', // 10
          '    deps: [a]', //  11
        ].join('\n') + '\n',
    },
    args: ['run', 'swarm.yaml'],
    where: 'swarm.yaml:5:11',
    field: 'tasks[0].deps',
    message: 'dependency cycle: a → b → c → a',
  },
  {
    name: 'a task that depends on itself',
    files: { 'swarm.yaml': 'version: 1\ntasks:\n  - id: a\n    run: "true"\n    deps: [a]\n' },
    args: ['run', 'swarm.yaml'],
    where: 'swarm.yaml:5:12',
    field: 'tasks[0].deps[0]',
    message: 'task "a" depends on itself',
  },
  {
    name: 'an unknown dependency, suggesting the nearest task id',
    files: {
      'swarm.yaml':
        [
          'version: 1', //        1
          'tasks:', //            2
          '  - id: build', //     3
          '    run: "true"', //   4
          '  - id: test', //      5
          '    run: "true"', //   6
          '    deps: [biuld]', // 7  ← "biuld" at column 12
        ].join('\n') + '\n',
    },
    args: ['run', 'swarm.yaml'],
    where: 'swarm.yaml:7:12',
    field: 'tasks[1].deps[0]',
    message: 'unknown task "biuld" (did you mean "build"?)',
  },
  {
    name: 'a duplicate task id',
    files: { 'swarm.yaml': 'version: 1\ntasks:\n  - id: a\n    run: "true"\n  - id: a\n    run: "false"\n' },
    args: ['run', 'swarm.yaml'],
    where: 'swarm.yaml:5:9',
    field: 'tasks[1].id',
    message: 'duplicate task id "a" (first used by tasks[0])',
  },
  ...['../x', 'a/b', 'a.b', '_a', '-a', 'a b', 'x'.repeat(65), ''].map((id): Case => ({
    name: `the task id ${JSON.stringify(id)}`,
    files: { 'swarm.yaml': `version: 1\ntasks:\n  - id: ${JSON.stringify(id)}\n    run: "true"\n` },
    args: ['run', 'swarm.yaml'],
    where: 'swarm.yaml:3:9',
    field: 'tasks[0].id',
    message: 'a task id is 1-64 characters of a-z, 0-9, "_" and "-", starting with a letter or digit',
  })),
  ...['Build', 'L0n0', 'AUTH_API'].map((id): Case => ({
    name: `the task id ${JSON.stringify(id)}, suggesting it in lower case`,
    files: { 'swarm.yaml': `version: 1\ntasks:\n  - id: ${JSON.stringify(id)}\n    run: "true"\n` },
    args: ['run', 'swarm.yaml'],
    where: 'swarm.yaml:3:9',
    field: 'tasks[0].id',
    message: `task ids are lower case (so that two ids cannot name one directory on a case-insensitive file system): use "${id.toLowerCase()}"`,
  })),
  {
    name: 'a `files:` entry that climbs out of the repository',
    files: {
      'swarm.yaml':
        [
          'version: 1', //                                   1
          'tasks:', //                                       2
          '  - id: a', //                                    3
          '    run: "true"', //                              4
          '    files: [src/a.ts, ../../etc/passwd]', //      5  ← "../../etc/passwd" at column 23
        ].join('\n') + '\n',
    },
    args: ['run', 'swarm.yaml'],
    where: 'swarm.yaml:5:23',
    field: 'tasks[0].files[1]',
    message: '"../../etc/passwd" points outside the repository',
  },
  {
    name: 'an absolute `files:` entry',
    files: { 'swarm.yaml': 'version: 1\ntasks:\n  - id: a\n    run: "true"\n    files:\n      - /etc/passwd\n' },
    args: ['run', 'swarm.yaml'],
    where: 'swarm.yaml:6:9',
    field: 'tasks[0].files[0]',
    message: '"/etc/passwd" is an absolute path: give it relative to the repository root',
  },
  {
    name: 'a task `cwd:` outside the repository (even one that exists)',
    files: { 'swarm.yaml': 'version: 1\ntasks:\n  - id: a\n    run: "true"\n    cwd: ../..\n' },
    args: ['run', 'swarm.yaml'],
    where: 'swarm.yaml:5:10',
    field: 'tasks[0].cwd',
    message: '"../.." points outside the repository',
  },
  {
    name: 'an empty task list',
    files: { 'swarm.yaml': 'version: 1\ntasks: []\n' },
    args: ['run', 'swarm.yaml'],
    where: 'swarm.yaml:2:8',
    field: 'tasks',
    message: 'the plan has no tasks',
  },
  {
    name: 'a config without tasks when no --plan is given',
    files: { 'swarm.yaml': 'version: 1\nworkers: 2\n' },
    args: ['run', 'swarm.yaml'],
    where: 'swarm.yaml:1:1',
    message: 'no tasks: add a `tasks:` list, pass `--plan FILE`, or give a goal for the planner',
  },
  {
    name: 'an agent key on a command role',
    files: {
      'swarm.yaml': `version: 1\nroles:\n  sh:\n    backend: command\n    model: claude-sonnet-5-5\n${OK_TASKS}`,
    },
    args: ['run', 'swarm.yaml'],
    where: 'swarm.yaml:5:12',
    field: 'roles.sh.model',
    message:
      '`model` is for agent roles (backend: anthropic, claude-code, codex or gemini); role "sh" uses backend: command',
  },
  {
    name: 'an agent role with a model the price table does not know',
    files: { 'swarm.yaml': `version: 1\nroles:\n  coder:\n    backend: anthropic\n    model: gpt-5\n${OK_TASKS}` },
    args: ['run', 'swarm.yaml'],
    where: 'swarm.yaml:5:12',
    field: 'roles.coder.model',
    message: 'unknown model "gpt-5": the price table knows',
  },
  {
    name: 'a negative budget',
    files: { 'swarm.yaml': `version: 1\nbudget:\n  max_cost_usd: -5\n${OK_TASKS}` },
    args: ['run', 'swarm.yaml'],
    where: 'swarm.yaml:3:17',
    field: 'budget.max_cost_usd',
    message: 'Too small',
  },
  {
    name: 'an agent task with `run:` instead of a description',
    files: {
      'swarm.yaml':
        'version: 1\nroles:\n  coder:\n    backend: anthropic\ntasks:\n  - id: a\n    role: coder\n    run: "true"\n',
    },
    args: ['run', 'swarm.yaml'],
    where: 'swarm.yaml:8:10',
    field: 'tasks[0].run',
    message: 'role "coder" is an agent role (backend: anthropic): its tasks take a `description`, not `run:`',
  },
  {
    name: 'a goal to plan, but no agent role',
    files: { 'swarm.yaml': 'version: 1\nworkers: 2\n' },
    args: ['run', 'swarm.yaml', 'Add a feature'],
    where: 'swarm.yaml:1:1',
    field: 'roles',
    message: 'planning a goal needs an agent role',
  },
  {
    name: 'swarm plan without a goal',
    files: { 'swarm.yaml': 'version: 1\nroles:\n  coder:\n    backend: anthropic\n' },
    args: ['plan', 'swarm.yaml'],
    where: null,
    message: 'no goal: give one (swarm plan <config> "<goal>") or set `goal:` in the config',
  },
  {
    name: 'a task with neither `run:` nor `role:`',
    files: { 'swarm.yaml': 'version: 1\ntasks:\n  - id: a\n    title: nothing to run\n' },
    args: ['run', 'swarm.yaml'],
    where: 'swarm.yaml:3:5',
    field: 'tasks[0]',
    message: 'a task needs `run:` (a shell command) or a `role:`',
  },
  {
    name: 'an unknown role, suggesting the nearest one',
    files: {
      'swarm.yaml':
        [
          'version: 1', //          1
          'roles:', //              2
          '  coder:', //            3
          '    backend: command', // 4
          'tasks:', //              5
          '  - id: a', //           6
          '    role: codr', //      7  ← "codr" at column 11
          '    run: "true"', //     8
        ].join('\n') + '\n',
    },
    args: ['run', 'swarm.yaml'],
    where: 'swarm.yaml:7:11',
    field: 'tasks[0].role',
    message: 'unknown role "codr" (did you mean "coder"?)',
  },
  {
    name: 'a task whose cwd does not exist',
    files: { 'swarm.yaml': 'version: 1\ntasks:\n  - id: a\n    run: "true"\n    cwd: nowhere\n' },
    args: ['run', 'swarm.yaml'],
    where: 'swarm.yaml:5:10',
    field: 'tasks[0].cwd',
    message: /nowhere.*does not exist/,
  },
  {
    name: 'a task whose cwd is a file',
    files: {
      'swarm.yaml': 'version: 1\ntasks:\n  - id: a\n    run: "true"\n    cwd: notes.txt\n',
      'notes.txt': 'mine\n',
    },
    args: ['run', 'swarm.yaml'],
    where: 'swarm.yaml:5:10',
    field: 'tasks[0].cwd',
    message: /notes\.txt is a file, not a directory$/,
  },
  {
    // Every attempt would fail at spawn with E2BIG: Linux refuses a variable over 128 KiB.
    name: 'a task env value too long for any process to be started with',
    files: {
      'swarm.yaml': `version: 1\ntasks:\n  - id: a\n    run: "true"\n    env:\n      BIG: ${'x'.repeat(131_068)}\n`,
    },
    args: ['run', 'swarm.yaml'],
    where: 'swarm.yaml:6:12',
    field: 'tasks[0].env.BIG',
    message: /^BIG is 131,073 bytes; Linux starts no program with a variable over 131,072 bytes \(E2BIG\)/,
  },
  {
    // 50,000 characters (under the schema's 65,536) but 150,000 bytes: one argument of `sh -c`.
    name: 'a task command too long for Linux to pass as one argument',
    files: {
      'swarm.yaml': `version: 1\ntasks:\n  - id: a\n    run: ${'€'.repeat(50_000)}\n`,
    },
    args: ['run', 'swarm.yaml'],
    where: 'swarm.yaml:4:10',
    field: 'tasks[0].run',
    message: /^`run` is 150,001 bytes; Linux passes no program an argument over 131,072 bytes \(E2BIG\)/,
  },
  {
    name: 'a task command holding a NUL byte',
    files: { 'swarm.yaml': 'version: 1\ntasks:\n  - id: a\n    run: "echo a\\0b"\n' },
    args: ['run', 'swarm.yaml'],
    where: 'swarm.yaml:4:10',
    field: 'tasks[0].run',
    message: '`run` holds a NUL byte, which no program can be passed',
  },
  {
    name: "a task's verify command one byte too long",
    files: {
      'swarm.yaml': `version: 1\ntasks:\n  - id: a\n    run: "true"\n    verify: ${'x'.repeat(131_072)}\n`,
    },
    args: ['run', 'swarm.yaml'],
    where: 'swarm.yaml:5:13',
    field: 'tasks[0].verify',
    message: /^`verify` is 131,073 bytes; Linux passes no program an argument over 131,072 bytes/,
  },
  {
    name: 'an integration check command too long',
    files: {
      'swarm.yaml': `version: 1\nintegration:\n  verify: ${'x'.repeat(140_000)}\n${OK_TASKS}`,
    },
    args: ['run', 'swarm.yaml'],
    where: 'swarm.yaml:3:11',
    field: 'integration.verify',
    message: /^`integration.verify` is 140,001 bytes; Linux passes no program an argument/,
  },
  {
    name: 'a role env variable whose name holds "="',
    files: {
      'swarm.yaml':
        'version: 1\nroles:\n  coder:\n    backend: command\n    env:\n      "A=B": x\ntasks:\n  - id: a\n    run: "true"\n',
    },
    args: ['run', 'swarm.yaml'],
    where: 'swarm.yaml:6:14',
    field: 'roles.coder.env.A=B',
    message: 'the name of an environment variable cannot contain "="',
  },

  // ── The config file itself ──────────────────────────────────────────────────────────────────
  {
    name: 'a config file that does not exist',
    args: ['run', 'missing.yaml'],
    where: 'missing.yaml',
    message: 'cannot read: no such file',
  },
  {
    name: 'a config path that is a directory',
    dirs: ['conf.d'],
    args: ['run', 'conf.d'],
    where: 'conf.d',
    message: 'cannot read: is a directory, not a file',
  },
  {
    name: 'an empty config file',
    files: { 'swarm.yaml': '' },
    args: ['run', 'swarm.yaml'],
    where: 'swarm.yaml',
    message: 'the file is empty',
  },

  // ── --plan files ────────────────────────────────────────────────────────────────────────────
  {
    name: 'a JSON plan file with an unknown dependency, located in the JSON',
    files: {
      'swarm.yaml': 'version: 1\n',
      'plan.json':
        [
          '{', //                                                  1
          '  "tasks": [', //                                       2
          '    {"id": "a", "run": "true"},', //                    3
          '    {"id": "b", "run": "true", "deps": ["aa"]}', //     4  ← "aa" at column 41
          '  ]', //                                                5
          '}', //                                                  6
        ].join('\n') + '\n',
    },
    args: ['run', 'swarm.yaml', '--plan', 'plan.json', '--run-dir', 'out'],
    where: 'plan.json:4:41',
    field: 'tasks[1].deps[0]',
    message: 'unknown task "aa" (did you mean "a"?)',
  },
  {
    name: 'a JSON plan list with an unknown task key, suggesting the nearest one',
    files: {
      'swarm.yaml': 'version: 1\n',
      'plan.json':
        [
          '[', //                                              1
          '  {"id": "a", "run": "true", "dpes": []}', //       2  ← "dpes" at column 30
          ']', //                                              3
        ].join('\n') + '\n',
    },
    args: ['run', 'swarm.yaml', '--plan', 'plan.json'],
    where: 'plan.json:2:30',
    field: '[0].dpes',
    message: 'unknown key "dpes" (did you mean "deps"?)',
  },
  {
    name: 'a JSON plan file with a syntax error (a missing comma)',
    files: {
      'swarm.yaml': 'version: 1\n',
      'plan.json':
        [
          '{', //                                       1
          '  "tasks": [', //                            2
          '    {"id": "a" "run": "true"}', //           3  ← "run" at column 16, after a missing comma
          '  ]', //                                     4
          '}', //                                       5
        ].join('\n') + '\n',
    },
    args: ['run', 'swarm.yaml', '--plan', 'plan.json', '--run-dir', 'out'],
    where: 'plan.json:3:16',
    message: /^invalid YAML: /,
  },
  {
    name: 'a plan file that does not exist',
    files: { 'swarm.yaml': 'version: 1\n' },
    args: ['run', 'swarm.yaml', '--plan', 'nope.json', '--run-dir', 'out'],
    where: 'nope.json',
    message: 'cannot read: no such file',
  },

  // ── Command line ────────────────────────────────────────────────────────────────────────────
  {
    name: '--workers 0 on the command line',
    files: { 'swarm.yaml': OK_CONFIG },
    args: ['run', 'swarm.yaml', '--workers', '0'],
    where: null,
    message: /--workers.*'0' is invalid/,
  },
  {
    // Hidden (swarm serve passes it), but it names a directory: "../../x" made the run there.
    name: '--run-id that is a path, not a ULID',
    files: { 'swarm.yaml': OK_CONFIG },
    args: ['run', 'swarm.yaml', '--run-id', '../../x'],
    where: null,
    message: /--run-id.*'\.\.\/\.\.\/x' is invalid\. expected a ULID/,
  },
  {
    name: '--mode fast on the command line',
    files: { 'swarm.yaml': OK_CONFIG },
    args: ['run', 'swarm.yaml', '--mode', 'fast'],
    where: null,
    message: /--mode.*'fast' is invalid.*eager, waves/,
  },

  // ── Run directories ─────────────────────────────────────────────────────────────────────────
  {
    name: '`swarm resume` of a directory that is not a run',
    dirs: ['notrun'],
    files: { 'notrun/notes.txt': 'mine\n' },
    args: ['resume', 'notrun'],
    where: '<world>/notrun',
    message: 'not a run directory',
  },
  {
    name: '`swarm status` of a run directory where planning failed (only planner.json)',
    files: { 'failed-plan/planner.json': '{"outcome": "invalid"}\n' },
    args: ['status', 'failed-plan'],
    where: '<world>/failed-plan',
    message: 'not a run directory (no run.json: the planner gave no plan here and nothing ran; its transcript is',
  },
  {
    name: '`swarm resume` of a run directory written by a newer fileswarm (protocol 99)',
    files: { 'newer/run.json': '{"protocol": 99}\n' },
    args: ['resume', 'newer'],
    where: '<world>/newer/run.json',
    field: 'protocol',
    message: '99: written by a newer fileswarm (this fileswarm reads protocols 2 and 3); upgrade fileswarm to read it',
  },
  {
    name: '`swarm status` of a directory that does not exist',
    args: ['status', 'gone'],
    where: '<world>/gone',
    message: 'not a run directory',
  },
  {
    name: '`swarm dashboard` of a directory that does not exist',
    args: ['dashboard', 'gone'],
    where: '<world>/gone',
    message: 'no such directory',
  },
  {
    name: '`swarm dashboard` of a directory that is not a run',
    dirs: ['notrun'],
    files: { 'notrun/notes.txt': 'mine\n' },
    args: ['dashboard', 'notrun'],
    where: '<world>/notrun',
    message: 'not a run directory (no run.json)',
  },
  {
    name: '`swarm dashboard` without an argument where no run was ever made',
    args: ['dashboard'],
    where: '<world>/.swarm/runs',
    message: 'no run here (start one with `swarm run`, or name a run directory)',
  },
  {
    name: '`swarm run` into a --run-dir that exists and is not empty',
    files: { 'swarm.yaml': OK_CONFIG, 'taken/keep.txt': 'precious\n' },
    args: ['run', 'swarm.yaml', '--run-dir', 'taken'],
    where: '<world>/taken',
    message: 'the run directory already exists and is not empty',
  },
  {
    name: '`swarm run` into a --run-dir where no directory can be made (/sys)',
    files: { 'swarm.yaml': OK_CONFIG },
    args: ['run', 'swarm.yaml', '--run-dir', '/sys/fileswarm-test/run'],
    where: '/sys/fileswarm-test/run',
    message: 'cannot create the run directory there: operation not permitted (EPERM)',
  },
  {
    name: '`run.dir` in the config under /proc (where a recursive mkdir used to spin for ever)',
    files: { 'swarm.yaml': `version: 1\nrun:\n  dir: /proc/nope\n${OK_TASKS}` },
    args: ['run', 'swarm.yaml', '--run-id', '01M91G63ETB3EKNYZMSG32J4TY'],
    where: '/proc/nope/01M91G63ETB3EKNYZMSG32J4TY',
    message: /^cannot create the run directory there: .*\(ENOENT\)$/,
  },
  {
    // Without the check, the repository looked like a plain directory and its tasks ran in place.
    name: '`swarm run` where no `git` can be started (none on the PATH)',
    files: { 'swarm.yaml': OK_CONFIG },
    args: ['run', 'swarm.yaml', '--no-dashboard'],
    env: { PATH: '/nonexistent' },
    where: null,
    message: 'git is not installed (no `git` on the PATH)',
  },
  {
    // A git the system will not start is not a missing one: the reason is the system's.
    name: '`swarm run` where the `git` on the PATH cannot be started (not executable)',
    files: { 'swarm.yaml': OK_CONFIG, 'bin/git': 'not a program\n' },
    args: ['run', 'swarm.yaml', '--no-dashboard'],
    env: { PATH: '<world>/bin' },
    where: null,
    message: 'git could not be started (spawnSync git EACCES): fileswarm needs git 2.38 or newer',
  },
  {
    name: '`swarm run` into a --run-dir that is a file',
    files: { 'swarm.yaml': OK_CONFIG, 'taken.txt': 'precious\n' },
    args: ['run', 'swarm.yaml', '--run-dir', 'taken.txt'],
    where: '<world>/taken.txt',
  },
];

/** Every file and directory under `dir` with file contents, to prove nothing was written. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (rel: string): void => {
    for (const entry of fs.readdirSync(path.join(dir, rel), { withFileTypes: true })) {
      const name = path.join(rel, entry.name);
      if (entry.isDirectory()) {
        out[`${name}/`] = '<dir>';
        walk(name);
      } else out[name] = fs.readFileSync(path.join(dir, name), 'utf8');
    }
  };
  walk('');
  return out;
}

const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

describe('swarm refuses bad input with exit 2, a located message, and no writes', () => {
  let world: World;
  beforeEach(() => {
    world = makeWorld('swarm-bad-input-');
  });
  afterEach(() => world.cleanup());

  it.each(cases.map((c) => [c.name, c] as const))('refuses %s', async (_name, c) => {
    for (const d of c.dirs ?? []) fs.mkdirSync(world.path(d), { recursive: true });
    for (const [name, text] of Object.entries(c.files ?? {})) world.write(name, text);
    const before = snapshot(world.dir);

    const env =
      c.env && Object.fromEntries(Object.entries(c.env).map(([k, v]) => [k, v.replaceAll('<world>', world.dir)]));
    const result = await runCli(c.args, { cwd: world.dir, ...(env ? { env } : {}) });

    expect(result.code, `stderr: ${result.stderr}`).toBe(2);
    expect(result.stderr).not.toMatch(/^\s+at /m); // a message, not a stack trace
    if (c.where !== null) {
      const where = c.where.replace('<world>', world.dir);
      const prefix = `swarm: ${where}: ${c.field ? `${c.field}: ` : ''}`;
      const line = result.stderr.split('\n').find((l) => l.startsWith(prefix));
      expect(line, `no line starts with ${JSON.stringify(prefix)} in stderr:\n${result.stderr}`).toBeDefined();
      if (typeof c.message === 'string') expect(line!.slice(prefix.length)).toContain(c.message);
      else if (c.message) expect(line!.slice(prefix.length)).toMatch(c.message);
      // A whole-file problem carries no line:col; a located one carries exactly the one expected.
      expect(line!.slice(`swarm: ${where}`.length)).not.toMatch(/^:\d/);
    } else if (c.message !== undefined) {
      expect(result.stderr).toMatch(typeof c.message === 'string' ? new RegExp(escape(c.message)) : c.message);
    }

    expect(result.stdout).not.toContain('run directory:');
    expect(fs.existsSync(world.path('.swarm'))).toBe(false);
    expect(fs.existsSync(world.path('out'))).toBe(false);
    expect(snapshot(world.dir)).toEqual(before);
  });
});

describe('an error no check foresaw', () => {
  let world: World;
  beforeEach(() => {
    world = makeWorld('swarm-bad-input-');
  });
  afterEach(() => world.cleanup());

  it('ends with one line naming the file that holds the details, not a stack trace', async () => {
    // A run that never started (its coordinator killed at once) whose control/ is a file: nothing
    // checks for that, so creating a request fails.
    world.write('swarm.yaml', OK_CONFIG);
    const run = await runCli(['run', 'swarm.yaml', '--run-dir', 'run'], {
      cwd: world.dir,
      env: { SWARM_TEST_CRASH_AT: 'startup-renamed' },
    });
    expect(run.signal).toBe('SIGKILL');
    world.write('run/control', 'not a directory\n');

    const result = await runCli(['control', 'run', 'pause'], { cwd: world.dir });

    expect(result.code).toBe(1);
    const lines = result.stderr.split('\n').filter(Boolean);
    expect(lines).toHaveLength(1);
    const m = /^swarm: unexpected error: (.+) \(details: (.+)\)$/.exec(lines[0]!);
    expect(m, result.stderr).not.toBeNull();
    expect(m![1]).toContain('EEXIST');
    const details = fs.readFileSync(m![2]!, 'utf8');
    fs.rmSync(m![2]!);
    expect(details).toContain('control run pause');
    expect(details).toMatch(/^\s+at /m); // the stack is there, for whoever reports the bug
  });
});

describe('swarm control refuses what no coordinator would apply', () => {
  let world: World;
  beforeEach(() => {
    world = makeWorld('swarm-bad-input-');
  });
  afterEach(() => world.cleanup());

  /** The requests waiting in the run's control/ (none may be written by a refused request). */
  const pending = (): string[] =>
    fs.existsSync(world.path('run/control'))
      ? fs.readdirSync(world.path('run/control')).filter((n) => n.endsWith('.json'))
      : [];

  it('refuses a malformed or unknown task id and a finished run with exit 2, writing no request', async () => {
    world.write('swarm.yaml', 'version: 1\ntasks:\n  - id: build\n    run: "true"\n');
    expect((await runCli(['run', 'swarm.yaml', '--run-dir', 'run'], { cwd: world.dir })).code).toBe(0);
    const root = world.path('run');
    for (const [args, message] of [
      [['cancel-task', '../../x'], '"../../x" is not a task id: a task id is 1-64 characters of a-z'],
      [['retry-task', 'Build'], '"Build" is not a task id: task ids are lower case'],
      [['cancel-task', 'biuld'], `${root}: the run has no task "biuld" (did you mean "build"?)`],
      [['pause'], `${root}: the run has finished (succeeded): no coordinator will apply the request`],
      [['retry-task', 'build'], `${root}: the run has finished (succeeded): no coordinator will apply the request`],
    ] as const) {
      const r = await runCli(['control', 'run', ...args], { cwd: world.dir });
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(2);
      expect(r.stderr.startsWith(`swarm: ${message}`), r.stderr).toBe(true);
      expect(r.stderr.split('\n').filter(Boolean)).toHaveLength(1);
      expect(r.stdout).toBe('');
    }
    expect(pending()).toEqual([]);
    expect(fs.existsSync(world.path('x'))).toBe(false);
  });

  it('says that a run whose coordinator is dead gets the request when it is resumed, which applies it', async () => {
    world.write('swarm.yaml', 'version: 1\ntasks:\n  - id: a\n    run: "true"\n  - id: b\n    run: "true"\n');
    const killed = await runCli(['run', 'swarm.yaml', '--run-dir', 'run'], {
      cwd: world.dir,
      env: { SWARM_TEST_CRASH_AT: 'after-plan' },
    });
    expect(killed.signal).toBe('SIGKILL');
    const root = world.path('run');
    const started = Date.now();
    const waited = await runCli(['control', 'run', 'cancel-task', 'b', '--wait', '30000'], { cwd: world.dir });
    expect(waited.code).toBe(1);
    expect(Date.now() - started).toBeLessThan(15_000); // it did not wait for what cannot come
    expect(waited.stdout).toContain(
      `no coordinator is running this run: the request is applied when it is resumed (swarm resume ${root})`,
    );
    expect(waited.stdout).toContain('not applied: nothing will apply it before the run is resumed');
    const id = /^request (\S+): cancel-task b$/m.exec(waited.stdout)![1]!;
    expect(pending()).toEqual([`${id}.json`]);

    const resumed = await runCli(['resume', 'run'], { cwd: world.dir });
    expect(resumed.code).toBe(1); // b was cancelled
    const applied = fs
      .readFileSync(world.path('run/events.jsonl'), 'utf8')
      .split('\n')
      .filter((l) => l.includes('"control.applied"'))
      .map((l) => JSON.parse(l) as { request: string; accepted: boolean });
    expect(applied).toEqual([expect.objectContaining({ request: id, accepted: true })]);
  });

  it('refuses a run that is still being created, without writing into its path', async () => {
    world.write('swarm.yaml', OK_CONFIG);
    const killed = await runCli(['run', 'swarm.yaml', '--run-dir', 'run'], {
      cwd: world.dir,
      env: { SWARM_TEST_CRASH_AT: 'startup-plan-json' },
    });
    expect(killed.signal).toBe('SIGKILL');
    const r = await runCli(['control', 'run', 'stop-run'], { cwd: world.dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`swarm: ${world.path('run')}: the run was interrupted before it started`);
    expect(fs.existsSync(world.path('run'))).toBe(false);
  });
});
