// The LLM planner against the fake server: a good plan, a plan repaired after its errors are sent
// back, garbage until the repairs run out (exit 2, transcript kept, nothing else written), and a
// full `swarm run` with a goal: planner → three agents in parallel worktrees → one merged branch.
import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { afterEach, describe, expect, it } from 'vitest';
import { at, finish, isPlanner, taskOf, turnOf } from '../fixtures/agent-script.js';
import { FakeAnthropic, type FakeReply, type FakeRule } from '../fixtures/fake-anthropic.js';
import {
  allFiles,
  git,
  makeGitRepo,
  makeWorld,
  readJson,
  readJsonlFile,
  runCli,
  runDirOf,
  startCli,
  waitFor,
  type World,
} from '../helpers.js';

const KEY = 'sk-ant-planner-test';

function makeProject(w: World): string {
  const repo = makeGitRepo(w, {
    'README.md': '# langs\n\nGreetings in many languages, one file each.\n',
    'package.json': JSON.stringify({ name: 'langs', version: '0.1.0' }),
    'greetings/en.txt': 'hello\n',
  });
  w.write('repo/swarm.yaml', {
    version: 1,
    workers: 3,
    planner: { model: 'claude-sonnet-5-5', max_repairs: 2 },
    roles: { writer: { backend: 'anthropic', model: 'claude-haiku-4-5' } },
  });
  return repo;
}

const plan = (tasks: unknown[]): FakeReply => ({
  content: [{ type: 'tool_use', name: 'submit_plan', input: { tasks } }],
});
const task = (id: string, deps: string[] = []) => ({
  id,
  title: `Write ${id}`,
  description: `Create greetings/${id}.txt with the greeting.`,
  deps,
  role: 'writer',
  estimate: 1,
});
const plannerRule = (name: string, reply: FakeReply): FakeRule => ({ name, match: isPlanner, reply });

