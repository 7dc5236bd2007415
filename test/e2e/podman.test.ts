// End-to-end: workers in Podman containers (`launcher.kind: podman`), real containers on this
// machine (the host's root as a throwaway overlay, the repository and run directory mounted at
// their paths). The parallel-edits example runs green with its conflict retried; a worker's
// container killed mid-attempt is a lost worker whose attempt runs again in a new container; a
// coordinator killed with -9 leaves its containers running and `swarm resume` adopts their
// attempts; no container of the run is left afterwards.
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { makeWorld, readJson, readJsonlFile, runCli, startCli, waitFor, type World } from '../helpers.js';

let world: World;
afterEach(() => {
  // Only after the test's own assertions (none left) does this remove what a failed test left.
  for (const id of runIds) spawnSync('sh', ['-c', `podman rm -f $(podman ps -aq --filter label=swarm.run=${id})`]);
  runIds.length = 0;
  world?.cleanup();
});
const runIds: string[] = [];

const EXAMPLE = path.resolve(import.meta.dirname, '../../examples/parallel-edits');

/** The containers of run `id`, running or not. */
const containersOf = (id: string): string[] =>
  execFileSync('podman', ['ps', '--all', '--quiet', '--filter', `label=swarm.run=${id}`], { encoding: 'utf8' })
    .split('\n')
    .filter(Boolean);

type Ev = { type: string; task?: string; attempt?: number; reason?: string; worker?: string };

/** The parallel-edits example in <world>/demo, with `launcher.kind: podman` and `extra` YAML appended. */
function makeDemo(w: World, extra = ''): string {
  fs.copyFileSync(path.join(EXAMPLE, 'setup.sh'), w.path('setup.sh'));
  fs.writeFileSync(
    w.path('swarm.yaml'),
    fs.readFileSync(path.join(EXAMPLE, 'swarm.yaml'), 'utf8') + `launcher:\n  kind: podman\n${extra}`,
  );
  execFileSync('sh', [w.path('setup.sh')], { cwd: w.dir, stdio: 'ignore' });
  return w.path('demo');
}

