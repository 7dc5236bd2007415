// `launcher:` of swarm.yaml: how worker processes are started, watched and killed (locally, in
// Podman containers, as Kubernetes Jobs). The rest of the config's schema is ./schema.ts.
import { z } from 'zod';
import { DEFAULTS } from './defaults.js';

/** `podman:` settings of `launcher:` (src/coordinator/launchers/podman.ts). */
export const PodmanSpec = z
  .strictObject({
    image: z.string().min(1).default(DEFAULTS.podmanImage).meta({
      description:
        "The image workers run in: `host` (the default) runs them on this machine's own root as a throwaway overlay (`--rootfs /:O`, no registry needed: node, git and fileswarm are there); any other value is an image name (it must hold node, git and fileswarm at the same path as here).",
    }),
    mounts: z
      .array(
        z.string().regex(/^\/[^:]*(:\/[^:]*)?(:(ro|rw))?$/, {
          message: 'a mount is an absolute host path, optionally `:/container/path` and `:ro` or `:rw`',
        }),
      )
      .default([])
      .meta({
        description:
          'More `-v` mounts (`/host/path[:/container/path][:ro]`); the repository, the run directory and the fileswarm installation are always mounted at their own paths.',
      }),
    cpus: z
      .number()
      .positive()
      .max(1024)
      .optional()
      .meta({ description: 'CPU limit of each worker container (`--cpus`).' }),
    memory: z
      .string()
      .regex(/^[0-9]+[bkmg]?$/i, {
        message: 'a memory limit is a number with an optional unit b, k, m or g (e.g. `2g`)',
      })
      .optional()
      .meta({ description: 'Memory limit of each worker container (`--memory`, e.g. `2g`).' }),
    network: z.enum(['none', 'host']).default(DEFAULTS.podmanNetwork).meta({
      description:
        "none: the container has only its own loopback (command tasks; agents cannot reach their API); host: the host's network.",
    }),
    runtime: z.string().min(1).default(DEFAULTS.podmanRuntime).meta({
      description: 'The OCI runtime (`podman --runtime`): runc works where crun fails on a hybrid cgroup layout.',
    }),
    ulimits: z
      .array(
        z
          .string()
          .regex(/^[a-z]+=-?[0-9]+(:-?[0-9]+)?$/, { message: 'a ulimit is `name=soft:hard`, e.g. `nofile=4096:4096`' }),
      )
      .default([...DEFAULTS.podmanUlimits])
      .meta({
        description:
          "`--ulimit` of each container: podman's defaults exceed the hard limits of some hosts (setrlimit fails), these do not.",
      }),
  })
  .meta({ description: 'Each worker in its own Podman container.' });

/** A Kubernetes resource quantity of CPU (`2`, `0.5`, `500m`), as a string or a number. */
const CpuQuantity = z
  .union([z.number().positive(), z.string().regex(/^[0-9]+(\.[0-9]+)?m?$/)])
  .meta({ description: 'CPU, as Kubernetes writes it: `2`, `0.5` or `500m`.' });
/** A Kubernetes resource quantity of memory (`512Mi`, `4Gi`, `1G`). */
const MemoryQuantity = z
  .string()
  .regex(/^[0-9]+(\.[0-9]+)?(Ki|Mi|Gi|Ti|k|K|M|G|T)?$/, {
    message: 'memory is a Kubernetes quantity, e.g. `512Mi` or `4Gi`',
  })
  .meta({ description: 'Memory, as Kubernetes writes it: `512Mi`, `4Gi`.' });
/** A DNS-1123 label: what Kubernetes accepts as a namespace or secret name. */
const Dns1123 = z
  .string()
  .max(63)
  .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, {
    message: 'a Kubernetes name is lower-case letters, digits and `-`, starting and ending with a letter or digit',
  });

