// The `codex` backend as the config, the planner and the coordinator see it: OpenAI's Codex CLI,
// run headless (`codex exec --json`) in the attempt's worktree, in its own workspace-write sandbox.
import { cliBackend } from '../cli/descriptor.js';

/** Codex (`@openai/codex`; tested with 0.169.0). */
export const CODEX = cliBackend({
  name: 'codex',
  label: 'Codex',
  bin: 'codex',
  npmPackage: '@openai/codex',
  minVersion: [0, 169, 0],
  defaultModel: 'gpt-5.5',
  defaultKeyEnv: 'OPENAI_API_KEY',
  keyHolds: 'the OpenAI API key',
  load: async () => (await import('./backend.js')).CODEX_BACKEND,
});
