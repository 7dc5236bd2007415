// Paths a plan names inside the repository (a task's `files` and `cwd`): relative to its root, and
// never out of it.
import path from 'node:path';

/**
 * Why `p`, a path a task names relative to the repository root, is not one that stays inside it:
 * empty, absolute, or climbing out with `..` (`../../etc/passwd`, `src/../../x`); undefined if it
 * is fine. Lexical only: a symbolic link inside the repository is not followed.
 */
export function repoPathProblem(p: string): string | undefined {
  if (p.trim() === '') return 'an empty path';
  if (path.isAbsolute(p)) return `"${p}" is an absolute path: give it relative to the repository root`;
  const normal = path.normalize(p);
  if (normal === '..' || normal.startsWith(`..${path.sep}`)) return `"${p}" points outside the repository`;
  return undefined;
}
