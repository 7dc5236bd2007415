// A worktree fileswarm runs git commands in must be its own: a directory whose `.git` file names
// an administrative directory of the repository (`<common git dir>/worktrees/<name>`) that names it
// back. If the `.git` file is missing, git looks upwards and finds the enclosing repository (the
// user's, since fileswarm's worktrees live under `<repo>/.swarm/`); if it points at another
// worktree, git works on that one's HEAD and index. Either way a `git checkout --force` meant for
// fileswarm's worktree would act on someone else's branch and edits. So the worktree is checked
// first, and a worktree that is not its own is removed and added again.
import fs from 'node:fs';
import path from 'node:path';
import { git, gitTry } from './git.js';
import { createWorktree } from './worktree.js';

/** What a directory meant to be a linked worktree of a repository turned out to be. */
export type WorktreeIdentity =
  /** Its own: `adminDir` is its administrative directory, which names it back. */
  | { kind: 'own'; adminDir: string }
  /** The directory does not exist. */
  | { kind: 'missing' }
  /** Not a worktree of its own (no `.git`, or one pointing elsewhere): `why`, for a log. */
  | { kind: 'foreign'; why: string };

/** The real path of `p` (symbolic links resolved), or `p` resolved when it does not exist. */
function real(p: string): string {
  try {
    return fs.realpathSync(p);
  } catch {
    return path.resolve(p);
  }
}

/**
 * Whether `worktree` is a linked worktree of `repo` of its own: `git rev-parse --absolute-git-dir`
 * run in it names a directory `<common git dir of repo>/worktrees/<name>` whose `gitdir` file
 * points back to `<worktree>/.git`. Runs no git command that could change anything.
 * @throws GitError when git cannot tell the repository's common git directory (a broken repository)
 */
export async function worktreeIdentity(repo: string, worktree: string): Promise<WorktreeIdentity> {
  let entry: fs.Stats;
  try {
    entry = fs.lstatSync(worktree);
  } catch {
    return { kind: 'missing' };
  }
  // A link to somewhere else would pass every check below as the place it points to.
  if (entry.isSymbolicLink()) return { kind: 'foreign', why: `it is a symbolic link to ${fs.readlinkSync(worktree)}` };
  const common = real(await git(repo, ['rev-parse', '--path-format=absolute', '--git-common-dir']));
  const r = await gitTry(worktree, ['rev-parse', '--absolute-git-dir']);
  if (r.exitCode !== 0) return { kind: 'foreign', why: `git finds no repository there: ${r.stderr.trim()}` };
  const adminDir = real(r.stdout.trim());
  if (path.dirname(adminDir) !== path.join(common, 'worktrees'))
    return { kind: 'foreign', why: `its git directory is ${adminDir}, not one of ${path.join(common, 'worktrees')}` };
  let back: string;
  try {
    back = fs.readFileSync(path.join(adminDir, 'gitdir'), 'utf8').trim();
  } catch (e) {
    return { kind: 'foreign', why: `${adminDir} has no gitdir file: ${(e as Error).message}` };
  }
  const dotGit = real(path.join(worktree, '.git'));
  if (real(path.resolve(adminDir, back)) !== dotGit)
    return { kind: 'foreign', why: `its git directory ${adminDir} belongs to ${back}, not to ${dotGit}` };
  return { kind: 'own', adminDir };
}

/** A worktree made sure of by {@link ownWorktree}. */
export interface OwnWorktree {
  /** Its administrative directory (`<common git dir>/worktrees/<name>`). */
  adminDir: string;
  /**
   * Why it was removed and added again (at `commit`): it was not its own. Null when it was its own
   * already, or did not exist (then it was added).
   */
  rebuilt: string | null;
}

/**
 * Makes sure `worktree` is a linked worktree of `repo` of its own ({@link worktreeIdentity}):
 * if it is missing, it is added, detached at `commit`; if it is not its own, the directory is
 * deleted (no git command is run in it), `git worktree prune` forgets its registration, and it is
 * added again. Then a stale `index.lock` is removed from its own administrative directory, and
 * from nowhere else: the caller must be the only process that uses this worktree.
 * @throws Error (a GitError among them) when the worktree cannot be made, or is still not its own
 */
export async function ownWorktree(repo: string, worktree: string, commit: string): Promise<OwnWorktree> {
  let identity = await worktreeIdentity(repo, worktree);
  let rebuilt: string | null = null;
  if (identity.kind !== 'own') {
    rebuilt = identity.kind === 'missing' ? null : identity.why;
    fs.rmSync(worktree, { recursive: true, force: true });
    await git(repo, ['worktree', 'prune']);
    await createWorktree(repo, worktree, commit);
    identity = await worktreeIdentity(repo, worktree);
    if (identity.kind !== 'own')
      throw new Error(
        `${worktree} is not a worktree of its own after it was added again: ${identity.kind === 'foreign' ? identity.why : 'missing'}`,
      );
  }
  fs.rmSync(path.join(identity.adminDir, 'index.lock'), { force: true });
  return { adminDir: identity.adminDir, rebuilt };
}
