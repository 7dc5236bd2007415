// GitHub (and GitHub Enterprise, by its API URL) through its REST API with Octokit
// (@octokit/rest 22), which waits out rate limits with @octokit/plugin-throttling 11: on a 403 or
// 429 with `x-ratelimit-remaining: 0` it waits until `x-ratelimit-reset` plus a second, then
// retries. Endpoints used (REST API version 2022-11-28): GET /repos/{o}/{r}, GET
// /repos/{o}/{r}/issues/{n} and its comments, GET/POST /repos/{o}/{r}/pulls, PATCH
// /repos/{o}/{r}/pulls/{n}, POST /repos/{o}/{r}/issues/{n}/labels, POST
// /repos/{o}/{r}/pulls/{n}/requested_reviewers, POST /repos/{o}/{r}/issues/{n}/comments, PATCH
// /repos/{o}/{r}/issues/comments/{id}.
import { Octokit } from '@octokit/rest';
import { throttling } from '@octokit/plugin-throttling';
import { err, ok, type Result } from '../util/result.js';
import type {
  Forge,
  ForgeError,
  Issue,
  IssueComment,
  IssueRef,
  PullRequest,
  PullRequestSpec,
  RepoInfo,
  RepoRef,
} from './forge.js';

/** GitHub's API when the config names none. */
export const GITHUB_API = 'https://api.github.com';

/** The longest wait for a rate limit's reset before giving up, s. */
const MAX_RATE_LIMIT_WAIT_S = 15 * 60;
/** Retries after a rate limit, per request. */
const MAX_RATE_LIMIT_RETRIES = 3;

const ThrottledOctokit = Octokit.plugin(throttling);

/** An error Octokit raised, read loosely (a RequestError has `status` and `response`). */
function forgeError(e: unknown, what: string): ForgeError {
  const status = (e as { status?: number }).status;
  const headers = (e as { response?: { headers?: Record<string, string> } }).response?.headers ?? {};
  const message = (e as Error).message ?? String(e);
  if (status === undefined || status >= 500) return { kind: 'network', message: `${what}: ${message}` };
  if (status === 401) return { kind: 'auth', message: `${what}: the token was refused (${message})` };
  if ((status === 403 || status === 429) && headers['x-ratelimit-remaining'] === '0')
    return { kind: 'rate-limited', message: `${what}: the API's rate limit is spent until ${resetTime(headers)}` };
  if (status === 403) return { kind: 'forbidden', message: `${what}: the token lacks the right (${message})` };
  if (status === 404)
    return { kind: 'not-found', message: `${what}: not found (or the token cannot see it) (${message})` };
  return { kind: 'other', message: `${what}: ${status} ${message}` };
}

function resetTime(headers: Record<string, string>): string {
  const reset = Number(headers['x-ratelimit-reset']);
  return Number.isFinite(reset) && reset > 0 ? new Date(reset * 1000).toISOString() : 'later';
}

/** Options of {@link GitHubForge}. */
export interface GitHubOptions {
  token: string;
  /** The API's base URL (default {@link GITHUB_API}). */
  apiUrl?: string;
  /** Told before each wait for a rate limit's reset, with the wait in seconds. */
  onRateLimitWait?: (seconds: number) => void;
}

/** The {@link Forge} of GitHub. */
export class GitHubForge implements Forge {
  readonly name = 'github';
  readonly #octokit: InstanceType<typeof ThrottledOctokit>;

