// Repositories that are not checked out here (`swarm run --repo URL`): one clone per URL in a
// cache directory, fetched before each run, and shared by the runs on that URL. A run works in the
// clone exactly as in a local repository (worktrees and its integration branch under .swarm/);
// the clone's own checkout is never touched after it is made. A lock (proper-lockfile) keeps two
// runs from cloning or fetching the same URL at once.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import lockfile from 'proper-lockfile';
import { git, GitError } from '../git/git.js';
import { err, ok, type Result } from '../util/result.js';
import { gitAuthEnv, withoutCredentials } from './git-auth.js';

/** A clone ready for a run. */
export interface CachedClone {
  /** The clone's top level (absolute). */
  dir: string;
  /** The branch the run starts from: the one asked for, else the remote's default. */
  baseBranch: string;
  /** That branch's commit as just fetched. */
  baseCommit: string;
  /** True when this call made the clone (false: it fetched an existing one). */
  cloned: boolean;
}

/** The cache directory: `$SWARM_CACHE_DIR`, else `$XDG_CACHE_HOME/fileswarm/repos`, else `~/.cache/fileswarm/repos`. */
export function defaultCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.SWARM_CACHE_DIR) return path.resolve(env.SWARM_CACHE_DIR);
  const base = env.XDG_CACHE_HOME ? path.resolve(env.XDG_CACHE_HOME) : path.join(os.homedir(), '.cache');
  return path.join(base, 'fileswarm', 'repos');
}

/** The clone's directory for `url`: a readable name (host, owner, repo) and a hash of the whole URL. */
export function cloneDirFor(cacheDir: string, url: string): string {
  const clean = withoutCredentials(url);
  const readable = clean
    .replace(/^[a-z+]+:\/\//i, '')
    .replace(/\.git$/, '')
    .replace(/[^A-Za-z0-9._-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(-60);
  const hash = createHash('sha256').update(clean).digest('hex').slice(0, 10);
  return path.join(cacheDir, `${readable}-${hash}`);
}

/** The last lines of a git failure, for a message. */
function gitWhy(e: unknown): string {
  if (e instanceof GitError) return e.stderr.trim().split('\n').slice(-2).join(' ') || e.message;
  return (e as Error).message;
}

/**
 * Clones `url` into the cache (or fetches the clone there), then resolves the base branch.
 * @param options.base the branch to start from (default: the remote's default branch)
 * @param options.token sent to an http(s) remote as an extra header, never written to disk
 * @returns the clone, or a message that says what failed and what to do (an unreachable or unknown
 *   repository, a refused token, a branch that is not there)
 */
export async function cachedClone(
  url: string,
  options: { cacheDir: string; base?: string; token?: string },
): Promise<Result<CachedClone, string>> {
  const dir = cloneDirFor(options.cacheDir, url);
  const shown = withoutCredentials(url);
  const env = gitAuthEnv(url, options.token);
  fs.mkdirSync(options.cacheDir, { recursive: true });
  let release: (() => Promise<void>) | undefined;
  try {
    release = await lockfile.lock(dir, {
      realpath: false,
      lockfilePath: `${dir}.lock`,
      stale: 60_000,
      retries: { retries: 300, minTimeout: 200, maxTimeout: 1000 },
    });
  } catch (e) {
    return err(`cannot lock the cached clone ${dir}: ${(e as Error).message}`);
  }
  try {
    let cloned = false;
    if (!fs.existsSync(path.join(dir, '.git'))) {
      // Clone beside it and rename into place: a clone killed half-way is never taken for a clone.
      const tmp = `${dir}.cloning-${process.pid}`;
      fs.rmSync(tmp, { recursive: true, force: true });
      try {
        await git(options.cacheDir, ['clone', '--quiet', '--', url, tmp], { env });
      } catch (e) {
        fs.rmSync(tmp, { recursive: true, force: true });
        return err(
          `cannot clone ${shown}: ${gitWhy(e)} (check the URL, and that the token in the publish settings' variable may read it)`,
        );
      }
      fs.renameSync(tmp, dir);
      cloned = true;
    } else {
      try {
        await git(dir, ['fetch', '--quiet', '--prune', 'origin'], { env });
        await git(dir, ['remote', 'set-head', 'origin', '--auto'], { env });
      } catch (e) {
        return err(`cannot fetch ${shown} into ${dir}: ${gitWhy(e)}`);
      }
    }
    let baseBranch = options.base;
    if (baseBranch === undefined) {
      try {
        const head = await git(dir, ['symbolic-ref', '--short', 'refs/remotes/origin/HEAD']);
        baseBranch = head.replace(/^origin\//, '');
      } catch {
        return err(`${shown} has no default branch (is it empty?): give one with --base`);
      }
    }
    let baseCommit: string;
    try {
      baseCommit = await git(dir, ['rev-parse', '--verify', '--quiet', `refs/remotes/origin/${baseBranch}^{commit}`]);
    } catch {
      return err(`${shown} has no branch ${baseBranch}`);
    }
    return ok({ dir, baseBranch, baseCommit, cloned });
  } finally {
    await release();
  }
}