describe('the planner', () => {
  let w: World;
  let fake: FakeAnthropic | undefined;
  afterEach(async () => {
    await fake?.close();
    w?.cleanup();
  });
  const env = (): Record<string, string> => ({ ANTHROPIC_API_KEY: KEY, ANTHROPIC_BASE_URL: fake!.url });

  it('plans a goal with `swarm plan` into an editable YAML plan that `swarm run --plan` accepts', async () => {
    w = makeWorld();
    fake = await FakeAnthropic.start({
      apiKey: KEY,
      rules: [plannerRule('good', plan([task('fr'), task('de'), task('check', ['fr', 'de'])]))],
    });
    const repo = makeProject(w);
    const r = await runCli(['plan', 'swarm.yaml', 'Add French and German greetings', '-o', 'plan.yaml'], {
      cwd: repo,
      env: env(),
    });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('wrote 3 tasks to plan.yaml');
    const written = parse(fs.readFileSync(path.join(repo, 'plan.yaml'), 'utf8')) as {
      goal: string;
      tasks: { id: string; deps: string[] }[];
    };
    expect(written.goal).toBe('Add French and German greetings');
    expect(written.tasks.map((t) => [t.id, t.deps])).toEqual([
      ['fr', []],
      ['de', []],
      ['check', ['fr', 'de']],
    ]);
    // What the planner was given: the goal, the roles, the repository's files, README and manifest,
    // and a tool it must call, whose schema comes from the plan's zod schema.
    const req = fake.requests[0]!.body;
    expect(req.tools.map((t: { name: string }) => t.name)).toEqual(['submit_plan']);
    expect(req.tools[0].input_schema.properties.tasks.items.properties.role.enum).toEqual(['writer']);
    const prompt = JSON.stringify(req.messages[0]);
    for (const s of [
      'Add French and German greetings',
      'writer: model claude-haiku-4-5',
      'greetings/en.txt',
      'Greetings in many languages',
      '\\"name\\":\\"langs\\"',
    ])
      expect(prompt).toContain(s);
    expect(prompt).not.toContain('swarm.yaml\\n.swarm'); // .swarm/ is not described
    // Nothing ran: no run directory.
    expect(fs.existsSync(path.join(repo, '.swarm/runs'))).toBe(false);
    // The plan runs as written, with its goal, and without a second planner request.
    fake.addRules(at('fr', 0, finish('fr done')), at('de', 0, finish('de done')), at('check', 0, finish('checked')));
    const run = await runCli(['run', 'swarm.yaml', '--plan', 'plan.yaml'], { cwd: repo, env: env() });
    expect(run.code, run.stderr + run.stdout).toBe(0);
    expect(readJson<{ goal: string }>(path.join(runDirOf(run.stdout), 'run.json')).goal).toBe(
      'Add French and German greetings',
    );
    expect(fake.requests.filter(isPlanner)).toHaveLength(1);
    const checkPrompt = JSON.stringify(fake.requests.find((q) => taskOf(q) === 'check')!.body.system);
    expect(checkPrompt).toContain('Add French and German greetings');
    expect(checkPrompt).toContain('- fr: fr done');
  });

  it('sends validation errors back and accepts the repaired plan', async () => {
    w = makeWorld();
    fake = await FakeAnthropic.start({
      apiKey: KEY,
      rules: [
        plannerRule('cycle', plan([task('fr', ['de']), task('de', ['fr']), { ...task('it'), role: 'poet' }])),
        plannerRule('fixed', plan([task('fr'), task('de', ['fr'])])),
      ],
    });
    const repo = makeProject(w);
    const r = await runCli(['plan', 'swarm.yaml', 'Add greetings'], { cwd: repo, env: env() });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('repair 1 of 2');
    expect(fake.requests).toHaveLength(2);
    const repair = fake.requests[1]!.body.messages.at(-1).content[0];
    expect(repair).toMatchObject({ type: 'tool_result', is_error: true });
    expect(repair.content).toContain('tasks[2].role');
    // The role is checked first (schema); the cycle is found once the tasks are well-formed.
    const parsed = parse(r.stdout) as { tasks: { id: string }[] };
    expect(parsed.tasks.map((t) => t.id)).toEqual(['fr', 'de']);
  });

  it('does not take a plan cut off at max_tokens, though what was parsed of it is valid', async () => {
    w = makeWorld();
    fake = await FakeAnthropic.start({
      apiKey: KEY,
      rules: [
        plannerRule('cut', { ...plan([task('fr')]), stop_reason: 'max_tokens' }),
        plannerRule('whole', plan([task('fr'), task('de')])),
      ],
    });
    const repo = makeProject(w);
    const r = await runCli(['plan', 'swarm.yaml', 'Add greetings'], { cwd: repo, env: env() });
    expect(r.code, r.stderr).toBe(0);
    const repair = fake.requests[1]!.body.messages.at(-1).content[0];
    expect(repair).toMatchObject({ type: 'tool_result', is_error: true });
    expect(repair.content).toMatch(
      /cut off at max_tokens \(16000 tokens\) inside the submit_plan call, so the plan is incomplete/,
    );
    expect((parse(r.stdout) as { tasks: { id: string }[] }).tasks.map((t) => t.id)).toEqual(['fr', 'de']);
  });

  it('makes no request when the budget cannot pay for the prompt and an answer: swarm plan exits 3', async () => {
    w = makeWorld();
    fake = await FakeAnthropic.start({ apiKey: KEY, rules: [plannerRule('never', plan([task('fr')]))] });
    const repo = makeProject(w);
    const config = parse(fs.readFileSync(path.join(repo, 'swarm.yaml'), 'utf8')) as Record<string, unknown>;
    w.write('repo/swarm.yaml', { ...config, budget: { max_tokens: 500 } });
    const r = await runCli(['plan', 'swarm.yaml', 'Add greetings'], { cwd: repo, env: env() });
    expect(r.code, r.stderr).toBe(3);
    expect(r.stderr).toMatch(
      /^swarm: the run's token budget \(500, budget\.max_tokens\) leaves too few for the planner's request 1: 0 used, a prompt of about \d+ tokens$/m,
    );
    expect(r.stderr).toContain('swarm: raise the budget in swarm.yaml (the planner is held to it too) and plan again');
    expect(fake.requests).toHaveLength(0);
    const transcript = /the planner's transcript: (.+)/.exec(r.stderr)![1]!;
    expect(readJson<{ outcome: string; turns: unknown[] }>(transcript)).toMatchObject({
      outcome: 'budget-exhausted',
      turns: [],
    });
  });

  it('answers every tool call of an answer, and does not take a plan whose answer was refused inside it', async () => {
    w = makeWorld();
    const refused: FakeReply = {
      content: [
        { type: 'tool_use', name: 'read_file', input: { path: 'README.md' } },
        { type: 'tool_use', name: 'submit_plan', input: { tasks: [task('fr')] } },
      ],
      stop_reason: 'refusal',
    };
    fake = await FakeAnthropic.start({
      apiKey: KEY,
      rules: [plannerRule('refused', refused), plannerRule('whole', plan([task('fr'), task('de')]))],
    });
    const repo = makeProject(w);
    const r = await runCli(['plan', 'swarm.yaml', 'Add greetings'], { cwd: repo, env: env() });
    expect(r.code, r.stderr).toBe(0);
    const reply = fake.requests[1]!.body.messages.at(-1).content as {
      type: string;
      tool_use_id: string;
      is_error: boolean;
      content: string;
    }[];
    const calls = fake.requests[1]!.body.messages.at(-2).content as { id: string; name: string }[];
    // One tool_result per tool_use (the API refuses a request without), the plan's first.
    expect(reply.map((b) => [b.type, b.tool_use_id, b.is_error])).toEqual([
      ['tool_result', calls[1]!.id, true],
      ['tool_result', calls[0]!.id, true],
    ]);
    expect(reply[0]!.content).toContain(
      'the answer was stopped by a refusal inside the submit_plan call, so the plan is incomplete',
    );
    expect(reply[1]!.content).toBe('there is no tool read_file: call submit_plan');
    expect((parse(r.stdout) as { tasks: { id: string }[] }).tasks.map((t) => t.id)).toEqual(['fr', 'de']);
  });

  it('repairs a cycle named in the error sent back', async () => {
    w = makeWorld();
    fake = await FakeAnthropic.start({
      apiKey: KEY,
      rules: [
        plannerRule('cycle', plan([task('fr', ['de']), task('de', ['fr'])])),
        plannerRule('fixed', plan([task('fr'), task('de', ['fr'])])),
      ],
    });
    const repo = makeProject(w);
    const r = await runCli(['plan', 'swarm.yaml', 'Add greetings'], { cwd: repo, env: env() });
    expect(r.code, r.stderr).toBe(0);
    const repair = fake.requests[1]!.body.messages.at(-1).content[0];
    expect(repair.content).toMatch(/dependency cycle: (fr → de → fr|de → fr → de)/);
  });

  it('stops with exit 2 after garbage three times, keeping only the transcript in the run directory', async () => {
    w = makeWorld();
    const garbage = (n: number): FakeRule =>
      plannerRule(`garbage-${n}`, {
        content: [{ type: 'tool_use', name: 'submit_plan', input: { tasks: 'none', extra: n } }],
      });
    fake = await FakeAnthropic.start({
      apiKey: KEY,
      rules: [
        garbage(1),
        { ...plannerRule('prose', { content: [{ type: 'text', text: 'I think you should add greetings.' }] }) },
        garbage(3),
      ],
    });
    const repo = makeProject(w);
    const before = git(repo, 'for-each-ref');
    const r = await runCli(['run', 'swarm.yaml', 'Add greetings'], { cwd: repo, env: env() });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('the planner gave no valid plan in 3 answer(s)');
    expect(r.stderr).toContain('- tasks: Invalid input: expected array, received string');
    expect(r.stderr).toMatch(/- input: Unrecognized key: "extra"/);
    expect(fake.requests).toHaveLength(3);
    const runDir = /run directory: (.+)/.exec(r.stdout)![1]!.trim();
    expect(fs.readdirSync(runDir)).toEqual(['planner.json']);
    const transcript = readJson<{ outcome: string; turns: { errors: string[] }[]; messages: unknown[] }>(
      path.join(runDir, 'planner.json'),
    );
    expect(transcript.outcome).toBe('invalid');
    expect(transcript.turns.map((t) => t.errors.length > 0)).toEqual([true, true, true]);
    expect(transcript.turns[1]!.errors).toEqual(['the answer did not call submit_plan']);
    expect(transcript.messages).toHaveLength(7); // the request, then each answer and what was sent back
    expect(r.stderr).toContain(path.join(runDir, 'planner.json'));
    // No branch, no ref, no worktree was made.
    expect(git(repo, 'for-each-ref')).toBe(before);
    expect(fs.existsSync(path.join(repo, '.swarm/worktrees'))).toBe(false);
  });

  it("is capped by the run's budget: a shorter answer, then exit 3 when too little is left for a repair", async () => {
    w = makeWorld();
    // An invalid answer that uses all the output tokens it is allowed leaves too little of the $0.04
    // for the repair.
    const longAndWrong: FakeRule = {
      name: 'long and wrong',
      match: isPlanner,
      reply: (req) => ({ ...plan([task('fr', ['fr'])]), output_tokens: req.body.max_tokens as number }),
    };
    fake = await FakeAnthropic.start({ apiKey: KEY, rules: [longAndWrong] });
    const repo = makeProject(w);
    const config = parse(fs.readFileSync(path.join(repo, 'swarm.yaml'), 'utf8')) as Record<string, unknown>;
    w.write('repo/swarm.yaml', { ...config, budget: { max_cost_usd: 0.04 } });
    const r = await runCli(['run', 'swarm.yaml', 'Add greetings'], { cwd: repo, env: env() });
    expect(r.code, r.stderr).toBe(3);
    expect(r.stderr).toMatch(
      /the run's budget \(\$0\.04, budget\.max_cost_usd\) leaves too little for the planner's request 2: \$0\.03\d+ spent, a prompt of about \d+ tokens/,
    );
    expect(r.stderr).toContain('nothing was run: raise the budget in swarm.yaml and run again');
    expect(fake.requests).toHaveLength(1);
    // The one answer was capped so that it could not cross the budget, and not needlessly short.
    const maxTokens = fake.requests[0]!.body.max_tokens as number;
    expect(maxTokens).toBeLessThan(16000); // planner.max_tokens' default
    const runDir = runDirOf(r.stdout);
    expect(fs.readdirSync(runDir)).toEqual(['planner.json']);
    const transcript = readJson<{ outcome: string; usage: { cost_usd: number; output_tokens: number } }>(
      path.join(runDir, 'planner.json'),
    );
    expect(transcript.outcome).toBe('budget-exhausted');
    expect(transcript.usage.output_tokens).toBe(maxTokens);
    expect(transcript.usage.cost_usd).toBeLessThanOrEqual(0.04);
    expect(transcript.usage.cost_usd).toBeGreaterThan(0.035);
  });
});

