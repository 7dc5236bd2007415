// The built-in `anthropic` agent backend end to end: `swarm run` starts real workers whose agents
// talk to the fake Anthropic server over HTTP (the real SDK), in real git worktrees.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { at, attemptOf, call, finish, taskOf } from '../fixtures/agent-script.js';
import { FakeAnthropic, type FakeRequest } from '../fixtures/fake-anthropic.js';
import { RunSource } from '../../src/dashboard/source.js';
import { DEFAULTS } from '../../src/config/defaults.js';
import {
  allFiles,
  git,
  linesOf,
  makeGitRepo,
  makeWorld,
  readJson,
  readJsonlFile,
  runCli,
  runDirOf,
  type World,
} from '../helpers.js';

const KEY = 'sk-ant-test-7f3c9e1d2b4a6058';

/** A repository with a small JavaScript project, and its swarm.yaml. */
function makeProject(w: World, config: Record<string, unknown>): string {
  const repo = makeGitRepo(w, {
    'README.md': '# greet\n\nA tiny library that greets people.\n',
    'package.json': JSON.stringify({ name: 'greet', version: '1.0.0', type: 'module' }, null, 2),
    'src/greet.js': "export function greet(name) {\n  return 'Hello, ' + name;\n}\n\n// greet\n",
    'src/util.js': 'export const x = 1;\n',
    '.gitignore': 'secret-build/\n',
  });
  w.write('repo/swarm.yaml', { version: 1, workers: 3, ...config });
  return repo;
}

const coder = { backend: 'anthropic', model: 'claude-sonnet-5-5' };

/** The tool_result blocks of a request's last message, by tool_use order. */
function toolResults(r: FakeRequest): { content: string; is_error?: boolean }[] {
  const last = (r.body.messages as { content: unknown }[]).at(-1)!;
  return (last.content as { type: string; content: string; is_error?: boolean }[]).filter(
    (b) => b.type === 'tool_result',
  );
}

