// The zod schema of swarm.yaml and of plan files. Defaults come from ./defaults.ts.
import { z } from 'zod';
import { TASK_ID_PATTERN, TASK_ID_RULE, taskIdProblem } from '../protocol/task-id.js';
import { BACKEND_NAMES, backendRoleKeys, type BackendRoleKeys } from '../worker/backends/registry.js';
import { DEFAULTS, PLAN_LIMITS } from './defaults.js';
import { Duration, type DurationType } from './duration.js';
import { Env as CheckedEnv, EnvRecord } from './env.js';
import { PriceSpec } from './price.js';

export { TASK_ID_PATTERN };

export const TaskId = z
  .string()
  .regex(TASK_ID_PATTERN, { error: (issue) => taskIdProblem(String(issue.input)) })
  .meta({ description: `Task id: ${TASK_ID_RULE}.` });

export const RoleName = z.string().regex(/^[a-z][a-z0-9_-]{0,63}$/, {
  message: 'a role name is 1-64 characters of a-z, 0-9, "_" and "-", starting with a letter',
});

/** Backends that run attempts: the registry's names (src/worker/backends/registry.ts). */
export const BackendName = z.enum(BACKEND_NAMES);
export type BackendName = z.infer<typeof BackendName>;

/** Where an attempt's processes run (src/worker/sandbox/). */
export const SandboxMode = z.enum(['workspace', 'none']).meta({
  description:
    'workspace: every process of the attempt runs in a bubblewrap sandbox where only its worktree, a private /tmp and a private home are writable; none: with your rights.',
});
export const SandboxNetwork = z.enum(['none', 'allow']).meta({
  description: "none: the sandbox has no network (only its own loopback); allow: the host's network.",
});

/** The keys of `sandbox:` at the run level and in a role (each its own defaults: see configSchemas). */
const sandboxKeys = {
  network: SandboxNetwork,
  allow_hosts: z.array(z.string().min(1)).meta({
    description:
      'With network: none, hosts the sandbox may still reach over HTTP and HTTPS (host, host:port, *.domain), through a filtering proxy fileswarm runs outside the sandbox (for programs that honour HTTP(S)_PROXY).',
  }),
  writable: z.array(z.string().min(1)).meta({
    description:
      'More paths the sandbox may write (absolute, `~/...`, or relative to the repository); each must exist when the run starts.',
  }),
  hidden: z.array(z.string().min(1)).meta({
    description: 'More paths the sandbox may not see, added to the default list of credential files (`~/.ssh`, ...).',
  }),
};

/** A role's `sandbox:`: each key unset takes the run's. */
export const RoleSandboxSpec = z
  .strictObject({
    mode: SandboxMode.optional(),
    network: sandboxKeys.network.optional(),
    allow_hosts: sandboxKeys.allow_hosts.optional(),
    writable: sandboxKeys.writable.optional(),
    hidden: sandboxKeys.hidden.optional(),
  })
  .meta({ description: "This role's sandbox; unset keys take the run's `sandbox:` (lists are added to it)." });

/** The run's `sandbox:`: the default of every task. */
export const RunSandboxSpec = z
  .strictObject({
    mode: SandboxMode.optional().meta({
      description:
        "Every task's mode unless its role sets one. Unset: workspace for agent tasks, none for command tasks (which you wrote); `workspace` here sandboxes command tasks too.",
    }),
    network: sandboxKeys.network.default(DEFAULTS.sandboxNetwork),
    allow_hosts: sandboxKeys.allow_hosts.default([]),
    writable: sandboxKeys.writable.default([]),
    hidden: sandboxKeys.hidden.default([]),
  })
  .meta({ description: 'How attempts are confined (bubblewrap): the default of every role.' });

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

/**
 * Keys of a role beyond `backend`, `timeout`, `retries` and `env`: every backend's own, in the
 * registry's order. load.ts refuses a key the role's backend does not take.
 */
export const BACKEND_ROLE_KEYS = Object.keys(backendRoleKeys(Duration)) as (keyof BackendRoleKeys)[];

/**
 * The schemas of the config, built around one duration type: `Duration` for swarm.yaml as the user
 * writes it (a number is seconds), `Millis` for the snapshot in run.json (a number is already ms).
 * `Env` is `env:`'s schema: checked (`Env`) for swarm.yaml, plain for run.json, so a run snapshotted
 * before the check still loads. Everything else (keys, limits, defaults) is the same, so the two
 * cannot drift apart.
 */
