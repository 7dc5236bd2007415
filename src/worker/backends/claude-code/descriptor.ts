// The `claude-code` backend as the config, the planner and the coordinator see it: Anthropic's
// Claude Code CLI, run headless (`claude -p ... --output-format stream-json`) in the attempt's worktree.
import { DEFAULTS } from '../../../config/defaults.js';
import { cliBackend } from '../cli/descriptor.js';

/** Claude Code (`@anthropic-ai/claude-code`; tested with 2.1.330). */
export const CLAUDE_CODE = cliBackend({
  name: 'claude-code',
  label: 'Claude Code',
  bin: 'claude',
  npmPackage: '@anthropic-ai/claude-code',
  minVersion: [2, 1, 330],
  defaultModel: DEFAULTS.model,
  defaultKeyEnv: DEFAULTS.apiKeyEnv,
  keyHolds: 'the Anthropic API key',
  load: async () => (await import('./backend.js')).CLAUDE_CODE_BACKEND,
});
