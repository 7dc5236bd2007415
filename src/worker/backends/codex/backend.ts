// The `codex` backend's implementation: the generic CLI runner with Codex's invocation and stream
// parser, and its session file tailed for usage per request (`exec --json` reports usage only at the
// end). What the rest of fileswarm knows of it is ./descriptor.ts.
import { CliBackend } from '../cli/cli-backend.js';
import { codexInvocation, codexRolloutFiles } from './invocation.js';
import { CodexStream } from './stream.js';

/** Runs an attempt with Codex. */
export const CODEX_BACKEND = new CliBackend<CodexStream>({
  name: 'codex',
  bin: 'codex',
  invocation: codexInvocation,
  stream: (opts) => new CodexStream(opts),
  usageRecords: { files: codexRolloutFiles, push: (stream, line) => stream.pushRollout(line) },
});
