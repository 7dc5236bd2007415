// `swarm publish <run-dir>`, and the publishing `swarm run`/`swarm resume` do at the end of a run
// whose `publish.enabled` is on (src/publish/publish.ts).
import path from 'node:path';
import type { Output } from '../presenter/console.js';
import { readJsonFile } from '../protocol/files.js';
import { RunPaths } from '../protocol/paths.js';
import { RunJsonSchema } from '../protocol/schemas.js';
import { publishRun } from '../publish/publish.js';
import { EXIT } from '../run/exit-codes.js';

/** Publishes the run in `runDir`, printing each step; returns whether it finished. */
async function publishAndTell(runDir: string, out: Output, err: Output): Promise<'done' | 'not-ready' | 'failed'> {
  const published = await publishRun(runDir, { onProgress: (line) => out.write(`publish: ${line}\n`) });
  if (!published.ok) {
    err.write(`swarm: publish: ${published.error.message}\n`);
    return published.error.kind;
  }
  const { record, verdict } = published.value;
  out.write(
    `published run ${record.run_id} (${verdict})${record.pull ? `: ${record.pull.url}` : ''}${record.comment ? `; issue comment ${record.comment.url}` : ''}\n`,
  );
  return 'done';
}

/**
 * `swarm publish <run-dir>`: pushes the finished run's integration branch, opens or updates its
 * pull request and reports on its issue; again and again without duplicating anything.
 * @returns 0 when published, 2 when the run cannot be published (not finished, no integration
 *   branch, no token, no remote), 4 when a step failed (the message says what to do)
 */
export async function publishCommand(runDir: string, out: Output, err: Output): Promise<number> {
  const outcome = await publishAndTell(path.resolve(runDir), out, err);
  return outcome === 'done' ? EXIT.succeeded : outcome === 'not-ready' ? EXIT.cannotStart : EXIT.publishFailed;
}

/**
 * After a `swarm run` or `swarm resume` session that ended with `sessionExit`: publishes the run if
 * its config (or `--publish`) asks for it and the run finished, succeeded or not (a failed run still
 * reports back on its issue). A publish that fails turns a success into {@link EXIT.publishFailed}.
 */
export async function publishAfterSession(
  runDir: string,
  sessionExit: number,
  out: Output,
  err: Output,
): Promise<number> {
  if (sessionExit !== EXIT.succeeded && sessionExit !== EXIT.failed) return sessionExit;
  // run.json alone: replaying the whole log here cost 1.4 s (and a peak of memory) at the end of an
  // 8,000-task run that publishes nothing.
  if (!readJsonFile(new RunPaths(runDir).runJson, RunJsonSchema)?.config.publish.enabled) return sessionExit;
  const outcome = await publishAndTell(runDir, out, err);
  if (outcome !== 'done') err.write(`swarm: the run's work is kept: \`swarm publish ${runDir}\` publishes it\n`);
  return outcome === 'done' || sessionExit !== EXIT.succeeded ? sessionExit : EXIT.publishFailed;
}