/** `kubernetes:` settings of `launcher:` (src/coordinator/launchers/kubernetes.ts, docs/kubernetes.md). */
export const KubernetesSpec = z
  .strictObject({
    context: z.string().min(1).optional().meta({
      description: 'The kubeconfig context to use ($KUBECONFIG or ~/.kube/config); unset: its current context.',
    }),
    namespace: Dns1123.default(DEFAULTS.kubernetesNamespace).meta({ description: 'The namespace of the worker Jobs.' }),
    image: z.string().min(1).optional().meta({
      description: 'The worker image (required): it must hold node, git and fileswarm (`command` runs its CLI).',
    }),
    command: z
      .array(z.string().min(1))
      .min(1)
      .default([...DEFAULTS.kubernetesCommand])
      .meta({ description: "How the image runs fileswarm's CLI; `worker ...` is appended. Default: `[swarm]`." }),
    service_account: Dns1123.optional().meta({ description: "The worker pods' service account." }),
    image_pull_secrets: z.array(Dns1123).default([]).meta({ description: 'Secrets for pulling the image.' }),
    env_from_secrets: z.array(Dns1123).default([]).meta({
      description: "Secrets whose keys become the workers' environment (model API keys, GITHUB_TOKEN).",
    }),
    node_selector: z.record(z.string(), z.string()).default({}).meta({ description: "The pods' nodeSelector." }),
    tolerations: z
      .array(
        z.strictObject({
          key: z.string().optional(),
          operator: z.enum(['Exists', 'Equal']).optional(),
          value: z.string().optional(),
          effect: z.enum(['NoSchedule', 'PreferNoSchedule', 'NoExecute']).optional(),
          tolerationSeconds: z.number().int().optional(),
        }),
      )
      .default([])
      .meta({ description: "The pods' tolerations, written as in a pod spec." }),
    resources: z
      .strictObject({ cpu: CpuQuantity.optional(), memory: MemoryQuantity.optional() })
      .default({})
      .meta({ description: "Each worker pod's CPU and memory (its requests and its limits)." }),
    volume: z
      .strictObject({
        claim: Dns1123.meta({
          description: 'The ReadWriteMany PersistentVolumeClaim that holds the repository and its run directories.',
        }),
        mount: z
          .string()
          .regex(/^\/./, { message: 'an absolute path in the pod' })
          .default(DEFAULTS.kubernetesMount)
          .meta({ description: 'Where the pods mount it.' }),
        local_path: z.string().regex(/^\//, { message: 'an absolute path on this machine' }).optional().meta({
          description:
            "Where this machine (the coordinator's) has the same volume mounted; the repository and the run directory must be under it. Unset: the repository's top level is the volume's root.",
        }),
      })
      .optional()
      .meta({ description: 'The shared volume (required).' }),
    scratch: z
      .string()
      .regex(/^\/./, { message: 'an absolute path in the pod' })
      .default(DEFAULTS.kubernetesScratch)
      .meta({ description: 'The pod-local directory (an emptyDir) where a worker clones the repository.' }),
    ttl_seconds_after_finished: z
      .number()
      .int()
      .min(0)
      .default(DEFAULTS.kubernetesJobTtl)
      .meta({ description: 'How long Kubernetes keeps a finished worker Job, s.' }),
    run_as: z
      .strictObject({ user: z.number().int().min(0), group: z.number().int().min(0) })
      .optional()
      .meta({
        description:
          "The uid and gid the worker pods run as. Unset: the owner of the repository's .git on this machine, so that what the pods write to the shared volume belongs to the same user as the rest (git refuses a repository another user owns).",
      }),
  })
  .meta({ description: 'Each worker a Kubernetes Job (one pod) on a cluster.' });

/** `launcher:`: where workers run. */
export const LauncherSpec = z
  .strictObject({
    kind: z.enum(['local', 'podman', 'kubernetes']).default(DEFAULTS.launcher).meta({
      description:
        'local: worker processes on this machine; podman: each worker in its own Podman container; kubernetes: each worker a Job on a cluster.',
    }),
    podman: PodmanSpec.prefault({}),
    kubernetes: KubernetesSpec.prefault({}),
  })
  .superRefine((l, ctx) => {
    if (l.kind !== 'kubernetes') return;
    if (!l.kubernetes.image)
      ctx.addIssue({
        code: 'custom',
        path: ['kubernetes', 'image'],
        message: 'launcher.kind kubernetes needs an image',
      });
    if (!l.kubernetes.volume)
      ctx.addIssue({
        code: 'custom',
        path: ['kubernetes', 'volume'],
        message: 'launcher.kind kubernetes needs a shared volume (`volume: {claim: <ReadWriteMany claim>}`)',
      });
  })
  .meta({ description: 'How worker processes are started, watched and killed.' });
export type LauncherSpec = z.output<typeof LauncherSpec>;
