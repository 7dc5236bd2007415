// End-to-end with real Podman containers (`launcher.kind: podman`): each worker is a container of
// the host's root as a throwaway overlay; killing one, or the coordinator, is survived.
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { linesOf, makeWorld, readJson, readJsonlFile, runCli, startCli, waitFor, type World } from '../helpers.js';

const EXAMPLE = fileURLToPath(new URL('../../examples/parallel-edits', import.meta.url));
/** The settings podman needs on these hosts (runc, ulimits) are the launcher's defaults. */
const PODMAN = { kind: 'podman' };
const RUNTIME = ['--runtime', 'runc'];

let world: World | undefined;
let runIds: string[] = [];

/** The names of a run's containers, running or not. */
function containersOf(runId: string): string[] {
  const out = execFileSync(
    'podman',
    [...RUNTIME, 'ps', '-a', '--filter', `label=swarm.run=${runId}`, '--format', '{{.Names}}'],
    {
      encoding: 'utf8',
    },
  );
  return out.split('\n').filter(Boolean);
}

afterEach(() => {
  // A test that failed half-way may leave containers: remove them before the world.
  for (const id of runIds) {
    const names = containersOf(id);
    if (names.length > 0) spawnSync('podman', [...RUNTIME, 'rm', '-f', ...names]);
  }
  runIds = [];
  world?.cleanup();
  world = undefined;
});

const runIdOf = (runDir: string): string => {
  const id = readJson<{ id: string }>(path.join(runDir, 'run.json')).id;
  runIds.push(id);
  return id;
};

type Event = { type: string; task?: string; attempt?: number; reason?: string; worker?: string };

