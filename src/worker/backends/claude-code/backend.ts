// The `claude-code` backend's implementation: the generic CLI runner with Claude Code's invocation
// and stream parser. What the rest of fileswarm knows of it is ./descriptor.ts.
import { CliBackend } from '../cli/cli-backend.js';
import { claudeCodeInvocation } from './invocation.js';
import { ClaudeCodeStream } from './stream.js';

/** Runs an attempt with Claude Code. */
export const CLAUDE_CODE_BACKEND = new CliBackend({
  name: 'claude-code',
  bin: 'claude',
  invocation: claudeCodeInvocation,
  stream: (opts) => new ClaudeCodeStream(opts),
});
