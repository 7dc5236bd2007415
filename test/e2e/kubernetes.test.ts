// End-to-end with the kubernetes launcher against a fake Kubernetes API on 127.0.0.1 whose pods are
// real Podman containers (test/fixtures/fake-kubernetes.ts): the real client (@kubernetes/client-node)
// creates, watches and deletes the Jobs; the workers clone the repository from the shared volume
// into pod-local storage and push each attempt's commit back. Only the API server is a fake.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import {
  startFakeKubernetes,
  writeKubeconfig,
  type FakeKubernetes,
  type FakeKubernetesOptions,
} from '../fixtures/fake-kubernetes.js';
import { loadConfig } from '../../src/config/load.js';
import type { LaunchedWorker, Launcher } from '../../src/coordinator/launcher.js';
import { KubernetesLauncher } from '../../src/coordinator/launchers/kubernetes.js';
import { jobName, workerJob } from '../../src/coordinator/launchers/kubernetes-manifest.js';
import { WorkerPool } from '../../src/coordinator/worker-pool.js';
import { RunPaths } from '../../src/protocol/paths.js';
import type { WorkerJson } from '../../src/protocol/schemas.js';
import { CLI, linesOf, makeWorld, readJson, readJsonlFile, runCli, startCli, waitFor, type World } from '../helpers.js';

const EXAMPLE = fileURLToPath(new URL('../../examples/parallel-edits', import.meta.url));
const RUNTIME = ['--runtime', 'runc'];
/** The image name the fake runs as this machine's root (no registry can be reached here). */
const HOST_IMAGE = 'localhost/fileswarm:host';

let world: World | undefined;
let kube: FakeKubernetes | undefined;

afterEach(async () => {
  await kube?.close();
  kube = undefined;
  world?.cleanup();
  world = undefined;
});

/** The fake, with the run's repository as the volume claim `swarm-runs` in namespace `swarm`. */
async function cluster(
  volume: string,
  more: Pick<FakeKubernetesOptions, 'forbid' | 'missingImages' | 'podCreateFailure' | 'unschedulable'> = {},
): Promise<FakeKubernetes> {
  kube = await startFakeKubernetes({
    namespaces: ['swarm'],
    claims: { 'swarm/swarm-runs': volume },
    hostImage: HOST_IMAGE,
    podmanGlobals: RUNTIME,
    podmanRunOptions: ['--ulimit', 'nofile=4096:4096', '--ulimit', 'nproc=4096:4096'],
    ...more,
  });
  return kube;
}

/** `launcher:` for the fake: the host image runs this build of fileswarm by its node and cli.js. */
function launcher(extra: Record<string, unknown> = {}) {
  return {
    kind: 'kubernetes',
    kubernetes: {
      namespace: 'swarm',
      image: HOST_IMAGE,
      command: [process.execPath, CLI],
      volume: { claim: 'swarm-runs', mount: '/swarm' },
      resources: { cpu: '1', memory: '1Gi' },
      ...extra,
    },
  };
}

const env = (k: FakeKubernetes) => ({ KUBECONFIG: k.kubeconfig });

/** launcher.kubernetes of {@link launcher}, as the config loader makes it. */
function settingsOf(w: World) {
  const loaded = loadConfig(w.write('swarm.yaml', { version: 1, launcher: launcher() }));
  if (!loaded.ok) throw new Error(JSON.stringify(loaded.error));
  return loaded.value.config.launcher.kubernetes;
}

/** Names of podman containers the fake started that still exist. */
function fakeContainers(): string[] {
  const out = execFileSync('podman', [...RUNTIME, 'ps', '-a', '--format', '{{.Names}}'], { encoding: 'utf8' });
  return out.split('\n').filter((n) => n.startsWith('fake-kube-'));
}

type Event = { type: string; task?: string; attempt?: number; reason?: string; worker?: string };

