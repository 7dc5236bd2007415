// The kubernetes launcher's pure parts: the settings loading accepts, the worker Job it makes
// (validated against Kubernetes' OpenAPI schema, as kubernetes-models generates it), where the
// shared volume puts paths in a pod, and how a worker resolves an assignment's relative paths.
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Job } from 'kubernetes-models/batch/v1/Job';
import { Role } from 'kubernetes-models/rbac.authorization.k8s.io/v1/Role';
import { RoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/RoleBinding';
import { ServiceAccount } from 'kubernetes-models/v1/ServiceAccount';
import { parseAllDocuments } from 'yaml';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { jobName, podPath, workerJob } from '../../src/coordinator/launchers/kubernetes-manifest.js';
import { NEEDED } from '../../src/coordinator/launchers/kubernetes-preflight.js';
import type { Assignment } from '../../src/protocol/schemas.js';
import { localize } from '../../src/worker/localize.js';
import { makeWorld, type World } from '../helpers.js';

let world: World;
beforeEach(() => {
  world = makeWorld('swarm-k8s-');
});
afterEach(() => world.cleanup());

function settings(yaml: string) {
  const r = loadConfig(world.write('swarm.yaml', `version: 1\nlauncher:\n  kind: kubernetes\n  kubernetes:\n${yaml}`));
  if (!r.ok) throw new Error(`expected the config to load: ${JSON.stringify(r.error)}`);
  return r.value.config.launcher.kubernetes;
}

const FULL = `    namespace: agents
    image: registry.example.com/fileswarm:1.4
    context: prod
    service_account: swarm-worker
    image_pull_secrets: [registry-creds]
    env_from_secrets: [model-keys]
    node_selector: { pool: agents }
    tolerations: [{ key: dedicated, operator: Equal, value: agents, effect: NoSchedule }]
    resources: { cpu: 500m, memory: 2Gi }
    volume: { claim: swarm-runs, mount: /swarm, local_path: /mnt/swarm }
    ttl_seconds_after_finished: 60
    run_as: { user: 1001, group: 1002 }
`;

describe('launcher.kubernetes', () => {
  it('makes a worker Job that Kubernetes’ schema accepts, with every setting in its place', () => {
    const s = settings(FULL);
    const job = workerJob(s, {
      runId: '01M92ERJBMYZF2F0SXK5RYCTDZ',
      id: 'w3',
      coordinator: 'S1',
      repo: '/mnt/swarm/repo',
      runDir: '/mnt/swarm/repo/.swarm/runs/01M92',
      killGraceMs: 10_000,
      owner: { uid: 1000, gid: 1000 },
    });
    expect(() => new Job(job as never).validate()).not.toThrow();
    expect(job.metadata!.name).toBe('swarm-01m92erjbmyzf2f0sxk5ryctdz-w3');
    expect(job.metadata!.namespace).toBe('agents');
    expect(job.spec!.backoffLimit).toBe(0);
    expect(job.spec!.ttlSecondsAfterFinished).toBe(60);
    const pod = job.spec!.template.spec!;
    expect(pod.restartPolicy).toBe('Never');
    expect(pod.terminationGracePeriodSeconds).toBe(10);
    expect(pod.serviceAccountName).toBe('swarm-worker');
    expect(pod.imagePullSecrets).toEqual([{ name: 'registry-creds' }]);
    expect(pod.nodeSelector).toEqual({ pool: 'agents' });
    expect(pod.tolerations).toEqual([{ key: 'dedicated', operator: 'Equal', value: 'agents', effect: 'NoSchedule' }]);
    const c = pod.containers[0]!;
    expect(c.command).toEqual([
      'swarm',
      'worker',
      '--run-dir',
      '/swarm/repo/.swarm/runs/01M92',
      '--id',
      'w3',
      '--coordinator',
      'S1',
      '--repo',
      '/swarm/repo',
      '--clone-into',
      '/scratch',
    ]);
    expect(c.envFrom).toEqual([{ secretRef: { name: 'model-keys' } }]);
    // As `run_as` says (over the repository's owner), with a HOME any uid can write.
    expect(pod.securityContext).toEqual({ runAsUser: 1001, runAsGroup: 1002 });
    expect(c.env).toEqual([{ name: 'HOME', value: '/scratch' }]);
    expect(c.resources).toEqual({ requests: { cpu: '500m', memory: '2Gi' }, limits: { cpu: '500m', memory: '2Gi' } });
    expect(pod.volumes).toEqual([
      { name: 'swarm', persistentVolumeClaim: { claimName: 'swarm-runs' } },
      { name: 'scratch', emptyDir: {} },
    ]);
  });

  it('a minimal Job is valid too, and a broken one is not (the schema check can fail)', () => {
    const s = settings('    image: img\n    volume: { claim: runs }\n');
    const input = { runId: 'r', id: 'w1', coordinator: 'S', repo: '/r', runDir: '/r/run', killGraceMs: 1 };
    // Without run_as, the pod runs as the repository's owner; without an owner, as the image says.
    expect(workerJob(s, { ...input, owner: { uid: 7, gid: 8 } }).spec!.template.spec!.securityContext).toEqual({
      runAsUser: 7,
      runAsGroup: 8,
    });
    const job = workerJob(s, input);
    expect(job.spec!.template.spec!.securityContext).toBeUndefined();
    expect(() => new Job(job as never).validate()).not.toThrow();
    delete (job.spec!.template.spec!.containers[0] as { name?: string }).name;
    expect(() => new Job(job as never).validate()).toThrow(/name/);
  });

  it('puts paths on the volume at its mount in the pod, and nothing off it', () => {
    const s = settings('    image: img\n    volume: { claim: runs, mount: /vol }\n');
    expect(podPath(s, '/home/u/repo', '/home/u/repo')).toBe('/vol');
    expect(podPath(s, '/home/u/repo', '/home/u/repo/.swarm/runs/x')).toBe('/vol/.swarm/runs/x');
    expect(podPath(s, '/home/u/repo', '/home/u/elsewhere')).toBeUndefined();
  });

  it('names Jobs as Kubernetes allows (lower case, at most 63 characters)', () => {
    expect(jobName('My_Run.ID', 'w1')).toBe('swarm-my-run-id-w1');
    expect(jobName('x'.repeat(80), 'w1')).toHaveLength(63);
  });

  it('deploy/kubernetes/rbac.yaml is valid and grants every permission the preflight asks for', () => {
    const file = fileURLToPath(new URL('../../deploy/kubernetes/rbac.yaml', import.meta.url));
    const docs = parseAllDocuments(fs.readFileSync(file, 'utf8')).map((d) => d.toJS() as { kind: string });
    const models = { ServiceAccount, Role, RoleBinding } as Record<string, new (o: never) => { validate(): void }>;
    expect(docs.map((d) => d.kind)).toEqual(['ServiceAccount', 'Role', 'RoleBinding']);
    for (const d of docs) new models[d.kind]!(d as never).validate();
    const role = docs[1] as unknown as { rules: { apiGroups: string[]; resources: string[]; verbs: string[] }[] };
    for (const n of NEEDED) {
      const resource = n.subresource ? `${n.resource}/${n.subresource}` : n.resource;
      const granted = role.rules.some(
        (r) => r.apiGroups.includes(n.group ?? '') && r.resources.includes(resource) && r.verbs.includes(n.verb),
      );
      expect(granted, `${n.verb} ${resource}`).toBe(true);
    }
  });

  it('refuses bad settings with the field named', () => {
    const r = loadConfig(
      world.write(
        'swarm.yaml',
        'version: 1\nlauncher:\n  kind: kubernetes\n  kubernetes:\n    image: i\n    volume: { claim: runs }\n    resources: { memory: lots }\n',
      ),
    );
    expect(r.ok).toBe(false);
    expect(JSON.stringify(!r.ok && r.error)).toMatch(/launcher\.kubernetes\.resources\.memory/);
  });
});

describe('localize (assignment paths for a worker)', () => {
  const a = {
    task: { id: 't', cwd: 'sub' },
    attempt: 2,
    workspace: '.swarm/worktrees/R/t-2/sub',
    git: { repo: '.', worktree: '.swarm/worktrees/R/t-2', ref: 'refs/swarm/R/t/2', message: 'm' },
    env: {
      SWARM_RUN_DIR: '/host/repo/.swarm/runs/R',
      SWARM_INTEGRATION_LOG: '/host/repo/.swarm/runs/R/integration/3.log',
      X: 'y',
    },
  } as unknown as Assignment;

  it('resolves relative paths against the repository as the worker sees it, and the run directory likewise', () => {
    const l = localize(a, { repo: '/swarm', runDir: '/swarm/.swarm/runs/R' });
    expect(l.git).toMatchObject({ repo: '/swarm', worktree: '/swarm/.swarm/worktrees/R/t-2' });
    expect(l.workspace).toBe('/swarm/.swarm/worktrees/R/t-2/sub');
    expect(l.env).toEqual({
      SWARM_RUN_DIR: '/swarm/.swarm/runs/R',
      SWARM_INTEGRATION_LOG: '/swarm/.swarm/runs/R/integration/3.log',
      X: 'y',
    });
  });

  it('works in its own clone with --clone-into', () => {
    const l = localize(a, { repo: '/swarm', runDir: '/swarm/.swarm/runs/R', cloneInto: '/scratch' });
    expect(l.git).toMatchObject({ repo: '/scratch/t-2', worktree: '/scratch/t-2' });
    expect(l.workspace).toBe('/scratch/t-2/sub');
  });

  it('reads a protocol 2 assignment (absolute paths) as it was written', () => {
    const old = {
      ...a,
      workspace: '/host/repo/.swarm/worktrees/R/t-2/sub',
      git: { ...a.git!, repo: '/host/repo', worktree: '/host/repo/.swarm/worktrees/R/t-2' },
    } as Assignment;
    const l = localize(old, { repo: '/host/repo', runDir: '/host/repo/.swarm/runs/R' });
    expect(l.git).toMatchObject({ repo: '/host/repo', worktree: '/host/repo/.swarm/worktrees/R/t-2' });
    expect(l.workspace).toBe('/host/repo/.swarm/worktrees/R/t-2/sub');
  });
});