describe('launcher: podman', () => {
  it('runs examples/parallel-edits in containers, the merge conflict retried, and leaves no container', async () => {
    const w = (world = makeWorld());
    fs.cpSync(EXAMPLE, w.path('example'), { recursive: true });
    execFileSync('sh', [w.path('example/setup.sh')], { stdio: 'ignore' });
    const demo = w.path('example/demo');
    fs.appendFileSync(path.join(demo, 'swarm.yaml'), 'launcher:\n  kind: podman\n');
    execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', 'commit', '-qam', 'podman'], {
      cwd: demo,
    });
    const res = await runCli(['run', 'swarm.yaml', '--no-dashboard', '--run-dir', 'run'], { cwd: demo });
    const runDir = path.join(demo, 'run');
    const id = runIdOf(runDir);
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(/succeeded: 7 succeeded, 0 failed/);
    // One of the two CHANGELOG edits conflicted at merge and was run again on the new tip.
    expect(res.stdout).toMatch(/merge conflict in CHANGELOG\.md/);
    const changelog = execFileSync('git', ['show', `swarm/${id}:CHANGELOG.md`], { cwd: demo, encoding: 'utf8' });
    expect(changelog).toContain('- add sub()');
    expect(changelog).toContain('- add a LICENSE');
    // The workers ran in their containers: pid 1, the container's host name.
    const info = readJson<{ pid: number; host: string }>(path.join(runDir, 'workers/w1/worker.json'));
    expect(info.pid).toBe(1);
    expect(info.host).toBe(`swarm-${id.toLowerCase()}-w1`);
    expect(containersOf(id)).toEqual([]);
  }, 180_000);

  it('reruns the attempt of a worker whose container is killed (podman kill) on a new container', async () => {
    const w = (world = makeWorld());
    w.write('swarm.yaml', {
      version: 1,
      workers: 1,
      launcher: PODMAN,
      // Attempt 1 runs until its container is killed, however slow the machine; attempt 2 is quick.
      tasks: [
        {
          id: 'slow',
          run: `echo "start $SWARM_ATTEMPT $(hostname)" >> ${w.dir}/slow.log; [ $SWARM_ATTEMPT = 1 ] && sleep 120; echo "done $SWARM_ATTEMPT" >> ${w.dir}/slow.log`,
        },
      ],
    });
    const run = startCli(['run', 'swarm.yaml', '--no-dashboard', '--run-dir', 'run'], { cwd: w.dir });
    await waitFor(() => linesOf(w.path('slow.log')).some((l) => l.startsWith('start 1')), 60_000, 'attempt 1 to start');
    const id = runIdOf(w.path('run'));
    execFileSync('podman', [...RUNTIME, 'kill', `swarm-${id.toLowerCase()}-w1`]);
    const res = await run.done;
    expect(res.code).toBe(0);
    // Attempt 1 died with its container (its sleep never finished); attempt 2 ran in w2's.
    expect(linesOf(w.path('slow.log'))).toEqual([
      `start 1 swarm-${id.toLowerCase()}-w1`,
      `start 2 swarm-${id.toLowerCase()}-w2`,
      'done 2',
    ]);
    const events = readJsonlFile<Event>(w.path('run/events.jsonl'));
    expect(events.find((e) => e.type === 'attempt.finished' && e.attempt === 1)).toMatchObject({
      reason: 'worker-lost',
    });
    expect(containersOf(id)).toEqual([]);
  }, 180_000);

  it('adopts the attempts of running containers after the coordinator is killed with -9', async () => {
    const w = (world = makeWorld());
    const run = `echo "start $SWARM_TASK_ID" >> ${w.dir}/effects.log; sleep 8; echo $SWARM_TASK_ID >> ${w.dir}/effects.log`;
    w.write('swarm.yaml', {
      version: 1,
      workers: 2,
      launcher: PODMAN,
      tasks: [
        { id: 'a', run },
        { id: 'b', run },
        { id: 'c', deps: ['a', 'b'], run: `echo c >> ${w.dir}/effects.log` },
      ],
    });
    const first = startCli(['run', 'swarm.yaml', '--no-dashboard', '--run-dir', 'run'], { cwd: w.dir });
    await waitFor(
      () => linesOf(w.path('effects.log')).filter((l) => l.startsWith('start')).length === 2,
      60_000,
      'a and b to start',
    );
    const id = runIdOf(w.path('run'));
    first.child.kill('SIGKILL');
    await first.done;
    // The containers outlive their coordinator.
    expect(containersOf(id).sort()).toEqual([`swarm-${id.toLowerCase()}-w1`, `swarm-${id.toLowerCase()}-w2`]);
    const res = await runCli(['resume', 'run'], { cwd: w.dir });
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    // a and b were adopted (no second attempt, each effect once), c ran on a new container.
    expect(
      linesOf(w.path('effects.log'))
        .filter((l) => !l.startsWith('start'))
        .sort(),
    ).toEqual(['a', 'b', 'c']);
    expect(
      linesOf(w.path('effects.log'))
        .filter((l) => l.startsWith('start'))
        .sort(),
    ).toEqual(['start a', 'start b']);
    for (const t of ['a', 'b']) expect(fs.existsSync(w.path(`run/tasks/${t}/2`))).toBe(false);
    await waitFor(() => containersOf(id).length === 0, 60_000, 'no container of the run');
  }, 180_000);

  it('stops its containers when the coordinator is stopped (SIGTERM), and exits 130', async () => {
    const w = (world = makeWorld());
    const run = `echo start >> ${w.dir}/started.log; sleep 120`;
    w.write('swarm.yaml', {
      version: 1,
      workers: 2,
      launcher: PODMAN,
      tasks: [
        { id: 'a', run },
        { id: 'b', run },
      ],
    });
    const cli = startCli(['run', 'swarm.yaml', '--no-dashboard', '--run-dir', 'run'], { cwd: w.dir });
    await waitFor(() => linesOf(w.path('started.log')).length === 2, 60_000, 'a and b to start');
    const id = runIdOf(w.path('run'));
    expect(containersOf(id)).toHaveLength(2);
    cli.child.kill('SIGTERM');
    const res = await cli.done;
    expect(res.code).toBe(130);
    expect(res.stdout).toMatch(/a attempt 1: interrupted/);
    expect(containersOf(id)).toEqual([]);
  }, 180_000);

  it('swarm clean removes the containers of a run whose coordinator was killed with -9', async () => {
    const w = (world = makeWorld());
    w.write('swarm.yaml', {
      version: 1,
      workers: 1,
      launcher: PODMAN,
      tasks: [{ id: 'a', run: `echo start >> ${w.dir}/a.log; sleep 120` }],
    });
    const first = startCli(['run', 'swarm.yaml', '--no-dashboard', '--run-dir', 'run'], { cwd: w.dir });
    await waitFor(() => linesOf(w.path('a.log')).includes('start'), 60_000, 'a to start');
    const id = runIdOf(w.path('run'));
    first.child.kill('SIGKILL');
    await first.done;
    expect(containersOf(id)).toEqual([`swarm-${id.toLowerCase()}-w1`]);
    // clean refuses while the coordinator's heartbeat is fresh (stale after 15 s by default).
    let cleaned = await runCli(['clean', 'run'], { cwd: w.dir });
    for (let i = 0; i < 40 && cleaned.code !== 0; i++) {
      expect(cleaned.stderr).toMatch(/still being coordinated/);
      await new Promise((r) => setTimeout(r, 2000));
      cleaned = await runCli(['clean', 'run'], { cwd: w.dir });
    }
    expect(cleaned.code).toBe(0);
    expect(cleaned.stdout).toContain(`removed container swarm-${id.toLowerCase()}-w1`);
    expect(containersOf(id)).toEqual([]);
  }, 180_000);

  it("hides the home's credential files from a container of the host's root", async () => {
    const w = (world = makeWorld());
    w.write('home/.ssh/id_ed25519', 'secret\n');
    w.write('home/.netrc', 'machine example.com password secret\n');
    w.write('swarm.yaml', {
      version: 1,
      workers: 1,
      launcher: PODMAN,
      tasks: [
        { id: 'seen', run: `cat ${w.dir}/home/.ssh/id_ed25519 ${w.dir}/home/.netrc > ${w.dir}/seen.txt 2>&1; true` },
      ],
    });
    const res = await runCli(['run', 'swarm.yaml', '--no-dashboard', '--run-dir', 'run'], {
      cwd: w.dir,
      env: { HOME: w.path('home') },
    });
    runIdOf(w.path('run'));
    expect(res.code).toBe(0);
    const seen = w.read('seen.txt');
    expect(seen).not.toContain('secret');
    expect(seen).toMatch(/id_ed25519: No such file or directory/);
  }, 120_000);

  it('refuses a run before any work when podman cannot start its containers (exit 2)', async () => {
    const w = (world = makeWorld());
    w.write('swarm.yaml', {
      version: 1,
      launcher: { kind: 'podman', podman: { runtime: 'no-such-runtime' } },
      tasks: [{ id: 'a', run: 'true' }],
    });
    const res = await runCli(['run', 'swarm.yaml', '--no-dashboard', '--run-dir', 'run'], { cwd: w.dir });
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/podman cannot start a worker container here/);
    expect(fs.existsSync(w.path('run/run.json'))).toBe(false);
  }, 60_000);

  it('refuses a run before any work when podman is not installed, saying what to install (exit 2)', async () => {
    const w = (world = makeWorld());
    // A PATH with node and git, and no podman.
    fs.mkdirSync(w.path('bin'));
    for (const tool of ['node', 'git'])
      fs.symlinkSync(
        execFileSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).trim(),
        w.path(`bin/${tool}`),
      );
    w.write('swarm.yaml', { version: 1, launcher: PODMAN, tasks: [{ id: 'a', run: 'true' }] });
    const res = await runCli(['run', 'swarm.yaml', '--no-dashboard', '--run-dir', 'run'], {
      cwd: w.dir,
      env: { PATH: w.path('bin') },
    });
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/no `podman` on PATH: install Podman \(Debian\/Ubuntu: apt-get install podman runc/);
    expect(fs.existsSync(w.path('run/run.json'))).toBe(false);
  }, 60_000);

  it('refuses invalid launcher settings with the file, line and field (exit 2)', async () => {
    const w = (world = makeWorld());
    w.write(
      'swarm.yaml',
      'version: 1\nlauncher:\n  kind: podman\n  podman:\n    memory: lots\ntasks: [{id: a, run: "true"}]\n',
    );
    const res = await runCli(['run', 'swarm.yaml', '--no-dashboard'], { cwd: w.dir });
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/swarm\.yaml:5:\d+.*launcher\.podman\.memory/);
  }, 60_000);
});