describe('launcher: kubernetes (fake API server, Podman pods)', () => {
  it('runs examples/parallel-edits as Jobs: clones in the pods, pushes the commits, retries the conflict, deletes its Jobs', async () => {
    const w = (world = makeWorld());
    fs.cpSync(EXAMPLE, w.path('example'), { recursive: true });
    execFileSync('sh', [w.path('example/setup.sh')], { stdio: 'ignore' });
    const demo = w.path('example/demo');
    const k = await cluster(demo);
    fs.appendFileSync(path.join(demo, 'swarm.yaml'), `launcher: ${JSON.stringify(launcher())}\n`);
    execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', 'commit', '-qam', 'k8s'], {
      cwd: demo,
    });
    const res = await runCli(['run', 'swarm.yaml', '--no-dashboard', '--run-dir', 'run'], { cwd: demo, env: env(k) });
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(/succeeded: 7 succeeded, 0 failed/);
    // The two CHANGELOG edits start together on the same tip: the second to merge conflicts and reruns.
    expect(res.stdout).toMatch(/merge conflict in CHANGELOG\.md/);
    const runDir = path.join(demo, 'run');
    const id = readJson<{ id: string }>(path.join(runDir, 'run.json')).id;
    const changelog = execFileSync('git', ['show', `swarm/${id}:CHANGELOG.md`], { cwd: demo, encoding: 'utf8' });
    expect(changelog).toContain('- add sub()');
    expect(changelog).toContain('- add a LICENSE');
    // Each worker was a Job of one pod, made by the launcher and valid against Kubernetes' schema
    // (the fake refuses any other with 422).
    expect(k.created.length).toBeGreaterThanOrEqual(3);
    const job = k.created[0]!;
    expect(job.spec.backoffLimit).toBe(0);
    expect(job.spec.template.spec.restartPolicy).toBe('Never');
    expect(job.spec.template.spec.containers[0].command).toContain('--clone-into');
    // Each pod runs as the repository's owner, so what it pushes to the volume is that user's too.
    const owner = fs.statSync(path.join(demo, '.git'));
    expect(job.spec.template.spec.securityContext).toEqual({ runAsUser: owner.uid, runAsGroup: owner.gid });
    // The workers ran in their pods (the pod's name as host name, pid 1 of its container).
    const info = readJson<{ pid: number; host: string }>(path.join(runDir, 'workers/w1/worker.json'));
    expect(info.pid).toBe(1);
    expect(info.host).toMatch(new RegExp(`^swarm-${id.toLowerCase()}-w1-`));
    // The attempts worked in clones in the pods, not in worktrees of the shared repository; their
    // commits came back by push, as refs/swarm/<run>/<task>/<n>.
    expect(fs.existsSync(path.join(demo, '.swarm/worktrees', id))).toBe(false);
    const refs = execFileSync('git', ['for-each-ref', '--format=%(refname)', `refs/swarm/${id}/`], {
      cwd: demo,
      encoding: 'utf8',
    });
    expect(refs.split('\n').filter(Boolean).length).toBeGreaterThanOrEqual(7);
    // assignment.json names paths relative to the repository (protocol 3).
    const assignment = readJson<{ protocol: number; workspace: string; git: { worktree: string } }>(
      path.join(runDir, 'tasks/license/1/assignment.json'),
    );
    expect(assignment.protocol).toBe(3);
    expect(assignment.git.worktree).toBe(`.swarm/worktrees/${id}/license-1`);
    // Nothing left: no Job, no pod, no container.
    expect(k.jobs()).toEqual([]);
    expect(k.pods()).toEqual([]);
    expect(fakeContainers()).toEqual([]);
  }, 240_000);

  it('reruns the attempt of a worker whose pod is deleted mid-attempt on a new Job', async () => {
    const w = (world = makeWorld());
    const k = await cluster(w.dir);
    w.write('swarm.yaml', {
      version: 1,
      workers: 1,
      launcher: launcher(),
      // Attempt 1 runs until its pod is deleted, however slow the machine; attempt 2 is quick.
      tasks: [
        {
          id: 'slow',
          run: 'echo "start $SWARM_ATTEMPT $(hostname)" >> "$SWARM_RUN_DIR/slow.log"; [ $SWARM_ATTEMPT = 1 ] && sleep 120; echo "done $SWARM_ATTEMPT" >> "$SWARM_RUN_DIR/slow.log"',
        },
      ],
    });
    const run = startCli(['run', 'swarm.yaml', '--no-dashboard', '--run-dir', 'run'], { cwd: w.dir, env: env(k) });
    const log = w.path('run/slow.log');
    await waitFor(() => linesOf(log).some((l) => l.startsWith('start 1')), 90_000, 'attempt 1 to start');
    // As `kubectl delete pod --grace-period=0` would.
    const pod = k.pods()[0]!.metadata.name;
    const del = await fetch(`${k.url}/api/v1/namespaces/swarm/pods/${pod}?gracePeriodSeconds=0`, { method: 'DELETE' });
    expect(del.status).toBe(200);
    const res = await run.done;
    expect(res.code).toBe(0);
    const lines = linesOf(log);
    expect(lines).toHaveLength(3);
    expect(lines[0]).toBe(`start 1 ${pod}`);
    expect(lines[1]).toMatch(/^start 2 swarm-.*-w2-/);
    expect(lines[2]).toBe('done 2');
    const events = readJsonlFile<Event>(w.path('run/events.jsonl'));
    expect(events.find((e) => e.type === 'attempt.finished' && e.attempt === 1)).toMatchObject({
      reason: 'worker-lost',
    });
    expect(k.jobs()).toEqual([]);
    expect(fakeContainers()).toEqual([]);
  }, 240_000);

  it('adopts the attempts of running pods after the coordinator is killed with -9; swarm clean deletes what a dead run left', async () => {
    const w = (world = makeWorld());
    const k = await cluster(w.dir);
    const run =
      'echo "start $SWARM_TASK_ID" >> "$SWARM_RUN_DIR/effects.log"; sleep 8; echo $SWARM_TASK_ID >> "$SWARM_RUN_DIR/effects.log"';
    w.write('swarm.yaml', {
      version: 1,
      workers: 2,
      launcher: launcher(),
      tasks: [
        { id: 'a', run },
        { id: 'b', run },
        { id: 'c', deps: ['a', 'b'], run: 'echo c >> "$SWARM_RUN_DIR/effects.log"' },
      ],
    });
    const effects = w.path('run/effects.log');
    const first = startCli(['run', 'swarm.yaml', '--no-dashboard', '--run-dir', 'run'], { cwd: w.dir, env: env(k) });
    await waitFor(() => linesOf(effects).filter((l) => l.startsWith('start')).length === 2, 90_000, 'a and b to start');
    first.child.kill('SIGKILL');
    await first.done;
    // The Jobs outlive their coordinator.
    expect(k.jobs()).toHaveLength(2);
    const res = await runCli(['resume', 'run'], { cwd: w.dir, env: env(k) });
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    // a and b were adopted (no second attempt, each effect once), c ran on a new Job.
    expect(
      linesOf(effects)
        .filter((l) => !l.startsWith('start'))
        .sort(),
    ).toEqual(['a', 'b', 'c']);
    expect(fs.existsSync(w.path('run/tasks/a/2'))).toBe(false);
    expect(fs.existsSync(w.path('run/tasks/b/2'))).toBe(false);
    // The resumed session deleted its own Jobs and those of the adopted workers once they ended.
    await waitFor(() => k.jobs().length === 0, 30_000, 'the Jobs to be deleted');

    // A run whose coordinator died and was never resumed: swarm clean deletes its Jobs.
    w.write('swarm.yaml', { version: 1, workers: 1, launcher: launcher(), tasks: [{ id: 'z', run: 'sleep 300' }] });
    const second = startCli(['run', 'swarm.yaml', '--no-dashboard', '--run-dir', 'run2'], { cwd: w.dir, env: env(k) });
    await waitFor(() => fs.existsSync(w.path('run2/tasks/z/1/status.json')), 90_000, 'z to start');
    second.child.kill('SIGKILL');
    await second.done;
    // Its heartbeat must go stale before clean will touch it.
    await waitFor(
      async () => (await runCli(['clean', 'run2'], { cwd: w.dir, env: env(k) })).stdout.includes('deleted Job swarm/'),
      60_000,
      'swarm clean to delete the Job',
    );
    await waitFor(() => k.jobs().length === 0 && fakeContainers().length === 0, 60_000, 'the pod to go');
  }, 300_000);

  it('gives a worker whose pod stays Pending (no node fits yet) 10 minutes to report, not 30 s, then counts it lost', async () => {
    const w = (world = makeWorld());
    const k = await cluster(w.dir, { unschedulable: true });
    const settings = settingsOf(w);
    const runDir = w.path('run');
    fs.mkdirSync(runDir);
    const before = process.env.KUBECONFIG;
    process.env.KUBECONFIG = k.kubeconfig;
    let pool: WorkerPool | undefined;
    try {
      const real = new KubernetesLauncher(settings, { id: 'pending', repo: w.dir, killGraceMs: 1000 });
      // The real launcher, keeping the handles it gives the pool, to see when it knows the pod.
      const handles: LaunchedWorker[] = [];
      const launcher: Launcher = {
        launch: (o) => {
          const h = real.launch(o);
          handles.push(h);
          return h;
        },
        attach: (o) => real.attach(o),
        close: (finished) => real.close(finished),
      };
      pool = new WorkerPool(new RunPaths(runDir), launcher, 'S', pino({ level: 'silent' }), {
        onWorker: () => {},
        onExit: () => {},
      });
      pool.grow(1);
      await waitFor(() => handles[0]?.starting?.() === true, 30_000, 'the launcher to see the pod Pending');
      const t0 = Date.now();
      // Time moves on through reap's `now`: past the 30 s a started worker gets, it is still waited for.
      expect(pool.reap(10_000, false, 0, t0 + 31_000)).toEqual([]);
      expect(pool.reap(10_000, false, 0, t0 + 9 * 60_000)).toEqual([]);
      const lost = pool.reap(10_000, false, 0, t0 + 10 * 60_000 + 1000);
      expect(lost.map((l) => [l.id, l.why])).toEqual([['w1', 'never reported (no worker.json)']]);
      // Lost means killed: its Job is deleted.
      await waitFor(() => k.jobs().length === 0, 30_000, 'the Job to be deleted');
    } finally {
      await pool?.shutdown(500);
      process.env.KUBECONFIG = before;
    }
  }, 120_000);

  it("at a session's end, deletes the Jobs of adopted workers done with their attempt though their pods still run, and keeps the others", async () => {
    const w = (world = makeWorld());
    const k = await cluster(w.dir);
    const settings = settingsOf(w);
    const runId = 'adopted';
    const runDir = w.path('run');
    fs.mkdirSync(runDir);
    // Two workers of an earlier session whose pods run on: one exiting after its adopted attempt
    // (deleting its clone can take a while), one still running its attempt. `sleep` stands for both.
    for (const id of ['w1', 'w2']) {
      const job = workerJob(settings, { runId, id, coordinator: 'S1', repo: w.dir, runDir, killGraceMs: 1000 });
      job.spec!.template.spec!.containers[0]!.command = ['sleep', '120'];
      const res = await fetch(`${k.url}/apis/batch/v1/namespaces/swarm/jobs`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(job),
      });
      expect(res.status).toBe(201);
    }
    await waitFor(() => k.pods().filter((p) => p.status?.phase === 'Running').length === 2, 60_000, 'the pods to run');
    const before = process.env.KUBECONFIG;
    process.env.KUBECONFIG = k.kubeconfig;
    try {
      const session = new KubernetesLauncher(settings, { id: runId, repo: w.dir, killGraceMs: 1000 });
      const workers = ['w1', 'w2'].map((id) => session.attach({ runDir, id }));
      const info = {} as WorkerJson; // the kubernetes launcher judges by the pod alone
      await waitFor(() => workers.every((h) => h.liveness(info) === 'alive'), 30_000, 'the pods to be watched');
      await session.close(['w1']);
    } finally {
      process.env.KUBECONFIG = before;
    }
    expect(k.jobs().map((j) => j.metadata.name)).toEqual([jobName(runId, 'w2')]);
  }, 120_000);

  it("stops a run whose worker pods fail as they start, with the pods' logs in logs/worker-*.stderr (three workers)", async () => {
    const w = (world = makeWorld());
    const k = await cluster(w.dir);
    w.write('swarm.yaml', {
      version: 1,
      workers: 3,
      launcher: launcher({ command: [process.execPath, '/no/such/cli.js'] }),
      tasks: [{ id: 'a', run: 'true' }],
    });
    const res = await runCli(['run', 'swarm.yaml', '--no-dashboard', '--run-dir', 'run'], { cwd: w.dir, env: env(k) });
    expect(res.code).not.toBe(0);
    expect(res.stderr).toMatch(/workers exit as soon as they start; see .*worker-\*\.stderr/);
    const stderr = fs.readFileSync(w.path('run/logs/worker-w1.stderr'), 'utf8');
    expect(stderr).toMatch(/the last lines of pod swarm-.*-w1-\w+'s log/);
    expect(stderr).toContain("Cannot find module '/no/such/cli.js'");
    await waitFor(() => k.jobs().length === 0, 30_000, 'the Jobs to be deleted');
  }, 120_000);

  it("stops a run whose pods can never start (an image the registry lacks), each pod's reason in logs/worker-*.stderr", async () => {
    const w = (world = makeWorld());
    const k = await cluster(w.dir, { missingImages: ['registry.invalid/swarm:1'] });
    w.write('swarm.yaml', {
      version: 1,
      workers: 3,
      launcher: launcher({ image: 'registry.invalid/swarm:1' }),
      tasks: [{ id: 'a', run: 'true' }],
    });
    const res = await runCli(['run', 'swarm.yaml', '--no-dashboard', '--run-dir', 'run'], { cwd: w.dir, env: env(k) });
    expect(res.code).not.toBe(0);
    expect(res.stderr).toMatch(
      /workers exit as soon as they start \(the last could not be started: pod swarm-\S+ cannot start: ErrImagePull/,
    );
    expect(fs.readFileSync(w.path('run/logs/worker-w1.stderr'), 'utf8')).toMatch(
      /pod swarm-.*-w1-\w+ cannot start: ErrImagePull: failed to pull and unpack image "registry\.invalid\/swarm:1": not found/,
    );
    await waitFor(() => k.jobs().length === 0 && k.pods().length === 0, 30_000, 'the Jobs and pods to be deleted');
  }, 120_000);

  it("stops a run whose Jobs never get a pod (admission refuses it), with the cluster's reason; SIGTERM ends such a run too", async () => {
    const w = (world = makeWorld());
    const refusal = 'violates PodSecurity "restricted:latest": runAsNonRoot != true';
    const k = await cluster(w.dir, { podCreateFailure: refusal });
    // b and c can run at once after a, so two workers are launched (one with the attempt of `a`, one idle).
    const tasks = [
      { id: 'a', run: 'true' },
      { id: 'b', deps: ['a'], run: 'true' },
      { id: 'c', deps: ['a'], run: 'true' },
    ];
    w.write('swarm.yaml', { version: 1, workers: 2, launcher: launcher(), tasks });
    const res = await runCli(['run', 'swarm.yaml', '--no-dashboard', '--run-dir', 'run'], { cwd: w.dir, env: env(k) });
    expect(res.code).not.toBe(0);
    expect(res.stderr).toMatch(
      /workers exit as soon as they start \(the last could not be started: Job swarm-\S+ cannot make its pod: Error creating: .*violates PodSecurity/,
    );
    expect(fs.readFileSync(w.path('run/logs/worker-w1.stderr'), 'utf8')).toContain(
      `cannot make its pod: Error creating: pods "swarm-`,
    );
    expect(fs.readFileSync(w.path('run/logs/worker-w1.stderr'), 'utf8')).toContain(refusal);
    await waitFor(() => k.jobs().length === 0, 30_000, 'the Jobs to be deleted');

    // The same cluster with Events the credentials may not read: nothing says why the pods never
    // come. SIGTERM still ends the session (its Jobs deleted, no pod ever seen), where it waited for
    // pod events that would never come.
    await k.close();
    const k2 = await cluster(w.dir, { podCreateFailure: refusal, forbid: ['list events'] });
    const run = startCli(['run', 'swarm.yaml', '--no-dashboard', '--run-dir', 'run2'], { cwd: w.dir, env: env(k2) });
    await waitFor(() => k2.jobs().length === 2, 30_000, 'the Jobs to be created');
    run.child.kill('SIGTERM');
    const signalled = Date.now();
    // kill_grace is 5 s: the cancelled attempt's deadline (10 s), then the idle worker's stop
    // message (7 s) and its Job's deletion end it (about 17 s); not the limits after the SIGTERM
    // and the kill (7 s more each), which are there for a cluster that stops answering.
    const ended = await Promise.race([run.done.then(() => true), sleep(60_000).then(() => false)]);
    expect(ended).toBe(true);
    expect(Date.now() - signalled).toBeLessThan(25_000);
    expect(fs.readFileSync(w.path('run2/logs/coordinator.log'), 'utf8')).not.toContain('did not report its end');
    expect(k2.jobs()).toEqual([]);
  }, 180_000);

  it('refuses a run before any work when the cluster lacks the namespace or the claim, or its credentials may not create Jobs or watch pods (exit 2)', async () => {
    const w = (world = makeWorld());
    const k = await cluster(w.dir, { forbid: ['create jobs', 'watch pods', 'get pods/log'] });
    const tasks = [{ id: 'a', run: 'true' }];
    w.write('ns.yaml', { version: 1, launcher: launcher({ namespace: 'nope' }), tasks });
    let res = await runCli(['run', 'ns.yaml', '--no-dashboard'], { cwd: w.dir, env: env(k) });
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/the namespace "nope" does not exist on http:\/\/127\.0\.0\.1:\d+/);
    w.write('claim.yaml', { version: 1, launcher: launcher({ volume: { claim: 'other' } }), tasks });
    res = await runCli(['run', 'claim.yaml', '--no-dashboard'], { cwd: w.dir, env: env(k) });
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/the volume claim "other" does not exist in the namespace "swarm"/);
    expect(res.stderr).toMatch(/may not create jobs, get pods\/log, watch pods in the namespace "swarm"/);
    // No API server at all.
    res = await runCli(['run', 'ns.yaml', '--no-dashboard'], {
      cwd: w.dir,
      env: { KUBECONFIG: writeKubeconfig(w.path('kubeconfig'), 'http://127.0.0.1:9') },
    });
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/cannot reach the Kubernetes API at http:\/\/127\.0\.0\.1:9/);
    // A run directory off the volume.
    w.write('off.yaml', {
      version: 1,
      launcher: launcher({ volume: { claim: 'swarm-runs', local_path: w.path('sub') } }),
      tasks,
    });
    res = await runCli(['run', 'off.yaml', '--no-dashboard'], { cwd: w.dir, env: env(k) });
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/is not on the shared volume/);
    expect(k.created).toEqual([]);
    expect(fs.existsSync(w.path('.swarm/runs')) && fs.readdirSync(w.path('.swarm/runs')).length > 0).toBe(false);
  }, 120_000);

  it('refuses kubernetes settings without an image or a volume, naming the file, line and field', async () => {
    const w = (world = makeWorld());
    fs.writeFileSync(
      w.path('swarm.yaml'),
      'version: 1\nlauncher:\n  kind: kubernetes\n  kubernetes:\n    namespace: Bad_Name\ntasks: [{id: a, run: "true"}]\n',
    );
    const res = await runCli(['run', 'swarm.yaml', '--no-dashboard'], { cwd: w.dir });
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/swarm\.yaml:5:\d+.*launcher\.kubernetes\.namespace/);
    expect(res.stderr).toMatch(/swarm\.yaml:5:5: launcher\.kubernetes\.image: required field is missing/);
    expect(res.stderr).toMatch(/launcher\.kubernetes\.volume: required field is missing/);
  });
});
