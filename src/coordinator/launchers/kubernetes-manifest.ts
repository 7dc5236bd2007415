// The Kubernetes objects the kubernetes launcher creates: one batch/v1 Job per worker, and where
// the shared volume puts the repository and the run directory inside its pod. Pure, so the
// manifests can be checked against Kubernetes' OpenAPI schema in tests and shown in the log.
import path from 'node:path';
import type { V1Job } from '@kubernetes/client-node';
import type { LauncherSpec } from '../../config/launcher.js';

/** The kubernetes settings of `launcher:`. */
export type KubernetesSettings = LauncherSpec['kubernetes'];

/** The labels every worker Job and pod of a run carries (selectors for watch, adoption and clean). */
export const RUN_LABEL = 'swarm.run';
export const WORKER_LABEL = 'swarm.worker';

/** A string made into a DNS-1123 label (lower case, `[a-z0-9-]`, at most 63 characters). */
function dnsLabel(s: string): string {
  return (
    s
      .toLowerCase()
      .replace(/[^a-z0-9-]+/g, '-')
      .slice(0, 63)
      .replace(/^-+|-+$/g, '') || 'x'
  );
}

/** The name of a run's worker Job: `swarm-<run id>-<worker id>`, as a DNS-1123 label. */
export function jobName(runId: string, worker: string): string {
  return dnsLabel(`swarm-${runId}-${worker}`);
}

/** The `swarm.run` label value of a run (a label value: at most 63 of `[a-z0-9-]`). */
export function runLabelValue(runId: string): string {
  return dnsLabel(runId);
}

/** The label selector of a run's Jobs and pods: `swarm.run=<run>`. */
export function runSelector(runId: string): string {
  return `${RUN_LABEL}=${runLabelValue(runId)}`;
}

/**
 * Where a path of this machine is in a worker's pod: the shared volume is at `volume.local_path`
 * here (default: the repository's top level) and at `volume.mount` there.
 * @returns undefined when `p` is not on the volume
 */
export function podPath(settings: KubernetesSettings, repo: string, p: string): string | undefined {
  const volume = settings.volume;
  if (!volume) return undefined;
  const local = path.resolve(volume.local_path ?? repo);
  const rel = path.relative(local, path.resolve(p));
  if (rel.startsWith('..') || path.isAbsolute(rel)) return undefined;
  return path.posix.join(volume.mount, ...rel.split(path.sep));
}

/** What a worker Job is made of, beyond the settings. */
export interface WorkerJobInput {
  runId: string;
  /** The worker id (`w3`). */
  id: string;
  /** The coordinator session that starts it (`swarm worker --coordinator`). */
  coordinator: string;
  /** The repository's top level and the run directory on this machine (absolute, on the volume). */
  repo: string;
  runDir: string;
  /** `scheduling.kill_grace`, ms: the pod's terminationGracePeriodSeconds (rounded up to s). */
  killGraceMs: number;
  /**
   * The uid and gid the pod runs as when `run_as` is unset: the owner of the repository's .git on
   * this machine (undefined: the image's user).
   */
  owner?: { uid: number; gid: number };
}

/**
 * The batch/v1 Job of one worker: one pod (`parallelism` and `completions` 1), never retried by
 * Kubernetes (`backoffLimit: 0`, `restartPolicy: Never`: fileswarm decides about reruns),
 * removed `ttl_seconds_after_finished` after it ends. The pod runs `<command> worker --run-dir
 * <run dir in the pod> --id <id> --coordinator <session> --repo <repository in the pod>
 * --clone-into <scratch>`, with the shared volume (the claim) at `volume.mount` and an emptyDir at
 * `scratch` where each attempt clones the repository. It runs as `run_as` (default: the
 * repository's owner), with HOME in the scratch directory, writable whatever the uid.
 * @throws Error when the settings lack an image or a volume, or the repository or the run
 *   directory is not on the volume (the preflight refuses such a run first)
 */
export function workerJob(settings: KubernetesSettings, o: WorkerJobInput): V1Job {
  const { image, volume } = settings;
  if (!image || !volume) throw new Error('launcher.kubernetes needs an image and a volume');
  const repo = podPath(settings, o.repo, o.repo);
  const runDir = podPath(settings, o.repo, o.runDir);
  if (!repo || !runDir) throw new Error(`${o.runDir} is not on the shared volume (launcher.kubernetes.volume)`);
  const labels = { [RUN_LABEL]: runLabelValue(o.runId), [WORKER_LABEL]: dnsLabel(o.id) };
  const resources: Record<string, string> = {};
  if (settings.resources.cpu !== undefined) resources.cpu = String(settings.resources.cpu);
  if (settings.resources.memory !== undefined) resources.memory = settings.resources.memory;
  const hasResources = Object.keys(resources).length > 0;
  const user = settings.run_as ?? (o.owner ? { user: o.owner.uid, group: o.owner.gid } : undefined);
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: {
      name: jobName(o.runId, o.id),
      namespace: settings.namespace,
      labels: { ...labels, 'app.kubernetes.io/managed-by': 'fileswarm' },
    },
    spec: {
      parallelism: 1,
      completions: 1,
      backoffLimit: 0,
      ttlSecondsAfterFinished: settings.ttl_seconds_after_finished,
      template: {
        metadata: { labels },
        spec: {
          restartPolicy: 'Never',
          ...(user ? { securityContext: { runAsUser: user.user, runAsGroup: user.group } } : {}),
          terminationGracePeriodSeconds: Math.max(1, Math.ceil(o.killGraceMs / 1000)),
          ...(settings.service_account ? { serviceAccountName: settings.service_account } : {}),
          ...(settings.image_pull_secrets.length > 0
            ? { imagePullSecrets: settings.image_pull_secrets.map((name) => ({ name })) }
            : {}),
          ...(Object.keys(settings.node_selector).length > 0 ? { nodeSelector: settings.node_selector } : {}),
          ...(settings.tolerations.length > 0 ? { tolerations: settings.tolerations } : {}),
          containers: [
            {
              name: 'worker',
              image,
              command: [
                ...settings.command,
                'worker',
                '--run-dir',
                runDir,
                '--id',
                o.id,
                '--coordinator',
                o.coordinator,
                '--repo',
                repo,
                '--clone-into',
                settings.scratch,
              ],
              workingDir: runDir,
              env: [{ name: 'HOME', value: settings.scratch }],
              ...(settings.env_from_secrets.length > 0
                ? { envFrom: settings.env_from_secrets.map((name) => ({ secretRef: { name } })) }
                : {}),
              ...(hasResources ? { resources: { requests: resources, limits: resources } } : {}),
              volumeMounts: [
                { name: 'swarm', mountPath: volume.mount },
                { name: 'scratch', mountPath: settings.scratch },
              ],
            },
          ],
          volumes: [
            { name: 'swarm', persistentVolumeClaim: { claimName: volume.claim } },
            { name: 'scratch', emptyDir: {} },
          ],
        },
      },
    },
  };
}
