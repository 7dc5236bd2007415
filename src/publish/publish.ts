// Publishing a finished run: push its integration branch to the remote, open (or update) the pull
// request, and report back on the issue it came from. Every step can be repeated: a push of the same
// commit is a no-op, the open pull request for the branch is updated rather than duplicated, and the
// comment made before is edited. publish.json records each step as it is done, so a publish that
// failed half-way (a rejected push, the network) is finished by running it again.
import fs from 'node:fs';
import { openForge } from '../forge/open.js';
import { repoRefOfUrl, type RepoRef } from '../forge/forge.js';
import { gitTry, gitTrySync } from '../git/git.js';
import { statusReport } from '../presenter/status-report.js';
import { known, readAttemptResult } from '../protocol/attempt-files.js';
import { readJsonFile, writeJsonAtomicSync } from '../protocol/files.js';
import { loadRun } from '../protocol/run-reader.js';
import { PROTOCOL_VERSION, PublishJsonSchema, type PublishJson } from '../protocol/schemas.js';
import { gitAuthEnv, withoutCredentials } from '../remote/git-auth.js';
import { err, ok, type Result } from '../util/result.js';
import { checksOf, issueComment, pullBody, pullTitle, verdictOf, type RunVerdict } from './report-text.js';

/** What a publish did. */
export interface Published {
  record: PublishJson;
  /** `pushed` (the remote branch moved to the tip), `up-to-date` (it was there), `nothing` (nothing merged). */
  push: 'pushed' | 'up-to-date' | 'nothing';
  /** Whether the pull request was opened now (false: updated, or none). */
  pullCreated: boolean;
  verdict: RunVerdict;
}

/**
 * Why a publish did not finish: `not-ready` when nothing was tried (the run has not finished, has
 * no integration branch, no token, no remote to push to), `failed` when a step failed (the push,
 * the pull request, the comment): what was done before is in publish.json.
 */
export interface PublishFailure {
  kind: 'not-ready' | 'failed';
  message: string;
}

const notReady = (message: string) => err<PublishFailure>({ kind: 'not-ready', message });
const failed = (message: string) => err<PublishFailure>({ kind: 'failed', message });

/** Options of {@link publishRun}. */
export interface PublishOptions {
  env?: NodeJS.ProcessEnv;
  /** One line per step, for the user. */
  onProgress?: (line: string) => void;
}

/** The remote branch name of a run: `publish.branch` with `{run_id}` replaced. */
export function publishBranch(pattern: string, runId: string): string {
  return pattern.replaceAll('{run_id}', runId);
}

/**
 * Publishes the finished run in `runDir` (see the file comment).
 * @returns what was done, or a {@link PublishFailure} whose message says what failed and what to
 *   do; what was done before the failure is in publish.json, and running it again goes on from there
 */
