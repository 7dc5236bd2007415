// Sandboxes end to end: `swarm run` with the built-in agent scripted on the fake Anthropic server,
// whose bash calls try every escape the default sandbox (mode workspace) must stop, in real bwrap,
// while its legitimate work (edit, run the project's tests in the worktree, verify) succeeds. The
// swarm process gets a temporary HOME with a planted ~/.ssh/id_rsa; the real home is never touched.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { ulid } from 'ulid';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RunSource } from '../../src/dashboard/source.js';
import { at, call, finish } from '../fixtures/agent-script.js';
import { FakeAnthropic, type FakeRequest } from '../fixtures/fake-anthropic.js';
import {
  git,
  makeGitRepo,
  makeWorld,
  processAlive,
  processesMatching,
  readJson,
  runCli,
  type World,
} from '../helpers.js';

const KEY = 'sk-ant-sandbox-test-5d1e8a';
const PLANTED = '-----BEGIN OPENSSH PRIVATE KEY----- planted-by-the-sandbox-test';
const HAS_BWRAP = fs.existsSync('/usr/bin/bwrap');

/** The output of the tool_result of a request's last message. */
function toolOutput(r: FakeRequest | undefined): string {
  const last = (r?.body.messages as { content: unknown }[] | undefined)?.at(-1);
  const block = (last?.content as { type: string; content: string }[] | undefined)?.find(
    (b) => b.type === 'tool_result',
  );
  return block?.content ?? '(no tool result)';
}

