// Every default of swarm.yaml, in one place. The README's reference and swarm.schema.json are made
// from the schema that uses these.

export const DEFAULTS = {
  /** Where run directories are created, relative to the repository root. */
  runDir: '.swarm/runs',
  /** Number of worker processes, which is the number of attempts run at once. */
  workers: 4,
  /** `eager` (critical-path-first list scheduling) or `waves` (strict level barriers). */
  mode: 'eager',
  /** Extra attempts after a failed one (a `worker-lost` attempt does not count). */
  retries: 0,
  /** First retry waits this long; each further retry waits twice as long as the one before. */
  backoff: '1s',
  /** Longest wait between attempts. */
  backoffMax: '30s',
  /** Time limit of one attempt. */
  timeout: '30m',
  /** Time between SIGTERM and SIGKILL when an attempt's process group is stopped. */
  killGrace: '5s',
  /** How often workers and the coordinator refresh their heartbeat. */
  heartbeat: '1s',
  /** A worker whose heartbeat is older than this is considered dead. */
  staleAfter: '15s',
  /** `worktree`: each attempt runs in its own git worktree and is merged; `none`: in place. */
  isolation: 'worktree',
  /** What a merge conflict does: `retry` the task on the new integration tip, `fail` it, or `resolve` it with an agent. */
  onConflict: 'retry' as 'retry' | 'fail' | 'resolve',
  /** `integration.timeout`: how long one integration check may run. */
  integrationTimeout: '10m',
  /** Relative duration of a task without an `estimate`, for critical-path priority. */
  estimate: 1,
  /** The forge `publish:` opens pull requests on. */
  publishForge: 'github',
  /** Environment variable that holds the forge token (publishing, issues, private clones). */
  publishTokenEnv: 'GITHUB_TOKEN',
  /** The git remote a local run publishes to. */
  publishRemote: 'origin',
  /** The remote branch a run is pushed to; `{run_id}` is replaced by the run's id. */
  publishBranch: 'swarm/{run_id}',
  /** Whether pull requests are opened as drafts. */
  publishDraft: true,
  /** A sandbox's network: `none` (only its own loopback) or `allow` (the host's). */
  sandboxNetwork: 'none',
  /** Where workers run: `local` processes, `podman` containers, or `kubernetes` Jobs. */
  launcher: 'local',
  /** The namespace of worker Jobs when `launcher.kubernetes.namespace` is not set. */
  kubernetesNamespace: 'default',
  /** The command that runs fileswarm's CLI in the worker image (`swarm worker ...` follows). */
  kubernetesCommand: ['swarm'],
  /** Where the shared volume (run directories and the repository) is mounted in a worker's pod. */
  kubernetesMount: '/swarm',
  /** The pod-local directory (an emptyDir) a worker clones the repository into for each attempt. */
  kubernetesScratch: '/scratch',
  /** How long Kubernetes keeps a finished worker Job before deleting it, s. */
  kubernetesJobTtl: 600,
  /** The podman launcher's image: `host` is this machine's root as a throwaway overlay (`--rootfs /:O`). */
  podmanImage: 'host',
  /** A worker container's network: `none` (its own loopback) or `host`. */
  podmanNetwork: 'none',
  /** The OCI runtime of worker containers (crun fails on hosts with a hybrid cgroup layout; runc works). */
  podmanRuntime: 'runc',
  /** `--ulimit`s of worker containers: podman's own defaults may exceed the host's hard limits. */
  podmanUlimits: ['nofile=4096:4096', 'nproc=4096:4096'],
  /** Model of the planner and of agent roles that name none. */
  model: 'claude-sonnet-5-5',
  /** Environment variable that holds the Anthropic API key. */
  apiKeyEnv: 'ANTHROPIC_API_KEY',
  /** Model requests (turns) an agent attempt may make. */
  maxTurns: 50,
  /** `max_tokens` of each agent response. */
  maxOutputTokens: 8192,
  /** Time limit of one `bash` tool call of the built-in agent. */
  bashTimeout: '2m',
  /** Retries of a failed model API request (429, 5xx, overloaded), with backoff. */
  apiRetries: 4,
  /** `max_tokens` of the planner's response. */
  plannerMaxTokens: 16000,
  /** Times the planner may repair a plan that fails validation. */
  maxRepairs: 2,
  /** Repository context given to the planner (file tree, README head, manifest), tokens (≈ chars / 4). */
  plannerContextTokens: 6000,
} as const;

/**
 * Paths no sandboxed process may see (`sandbox.hidden` adds to them): the usual homes of credentials.
 * `~/` is the home directory of the user running fileswarm. A sandbox's home is an empty directory of
 * its own anyway; this list matters when the repository or a `writable` path brings part of the real
 * home back into view (a repository at `~`, say).
 */
export const SANDBOX_HIDDEN = [
  '~/.ssh',
  '~/.aws',
  '~/.azure',
  '~/.config/gcloud',
  '~/.config/gh',
  '~/.docker',
  '~/.gnupg',
  '~/.kube',
  '~/.netrc',
  '~/.npmrc',
  '~/.pypirc',
  '~/.git-credentials',
  '~/.config/git/credentials',
  '~/.claude',
  '~/.claude.json',
  '~/.codex',
  '~/.gemini',
] as const;

/** Budget warnings are given when spend crosses these percentages of a cap. */
export const BUDGET_WARNINGS = [50, 80, 95] as const;

/** Below this much left of a cap, no attempt is dispatched (it could not do useful work). */
export const MIN_ATTEMPT_BUDGET = { usd: 0.01, tokens: 2000 } as const;

/** A task whose merge conflicts is run again on the new tip at most this many times (`merge.on_conflict: retry`). */
export const MAX_CONFLICT_RETRIES = 3;

/** Limits on plans, checked by the one plan validator (DESIGN §4). */
export const PLAN_LIMITS = {
  maxTasks: 20_000,
  maxDepsPerTask: 1_000,
  maxDescriptionChars: 65_536,
  maxCommandChars: 65_536,
} as const;

/** A task whose worker dies is run again this many times at most (without using its `retries`); the next loss fails it. */
export const MAX_LOST_ATTEMPTS = 3;