export async function publishRun(
  runDir: string,
  options: PublishOptions = {},
): Promise<Result<Published, PublishFailure>> {
  const progress = options.onProgress ?? (() => {});
  const snap = loadRun(runDir);
  const { run: runJson, paths } = snap;
  const report = statusReport(snap);
  if (report.phase !== 'finished')
    return notReady(
      `run ${runJson.id} has not finished (${report.phase}): resume it (\`${report.resume_command ?? 'swarm resume'}\`) first`,
    );
  if (!runJson.integration_branch || !runJson.base_commit)
    return notReady(
      `run ${runJson.id} has no integration branch (it ran without git isolation): there is nothing to push`,
    );
  const settings = runJson.config.publish;
  const source = runJson.source;
  const opened = await openForge(settings, options.env ?? process.env, (s) =>
    progress(`the ${settings.forge} API's rate limit is spent: waiting ${s} s for it to reset`),
  );
  if (!opened.ok) return notReady(opened.error);
  const { forge, token } = opened.value;

  let remoteUrl: string;
  if (source) remoteUrl = source.repo_url;
  else {
    const r = gitTrySync(runJson.repo, ['remote', 'get-url', settings.remote]);
    if (r.exitCode !== 0)
      return notReady(`${runJson.repo} has no git remote "${settings.remote}" to push to (set publish.remote)`);
    remoteUrl = r.stdout.trim();
  }
  const repoRef: RepoRef | undefined = source?.issue ?? repoRefOfUrl(remoteUrl);
  if (!repoRef) return notReady(`cannot tell the repository (owner/name) from ${withoutCredentials(remoteUrl)}`);
  const previous = fs.existsSync(paths.publishJson) ? readJsonFile(paths.publishJson, PublishJsonSchema) : undefined;
  const branch = publishBranch(settings.branch, runJson.id);
  const tip = gitTrySync(runJson.repo, [
    'rev-parse',
    '--verify',
    '--quiet',
    `refs/heads/${runJson.integration_branch}^{commit}`,
  ]);
  if (tip.exitCode !== 0)
    return notReady(`the integration branch ${runJson.integration_branch} is gone from ${runJson.repo}`);
  const commit = tip.stdout.trim();
  const record: PublishJson = {
    protocol: PROTOCOL_VERSION,
    run_id: runJson.id,
    remote_url: withoutCredentials(remoteUrl),
    branch,
    commit,
    pull: previous?.pull ?? null,
    comment: previous?.comment ?? null,
    published_at: new Date().toISOString(),
  };
  const save = (): void => writeJsonAtomicSync(paths.publishJson, record);

  // 1. The branch.
  let push: Published['push'] = 'nothing';
  if (commit !== runJson.base_commit) {
    progress(`pushing ${runJson.integration_branch} to ${record.remote_url} as ${branch}`);
    const pushed = await gitTry(runJson.repo, ['push', '--', remoteUrl, `${commit}:refs/heads/${branch}`], {
      env: gitAuthEnv(remoteUrl, token),
    });
    if (pushed.exitCode !== 0) {
      const moved = /\[rejected\]|non-fast-forward|fetch first/.test(pushed.stderr);
      // git's own lines, without its hints about `git pull`.
      const why = pushed.stderr
        .split('\n')
        .filter((l) => l.trim() !== '' && !l.startsWith('hint:'))
        .slice(-2)
        .join(' ');
      return failed(
        moved
          ? `the push to ${branch} was rejected: the remote branch has commits this run does not (${why}); look at it, then delete it or set publish.branch, and run \`swarm publish ${runDir}\` again`
          : `cannot push to ${record.remote_url}: ${why}; the work is on ${runJson.integration_branch} in ${runJson.repo}: run \`swarm publish ${runDir}\` again once the remote can be reached`,
      );
    }
    push = /Everything up-to-date/.test(pushed.stderr) ? 'up-to-date' : 'pushed';
    if (push === 'up-to-date') progress(`${branch} was up to date`);
    save();
  } else progress('nothing was merged: no branch to push');

  // 2. The pull request.
  let pullCreated = false;
  if (push !== 'nothing') {
    let base = source?.base_branch;
    if (!base) {
      const info = await forge.repo(repoRef);
      if (!info.ok) return failed(`${info.error.message}; run \`swarm publish ${runDir}\` again`);
      base = info.value.defaultBranch;
    }
    const pull = await forge.upsertPullRequest(repoRef, {
      head: branch,
      base,
      title: pullTitle(report, source),
      body: pullBody(
        report,
        source,
        checksOf(
          (snap.plan?.tasks ?? []).map((t) => ({ ...t, attempts: snap.state.tasks[t.id]?.attempts ?? 0 })),
          (task, n) => known(readAttemptResult(paths, task, n)),
        ),
      ),
      draft: settings.draft,
      labels: settings.labels,
      reviewers: settings.reviewers,
    });
    if (!pull.ok)
      return failed(`${pull.error.message}; the branch ${branch} is pushed: run \`swarm publish ${runDir}\` again`);
    pullCreated = pull.value.created;
    record.pull = { number: pull.value.number, url: pull.value.url, draft: pull.value.draft };
    save();
    progress(`${pullCreated ? 'opened' : 'updated'} pull request #${pull.value.number}: ${pull.value.url}`);
  }

  // 3. The issue.
  if (source?.issue) {
    const comment = await forge.upsertComment(
      source.issue,
      issueComment(report, record.pull),
      record.comment?.id ?? null,
    );
    if (!comment.ok) return failed(`${comment.error.message}; run \`swarm publish ${runDir}\` again`);
    record.comment = comment.value;
    save();
    progress(`commented on ${source.issue.owner}/${source.issue.name}#${source.issue.number}: ${comment.value.url}`);
  }
  if (push === 'nothing' && !source?.issue) save();
  return ok({ record, push, pullCreated, verdict: verdictOf(report) });
}
