// The zod schema of swarm.yaml and of plan files. Defaults come from ./defaults.ts.
import { z } from 'zod';
import { TASK_ID_PATTERN, TASK_ID_RULE, taskIdProblem } from '../protocol/task-id.js';
import { BACKEND_NAMES, backendRoleKeys, type BackendRoleKeys } from '../worker/backends/registry.js';
import { DEFAULTS, PLAN_LIMITS } from './defaults.js';
import { Duration, type DurationType } from './duration.js';
import { Env as CheckedEnv, EnvRecord } from './env.js';
import { LauncherSpec } from './launcher.js';
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
          'Worker processes: attempts run at once (at most 1,024; a local worker is a Node process of about 60 MB, so a machine runs far fewer: more is for a cluster). No more are started than the run has unfinished tasks, nor than the DAG lets run at once (one for a chain of tasks, two for two parallel chains).',
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
