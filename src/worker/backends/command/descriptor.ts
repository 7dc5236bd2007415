// The `command` backend as the config, the plan validator and the coordinator see it: a task's
// `run:` in a shell; no role keys of its own, no environment it needs.
import { commandBackend } from '../descriptor.js';

/** Runs a task's `run:` with /bin/sh -c (./backend.ts). */
export const COMMAND = commandBackend({
  name: 'command',
  agent: false,
  roleKeys: () => ({}),
  requiredEnv: () => [],
  load: async () => new (await import('./backend.js')).CommandBackend(),
});
