// `swarm resume <run-dir>`: reopens a run (src/run/resume-run.ts), says when it finished already,
// and otherwise runs a coordinator session that continues it.
import type { Output } from '../presenter/console.js';
import { EXIT } from '../run/exit-codes.js';
import { resumeRun } from '../run/resume-run.js';
import { publishAfterSession } from './publish.js';
import { printFailure } from './refuse.js';
import { runSession, type UiOptions } from './session.js';

/** Options of `swarm resume`. */
export interface ResumeOptions extends UiOptions {
  retryFailed?: boolean;
  /** New run caps (raise a spent budget). */
  maxCostUsd?: number;
  maxTokens?: number;
}

/**
 * `swarm resume <run-dir>`: continues a run from its directory alone.
 * @returns the exit code (src/run/exit-codes.ts): 2 when the run cannot be reopened, 0 or 1 for a
 *   run that had finished already, else how the session ended.
 */
export async function resumeCommand(runDir: string, options: ResumeOptions, out: Output, err: Output): Promise<number> {
  const { dashboard, ...args } = options;
  const reopened = await resumeRun({ runDir, ...args });
  if (!reopened.ok) return printFailure(err, reopened.error);
  const outcome = reopened.value;
  if (outcome.kind === 'finished') {
    out.write(
      `run ${outcome.id} already finished: ${outcome.outcome}${outcome.outcome === 'failed' ? ` (use \`swarm resume --retry-failed ${outcome.root}\` to run failed tasks again)` : ''}\n`,
    );
    return outcome.outcome === 'succeeded' ? EXIT.succeeded : EXIT.failed;
  }
  const { run } = outcome;
  out.write(`resuming run ${run.runJson.id}\nrun directory: ${run.paths.root}\n`);
  const ended = await runSession(run, { dashboard }, out, err);
  return publishAfterSession(run.paths.root, ended, out, err);
}
