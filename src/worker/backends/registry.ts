// The backends that run attempts, named in one place: which exist and which of them are agents.
// It imports nothing, so the config, the plan validator, the planner and the coordinator can ask it
// without loading a backend; the worker's implementations are in ./implementations.ts.

/** Every backend's name, as `backend:` of a role and `task.backend` in plan.json/assignment.json. */
export const BACKEND_NAMES = ['command', 'anthropic'] as const;

/** A backend's name. */
export type BackendName = (typeof BACKEND_NAMES)[number];

/** What the rest of fileswarm needs to know of a backend without running it. */
export interface BackendDescriptor {
  name: BackendName;
  /**
   * An agent backend gets budget caps (assignment.json `agent`), reports usage, runs tasks that
   * have a `description` rather than `run:`, may be given tasks by the planner, and needs its
   * model's API key in the environment before a run starts.
   */
  agent: boolean;
  /** One line for help texts and docs. */
  summary: string;
}

const REGISTRY: Readonly<Record<BackendName, BackendDescriptor>> = {
  command: { name: 'command', agent: false, summary: 'a shell command (`run:`), in its own process group' },
  anthropic: { name: 'anthropic', agent: true, summary: 'the built-in agent on the Anthropic Messages API' },
};

/** The descriptor of a backend. */
export function backendInfo(name: BackendName): BackendDescriptor {
  return REGISTRY[name];
}

/** True for agent backends (see {@link BackendDescriptor.agent}). */
export function isAgentBackend(name: BackendName): boolean {
  return REGISTRY[name].agent;
}
