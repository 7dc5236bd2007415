// The forge: where a repository's issues and pull requests live. The run and the publishing code
// talk to this interface only, so that GitLab or Gitea can be added beside GitHub.
import type { Result } from '../util/result.js';

/** A repository on a forge. */
export interface RepoRef {
  owner: string;
  name: string;
}

/** An issue of a repository. */
export interface IssueRef extends RepoRef {
  number: number;
}

/** An issue as the run uses it: its goal. */
export interface Issue {
  ref: IssueRef;
  title: string;
  body: string;
  /** Its page, for people. */
  url: string;
  /** The comments' bodies, oldest first (only when asked for). */
  comments: string[];
}

/** A repository's facts the run needs. */
export interface RepoInfo {
  /** The URL to clone and push over HTTPS. */
  cloneUrl: string;
  defaultBranch: string;
  /** Whether the token may push branches (and so open pull requests from them). */
  canPush: boolean;
}

/** A pull request. */
export interface PullRequest {
  number: number;
  url: string;
  draft: boolean;
}

/** What a pull request should say. */
export interface PullRequestSpec {
  /** The branch with the work (in the same repository). */
  head: string;
  /** The branch it is to be merged into. */
  base: string;
  title: string;
  body: string;
  draft: boolean;
  labels: string[];
  reviewers: string[];
}

/** A comment on an issue. */
export interface IssueComment {
  id: number;
  url: string;
}

/**
 * A failure talking to the forge, as data: what happened and what to do. `kind`: `auth` (no or a
 * wrong token), `forbidden` (the token lacks a right), `not-found`, `rate-limited` (after waiting
 * as long as allowed), `network`, `other`.
 */
export interface ForgeError {
  kind: 'auth' | 'forbidden' | 'not-found' | 'rate-limited' | 'network' | 'other';
  message: string;
}

/** The operations fileswarm needs from a forge. None throws: failures come back as {@link ForgeError}. */
export interface Forge {
  /** `github`, ... */
  readonly name: string;
  /** The repository's clone URL, default branch and whether this token may push to it. */
  repo(ref: RepoRef): Promise<Result<RepoInfo, ForgeError>>;
  /** An issue, with its comments when `withComments`. */
  issue(ref: IssueRef, withComments: boolean): Promise<Result<Issue, ForgeError>>;
  /** Opens a pull request, or updates the open one whose head is `spec.head` (title, body, labels, reviewers). */
  upsertPullRequest(
    repo: RepoRef,
    spec: PullRequestSpec,
  ): Promise<Result<PullRequest & { created: boolean }, ForgeError>>;
  /** Comments on an issue, or edits the comment `previous` (made by an earlier publish) if it still exists. */
  upsertComment(issue: IssueRef, body: string, previous: number | null): Promise<Result<IssueComment, ForgeError>>;
}

/**
 * `owner/repo#N` or an issue's web URL (`https://github.com/owner/repo/issues/N`, any host).
 * @returns the issue, or undefined if `text` is neither
 */
export function parseIssueRef(text: string): IssueRef | undefined {
  const short = /^([A-Za-z0-9_.-]+)\/([A-Za-z0-9_.-]+)#(\d+)$/.exec(text.trim());
  if (short) return { owner: short[1]!, name: short[2]!, number: Number(short[3]) };
  try {
    const url = new URL(text.trim());
    const m = /^\/([^/]+)\/([^/]+)\/(?:issues|pull)\/(\d+)\/?$/.exec(url.pathname);
    if (m) return { owner: m[1]!, name: m[2]!, number: Number(m[3]) };
  } catch {
    // not a URL
  }
  return undefined;
}

/**
 * The repository a git remote URL names: its last two path segments, without `.git`
 * (`https://host/owner/repo.git`, `git@host:owner/repo`, `ssh://git@host/owner/repo`,
 * `file:///srv/owner/repo.git`). Undefined when it has fewer than two.
 */
export function repoRefOfUrl(url: string): RepoRef | undefined {
  const scp = /^[^/@:]+@[^:]+:(.+)$/.exec(url); // git@host:owner/repo
  let pathPart: string;
  if (scp) pathPart = scp[1]!;
  else {
    try {
      pathPart = new URL(url).pathname;
    } catch {
      pathPart = url;
    }
  }
  const parts = pathPart
    .replace(/\/+$/, '')
    .replace(/\.git$/, '')
    .split('/')
    .filter(Boolean);
  if (parts.length < 2) return undefined;
  return { owner: parts.at(-2)!, name: parts.at(-1)! };
}
