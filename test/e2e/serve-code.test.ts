// `swarm serve` from a repository URL or an issue to a pull request: `POST /code` (Tiny Backspace's
// request and event stream) with an agent against the fake Anthropic server, and `POST /api/runs`
// with `{issue, publish}`. The remote is a real git server on 127.0.0.1, GitHub a fake REST API.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { at, call } from '../fixtures/agent-script.js';
import { FakeAnthropic } from '../fixtures/fake-anthropic.js';
import { startFakeGitHub, type FakeGitHub } from '../fixtures/fake-github.js';
import { startGitHttpServer, type GitHttpServer } from '../fixtures/git-http-server.js';
import { git, makeGitRepo, makeWorld, waitFor, type World } from '../helpers.js';
import { postJson, readSse, serve, stopServers } from '../serve-client.js';

const TOKEN = 'ghs_serveCodeToken0123456789';
const KEY = 'sk-ant-test-serve-code-5e1f';

let w: World;
let gitServer: GitHttpServer | undefined;
let github: FakeGitHub | undefined;
let anthropic: FakeAnthropic | undefined;
afterEach(async () => {
  await stopServers();
  await gitServer?.close();
  await github?.close();
  await anthropic?.close();
  gitServer = github = anthropic = undefined;
  w?.cleanup();
});

/** The remote octo/hello over HTTP, the fake GitHub with issue #7, a server directory with `config`. */
async function setUp(config: Record<string, unknown>) {
  w = makeWorld();
  const seed = makeGitRepo(w, { 'README.md': '# hello\n' }, 'seed');
  const bare = w.path('srv/octo/hello.git');
  fs.mkdirSync(path.dirname(bare), { recursive: true });
  execFileSync('git', ['clone', '-q', '--bare', seed, bare]);
  gitServer = await startGitHttpServer(w.path('srv'), TOKEN);
  github = await startFakeGitHub({ [TOKEN]: 'octocat' });
  const url = `${gitServer.url}/octo/hello.git`;
  github.addRepo({ owner: 'octo', name: 'hello', clone_url: url, default_branch: 'main', pushers: ['octocat'] });
  github.addIssue('octo/hello', { number: 7, title: 'Say hello', body: 'Add hello.txt.' });
  w.write('home/code.yaml', { version: 1, ...config, publish: { api_url: github.url } });
  const env = { GITHUB_TOKEN: TOKEN, SWARM_CACHE_DIR: w.path('cache') };
  return { url, bare, env };
}

describe('swarm serve: repository to pull request', () => {
  it('answers POST /code with Tiny Backspace’s event stream, from start to pr_created and complete', async () => {
    const { url, bare, env } = await setUp({
      roles: { coder: { backend: 'anthropic', model: 'claude-sonnet-5-5' } },
      tasks: [{ id: 'greet', role: 'coder', description: 'Write hello.txt.' }],
    });
    anthropic = await FakeAnthropic.start({ apiKey: KEY });
    anthropic.addRules(
      at('greet', 0, call('bash', { command: 'echo hello > hello.txt' })),
      at('greet', 1, {
        content: [
          { type: 'text', text: 'hello.txt is written.' },
          { type: 'tool_use', name: 'finish', input: { summary: 'wrote hello.txt' } },
        ],
      }),
    );
    const base = await serve(w.path('home'), ['--config', 'code.yaml'], {
      ...env,
      ANTHROPIC_API_KEY: KEY,
      ANTHROPIC_BASE_URL: anthropic.url,
    });
    expect((await postJson(`${base}/code`, { prompt: 'no repository' })).status).toBe(400);

    const res = fetch(`${base}/code`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ repoUrl: url, prompt: 'Add a hello file' }),
    });
    expect((await res).headers.get('content-type')).toMatch(/^text\/event-stream/);
    const messages = await readSseBody(await res);
    const events = messages.map((m) => JSON.parse(m) as { type: string; [k: string]: unknown });
    const types = events.map((e) => e.type);
    expect(types[0]).toBe('start');
    expect(types.at(-1)).toBe('complete');
    expect(types).toContain('progress');
    // In order: the agent's command, its message, the pull request.
    const order = ['Tool: Bash', 'AI Message', 'pr_created', 'complete'].map((t) => types.indexOf(t));
    expect(order.every((i) => i >= 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    expect(events.find((e) => e.type === 'Tool: Bash')).toMatchObject({ command: 'echo hello > hello.txt' });
    expect(events.find((e) => e.type === 'AI Message')).toMatchObject({ message: 'hello.txt is written.' });
    const pull = github!.repos.get('octo/hello')!.pulls[0]!;
    expect(events.find((e) => e.type === 'pr_created')).toEqual({
      type: 'pr_created',
      pr_url: `https://github.example/octo/hello/pull/${pull.number}`,
      files_changed: 1,
    });
    expect(git(bare, 'show', `${pull.head}:hello.txt`)).toBe('hello');
    expect(pull.title).toBe('Add a hello file');
  });

  it('starts a run from an issue over POST /api/runs, and reports back on the issue', async () => {
    const { bare, env } = await setUp({ tasks: [{ id: 'hello', run: 'echo hello > hello.txt' }] });
    const base = await serve(w.path('home'), ['--config', 'code.yaml'], env);
    const bad = await postJson(`${base}/api/runs`, { issue: 'octo/hello#99', publish: true });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { message: string } }).error.message).toContain('octo/hello#99: not found');

    const res = await postJson(`${base}/api/runs`, { issue: 'octo/hello#7', publish: true });
    expect(res.status).toBe(201);
    const { id } = (await res.json()) as { id: string };
    const stream = await readSse(`${base}/api/runs/${id}/events`);
    expect(stream.at(-1)).toMatchObject({ event: 'end', data: JSON.stringify({ reason: 'finished' }) });
    // Publishing comes after run.finished, in the same process.
    const issue = github!.repos.get('octo/hello')!.issues.get(7)!;
    await waitFor(() => issue.comments.length > 0, 30_000, 'the comment on the issue');
    const pull = github!.repos.get('octo/hello')!.pulls[0]!;
    expect(pull.body).toContain('Closes #7');
    expect(issue.comments[0]!.body).toContain(`/pull/${pull.number}`);
    expect(git(bare, 'show', `${pull.head}:hello.txt`)).toBe('hello');
    const status = (await (await fetch(`${base}/api/runs/${id}`)).json()) as { run: { goal: string } };
    expect(status.run.goal).toContain('Say hello');
  });
});

/** The `data:` lines of a whole SSE response, until it ends. */
async function readSseBody(res: Response): Promise<string[]> {
  const text = await res.text();
  return text
    .split('\n\n')
    .flatMap((block) => block.split('\n').filter((l) => l.startsWith('data: ')))
    .map((l) => l.slice(6));
}
