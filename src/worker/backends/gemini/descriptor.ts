// The `gemini` backend as the config, the planner and the coordinator see it: Google's Gemini CLI,
// run headless (`gemini -p ... -o stream-json`) in the attempt's worktree.
import { cliBackend } from '../cli/descriptor.js';

/** Gemini CLI (`@google/gemini-cli`; tested with 0.61.0). */
export const GEMINI = cliBackend({
  name: 'gemini',
  label: 'Gemini CLI',
  bin: 'gemini',
  npmPackage: '@google/gemini-cli',
  minVersion: [0, 61, 0],
  defaultModel: 'gemini-2.5-pro',
  defaultKeyEnv: 'GEMINI_API_KEY',
  keyHolds: 'the Gemini API key',
  load: async () => (await import('./backend.js')).GEMINI_BACKEND,
});
