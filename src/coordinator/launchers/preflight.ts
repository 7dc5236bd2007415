// Before a run does any work: can its launcher start workers here?
import path from 'node:path';
import type { LauncherSpec } from '../../config/launcher.js';
import { podPath } from './kubernetes-manifest.js';
import { podmanProblems } from './podman-preflight.js';

/**
 * What stops the run's launcher from starting workers, as messages that say what to do: [] for the
 * local launcher; for podman, podman missing or unable to start a trial container (it runs one);
 * for kubernetes, a repository or run directory that is not on the shared volume. Synchronous
 * and local: {@link launcherReachable} asks the cluster.
 * @param where the run's repository and run directory (absolute; the run directory once known)
 */
export function launcherProblems(spec: LauncherSpec, where: { repo: string; runDir?: string }): string[] {
  if (spec.kind === 'podman') return podmanProblems(spec.podman);
  if (spec.kind !== 'kubernetes') return [];
  const settings = spec.kubernetes;
  const local = path.resolve(settings.volume?.local_path ?? where.repo);
  return [where.repo, where.runDir]
    .filter((p): p is string => p !== undefined && podPath(settings, where.repo, p) === undefined)
    .map(
      (p) =>
        `${p} is not on the shared volume, which this machine has at ${local} (launcher.kubernetes.volume.local_path): workers in pods could not see it`,
    );
}

/**
 * What the cluster says against the run, for the kubernetes launcher ([] for the others): no
 * kubeconfig, an API server that cannot be reached, a namespace or volume claim that does not
 * exist, or credentials that lack a permission the launcher uses there.
 */
export async function launcherReachable(spec: LauncherSpec): Promise<string[]> {
  if (spec.kind !== 'kubernetes') return [];
  const { kubernetesProblems } = await import('./kubernetes-preflight.js');
  return kubernetesProblems(spec.kubernetes);
}
