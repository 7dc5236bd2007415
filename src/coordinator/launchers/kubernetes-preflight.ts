// Before a run with `launcher.kind: kubernetes` does any work: does the cluster have what its
// workers need?
import { AuthorizationV1Api, CoreV1Api } from '@kubernetes/client-node';
import { apiMessage, kubeConfigFor } from './kubernetes.js';
import type { KubernetesSettings } from './kubernetes-manifest.js';

/**
 * What the launcher does in the namespace (kubernetes.ts): create, list and delete Jobs; list,
 * watch and delete pods (one at a time and by label); read a failed pod's log. Events are read
 * too, but only to say why a pod never appeared: not required.
 */
export const NEEDED: { verb: string; group?: string; resource: string; subresource?: string }[] = [
  { verb: 'create', group: 'batch', resource: 'jobs' },
  { verb: 'list', group: 'batch', resource: 'jobs' },
  { verb: 'delete', group: 'batch', resource: 'jobs' },
  { verb: 'list', resource: 'pods' },
  { verb: 'watch', resource: 'pods' },
  { verb: 'delete', resource: 'pods' },
  { verb: 'deletecollection', resource: 'pods' },
  { verb: 'get', resource: 'pods', subresource: 'log' },
];

/** HTTP status of a failed API call (client-node's ApiException `code`), if it has one. */
function statusOf(e: unknown): number | undefined {
  const code = (e as { code?: unknown }).code;
  return typeof code === 'number' ? code : undefined;
}

/**
 * The problems that stop a run whose workers are Kubernetes Jobs, each saying what to do: the
 * kubeconfig cannot be loaded or names no cluster; the API server cannot be reached; the
 * namespace or the volume's PersistentVolumeClaim does not exist; the credentials lack a
 * permission the launcher uses in the namespace (one SelfSubjectAccessReview each, see NEEDED).
 * @returns [] when the cluster has all of it
 */
export async function kubernetesProblems(settings: KubernetesSettings): Promise<string[]> {
  let kc;
  try {
    kc = kubeConfigFor(settings);
  } catch (e) {
    return [`cannot load a kubeconfig: ${(e as Error).message}`];
  }
  const cluster = kc.getCurrentCluster();
  if (!cluster)
    return [
      'no Kubernetes cluster is configured: set $KUBECONFIG or write ~/.kube/config (launcher.kind is kubernetes)',
    ];
  const core = kc.makeApiClient(CoreV1Api);
  const namespace = settings.namespace;
  try {
    await core.readNamespace({ name: namespace });
  } catch (e) {
    const status = statusOf(e);
    if (status === 404)
      return [`the namespace "${namespace}" does not exist on ${cluster.server} (launcher.kubernetes.namespace)`];
    if (status === undefined) return [`cannot reach the Kubernetes API at ${cluster.server}: ${apiMessage(e)}`];
    if (status !== 403) return [`reading the namespace "${namespace}" failed: ${apiMessage(e)}`];
  }
  const problems: string[] = [];
  const claim = settings.volume?.claim;
  if (claim) {
    try {
      await core.readNamespacedPersistentVolumeClaim({ name: claim, namespace });
    } catch (e) {
      problems.push(
        statusOf(e) === 404
          ? `the volume claim "${claim}" does not exist in the namespace "${namespace}" (launcher.kubernetes.volume.claim)`
          : `reading the volume claim "${claim}" failed: ${apiMessage(e)}`,
      );
    }
  }
  const auth = kc.makeApiClient(AuthorizationV1Api);
  const denied: string[] = [];
  await Promise.all(
    NEEDED.map(async (n) => {
      try {
        const review = await auth.createSelfSubjectAccessReview({
          body: {
            apiVersion: 'authorization.k8s.io/v1',
            kind: 'SelfSubjectAccessReview',
            spec: { resourceAttributes: { namespace, ...n } },
          },
        });
        if (!review.status?.allowed) denied.push(`${n.verb} ${n.resource}${n.subresource ? `/${n.subresource}` : ''}`);
      } catch (e) {
        problems.push(`asking whether the credentials may ${n.verb} ${n.resource} failed: ${apiMessage(e)}`);
      }
    }),
  );
  if (denied.length > 0)
    problems.push(
      `the cluster's credentials may not ${denied.sort().join(', ')} in the namespace "${namespace}" (the workers' Jobs are created, their pods watched, and both deleted)`,
    );
  return problems;
}
