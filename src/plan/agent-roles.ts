// The agent roles of a config: the ones a planner may give tasks to. Apart from the planner, so
// that what only needs the list does not load the model SDK.
import type { Config } from '../config/schema.js';
import { isAgentBackend } from '../worker/backends/registry.js';

/** Agent roles of a config (the ones a planner may use), or undefined if there are none. */
export function agentRoles(config: Config): [string, ...string[]] | undefined {
  const names = Object.entries(config.roles)
    .filter(([, r]) => isAgentBackend(r.backend))
    .map(([n]) => n);
  return names.length > 0 ? (names as [string, ...string[]]) : undefined;
}