describe('an agent that reads, edits, runs a command and finishes in a real worktree', () => {
  let w: World;
  let fake: FakeAnthropic;
  let repo: string;
  let result: Awaited<ReturnType<typeof runCli>>;
  let runDir: string;

  beforeAll(async () => {
    w = makeWorld();
    fake = await FakeAnthropic.start({ apiKey: KEY });
    repo = makeProject(w, {
      roles: { coder },
      tasks: [
        {
          id: 'shout',
          title: 'Add shout()',
          role: 'coder',
          description: 'Add a shout(name) function to src/greet.js that greets in upper case.',
          // It says whether it sees the API key (it must not: verify runs without it).
          verify:
            'echo "key in verify: ${ANTHROPIC_API_KEY:-absent}"; ' +
            "node --input-type=module -e \"import {shout} from './src/greet.js'; if (shout('a') !== 'HELLO, A!') process.exit(1)\"",
        },
      ],
    });
    // A committed symbolic link that points out of the repository (so every worktree has it).
    fs.symlinkSync('/etc', path.join(repo, 'etc-link'));
    git(repo, 'add', 'etc-link');
    git(repo, 'commit', '-qm', 'a link out');
    fake.addRules(
      at('shout', 0, call('list_files', { pattern: 'src/**/*.js' })),
      at('shout', 1, call('read_file', { path: 'src/greet.js' })),
      at('shout', 2, call('read_file', { path: '../outside.txt' })),
      at('shout', 3, call('read_file', { path: 'etc-link/hostname' })),
      at('shout', 4, call('edit_file', { path: 'src/greet.js', old_text: 'greet', new_text: 'hail' })),
      at(
        'shout',
        5,
        call('edit_file', {
          path: 'src/greet.js',
          old_text: '// greet\n',
          new_text: "export function shout(name) {\n  return greet(name).toUpperCase() + '!';\n}\n",
        }),
      ),
      at(
        'shout',
        6,
        call('bash', {
          command:
            'echo "key=[$ANTHROPIC_API_KEY]"; node --input-type=module -e "import {shout} from \'./src/greet.js\'; console.log(shout(\'bob\'))"',
        }),
      ),
      at('shout', 7, {
        content: [
          { type: 'text', text: 'The function works.' },
          { type: 'tool_use', name: 'finish', input: { summary: 'added shout() to src/greet.js' } },
        ],
      }),
    );
    result = await runCli(['run', 'swarm.yaml', 'Make greetings louder'], {
      cwd: repo,
      env: { ANTHROPIC_API_KEY: KEY, ANTHROPIC_BASE_URL: fake.url },
    });
    runDir = runDirOf(result.stdout);
  }, 120_000);

  afterAll(async () => {
    await fake?.close();
    w?.cleanup();
  });

  it('finishes the task and merges its edit into the integration branch', () => {
    expect(result.code, result.stderr + result.stdout).toBe(0);
    expect(fake.unusedRules()).toEqual([]);
    const run = readJson<{ id: string }>(path.join(runDir, 'run.json'));
    const merged = git(repo, 'show', `swarm/${run.id}:src/greet.js`);
    expect(merged).toContain("return greet(name).toUpperCase() + '!';");
    // The user's checkout is untouched.
    expect(fs.readFileSync(path.join(repo, 'src/greet.js'), 'utf8')).not.toContain('shout');
  });

  it('runs the command in the worktree and sends its output back', () => {
    const bash = toolResults(fake.requests.find((r) => r.rule === 'shout#7')!)[0]!;
    expect(bash.content).toContain('HELLO, BOB!');
    expect(bash.content).toContain('[exit code 0]');
    // The agent's commands do not see the API key.
    expect(bash.content).toContain('key=[]');
    // The dashboard's log pager (l) shows the commands and their whole output from bash.log.
    const log = RunSource.open(runDir)
      .readLog('shout')
      .map((l) => l.text);
    const from = log.indexOf("── bash (the agent's commands and their output)");
    expect(from).toBeGreaterThan(0);
    expect(log.slice(from)).toContain('HELLO, BOB!');
    expect(log.slice(from).some((l) => l.startsWith('$ echo "key=[$ANTHROPIC_API_KEY]"'))).toBe(true);
  });

  it('refuses paths that leave the worktree, also through a symbolic link', () => {
    const up = toolResults(fake.requests.find((r) => r.rule === 'shout#3')!)[0]!;
    expect(up).toMatchObject({ is_error: true });
    expect(up.content).toContain('outside the workspace');
    const link = toolResults(fake.requests.find((r) => r.rule === 'shout#4')!)[0]!;
    expect(link).toMatchObject({ is_error: true });
    expect(link.content).toContain('symbolic link');
  });

  it('answers an edit whose old text is not unique with an error naming the lines', () => {
    const edit = toolResults(fake.requests.find((r) => r.rule === 'shout#5')!)[0]!;
    expect(edit).toMatchObject({ is_error: true });
    expect(edit.content).toContain('occurs 2 times (lines 1, 5)');
  });

  it('lists files with .gitignore respected and reads them with line numbers', () => {
    const list = toolResults(fake.requests.find((r) => r.rule === 'shout#1')!)[0]!;
    expect(list.content.split('\n')).toEqual(['src/greet.js', 'src/util.js']);
    const read = toolResults(fake.requests.find((r) => r.rule === 'shout#2')!)[0]!;
    expect(read.content).toContain("     2\t  return 'Hello, ' + name;");
  });

  it('records usage per turn in the attempt events, status.json and result.json, and totals in the run', () => {
    const attempt = path.join(runDir, 'tasks/shout/1');
    const res = readJson<{
      outcome: string;
      reason: string;
      turns: number;
      usage: { cost_usd: number; input_tokens: number; cache_read_tokens: number };
      verify: { exit_code: number };
    }>(path.join(attempt, 'result.json'));
    expect(res).toMatchObject({ outcome: 'succeeded', reason: 'finished', turns: 8, verify: { exit_code: 0 } });
    const sent = fake.requests.filter((r) => taskOf(r) === 'shout');
    const sum = (k: 'input_tokens' | 'cache_read_input_tokens') => sent.reduce((s, r) => s + r.usage![k], 0);
    expect(res.usage.input_tokens).toBe(sum('input_tokens'));
    expect(res.usage.cache_read_tokens).toBe(sum('cache_read_input_tokens'));
    expect(res.usage.cost_usd).toBeGreaterThan(0);
    const events = readJsonlFile<{ type: string; turn?: number; name?: string }>(path.join(attempt, 'events.jsonl'));
    expect(events.filter((e) => e.type === 'usage').map((e) => e.turn)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(events.filter((e) => e.type === 'tool_call').map((e) => e.name)).toEqual([
      'list_files',
      'read_file',
      'read_file',
      'read_file',
      'edit_file',
      'edit_file',
      'bash',
      'finish',
    ]);
    const status = readJson<{ turn: number; usage: { cost_usd: number } }>(path.join(attempt, 'status.json'));
    expect(status.turn).toBe(8);
    expect(status.usage.cost_usd).toBe(res.usage.cost_usd);
    const state = readJson<{ usage: { cost_usd: number }; tasks: Record<string, { usage: { cost_usd: number } }> }>(
      path.join(runDir, 'state.json'),
    );
    expect(state.tasks.shout!.usage.cost_usd).toBe(res.usage.cost_usd);
    expect(state.usage.cost_usd).toBe(res.usage.cost_usd);
    // The first user message, then 8 answers, each followed by its tool results.
    expect(linesOf(path.join(attempt, 'transcript.jsonl')).length).toBe(17);
  });

  it('never writes the API key: not in the run directory, its logs, or the worktrees', () => {
    const files = [...allFiles(runDir), ...allFiles(path.join(repo, '.swarm'))];
    expect(files.length).toBeGreaterThan(10);
    const leaks = files.filter((f) => fs.readFileSync(f).includes(KEY));
    expect(leaks).toEqual([]);
    // The task's verify ran without the key's variable.
    expect(fs.readFileSync(path.join(runDir, 'tasks/shout/1/verify.log'), 'utf8')).toContain('key in verify: absent');
    // ...although the key did reach the server, so the check above could have failed.
    expect(fake.requests[0]!.headers['x-api-key'] ?? fake.requests[0]!.headers.authorization).toContain(KEY);
  });
});

describe('agent limits', () => {
  let w: World;
  let fake: FakeAnthropic;
  beforeAll(async () => {
    fake = await FakeAnthropic.start({ apiKey: KEY });
  });
  afterAll(async () => {
    await fake?.close();
  });
  afterEach(() => w?.cleanup());
  const env = (): Record<string, string> => ({ ANTHROPIC_API_KEY: KEY, ANTHROPIC_BASE_URL: fake.url });

  it('ends an attempt that repeats the same tool call 3 times with loop-detected', async () => {
    w = makeWorld();
    const repo = makeProject(w, {
      roles: { coder },
      tasks: [{ id: 'looper', role: 'coder', description: 'Read the readme.' }],
    });
    fake.addRules(
      at('looper', 0, call('read_file', { path: 'README.md' })),
      at('looper', 1, call('read_file', { path: 'README.md' })),
      at('looper', 2, call('read_file', { path: 'README.md' })),
    );
    const r = await runCli(['run', 'swarm.yaml'], { cwd: repo, env: env() });
    expect(r.code, r.stderr).toBe(1);
    const res = readJson<{ reason: string; summary: string }>(
      path.join(runDirOf(r.stdout), 'tasks/looper/1/result.json'),
    );
    expect(res.reason).toBe('loop-detected');
    expect(res.summary).toContain('read_file README.md');
  });

  it('does not run a tool call that an answer cut off at max_tokens ended inside', async () => {
    w = makeWorld();
    const repo = makeProject(w, {
      roles: { coder },
      tasks: [{ id: 'cut', role: 'coder', description: 'Write notes.' }],
    });
    // A complete call, then one cut off mid-input: the first runs, the second does not.
    const cutReply = {
      content: [
        { type: 'tool_use' as const, name: 'write_file', input: { path: 'whole.txt', content: 'all of it\n' } },
        { type: 'tool_use' as const, name: 'write_file', input: { path: 'notes.txt', content: 'the first half of' } },
      ],
      stop_reason: 'max_tokens' as const,
    };
    fake.addRules(at('cut', 0, cutReply), at('cut', 1, finish('wrote the notes')));
    const r = await runCli(['run', 'swarm.yaml'], { cwd: repo, env: env() });
    expect(r.code, r.stderr).toBe(0);
    const results = toolResults(fake.requests.find((q) => taskOf(q) === 'cut' && q.body.messages.length === 3)!);
    expect(results[0]).toMatchObject({ content: 'created whole.txt (1 line)' });
    expect(results[1]).toMatchObject({
      is_error: true,
      content: expect.stringMatching(
        /^not run: your answer was cut off at its max_tokens \(\d+ tokens\) inside this call/,
      ),
    });
    const run = readJson<{ id: string }>(path.join(runDirOf(r.stdout), 'run.json'));
    expect(git(repo, 'show', `swarm/${run.id}:whole.txt`)).toBe('all of it');
    expect(() => git(repo, 'show', `swarm/${run.id}:notes.txt`)).toThrow(); // never written
    const events = readJsonlFile(path.join(runDirOf(r.stdout), 'tasks/cut/1/events.jsonl'));
    expect(events.some((e) => e.type === 'error' && String(e.text).includes('cut off at its max_tokens'))).toBe(true);
  });

  it('ends an attempt whose answer was refused without running its tool calls', async () => {
    w = makeWorld();
    const repo = makeProject(w, {
      roles: { coder },
      tasks: [{ id: 'refused', role: 'coder', description: 'Write notes.' }],
    });
    fake.addRules(
      at('refused', 0, {
        content: [
          { type: 'text', text: 'I will not' },
          { type: 'tool_use', name: 'write_file', input: { path: 'notes.txt', content: 'par' } },
        ],
        stop_reason: 'refusal',
      }),
    );
    const r = await runCli(['run', 'swarm.yaml'], { cwd: repo, env: env() });
    expect(r.code, r.stderr).toBe(1);
    const runDir = runDirOf(r.stdout);
    expect(
      readJson<{ reason: string; summary: string }>(path.join(runDir, 'tasks/refused/1/result.json')),
    ).toMatchObject({ reason: 'api-error', summary: 'the model refused: I will not' });
    const run = readJson<{ id: string }>(path.join(runDir, 'run.json'));
    expect(() => git(repo, 'show', `refs/swarm/${run.id}/refused/1:notes.txt`)).toThrow(); // never written
  });

  it('ends an attempt at max_turns', async () => {
    w = makeWorld();
    const repo = makeProject(w, {
      roles: { coder: { ...coder, max_turns: 2 } },
      tasks: [{ id: 'slow', role: 'coder', description: 'Explore.' }],
    });
    fake.addRules(at('slow', 0, call('list_files', {})), at('slow', 1, call('read_file', { path: 'README.md' })));
    const r = await runCli(['run', 'swarm.yaml'], { cwd: repo, env: env() });
    expect(r.code, r.stderr).toBe(1);
    const res = readJson<{ reason: string; turns: number }>(path.join(runDirOf(r.stdout), 'tasks/slow/1/result.json'));
    expect(res).toMatchObject({ reason: 'max-turns', turns: 2 });
    expect(fake.requests.filter((q) => taskOf(q) === 'slow')).toHaveLength(2);
  });

  it('retries a 529 overloaded answer and then succeeds', async () => {
    w = makeWorld();
    const repo = makeProject(w, { roles: { coder }, tasks: [{ id: 'busy', role: 'coder', description: 'Say done.' }] });
    fake.addRules(
      {
        name: 'overloaded',
        match: (q) => taskOf(q) === 'busy',
        error: { status: 529, type: 'overloaded_error', message: 'Overloaded' },
      },
      at('busy', 0, finish('nothing to do')),
    );
    const r = await runCli(['run', 'swarm.yaml'], { cwd: repo, env: env() });
    expect(r.code, r.stderr).toBe(0);
    const sent = fake.requests.filter((q) => taskOf(q) === 'busy');
    expect(sent.map((q) => q.status)).toEqual([529, 200]);
    const events = readJsonlFile<{ type: string; text: string }>(
      path.join(runDirOf(r.stdout), 'tasks/busy/1/events.jsonl'),
    );
    expect(events.find((e) => e.type === 'error')?.text).toMatch(
      /HTTP 529: overloaded_error: Overloaded.*retry 1 of 4/,
    );
  });

  it('counts what a response that failed mid-stream was billed, then retries it', async () => {
    w = makeWorld();
    const repo = makeProject(w, {
      roles: { coder },
      tasks: [{ id: 'midway', role: 'coder', description: 'List, then finish.' }],
    });
    fake.addRules(
      at('midway', 0, { ...call('list_files', {}), stream_error: { type: 'overloaded_error', message: 'Overloaded' } }),
      at('midway', 0, call('list_files', {})),
      at('midway', 1, finish('listed')),
    );
    const r = await runCli(['run', 'swarm.yaml'], { cwd: repo, env: env() });
    expect(r.code, r.stderr).toBe(0);
    const runDir = runDirOf(r.stdout);
    const sent = fake.requests.filter((q) => taskOf(q) === 'midway');
    expect(sent).toHaveLength(3);
    // The attempt's usage is every request's, the failed one's prompt included (the fake logs
    // what message_start reported for it).
    const sum = (
      k: 'input_tokens' | 'cache_read_input_tokens' | 'cache_creation_input_tokens' | 'output_tokens',
    ): number => sent.reduce((n, q) => n + q.usage![k], 0);
    const result = readJson<{ usage: Record<string, number> }>(path.join(runDir, 'tasks/midway/1/result.json'));
    expect(result.usage).toMatchObject({
      input_tokens: sum('input_tokens'),
      cache_read_tokens: sum('cache_read_input_tokens'),
      cache_write_tokens: sum('cache_creation_input_tokens'),
      output_tokens: sum('output_tokens'),
    });
    expect(sent[0]!.usage!.cache_creation_input_tokens + sent[0]!.usage!.input_tokens).toBeGreaterThan(0);
    const events = readJsonlFile<{ type: string; text: string }>(path.join(runDir, 'tasks/midway/1/events.jsonl'));
    const usageLines = events.filter((e) => e.type === 'usage').map((e) => e.text);
    expect(usageLines[0]).toMatch(/^turn 1, a response cut off by an error \(billed as far as it went\): \d+ in, /);
    expect(usageLines).toHaveLength(3);
    expect(events.find((e) => e.type === 'error')?.text).toMatch(/overloaded_error.*retry 1 of 4/);
  });

  it('sizes a retry on what the cap leaves after the failed try, and stops when that is too little', async () => {
    // First the prompt's size P (tokens, as the fake counts them), from the same task uncapped.
    w = makeWorld();
    let repo = makeProject(w, { roles: { coder }, tasks: [{ id: 'capa', role: 'coder', description: 'List.' }] });
    fake.addRules(at('capa', 0, finish('nothing')));
    expect((await runCli(['run', 'swarm.yaml'], { cwd: repo, env: env() })).code).toBe(0);
    const u = fake.requests.find((q) => taskOf(q) === 'capa')!.usage!;
    const p = u.input_tokens + u.cache_read_input_tokens + u.cache_creation_input_tokens;
    w.cleanup();
    // A token cap T = 1.55 P + 300 pays for the first try (T − 1.1 P ≥ 256) but, once the failed
    // try's P + 1 tokens are charged, not for a retry (T − (P + 1) − 1.1 P < 256).
    w = makeWorld();
    const cap = Math.round(1.55 * p) + 300;
    repo = makeProject(w, {
      roles: { coder: { ...coder, max_tokens: cap } },
      tasks: [{ id: 'capb', role: 'coder', description: 'List.' }],
    });
    fake.addRules(
      at('capb', 0, { ...call('list_files', {}), stream_error: { type: 'overloaded_error', message: 'Overloaded' } }),
    );
    const r = await runCli(['run', 'swarm.yaml'], { cwd: repo, env: env() });
    expect(r.code, r.stderr).toBe(1);
    expect(fake.requests.filter((q) => taskOf(q) === 'capb')).toHaveLength(1); // no retry was sent
    const res = readJson<{ reason: string; summary: string }>(
      path.join(runDirOf(r.stdout), 'tasks/capb/1/result.json'),
    );
    expect(res.reason).toBe('max-tokens');
    expect(res.summary).toMatch(
      new RegExp(`^stopped before turn 1: \\d+ of its ${cap} token cap used, too few left for another turn$`),
    );
  });

  it("waits as long as a 429 answer's retry-after says before retrying", async () => {
    w = makeWorld();
    const repo = makeProject(w, {
      roles: { coder },
      tasks: [{ id: 'limited', role: 'coder', description: 'Say done.' }],
    });
    // When each request of the task reached the fake (by its arrival index; a rule's match may be asked more than once).
    const seenAt = new Map<number, number>();
    const limited = (q: FakeRequest): boolean =>
      taskOf(q) === 'limited' && Boolean(seenAt.set(q.index, seenAt.get(q.index) ?? Date.now()));
    fake.addRules(
      {
        name: 'rate-limited',
        match: limited,
        error: { status: 429, type: 'rate_limit_error', message: 'slow down', headers: { 'retry-after': '2' } },
      },
      { ...at('limited', 0, finish('done')), match: limited },
    );
    const r = await runCli(['run', 'swarm.yaml'], { cwd: repo, env: env() });
    expect(r.code, r.stderr).toBe(0);
    const arrived = [...seenAt.values()];
    expect(arrived).toHaveLength(2);
    // The backoff alone would have been 0.5 s ± 25 %; the server asked for 2 s.
    expect(arrived[1]! - arrived[0]!).toBeGreaterThanOrEqual(1900);
    const events = readJsonlFile<{ type: string; text: string }>(
      path.join(runDirOf(r.stdout), 'tasks/limited/1/events.jsonl'),
    );
    expect(events.find((e) => e.type === 'error')?.text).toContain(
      'HTTP 429: rate_limit_error: slow down); retry 1 of 4 in 2000 ms',
    );
  });

  it('tells the next attempt what went wrong: the summary and the verify output of the failed one', async () => {
    w = makeWorld();
    const repo = makeProject(w, {
      roles: { coder },
      tasks: [
        {
          id: 'twice',
          role: 'coder',
          description: 'Create done.txt.',
          verify: 'test -f done.txt || { echo "done.txt is missing"; exit 1; }',
          retries: 1,
        },
      ],
    });
    fake.addRules(
      at('twice/1', 0, finish('nothing needed')),
      at('twice/2', 0, call('write_file', { path: 'done.txt', content: 'ok\n' })),
      at('twice/2', 1, finish('created done.txt')),
    );
    const r = await runCli(['run', 'swarm.yaml'], { cwd: repo, env: env() });
    expect(r.code, r.stderr + r.stdout).toBe(0);
    const second = JSON.stringify(fake.requests.find((q) => attemptOf(q) === 'twice/2')!.body.system);
    expect(second).toContain('attempt 1: failed (verify-failed): verify `test -f done.txt');
    expect(second).toContain('done.txt is missing');
    const assignment = readJson<{ previous: { summary: string; verify_tail: string[] }[] }>(
      path.join(runDirOf(r.stdout), 'tasks/twice/2/assignment.json'),
    );
    expect(assignment.previous[0]!.verify_tail).toEqual(['done.txt is missing']);
  });

  it('ends an attempt with api-error when the API keeps failing, with the reason', async () => {
    w = makeWorld();
    const repo = makeProject(w, { roles: { coder }, tasks: [{ id: 'down', role: 'coder', description: 'Say done.' }] });
    fake.addRules({
      name: 'bad',
      match: (q) => taskOf(q) === 'down',
      error: { status: 400, type: 'invalid_request_error', message: 'messages: bad' },
    });
    const r = await runCli(['run', 'swarm.yaml'], { cwd: repo, env: env() });
    expect(r.code, r.stderr).toBe(1);
    const res = readJson<{ reason: string; summary: string }>(
      path.join(runDirOf(r.stdout), 'tasks/down/1/result.json'),
    );
    expect(res.reason).toBe('api-error');
    expect(res.summary).toContain('HTTP 400: invalid_request_error: messages: bad');
  });

  it('gives up with api-error after its retries when the API stays overloaded (1 request + 4 retries)', async () => {
    w = makeWorld();
    const repo = makeProject(w, {
      roles: { coder },
      tasks: [{ id: 'busy-api', role: 'coder', description: 'Say done.' }],
    });
    fake.addRules({
      name: 'overloaded',
      match: (q) => taskOf(q) === 'busy-api',
      times: Infinity,
      // retry-after-ms keeps the test short; the agent honours it as the API's clients do.
      error: { status: 529, type: 'overloaded_error', message: 'Overloaded', headers: { 'retry-after-ms': '50' } },
    });
    const r = await runCli(['run', 'swarm.yaml'], { cwd: repo, env: env() });
    expect(r.code, r.stderr).toBe(1);
    const res = readJson<{ reason: string; summary: string }>(
      path.join(runDirOf(r.stdout), 'tasks/busy-api/1/result.json'),
    );
    expect(res.reason).toBe('api-error');
    expect(res.summary).toContain('529');
    expect(fake.requests.filter((q) => taskOf(q) === 'busy-api')).toHaveLength(1 + DEFAULTS.apiRetries);
  });

  it('refuses to start without the API key in the environment, naming the variable', async () => {
    w = makeWorld();
    const repo = makeProject(w, {
      roles: { coder: { ...coder, api_key_env: 'MY_KEY' } },
      tasks: [{ id: 'a', role: 'coder', description: 'x' }],
    });
    const r = await runCli(['run', 'swarm.yaml'], { cwd: repo, env: {} });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('MY_KEY is not set');
    expect(r.stderr).toContain('roles.coder.api_key_env');
    expect(fs.existsSync(path.join(repo, '.swarm/runs'))).toBe(false);
  });
});

describe('context compaction', () => {
  it("replaces older tool results with summaries when the context nears the model's window, and goes on", async () => {
    const w = makeWorld();
    const fake = await FakeAnthropic.start({ apiKey: KEY });
    try {
      // data.txt is not committed: the agent works in place (no worktree) here.
      const role = { backend: 'anthropic', model: 'claude-haiku-4-5' };
      const repo = makeProject(w, {
        git: { isolation: 'none' },
        roles: { coder: role },
        tasks: [{ id: 'big', role: 'coder', description: 'Read the data.' }],
      });
      // 1,000 lines of 1,000 characters: each read of 20 lines is a 20,000-character tool result
      // (about 5,000 tokens as the fake counts), so ~28 reads fill 70 % of Haiku 4.5's 200,000.
      fs.writeFileSync(
        path.join(repo, 'data.txt'),
        Array.from({ length: 1000 }, (_, i) => `${String(i).padStart(4, '0')} ${'x'.repeat(995)}`).join('\n'),
      );
      const reads = 34;
      for (let k = 0; k < reads; k++)
        fake.addRules(at('big', k, call('read_file', { path: 'data.txt', offset: 1 + 20 * k, limit: 20 })));
      fake.addRules(at('big', reads, finish('read it all')));
      const r = await runCli(['run', 'swarm.yaml'], {
        cwd: repo,
        env: { ANTHROPIC_API_KEY: KEY, ANTHROPIC_BASE_URL: fake.url },
      });
      expect(r.code, r.stderr + r.stdout).toBe(0);
      expect(fake.unusedRules()).toEqual([]);
      const events = readJsonlFile<{ type: string; text: string }>(
        path.join(runDirOf(r.stdout), 'tasks/big/1/events.jsonl'),
      );
      const compactions = events.filter((e) => e.type === 'log' && e.text.includes('compacted'));
      expect(compactions.length).toBeGreaterThanOrEqual(1);
      expect(compactions[0]!.text).toMatch(/^context at \d+ of 200000 tokens: compacted \d+ older tool results$/);
      // The requests after it carry summaries instead of the old results, and stay under the window.
      const last = fake.requests.at(-1)!;
      expect(JSON.stringify(last.body.messages)).toContain('[compacted to save context: ');
      const prompt = (q: (typeof fake.requests)[number]): number =>
        q.usage!.input_tokens + q.usage!.cache_read_input_tokens + q.usage!.cache_creation_input_tokens;
      expect(Math.max(...fake.requests.map(prompt))).toBeLessThan(200_000);
      expect(prompt(last)).toBeLessThan(prompt(fake.requests[reads - 6]!));
      // The transcript keeps every result whole.
      expect(fs.readFileSync(path.join(runDirOf(r.stdout), 'tasks/big/1/transcript.jsonl'), 'utf8')).not.toContain(
        '[compacted',
      );
    } finally {
      await fake.close();
      w.cleanup();
    }
  }, 90_000);

  it('compacts at once after an answer that filled the context window, and ends the attempt when nothing is left to compact', async () => {
    const w = makeWorld();
    const fake = await FakeAnthropic.start({ apiKey: KEY });
    try {
      const repo = makeProject(w, {
        roles: { coder },
        tasks: [
          { id: 'full', role: 'coder', description: 'Read.' },
          { id: 'empty', role: 'coder', description: 'Think.' },
        ],
      });
      // full: 8 small reads (far below 70 % of the window), then an answer the window cut off.
      for (let k = 0; k < 8; k++)
        fake.addRules(at('full', k, call('read_file', { path: 'src/greet.js', offset: 1 + (k % 4), limit: 1 + k })));
      fake.addRules(
        at('full', 8, { content: [{ type: 'text', text: 'So far I' }], stop_reason: 'model_context_window_exceeded' }),
        at('full', 9, finish('read it')),
      );
      // empty: the window is full at the first answer, with no tool result to compact.
      fake.addRules(
        at('empty', 0, { content: [{ type: 'text', text: 'Hmm' }], stop_reason: 'model_context_window_exceeded' }),
      );
      const r = await runCli(['run', 'swarm.yaml'], {
        cwd: repo,
        env: { ANTHROPIC_API_KEY: KEY, ANTHROPIC_BASE_URL: fake.url },
      });
      expect(r.code, r.stderr + r.stdout).toBe(1);
      const runDir = runDirOf(r.stdout);
      const last = fake.requests.filter((q) => taskOf(q) === 'full').at(-1)!;
      const sent = JSON.stringify(last.body.messages);
      expect(sent).toContain('[compacted to save context: ');
      expect(sent).toContain('Your answer was cut off (the context window is full; older tool results were compacted)');
      const events = readJsonlFile<{ type: string; text: string }>(path.join(runDir, 'tasks/full/1/events.jsonl'));
      expect(events.find((e) => e.type === 'log' && e.text.includes('compacted'))!.text).toMatch(
        /\(the last answer filled the window\): compacted 2 older tool results$/,
      );
      expect(readJson<{ outcome: string }>(path.join(runDir, 'tasks/full/1/result.json')).outcome).toBe('succeeded');
      const empty = readJson<{ reason: string; summary: string }>(path.join(runDir, 'tasks/empty/1/result.json'));
      expect(empty).toMatchObject({
        reason: 'api-error',
        summary: "the conversation fills the model's context window (1000000 tokens) and nothing is left to compact",
      });
      expect(fake.requests.filter((q) => taskOf(q) === 'empty')).toHaveLength(1); // not asked again
    } finally {
      await fake.close();
      w.cleanup();
    }
  });
});

describe('prompt caching', () => {
  it('serves at least 70% of input tokens from the cache over a 10-turn conversation, and measures the loop overhead per turn', async () => {
    const w = makeWorld();
    const fake = await FakeAnthropic.start({ apiKey: KEY });
    try {
      const repo = makeProject(w, {
        roles: { coder },
        tasks: [{ id: 'ten', role: 'coder', description: 'Read the sources, then finish.' }],
      });
      const answered: number[] = [];
      const received: number[] = [];
      const files = ['README.md', 'package.json', 'src/greet.js', 'src/util.js', '.gitignore'];
      for (let turn = 0; turn < 10; turn++) {
        fake.addRules(
          at('ten', turn, () => {
            received.push(Date.now());
            const reply =
              turn === 9
                ? finish('read everything')
                : call('read_file', { path: files[turn % files.length], offset: 1 + Math.floor(turn / files.length) });
            setImmediate(() => answered.push(Date.now()));
            return reply;
          }),
        );
      }
      const r = await runCli(['run', 'swarm.yaml'], {
        cwd: repo,
        env: { ANTHROPIC_API_KEY: KEY, ANTHROPIC_BASE_URL: fake.url },
      });
      expect(r.code, r.stderr).toBe(0);
      const stats = fake.cacheStats();
      const perTurn = fake.requests.map((q) => q.usage!);
      // Every turn after the first reads the whole previous conversation from the cache.
      for (const [i, u] of perTurn.entries())
        if (i > 0)
          expect(u.cache_read_input_tokens, `turn ${i + 1}`).toBeGreaterThan(perTurn[i - 1]!.cache_read_input_tokens);
      // From answer sent to next request received: the agent loop, one read_file and the SDK (the fake answers at once).
      const gaps = received.slice(1).map((t, i) => t - answered[i]!);
      const median = gaps.sort((a, b) => a - b)[Math.floor(gaps.length / 2)]!;
      console.log(
        `prompt caching over 10 turns: ${(stats.cacheShare * 100).toFixed(1)}% of input tokens read from the cache (${stats.cache_read_input_tokens} read, ${stats.cache_creation_input_tokens} written, ${stats.input_tokens} uncached); agent overhead per turn: median ${median} ms, max ${gaps.at(-1)} ms`,
      );
      expect(stats.cacheShare).toBeGreaterThanOrEqual(0.7);
    } finally {
      await fake.close();
      w.cleanup();
    }
  }, 60_000);
});