  constructor(options: GitHubOptions) {
    const wait = (retryAfter: number, _options: unknown, _octokit: unknown, retryCount: number): boolean => {
      if (retryCount >= MAX_RATE_LIMIT_RETRIES || retryAfter > MAX_RATE_LIMIT_WAIT_S) return false;
      options.onRateLimitWait?.(retryAfter);
      return true;
    };
    this.#octokit = new ThrottledOctokit({
      auth: options.token,
      baseUrl: (options.apiUrl ?? GITHUB_API).replace(/\/+$/, ''),
      userAgent: 'fileswarm',
      // Failures come back as data with a message; Octokit's own console lines would repeat them.
      log: { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} },
      throttle: { onRateLimit: wait, onSecondaryRateLimit: wait },
    });
  }

  async repo(ref: RepoRef): Promise<Result<RepoInfo, ForgeError>> {
    try {
      const { data } = await this.#octokit.rest.repos.get({ owner: ref.owner, repo: ref.name });
      return ok({
        cloneUrl: data.clone_url,
        defaultBranch: data.default_branch,
        canPush: data.permissions?.push === true,
      });
    } catch (e) {
      return err(forgeError(e, `the repository ${ref.owner}/${ref.name}`));
    }
  }

  async issue(ref: IssueRef, withComments: boolean): Promise<Result<Issue, ForgeError>> {
    const name = `${ref.owner}/${ref.name}#${ref.number}`;
    try {
      const { data } = await this.#octokit.rest.issues.get({
        owner: ref.owner,
        repo: ref.name,
        issue_number: ref.number,
      });
      const comments: string[] = [];
      if (withComments) {
        const all = await this.#octokit.paginate(this.#octokit.rest.issues.listComments, {
          owner: ref.owner,
          repo: ref.name,
          issue_number: ref.number,
          per_page: 100,
        });
        for (const c of all) if (c.body) comments.push(c.body);
      }
      return ok({ ref, title: data.title, body: data.body ?? '', url: data.html_url, comments });
    } catch (e) {
      return err(forgeError(e, `the issue ${name}`));
    }
  }

  async upsertPullRequest(
    repo: RepoRef,
    spec: PullRequestSpec,
  ): Promise<Result<PullRequest & { created: boolean }, ForgeError>> {
    const where = { owner: repo.owner, repo: repo.name };
    let step = `the pull requests of ${repo.owner}/${repo.name}`;
    try {
      const { data: open } = await this.#octokit.rest.pulls.list({
        ...where,
        head: `${repo.owner}:${spec.head}`,
        state: 'open',
      });
      let pull: { number: number; html_url: string; draft?: boolean | undefined };
      let created = false;
      if (open[0]) {
        step = `updating pull request #${open[0].number}`;
        pull = (
          await this.#octokit.rest.pulls.update({
            ...where,
            pull_number: open[0].number,
            title: spec.title,
            body: spec.body,
          })
        ).data;
      } else {
        step = `opening a pull request from ${spec.head} into ${spec.base}`;
        pull = (
          await this.#octokit.rest.pulls.create({
            ...where,
            head: spec.head,
            base: spec.base,
            title: spec.title,
            body: spec.body,
            draft: spec.draft,
          })
        ).data;
        created = true;
      }
      if (spec.labels.length > 0) {
        step = `labelling pull request #${pull.number}`;
        await this.#octokit.rest.issues.addLabels({ ...where, issue_number: pull.number, labels: spec.labels });
      }
      if (spec.reviewers.length > 0) {
        step = `asking for reviews of pull request #${pull.number}`;
        await this.#octokit.rest.pulls.requestReviewers({
          ...where,
          pull_number: pull.number,
          reviewers: spec.reviewers,
        });
      }
      return ok({ number: pull.number, url: pull.html_url, draft: pull.draft ?? spec.draft, created });
    } catch (e) {
      return err(forgeError(e, step));
    }
  }

  async upsertComment(
    issue: IssueRef,
    body: string,
    previous: number | null,
  ): Promise<Result<IssueComment, ForgeError>> {
    const where = { owner: issue.owner, repo: issue.name };
    const name = `${issue.owner}/${issue.name}#${issue.number}`;
    try {
      if (previous !== null) {
        try {
          const { data } = await this.#octokit.rest.issues.updateComment({ ...where, comment_id: previous, body });
          return ok({ id: data.id, url: data.html_url });
        } catch (e) {
          if ((e as { status?: number }).status !== 404) throw e; // deleted meanwhile: comment anew
        }
      }
      const { data } = await this.#octokit.rest.issues.createComment({ ...where, issue_number: issue.number, body });
      return ok({ id: data.id, url: data.html_url });
    } catch (e) {
      return err(forgeError(e, `commenting on ${name}`));
    }
  }
}
