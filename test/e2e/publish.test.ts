// From a repository URL or an issue to a pull request, with no network: the remote is a real git
// server over smart HTTP on 127.0.0.1 (git http-backend, a token checked) or a file:// URL, and
// GitHub is a fake REST API that Octokit talks to through its base URL, recording every call.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startFakeGitHub, type FakeGitHub } from '../fixtures/fake-github.js';
import { startGitHttpServer, type GitHttpServer } from '../fixtures/git-http-server.js';
import { git, makeGitRepo, makeWorld, readJson, runCli, startCli, type World } from '../helpers.js';

const TOKEN = 'ghs_fileswarmTestToken0123456789';
const READ_ONLY = 'ghs_readOnlyToken9876543210';

let w: World;
let gitServer: GitHttpServer | undefined;
let github: FakeGitHub | undefined;
afterEach(async () => {
  await gitServer?.close();
  await github?.close();
  gitServer = github = undefined;
  w?.cleanup();
});

/** The world: a bare repository octo/hello served over HTTP with a token, the fake GitHub, a config. */
async function setUp(publish: Record<string, unknown> = {}) {
  w = makeWorld();
  const seed = makeGitRepo(w, { 'README.md': '# hello\n' }, 'seed');
  const srv = w.path('srv');
  fs.mkdirSync(path.join(srv, 'octo'), { recursive: true });
  const bare = path.join(srv, 'octo/hello.git');
  execFileSync('git', ['clone', '-q', '--bare', seed, bare]);
  gitServer = await startGitHttpServer(srv, TOKEN);
  github = await startFakeGitHub({ [TOKEN]: 'octocat', [READ_ONLY]: 'reader' });
  const url = `${gitServer.url}/octo/hello.git`;
  github.addRepo({ owner: 'octo', name: 'hello', clone_url: url, default_branch: 'main', pushers: ['octocat'] });
  github.addIssue('octo/hello', { number: 7, title: 'Add a greeting', body: 'Please add hello.txt and bye.txt.' });
  w.write('swarm.yaml', {
    version: 1,
    workers: 2,
    tasks: [
      { id: 'hello', run: 'echo hello > hello.txt' },
      { id: 'bye', deps: ['hello'], run: 'echo bye > bye.txt', verify: 'test -f hello.txt' },
    ],
    publish: { api_url: github.url, labels: ['swarm'], reviewers: ['hubot'], ...publish },
  });
  const env = { GITHUB_TOKEN: TOKEN, SWARM_CACHE_DIR: w.path('cache') };
  return { url, bare, env };
}

/** Every file under `dir` whose bytes contain `needle`. */
function filesContaining(dir: string, needle: string): string[] {
  const found: string[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) {
    const file = path.join(e.parentPath, e.name);
    if (e.isFile() && fs.readFileSync(file).includes(needle)) found.push(file);
  }
  return found;
}

/** The run directory a `swarm run` printed. */
const runDirIn = (stdout: string): string => /run directory: (.+)/.exec(stdout)![1]!;