describe('workers in Podman containers', () => {
  it('runs the parallel-edits example in containers, its conflict retried, and leaves no container', async () => {
    world = makeWorld();
    const repo = makeDemo(world);
    const runDir = world.path('run');
    const r = await runCli(['run', 'swarm.yaml', '--run-dir', runDir, '--no-dashboard'], { cwd: repo });
    const id = readJson<{ id: string }>(path.join(runDir, 'run.json')).id;
    runIds.push(id);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain('succeeded: 7 succeeded');
    const events = readJsonlFile<Ev>(path.join(runDir, 'events.jsonl'));
    expect(events.some((e) => e.type === 'merge.conflicted')).toBe(true);
    // Each worker ran in a container: its own host name (not this machine's).
    for (const w of fs.readdirSync(path.join(runDir, 'workers'))) {
      const info = readJson<{ host: string }>(path.join(runDir, 'workers', w, 'worker.json'));
      expect(info.host).not.toBe(os.hostname());
      expect(info.host).toMatch(new RegExp(`^${w}\\.`));
    }
    expect(containersOf(id)).toEqual([]);
  });

  it('reruns an attempt whose container was killed, in a new container', async () => {
    world = makeWorld();
    const repo = makeDemo(world);
    // A slow first task, to kill its worker's container in the middle of it.
    const yaml = fs.readFileSync(path.join(repo, 'swarm.yaml'), 'utf8');
    fs.writeFileSync(
      path.join(repo, 'swarm.yaml'),
      yaml.replace("run: printf 'MIT License\\n' > LICENSE", "run: sleep 4 && printf 'MIT License\\n' > LICENSE"),
    );
    const runDir = world.path('run');
    const run = startCli(['run', 'swarm.yaml', '--run-dir', runDir, '--no-dashboard'], { cwd: repo });
    const started = await waitFor(
      () =>
        fs.existsSync(path.join(runDir, 'events.jsonl')) &&
        readJsonlFile<Ev>(path.join(runDir, 'events.jsonl')).find(
          (e) => e.type === 'attempt.started' && e.task === 'license',
        ),
      60_000,
      'license started',
    );
    const id = readJson<{ id: string }>(path.join(runDir, 'run.json')).id;
    runIds.push(id);
    execFileSync('podman', ['kill', `swarm-${id.toLowerCase()}-${started.worker}`]);
    const r = await run.done;
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const events = readJsonlFile<Ev>(path.join(runDir, 'events.jsonl'));
    const first = events.find((e) => e.type === 'attempt.finished' && e.task === 'license' && e.attempt === 1);
    expect(first?.reason).toBe('worker-lost');
    expect(events.find((e) => e.type === 'task.succeeded' && e.task === 'license')).toBeDefined();
    const again = events.find((e) => e.type === 'attempt.assigned' && e.task === 'license' && e.attempt === 2);
    expect(again?.worker).toBeDefined();
    expect(again?.worker).not.toBe(started.worker); // another worker: another container
    expect(containersOf(id)).toEqual([]);
  });

  it('leaves its containers running when the coordinator is killed with -9, and resume adopts their attempts', async () => {
    world = makeWorld();
    const repo = makeDemo(world);
    const yaml = fs.readFileSync(path.join(repo, 'swarm.yaml'), 'utf8');
    fs.writeFileSync(
      path.join(repo, 'swarm.yaml'),
      yaml.replace("run: printf 'MIT License\\n' > LICENSE", "run: sleep 5 && printf 'MIT License\\n' > LICENSE"),
    );
    const runDir = world.path('run');
    const run = startCli(['run', 'swarm.yaml', '--run-dir', runDir, '--no-dashboard'], { cwd: repo });
    await waitFor(
      () =>
        fs.existsSync(path.join(runDir, 'events.jsonl')) &&
        readJsonlFile<Ev>(path.join(runDir, 'events.jsonl')).some(
          (e) => e.type === 'attempt.started' && e.task === 'license',
        ),
      60_000,
      'license started',
    );
    const id = readJson<{ id: string }>(path.join(runDir, 'run.json')).id;
    runIds.push(id);
    run.child.kill('SIGKILL');
    await run.done;
    expect(containersOf(id).length).toBeGreaterThan(0); // the workers live on in their containers
    const r = await runCli(['resume', runDir, '--no-dashboard'], { cwd: repo });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    // The attempt in flight was adopted, not run again.
    expect(fs.existsSync(path.join(runDir, 'tasks/license/2'))).toBe(false);
    expect(
      readJsonlFile<Ev>(path.join(runDir, 'events.jsonl')).filter((e) => e.type === 'task.succeeded'),
    ).toHaveLength(7);
    expect(containersOf(id)).toEqual([]);
  });

  it('refuses agent tasks in a sandbox, which bubblewrap cannot make inside a container, and says what to set', async () => {
    world = makeWorld();
    world.write(
      'swarm.yaml',
      'version: 1\nlauncher:\n  kind: podman\nroles:\n  coder: {backend: anthropic}\ntasks:\n  - id: a\n    role: coder\n    description: x\n',
    );
    const r = await runCli(['run', 'swarm.yaml', '--no-dashboard'], {
      cwd: world.dir,
      env: { ANTHROPIC_API_KEY: 'sk-ant-test-not-used' },
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('set sandbox.mode: none');
    expect(fs.existsSync(world.path('.swarm'))).toBe(false);
  });

  it('refuses a podman launcher with bad settings, naming the field', async () => {
    world = makeWorld();
    world.write(
      'swarm.yaml',
      'version: 1\nlauncher:\n  kind: podman\n  memory: lots\ntasks:\n  - id: a\n    run: "true"\n',
    );
    const r = await runCli(['run', 'swarm.yaml', '--no-dashboard'], { cwd: world.dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/swarm\.yaml:4:\d+.*launcher\.memory/);
  });
});