/** An HTTP server on 127.0.0.1 that counts the requests it gets. */
async function countingServer(): Promise<{ port: number; hits: () => number; close: () => Promise<void> }> {
  let hits = 0;
  const server = http.createServer((_req, res) => {
    hits++;
    res.end('hello from the host\n');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    hits: () => hits,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

describe.skipIf(!HAS_BWRAP)('the default sandbox of an agent task (bubblewrap at /usr/bin/bwrap)', () => {
  let w: World;
  let fake: FakeAnthropic;
  let server: Awaited<ReturnType<typeof countingServer>>;
  let outsider: ChildProcess;
  let home: string;
  let repo: string;
  let runId: string;
  let runDir: string;
  let result: Awaited<ReturnType<typeof runCli>>;
  /** Sleep durations that mark the processes an agent tries to leave behind (unlikely elsewhere). */
  const LEFT = ['1717.25', '1717.5', '1717.75'];
  /** A path in the host's /tmp the agent tries to write. */
  let hostTmp: string;
  /** A file in the host's /tmp that the sandbox's /tmp must not show. */
  let hostVisible: string;

  /** The output the agent got for the tool call of turn `turn` of attempt `who`. */
  const output = (who: string, turn: number): string =>
    toolOutput(fake.requests.find((r) => r.rule === `${who}#${turn + 1}`));

  beforeAll(async () => {
    w = makeWorld();
    home = w.path('home');
    w.write('home/.ssh/id_rsa', `${PLANTED}\n`);
    hostTmp = `/tmp/swarm-sandbox-escape-${ulid()}`;
    hostVisible = `/tmp/swarm-sandbox-host-file-${ulid()}`;
    fs.writeFileSync(hostVisible, 'on the host\n');
    fake = await FakeAnthropic.start({ apiKey: KEY });
    server = await countingServer();
    outsider = spawn('sleep', ['600'], { stdio: 'ignore', detached: true });
    repo = makeGitRepo(w, {
      'package.json': JSON.stringify({ name: 'calc', type: 'module', scripts: { test: 'node test.js' } }),
      'calc.js': 'export const add = (a, b) => a - b;\n',
      'test.js':
        "import { add } from './calc.js';\nif (add(2, 3) !== 5) { console.log('FAIL'); process.exit(1); }\nconsole.log('PASS');\n",
    });
    runId = ulid();
    runDir = path.join(repo, '.swarm/runs', runId);
    const worktrees = path.join(repo, '.swarm/worktrees', runId);
    w.write('repo/swarm.yaml', {
      version: 1,
      workers: 2,
      roles: {
        coder: { backend: 'anthropic', model: 'claude-sonnet-5-5', retries: 1 },
        fetcher: { backend: 'anthropic', model: 'claude-sonnet-5-5', sandbox: { network: 'allow' } },
      },
      tasks: [
        {
          id: 'fix',
          role: 'coder',
          description: 'Fix add() in calc.js and run the tests.',
          verify: 'test -f done.txt && npm test',
        },
        { id: 'fetch', role: 'fetcher', description: 'Fetch the page on the host.' },
      ],
    });
    const fetchFrom = (port: number): string =>
      `node -e "fetch('http://127.0.0.1:${port}/').then(async r => console.log('REACHED', r.status, await r.text())).catch(e => console.log('UNREACHABLE', e.cause?.code ?? e.message))"`;
    // Attempt 1 of fix finishes without done.txt: verify fails and its worktree is kept, so attempt 2
    // has another attempt's worktree beside its own to try to write into.
    fake.addRules(
      at('fix/1', 0, call('write_file', { path: 'calc.js', content: 'export const add = (a, b) => a + b;\n' })),
      at('fix/1', 1, finish('fixed add')),
    );
    const escapes = [
      `touch ${home}/pwned && echo WROTE-HOME`,
      `touch ${hostTmp} && echo WROTE-TMP`,
      `touch ${repo}/pwned && echo WROTE-TREE`,
      `touch ${worktrees}/fix-1/pwned && echo WROTE-OTHER-WORKTREE`,
      `touch ${repo}/.git/pwned; git update-ref refs/heads/pwned HEAD && echo WROTE-GIT`,
      `touch ${runDir}/pwned && echo WROTE-RUN-DIR`,
      `cat ${home}/.ssh/id_rsa; cat ~/.ssh/id_rsa`,
      `pid=$(sed -n 's/.*"pid": *\\([0-9]*\\).*/\\1/p' $SWARM_RUN_DIR/workers/w*/worker.json | head -1); echo worker=$pid; cat /proc/$pid/environ | tr '\\0' '\\n' | grep -c ${KEY}; grep -l ${KEY} /proc/*/environ 2>/dev/null | wc -l`,
      fetchFrom(server.port),
      `kill -9 ${outsider.pid}; echo kill-exit=$?`,
      `setsid nohup sleep ${LEFT[0]} >/dev/null 2>&1 & nohup sleep ${LEFT[1]} >/dev/null 2>&1 & (sleep ${LEFT[2]} &) ; echo left`,
    ];
    fake.addRules(
      ...escapes.map((command, turn) => at('fix/2', turn, call('bash', { command }))),
      at(
        'fix/2',
        escapes.length,
        call('write_file', { path: 'calc.js', content: 'export const add = (a, b) => a + b;\n' }),
      ),
      at('fix/2', escapes.length + 1, call('bash', { command: 'npm test && echo ok > done.txt && ls /tmp' })),
      at('fix/2', escapes.length + 2, finish('fixed add, tests pass')),
      at('fetch', 0, call('bash', { command: fetchFrom(server.port) })),
      at('fetch', 1, finish('fetched')),
    );
    result = await runCli(['run', 'swarm.yaml', '--run-id', runId, '--no-dashboard'], {
      cwd: repo,
      env: { HOME: home, ANTHROPIC_API_KEY: KEY, ANTHROPIC_BASE_URL: fake.url },
    });
  }, 240_000);

  afterAll(async () => {
    outsider?.kill('SIGKILL');
    for (const s of LEFT) for (const pid of processesMatching(`sleep ${s}`)) process.kill(pid, 'SIGKILL');
    for (const f of [hostTmp, hostVisible]) if (f) fs.rmSync(f, { force: true });
    await server?.close();
    await fake?.close();
    w?.cleanup();
  });

  it('does the legitimate work: the fix, its tests and verify run in the sandbox, and the run succeeds', () => {
    expect(result.code, result.stderr + result.stdout).toBe(0);
    expect(fake.unusedRules()).toEqual([]);
    const fix = readJson<{ outcome: string; verify: { exit_code: number } }>(
      path.join(runDir, 'tasks/fix/2/result.json'),
    );
    expect(fix).toMatchObject({ outcome: 'succeeded', verify: { exit_code: 0 } });
    expect(output('fix/2', 12)).toContain('PASS');
    expect(git(repo, 'show', `swarm/${runId}:calc.js`)).toContain('a + b');
    // The private /tmp shows nothing of the host's.
    expect(output('fix/2', 12)).not.toContain(path.basename(hostVisible));
    const assignment = readJson<{ sandbox: unknown }>(path.join(runDir, 'tasks/fix/2/assignment.json'));
    expect(assignment.sandbox).toMatchObject({ mode: 'workspace', network: 'none' });
  });

  it("shows each task's sandbox in swarm status, and each attempt's in the dashboard's detail", async () => {
    const status = await runCli(['status', runDir, '--json'], { cwd: repo });
    const tasks = (JSON.parse(status.stdout) as { tasks: { id: string; sandbox: string }[] }).tasks;
    expect(Object.fromEntries(tasks.map((t) => [t.id, t.sandbox]))).toEqual({
      fix: 'workspace',
      fetch: 'workspace+network',
    });
    const text = (await runCli(['status', runDir], { cwd: repo })).stdout;
    expect(text).toMatch(/^fix +succeeded .* workspace /m);
    expect(text).toMatch(/^fetch +succeeded .* ws\+net /m);
    const source = RunSource.open(runDir);
    const detail = source.model.detail('fix', source.readTask('fix'), Date.now()).map((l) => l.text);
    const attempts = detail.filter((l) => l.startsWith('── #'));
    expect(attempts).toHaveLength(2);
    for (const line of attempts) expect(line).toContain('sandbox workspace, no network');
  });

  it('writes nothing outside the worktree: home, host /tmp, the user tree, another worktree, .git, the run directory', () => {
    // Writes to the home and /tmp succeed inside, in the sandbox's private ones; the others fail.
    for (let turn = 0; turn <= 5; turn++) expect(output('fix/2', turn)).not.toMatch(/WROTE-(TREE|OTHER|GIT|RUN)/);
    expect(fs.existsSync(path.join(home, 'pwned'))).toBe(false);
    expect(fs.existsSync(hostTmp)).toBe(false);
    expect(fs.existsSync(path.join(repo, 'pwned'))).toBe(false);
    expect(fs.existsSync(path.join(repo, '.swarm/worktrees', runId, 'fix-1/pwned'))).toBe(false);
    expect(fs.existsSync(path.join(repo, '.git/pwned'))).toBe(false);
    expect(() => git(repo, 'rev-parse', '--verify', '-q', 'refs/heads/pwned')).toThrow();
    expect(fs.existsSync(path.join(runDir, 'pwned'))).toBe(false);
    expect(output('fix/2', 2)).toContain('Read-only file system');
  });

  it('cannot read the planted ~/.ssh/id_rsa nor any process environment holding the key', () => {
    expect(output('fix/2', 6)).not.toContain('planted-by-the-sandbox-test');
    expect(output('fix/2', 6)).toContain('No such file');
    const proc = output('fix/2', 7);
    expect(proc).toMatch(/worker=\d+/);
    // No match in the worker's environment (out of sight), nor in any environment the sandbox can see.
    expect(proc).toMatch(/\n0\n0\n/);
  });

  it('cannot reach a server on 127.0.0.1 with network none; a role with network allow can', () => {
    expect(output('fix/2', 8)).toContain('UNREACHABLE');
    expect(output('fetch', 0)).toContain('REACHED 200 hello from the host');
    expect(server.hits()).toBe(1);
  });

  it('cannot signal a process outside, and leaves no process behind (setsid, nohup, double fork)', () => {
    expect(output('fix/2', 9)).toMatch(/kill-exit=[1-9]/);
    expect(processAlive(outsider.pid!)).toBe(true);
    expect(output('fix/2', 10)).toContain('left');
    for (const s of LEFT) expect(processesMatching(`sleep ${s}`)).toEqual([]);
  });
});

describe('a run whose tasks need a sandbox, where bubblewrap is missing', () => {
  it('stops before any work with exit 2, saying what to install or to set mode none; with mode none it runs', async () => {
    const w = makeWorld();
    try {
      const repo = makeGitRepo(w, { 'a.txt': 'a\n' });
      // A PATH with git and sh but no bwrap.
      const bin = w.path('bin');
      fs.mkdirSync(bin);
      for (const tool of ['git', 'sh']) fs.symlinkSync(`/usr/bin/${tool}`, path.join(bin, tool));
      const roles = { coder: { backend: 'anthropic', model: 'claude-sonnet-5-5' } };
      const tasks = [{ id: 'edit', role: 'coder', description: 'Edit a.txt.' }];
      w.write('repo/swarm.yaml', { version: 1, roles, tasks });
      const env = { PATH: bin, ANTHROPIC_API_KEY: KEY, HOME: w.path('home') };
      const r = await runCli(['run', 'swarm.yaml', '--no-dashboard'], { cwd: repo, env });
      expect(r.code, r.stdout + r.stderr).toBe(2);
      expect(r.stderr).toContain('apt-get install bubblewrap');
      expect(r.stderr).toContain('sandbox.mode: none');
      expect(fs.existsSync(path.join(repo, '.swarm'))).toBe(false);
      // With mode none, the same run gets past the check (a command task only, so no model is needed).
      w.write('repo/swarm.yaml', { version: 1, sandbox: { mode: 'none' }, tasks: [{ id: 'c', run: 'true' }] });
      const none = await runCli(['run', 'swarm.yaml', '--no-dashboard'], { cwd: repo, env });
      expect(none.code, none.stdout + none.stderr).toBe(0);
      // A command task with `sandbox.mode: workspace` at the run level needs bubblewrap too.
      w.write('repo/swarm.yaml', { version: 1, sandbox: { mode: 'workspace' }, tasks: [{ id: 'c', run: 'true' }] });
      const commands = await runCli(['run', 'swarm.yaml', '--no-dashboard'], { cwd: repo, env });
      expect(commands.code, commands.stdout + commands.stderr).toBe(2);
    } finally {
      w.cleanup();
    }
  }, 120_000);
});

describe.skipIf(!HAS_BWRAP)('a sandbox limited to some hosts (allow_hosts, through the filtering proxy)', () => {
  it('reaches the listed host over HTTP and through a CONNECT tunnel, and nothing else', async () => {
    // A host address that is not loopback: the sandbox's 127.0.0.1 is its own.
    const ip = Object.values(os.networkInterfaces())
      .flat()
      .find((i) => i && !i.internal && i.family === 'IPv4')?.address;
    if (!ip) throw new Error('this test needs a non-loopback IPv4 address on the machine');
    const serve = async (body: string): Promise<{ server: http.Server; port: number; hits: () => number }> => {
      let hits = 0;
      const server = http.createServer((_q, res) => {
        hits++;
        res.end(body);
      });
      await new Promise<void>((resolve) => server.listen(0, ip, resolve));
      return { server, port: (server.address() as AddressInfo).port, hits: () => hits };
    };
    const allowed = await serve('ALLOWED-HOST\n');
    const other = await serve('OTHER-HOST\n');
    const w = makeWorld();
    const fake = await FakeAnthropic.start({ apiKey: KEY });
    try {
      const repo = makeGitRepo(w, { 'README.md': '# x\n' });
      w.write('repo/swarm.yaml', {
        version: 1,
        roles: {
          coder: {
            backend: 'anthropic',
            model: 'claude-sonnet-5-5',
            sandbox: { network: 'none', allow_hosts: [`${ip}:${allowed.port}`] },
          },
        },
        tasks: [{ id: 'limited', role: 'coder', description: 'Fetch what you may.' }],
      });
      const a = `http://${ip}:${allowed.port}/`;
      const b = `http://${ip}:${other.port}/`;
      fake.addRules(
        at(
          'limited',
          0,
          call('bash', {
            command: [
              `echo "plain=$(curl -s ${a})"`,
              `echo "tunnel=$(curl -s -p ${a})"`,
              `echo "other=$(curl -s -w '%{http_code}' ${b})"`,
              `echo "direct=$(curl -s -m 5 --noproxy '*' ${a} || echo failed-$?)"`,
            ].join('; '),
          }),
        ),
        at('limited', 1, finish('fetched')),
      );
      const r = await runCli(['run', 'swarm.yaml', '--no-dashboard'], {
        cwd: repo,
        env: { ANTHROPIC_API_KEY: KEY, ANTHROPIC_BASE_URL: fake.url },
      });
      expect(r.code, r.stdout + r.stderr).toBe(0);
      const out = toolOutput(fake.requests.find((q) => q.rule === 'limited#1'));
      expect(out).toContain('plain=ALLOWED-HOST');
      expect(out).toContain('tunnel=ALLOWED-HOST'); // CONNECT: how HTTPS goes, end to end
      expect(out).toMatch(/other=fileswarm's sandbox does not allow .*403/);
      expect(out).toMatch(/direct=failed-\d+/);
      expect(allowed.hits()).toBe(2);
      expect(other.hits()).toBe(0);
      const runDir = path.join(repo, '.swarm/runs', fs.readdirSync(path.join(repo, '.swarm/runs'))[0]!);
      const log = fs.readFileSync(path.join(runDir, 'tasks/limited/1/network.log'), 'utf8');
      expect(log).toContain(`allowed ${ip}:${allowed.port}`);
      expect(log).toContain(`refused ${ip}:${other.port}`);
      // The proxy's socket is gone with the attempt.
      expect(fs.readdirSync(os.tmpdir()).filter((f) => f.startsWith('fileswarm-proxy-'))).toEqual([]);
    } finally {
      await fake.close();
      allowed.server.close();
      other.server.close();
      w.cleanup();
    }
  });
});
