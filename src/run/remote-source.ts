// What `swarm run --repo URL`, `--issue REF` and `--publish` settle before createRun: the goal from
// the issue, the repository cloned (or fetched) into the cache, and the forge token checked for the
// rights publishing needs. Nothing is written in a run directory until all of it has passed.
import { loadConfig } from '../config/load.js';
import { parseIssueRef, repoRefOfUrl, type Forge, type Issue, type RepoRef } from '../forge/forge.js';
import { openForge } from '../forge/open.js';
import { gitTrySync } from '../git/git.js';
import type { RunSource } from '../protocol/schemas.js';
import { cachedClone, defaultCacheDir } from '../remote/clone-cache.js';
import { withoutCredentials } from '../remote/git-auth.js';
import { err, ok, type Result } from '../util/result.js';
import { refused, rejected, type RunFailure } from './run.js';

/** The options of `swarm run` this step reads. */
export interface SourceInput {
  configFile: string;
  /** `--repo`: a git URL (https, ssh, file://, or a path) to work on instead of the current directory. */
  repoUrl?: string;
  /** `--issue`: `owner/repo#N` or the issue's URL; the goal is its title and body. */
  issue?: string;
  /** `--issue-comments`: add the issue's comments to the goal. */
  issueComments?: boolean;
  /** `--base`: the branch to start from (default: the remote's default branch). */
  base?: string;
  /** `--publish`. */
  publish?: boolean;
  /** `--cache-dir` (default {@link defaultCacheDir}). */
  cacheDir?: string;
  /** Where a run without `--repo` works (default: the current directory). */
  cwd?: string;
  env?: NodeJS.ProcessEnv;
}

/** What createRun then takes: where to run, from which commit, what the run came from, its goal. */
export interface PreparedSource {
  /** The cached clone to run in (`--repo`, `--issue`); undefined: the current directory. */
  cwd?: string;
  /** The base commit (fetched), for createRun's `base`. */
  base?: string;
  source?: RunSource;
  /** From the issue: its title, body (and comments). */
  goal?: string;
}

/** The goal an issue gives: its title, its body and, when asked, its comments. */
export function issueGoal(issue: Issue): string {
  const parts = [issue.title.trim()];
  if (issue.body.trim()) parts.push(issue.body.trim());
  for (const c of issue.comments) parts.push(`Comment:\n${c.trim()}`);
  return `${parts.join('\n\n')}\n\n(from ${issue.url})`;
}

/** The repository a local run publishes to: its `remote`'s URL. */
function localRemote(cwd: string, remote: string): Result<string, string> {
  const r = gitTrySync(cwd, ['remote', 'get-url', remote]);
  if (r.exitCode !== 0)
    return err(`publishing pushes to the git remote "${remote}", which ${cwd} does not have (set publish.remote)`);
  return ok(r.stdout.trim());
}

/** Checks that the token may push to `repo` (and so open pull requests from its branches). */
async function checkPush(forge: Forge, repo: RepoRef): Promise<Result<void, string>> {
  const info = await forge.repo(repo);
  if (!info.ok) return err(`cannot publish: ${info.error.message}`);
  if (!info.value.canPush)
    return err(
      `cannot publish: the token may not push to ${repo.owner}/${repo.name}, so it cannot open a pull request there (it needs write access)`,
    );
  return ok(undefined);
}

/**
 * Settles the source of a run before anything is written: reads the issue, checks the publishing
 * token's rights, clones or fetches the repository. A run with none of `--repo`, `--issue`,
 * `--publish` (and `publish.enabled` off) needs nothing and reads nothing.
 * @returns what createRun takes, or a failure: the config's issues, or a refusal (`remote`,
 *   `publish`) whose message says what failed and what to do (exit 2)
 */
export async function prepareSource(
  input: SourceInput,
  onProgress: (line: string) => void = () => {},
): Promise<Result<PreparedSource, RunFailure>> {
  const loaded = loadConfig(input.configFile);
  if (!loaded.ok) return err(rejected(loaded.error));
  const settings = loaded.value.config.publish;
  const publishing = input.publish === true || settings.enabled;
  if (input.repoUrl === undefined && input.issue === undefined && !publishing) return ok({});

  let forge: Forge | undefined;
  let token: string | undefined;
  if (input.issue !== undefined || publishing) {
    const opened = await openForge(settings, input.env ?? process.env, (s) =>
      onProgress(`the ${settings.forge} API's rate limit is spent: waiting ${s} s for it to reset`),
    );
    if (!opened.ok) return err(refused(publishing ? 'publish' : 'remote', opened.error));
    ({ forge, token } = opened.value);
  }

  let repoUrl = input.repoUrl;
  let issue: Issue | undefined;
  if (input.issue !== undefined) {
    const ref = parseIssueRef(input.issue);
    if (!ref) return err(refused('remote', `--issue ${input.issue}: expected owner/repo#N or an issue's URL`));
    const got = await forge!.issue(ref, input.issueComments === true);
    if (!got.ok) return err(refused('remote', got.error.message));
    issue = got.value;
    if (repoUrl === undefined) {
      const info = await forge!.repo(ref);
      if (!info.ok) return err(refused('remote', info.error.message));
      repoUrl = info.value.cloneUrl;
    }
    onProgress(`issue ${ref.owner}/${ref.name}#${ref.number}: ${issue.title}`);
  }

  if (publishing) {
    let target: RepoRef | undefined;
    if (issue) target = issue.ref;
    else {
      const url = repoUrl ?? localRemote(input.cwd ?? process.cwd(), settings.remote);
      if (typeof url !== 'string' && !url.ok) return err(refused('publish', url.error));
      const text = typeof url === 'string' ? url : url.value;
      target = repoRefOfUrl(text);
      if (!target)
        return err(refused('publish', `cannot tell the repository (owner/name) from ${withoutCredentials(text)}`));
    }
    const can = await checkPush(forge!, target);
    if (!can.ok) return err(refused('publish', can.error));
  }

  if (repoUrl === undefined) return ok({ ...(issue ? { goal: issueGoal(issue) } : {}) });
  // A private repository over HTTPS needs the token to be read, publishing or not.
  token ??= (input.env ?? process.env)[settings.token_env] || undefined;
  onProgress(`fetching ${withoutCredentials(repoUrl)}`);
  const clone = await cachedClone(repoUrl, {
    cacheDir: input.cacheDir ?? defaultCacheDir(input.env ?? process.env),
    ...(input.base !== undefined ? { base: input.base } : {}),
    ...(token !== undefined ? { token } : {}),
  });
  if (!clone.ok) return err(refused('remote', clone.error));
  const { dir, baseBranch, baseCommit } = clone.value;
  onProgress(
    `${clone.value.cloned ? 'cloned' : 'fetched'} into ${dir}; starting from ${baseBranch} at ${baseCommit.slice(0, 12)}`,
  );
  return ok({
    cwd: dir,
    base: baseCommit,
    goal: issue ? issueGoal(issue) : undefined,
    source: {
      repo_url: withoutCredentials(repoUrl),
      base_branch: baseBranch,
      clone: dir,
      issue: issue
        ? { owner: issue.ref.owner, name: issue.ref.name, number: issue.ref.number, url: issue.url, title: issue.title }
        : null,
    },
  });
}
