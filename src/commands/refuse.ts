// How the run commands report a run or plan they could not make: one `swarm: ` line per issue or
// message on stderr, and the exit code that goes with it.
import { formatIssue } from '../config/source.js';
import type { Output } from '../presenter/console.js';
import { EXIT, type ExitCode } from '../run/exit-codes.js';
import type { RunFailure } from '../run/run.js';

/**
 * Prints a failure to `err`: each input issue as `swarm: file:line:col: field: message`, each
 * refusal message as `swarm: message`.
 * @returns the exit code: 2 for input issues, the refusal's own otherwise.
 */
export function printFailure(err: Output, failure: RunFailure): ExitCode {
  const lines = failure.kind === 'input' ? failure.issues.map(formatIssue) : failure.messages;
  for (const l of lines) err.write(`swarm: ${l}\n`);
  return failure.kind === 'input' ? EXIT.cannotStart : failure.exit;
}