export function configSchemas(Duration: DurationType, Env: typeof EnvRecord = EnvRecord) {
  /** One task of a plan, as written by a user (DESIGN §4). */
  const TaskSpec = z
    .strictObject({
      id: TaskId,
      title: z.string().max(200).optional().meta({ description: 'One line for humans; defaults to the id.' }),
      description: z
        .string()
        .max(PLAN_LIMITS.maxDescriptionChars)
        .optional()
        .meta({ description: 'The instructions.' }),
      deps: z
        .array(TaskId)
        .max(PLAN_LIMITS.maxDepsPerTask)
        .default([])
        .meta({ description: 'Ids of tasks that must succeed first.' }),
      role: RoleName.optional().meta({
        description: 'A key of `roles:`. A task with `run:` and no role is a command task.',
      }),
      run: z
        .string()
        .min(1)
        .max(PLAN_LIMITS.maxCommandChars)
        .optional()
        .meta({ description: 'Shell command of a command task (run with /bin/sh -c).' }),
      cwd: z.string().optional().meta({ description: 'Working directory, relative to the repository root.' }),
      env: Env.optional(),
      files: z.array(z.string()).optional().meta({ description: 'Paths the task expects to touch.' }),
      verify: z
        .string()
        .optional()
        .meta({ description: 'Shell command that must pass after the task (used with git isolation).' }),
      estimate: z
        .number()
        .positive()
        .optional()
        .meta({ description: `Relative duration for critical-path priority (default ${DEFAULTS.estimate}).` }),
      timeout: Duration.optional(),
      retries: z
        .number()
        .int()
        .min(0)
        .max(20)
        .optional()
        .meta({ description: 'Extra attempts after a failure; overrides the role and scheduling defaults.' }),
    })
    .meta({ description: 'A task of the DAG.' });

  /** A role: which backend runs a task, and its limits. Backend keys are checked against the backend in load.ts. */
  const RoleSpec = z.strictObject({
    backend: BackendName,
    timeout: Duration.optional(),
    retries: z.number().int().min(0).max(20).optional(),
    env: Env.optional(),
    sandbox: RoleSandboxSpec.optional(),
    ...backendRoleKeys(Duration),
  });

  /** The planner: an LLM call that turns the goal into a plan (when the config has no tasks). */
  const PlannerSpec = z.strictObject({
    model: z.string().min(1).default(DEFAULTS.model),
    max_tokens: z
      .number()
      .int()
      .min(256)
      .max(1_000_000)
      .default(DEFAULTS.plannerMaxTokens)
      .meta({ description: "max_tokens of the planner's response." }),
    instructions: z
      .string()
      .optional()
      .meta({ description: 'Added to the planner prompt (conventions, how to split work).' }),
    max_repairs: z
      .number()
      .int()
      .min(0)
      .max(10)
      .default(DEFAULTS.maxRepairs)
      .meta({ description: 'Times an invalid plan is sent back with its errors before the run stops.' }),
    context_tokens: z
      .number()
      .int()
      .min(0)
      .max(200_000)
      .default(DEFAULTS.plannerContextTokens)
      .meta({ description: 'Repository context (file tree, README head, manifest) given to the planner, tokens.' }),
    api_key_env: z
      .string()
      .regex(/^[A-Za-z_][A-Za-z0-9_]*$/)
      .default(DEFAULTS.apiKeyEnv),
    base_url: z.url().optional(),
    price: PriceSpec.optional(),
  });

  /** The whole swarm.yaml. */
  const ConfigSchema = z
    .strictObject({
      version: z.literal(1).meta({ description: 'Config format version: 1.' }),
      goal: z.string().optional().meta({ description: 'Default goal, when the command line gives none.' }),
      run: z
        .strictObject({
          dir: z
            .string()
            .default(DEFAULTS.runDir)
            .meta({ description: 'Where run directories are made, relative to the repository.' }),
          repo: z.string().optional().meta({
            description:
              'Target repository (relative to this file); default: the git repository containing the current directory, else the current directory.',
          }),
        })
        .prefault({}),
      workers: z.number().int().min(1).max(1024).default(DEFAULTS.workers).meta({
        description:
          'Worker processes: attempts run at once (at most 1,024; a local worker is a Node process of about 60 MB, so a machine runs far fewer: more is for a cluster). No more are started than the run has unfinished tasks.',
      }),
      scheduling: z
        .strictObject({
          mode: z.enum(['eager', 'waves']).default(DEFAULTS.mode),
          retries: z.number().int().min(0).max(20).default(DEFAULTS.retries),
          backoff: Duration.prefault(DEFAULTS.backoff),
          backoff_max: Duration.prefault(DEFAULTS.backoffMax),
          timeout: Duration.prefault(DEFAULTS.timeout),
          kill_grace: Duration.prefault(DEFAULTS.killGrace),
        })
        .prefault({}),
      liveness: z
        .strictObject({
          heartbeat: Duration.prefault(DEFAULTS.heartbeat),
          stale_after: Duration.prefault(DEFAULTS.staleAfter),
        })
        .prefault({}),
      git: z
        .strictObject({
          isolation: z.enum(['worktree', 'none']).default(DEFAULTS.isolation).meta({
            description:
              'worktree: every attempt runs in its own git worktree at the integration tip and its commit is merged into the integration branch swarm/<run-id>; none: tasks run in place in the repository.',
          }),
          required: z
            .boolean()
            .default(false)
            .meta({ description: 'Refuse to run when the target is not a git repository.' }),
          base: z.string().optional().meta({ description: 'Commit-ish the run starts from (default: HEAD).' }),
          include_uncommitted: z.boolean().default(false).meta({
            description:
              'Start from a snapshot of your uncommitted changes (git stash create; your tree is not touched).',
          }),
        })
        .prefault({}),
      merge: z
        .strictObject({
          on_conflict: z.enum(['retry', 'fail', 'resolve']).default(DEFAULTS.onConflict).meta({
            description:
              'retry: run the task again on the new integration tip, with the conflicting files and its previous diff; fail: fail the task; resolve: an agent (the `resolver` role) finishes the conflicting merge on the new tip, and if it fails the task is run again as with retry.',
          }),
          resolver: RoleName.optional().meta({
            description:
              'The agent role that resolves conflicts with on_conflict: resolve (without one, resolve acts as retry).',
          }),
        })
        .prefault({}),
      integration: z
        .strictObject({
          verify: z.string().min(1).optional().meta({
            description:
              'A command run on the integration branch after merges (in a worktree of its own, with the sandbox of command tasks): merged tasks succeed only once it passes on a tip that includes them; a failure is bisected to the merge that broke it, which is taken off the branch and its task run again.',
          }),
          timeout: Duration.prefault(DEFAULTS.integrationTimeout).meta({
            description: `How long one integration check may run before it counts as failed (default ${DEFAULTS.integrationTimeout}).`,
          }),
        })
        .prefault({}),
      sandbox: RunSandboxSpec.prefault({}),
      launcher: LauncherSpec.prefault({}),
      roles: z.record(RoleName, RoleSpec).default({}),
      planner: PlannerSpec.prefault({}),
      budget: z
        .strictObject({
          max_cost_usd: z
            .number()
            .positive()
            .optional()
            .meta({ description: 'Run cap, USD: no attempt is dispatched that could cross it.' }),
          max_tokens: z
            .number()
            .int()
            .positive()
            .optional()
            .meta({ description: 'Run cap, tokens (input + output + cache).' }),
        })
        .prefault({}),
      publish: z
        .strictObject({
          enabled: z.boolean().default(false).meta({
            description:
              'At the end of the run, push the integration branch and open (or update) a pull request; `swarm run --publish` turns it on for one run.',
          }),
          forge: z
            .enum(['github'])
            .default(DEFAULTS.publishForge)
            .meta({ description: 'Where pull requests are opened.' }),
          api_url: z.url().optional().meta({
            description: 'The forge API (default https://api.github.com; GitHub Enterprise: https://HOST/api/v3).',
          }),
          token_env: z
            .string()
            .regex(/^[A-Za-z_][A-Za-z0-9_]*$/)
            .default(DEFAULTS.publishTokenEnv)
            .meta({ description: 'The environment variable holding the token (never written anywhere).' }),
          remote: z.string().min(1).default(DEFAULTS.publishRemote).meta({
            description: 'The git remote to push to, in a local repository (a --repo run pushes to its URL).',
          }),
          branch: z
            .string()
            .regex(/^[A-Za-z0-9._/{}-]+$/)
            .default(DEFAULTS.publishBranch)
            .meta({ description: 'The remote branch; `{run_id}` is replaced by the run id.' }),
          draft: z.boolean().default(DEFAULTS.publishDraft).meta({ description: 'Open the pull request as a draft.' }),
          labels: z.array(z.string().min(1)).default([]).meta({ description: 'Labels added to the pull request.' }),
          reviewers: z
            .array(z.string().min(1))
            .default([])
            .meta({ description: 'Users asked to review the pull request.' }),
        })
        .prefault({}),
      tasks: z.array(TaskSpec).optional().meta({ description: 'The plan, when written by hand.' }),
    })
    .meta({ title: 'swarm.yaml', description: 'fileswarm configuration.' });
  return { TaskSpec, RoleSpec, PlannerSpec, ConfigSchema };
}

const USER_SCHEMAS = configSchemas(Duration, CheckedEnv);
/** One task of a plan, as written by a user (DESIGN §4). */
export const TaskSpec = USER_SCHEMAS.TaskSpec;
export type TaskSpec = z.output<typeof TaskSpec>;
/** A role: which backend runs a task, and its limits. Backend keys are checked against the backend in load.ts. */
export const RoleSpec = USER_SCHEMAS.RoleSpec;
export type RoleSpec = z.output<typeof RoleSpec>;
/** The planner: an LLM call that turns the goal into a plan (when the config has no tasks). */
export const PlannerSpec = USER_SCHEMAS.PlannerSpec;
export type PlannerSpec = z.output<typeof PlannerSpec>;
/** The whole swarm.yaml. */
export const ConfigSchema = USER_SCHEMAS.ConfigSchema;

/** swarm.yaml after parsing: defaults filled in, durations in milliseconds. */
export type Config = z.output<typeof ConfigSchema>;

/** A plan file (`--plan`): `{tasks: [...]}` or a bare list of tasks. */
export const PlanFileSchema = z.union([
  z.strictObject({ version: z.literal(1).optional(), goal: z.string().optional(), tasks: z.array(TaskSpec) }),
  z.array(TaskSpec),
]);