describe('Ctrl-C while planning', () => {
  it('stops the planner at once with exit 130, keeping only its transcript', async () => {
    const w = makeWorld();
    let asked = false;
    const fake = await FakeAnthropic.start({
      apiKey: KEY,
      rules: [
        { name: 'slow', match: isPlanner, reply: () => ((asked = true), { ...plan([task('fr')]), delay_ms: 20_000 }) },
      ],
    });
    try {
      const repo = makeProject(w);
      const run = startCli(['run', 'swarm.yaml', 'Add greetings'], {
        cwd: repo,
        env: { ANTHROPIC_API_KEY: KEY, ANTHROPIC_BASE_URL: fake.url },
      });
      await waitFor(() => asked, 20_000, 'the planner request');
      const t = Date.now();
      run.child.kill('SIGINT');
      const r = await run.done;
      expect(r.code, r.stderr).toBe(130);
      expect(Date.now() - t).toBeLessThan(5000); // not the 20 s answer
      expect(r.stderr).toContain('planning was interrupted');
      const runDir = runDirOf(r.stdout);
      expect(fs.readdirSync(runDir)).toEqual(['planner.json']);
      expect(readJson<{ outcome: string }>(path.join(runDir, 'planner.json')).outcome).toBe('interrupted');
    } finally {
      await fake.close();
      w.cleanup();
    }
  });
});