describe('publishing', () => {
  it('turns an issue into a pushed branch, a pull request and a comment; publishing again changes nothing twice', async () => {
    const { bare, env } = await setUp();
    const r = await runCli(['run', 'swarm.yaml', '--issue', 'octo/hello#7', '--publish', '--no-dashboard'], {
      cwd: w.dir,
      env,
    });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const runDir = runDirIn(r.stdout);
    const run = readJson<{ id: string; goal: string; source: Record<string, unknown> }>(path.join(runDir, 'run.json'));
    expect(run.goal).toContain('Add a greeting\n\nPlease add hello.txt and bye.txt.');
    expect(run.source).toMatchObject({ base_branch: 'main', issue: { owner: 'octo', name: 'hello', number: 7 } });
    expect(runDir.startsWith(w.path('cache'))).toBe(true); // the run lives in the cached clone

    // The branch on the git server has the merged work.
    const branch = `swarm/${run.id}`;
    expect(git(bare, 'show', `${branch}:hello.txt`)).toBe('hello');
    expect(git(bare, 'show', `${branch}:bye.txt`)).toBe('bye');
    // The pull request, as the fake recorded it.
    const repo = github!.repos.get('octo/hello')!;
    expect(repo.pulls).toHaveLength(1);
    const pull = repo.pulls[0]!;
    expect(pull).toMatchObject({ head: branch, base: 'main', title: 'Add a greeting (#7)', draft: true });
    expect(pull.labels).toEqual(['swarm']);
    expect(pull.reviewers).toEqual(['hubot']);
    expect(pull.body).toContain('Closes #7');
    expect(pull.body).toContain('| hello: hello | succeeded | 1 |');
    expect(pull.body).toContain('`test -f hello.txt` (bye): passed');
    expect(r.stdout).toContain(`opened pull request #${pull.number}`);
    // The issue's comment says how it went.
    const comments = repo.issues.get(7)!.comments;
    expect(comments).toHaveLength(1);
    expect(comments[0]!.body).toContain('succeeded: 2 of 2 tasks succeeded');
    expect(comments[0]!.body).toContain(`/pull/${pull.number}`);
    const record = readJson<Record<string, unknown>>(path.join(runDir, 'publish.json'));
    expect(record).toMatchObject({ branch, pull: { number: pull.number }, comment: { id: comments[0]!.id } });

    // Again: the push is a no-op, the pull request and the comment are updated, not duplicated.
    const before = github!.calls.length;
    const again = await runCli(['publish', runDir], { cwd: w.dir, env });
    expect(again.code).toBe(0);
    expect(again.stdout).toContain(`updated pull request #${pull.number}`);
    expect(repo.pulls).toHaveLength(1);
    expect(repo.issues.get(7)!.comments).toHaveLength(1);
    const calls = github!.calls.slice(before).map((c) => `${c.method} ${c.path.split('?')[0]}`);
    expect(calls).toContain(`PATCH /repos/octo/hello/pulls/${pull.number}`);
    expect(calls).toContain(`PATCH /repos/octo/hello/issues/comments/${comments[0]!.id}`);
    expect(calls.filter((c) => c === 'POST /repos/octo/hello/pulls')).toEqual([]);

    // The token is in no file of the run or the clone, and in no output.
    const basic = Buffer.from(`x-access-token:${TOKEN}`).toString('base64');
    for (const needle of [TOKEN, basic]) {
      expect(filesContaining(w.path('cache'), needle)).toEqual([]);
      expect(r.stdout + r.stderr + again.stdout + again.stderr).not.toContain(needle);
    }
  });

  it('stops before any work without a token that may push, or with a repository that is not there', async () => {
    const { url, env } = await setUp();
    const args = ['run', 'swarm.yaml', '--repo', url, '--publish', '--no-dashboard'];
    const readOnly = await runCli(args, { cwd: w.dir, env: { ...env, GITHUB_TOKEN: READ_ONLY } });
    expect(readOnly.code).toBe(2);
    expect(readOnly.stderr).toContain('the token may not push to octo/hello');
    const none = await runCli(args, { cwd: w.dir, env: { ...env, GITHUB_TOKEN: '' } });
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('GITHUB_TOKEN is not set');
    expect(fs.existsSync(w.path('cache'))).toBe(false); // nothing cloned, nothing run

    const missing = await runCli(['run', 'swarm.yaml', '--repo', `${gitServer!.url}/octo/nope.git`, '--no-dashboard'], {
      cwd: w.dir,
      env,
    });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/swarm: cannot clone http:\/\/127\.0\.0\.1:\d+\/octo\/nope\.git/);
    const unknownIssue = await runCli(['run', 'swarm.yaml', '--issue', 'octo/hello#99', '--no-dashboard'], {
      cwd: w.dir,
      env,
    });
    expect(unknownIssue.code).toBe(2);
    expect(unknownIssue.stderr).toContain('the issue octo/hello#99: not found');
  });

  it('keeps the work when the push fails, and `swarm publish` finishes the job; a moved branch and a rate limit are told', async () => {
    const { url, bare, env } = await setUp();
    gitServer!.refusePushes = true;
    const r = await runCli(['run', 'swarm.yaml', '--repo', url, '--publish', '--no-dashboard'], { cwd: w.dir, env });
    expect(r.code).toBe(4);
    expect(r.stderr).toContain('swarm: publish: cannot push to');
    expect(r.stderr).toContain('swarm publish');
    const runDir = runDirIn(r.stdout);
    expect(github!.repos.get('octo/hello')!.pulls).toEqual([]);

    // The remote is back, and the API is rate-limited for a moment: publish waits it out.
    gitServer!.refusePushes = false;
    github!.rateLimit(1, 1);
    const p = await runCli(['publish', runDir], { cwd: w.dir, env });
    expect(p.code).toBe(0);
    expect(p.stdout).toMatch(/rate limit is spent: waiting \d+ s/);
    const run = readJson<{ id: string }>(path.join(runDir, 'run.json'));
    expect(git(bare, 'show', `swarm/${run.id}:bye.txt`)).toBe('bye');
    expect(github!.repos.get('octo/hello')!.pulls).toHaveLength(1);
    expect(github!.repos.get('octo/hello')!.pulls[0]!.body).not.toContain('Closes #'); // no issue

    // Someone pushes to the branch: publishing again is refused, and says why.
    const other = makeGitRepo(w, { 'other.txt': 'x\n' }, 'other');
    git(other, 'push', '-q', '--force', bare, `HEAD:refs/heads/swarm/${run.id}`);
    const moved = await runCli(['publish', runDir], { cwd: w.dir, env });
    expect(moved.code).toBe(4);
    expect(moved.stderr).toContain('was rejected: the remote branch has commits this run does not');
  });

  it('reports back on the issue when the run fails part of its work, with the part that was merged', async () => {
    const { env } = await setUp();
    w.write('partly.yaml', {
      version: 1,
      tasks: [
        { id: 'hello', run: 'echo hello > hello.txt' },
        { id: 'broken', run: 'echo no; exit 3' },
      ],
      publish: { api_url: github!.url },
    });
    const r = await runCli(['run', 'partly.yaml', '--issue', 'octo/hello#7', '--publish', '--no-dashboard'], {
      cwd: w.dir,
      env,
    });
    expect(r.code).toBe(1); // the run's own outcome: publishing went through
    const repo = github!.repos.get('octo/hello')!;
    expect(repo.pulls).toHaveLength(1);
    expect(repo.pulls[0]!.body).toMatch(/\| broken: broken \| failed \| 1 \|/);
    const comment = repo.issues.get(7)!.comments[0]!.body;
    expect(comment).toContain('partly succeeded: 1 of 2 tasks succeeded');
    expect(comment).toContain('- broken (failed)');
    expect(comment).toContain(`/pull/${repo.pulls[0]!.number}`);
  });

  it('runs on a file:// URL in a shared cached clone: two runs at once, each on its own integration branch', async () => {
    const { bare } = await setUp();
    w.write('plain.yaml', { version: 1, tasks: [{ id: 'one', run: 'echo one > one.txt' }] });
    const env = { SWARM_CACHE_DIR: w.path('cache') };
    const first = await runCli(['run', 'plain.yaml', '--repo', `file://${bare}`, '--no-dashboard'], {
      cwd: w.dir,
      env,
    });
    expect(first.code).toBe(0);
    expect(first.stdout).toContain('cloned into');
    const [a, b] = await Promise.all(
      [0, 1].map(
        () => startCli(['run', 'plain.yaml', '--repo', `file://${bare}`, '--no-dashboard'], { cwd: w.dir, env }).done,
      ),
    );
    expect([a!.code, b!.code]).toEqual([0, 0]);
    expect(a!.stdout).toContain('fetched into');
    const clones = fs.readdirSync(w.path('cache')).filter((n) => !n.endsWith('.lock'));
    expect(clones).toHaveLength(1);
    const branches = git(path.join(w.path('cache'), clones[0]!), 'branch', '--list', 'swarm/*').split('\n');
    expect(branches).toHaveLength(3);
    const source = readJson<{ source: { repo_url: string } }>(path.join(runDirIn(b!.stdout), 'run.json')).source;
    expect(source.repo_url).toBe(`file://${bare}`);
  });
});