describe('swarm run with a goal', () => {
  it('plans, runs three agents in parallel worktrees, and merges their edits into one branch', async () => {
    const w = makeWorld();
    const concurrent = { now: 0, max: 0 };
    const rules: FakeRule[] = [plannerRule('plan', plan([task('fr'), task('de'), task('es')]))];
    const words: Record<string, string> = { fr: 'bonjour', de: 'hallo', es: 'hola' };
    for (const id of Object.keys(words)) {
      rules.push({
        name: `${id}#0`,
        match: (r) => taskOf(r) === id && turnOf(r) === 0,
        // Each agent's first answer takes 4 s: the three overlap only if they run in parallel.
        reply: () => {
          concurrent.now++;
          concurrent.max = Math.max(concurrent.max, concurrent.now);
          setTimeout(() => concurrent.now--, 4000);
          return {
            content: [
              {
                type: 'tool_use',
                name: 'write_file',
                input: { path: `greetings/${id}.txt`, content: `${words[id]}\n` },
              },
            ],
            delay_ms: 4000, // generous: under load the three first requests can come seconds apart
          };
        },
      });
      rules.push(at(id, 1, finish(`wrote greetings/${id}.txt`)));
    }
    const fake = await FakeAnthropic.start({ apiKey: KEY, rules });
    try {
      const repo = makeProject(w);
      const r = await runCli(['run', 'swarm.yaml', 'Add French, German and Spanish greetings'], {
        cwd: repo,
        env: { ANTHROPIC_API_KEY: KEY, ANTHROPIC_BASE_URL: fake.url },
      });
      expect(r.code, r.stderr + r.stdout).toBe(0);
      expect(fake.unusedRules()).toEqual([]);
      expect(concurrent.max).toBe(3);
      expect(r.stdout).toMatch(/plan: 3 tasks in 1 wave\(s\), 1 planner request\(s\), \$0\.\d{4}/);
      const runDir = /run directory: (.+)/.exec(r.stdout)![1]!.trim();
      const run = readJson<{ id: string; goal: string }>(path.join(runDir, 'run.json'));
      expect(run.goal).toBe('Add French, German and Spanish greetings');
      for (const [id, word] of Object.entries(words))
        expect(git(repo, 'show', `swarm/${run.id}:greetings/${id}.txt`)).toBe(word);
      expect(git(repo, 'show', `swarm/${run.id}:greetings/en.txt`)).toBe('hello');
      // The plan records the planner; its cost counts in the run's total with the agents'.
      const planJson = readJson<{ planner: { model: string; requests: number; usage: { cost_usd: number } } }>(
        path.join(runDir, 'plan.json'),
      );
      expect(planJson.planner).toMatchObject({ model: 'claude-sonnet-5-5', requests: 1 });
      const state = readJson<{ usage: { cost_usd: number }; tasks: Record<string, { usage: { cost_usd: number } }> }>(
        path.join(runDir, 'state.json'),
      );
      const agents = Object.values(state.tasks).reduce((s, t) => s + t.usage.cost_usd, 0);
      expect(state.usage.cost_usd).toBeCloseTo(planJson.planner.usage.cost_usd + agents, 9);
      expect(fs.existsSync(path.join(runDir, 'planner.json'))).toBe(true);
      // The key reached the server with every request, and was written nowhere: not in planner.json
      // (which records the planner's requests), nor any other file of the run.
      expect(fake.requests.every((q) => (q.headers['x-api-key'] ?? q.headers.authorization ?? '').includes(KEY))).toBe(
        true,
      );
      const files = allFiles(runDir);
      expect(files).toContain(path.join(runDir, 'planner.json'));
      expect(files.filter((f) => fs.readFileSync(f).includes(KEY))).toEqual([]);
      // Each agent ran in its own worktree (removed after its merge).
      const assigned = readJsonlFile<{ type: string; task: string }>(path.join(runDir, 'events.jsonl')).filter(
        (e) => e.type === 'attempt.assigned',
      );
      expect(assigned.map((e) => e.task).sort()).toEqual(['de', 'es', 'fr']);
    } finally {
      await fake.close();
      w.cleanup();
    }
  }, 120_000);
});
