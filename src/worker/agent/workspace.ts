// Confining the built-in agent's file tools to its workspace (the attempt's worktree).
import fs from 'node:fs';
import path from 'node:path';
import { err, ok, type Result } from '../../util/result.js';

/**
 * Resolves `p` (relative to `root`, or absolute inside it) to an absolute path inside `root`.
 * Refuses, with a message for the model: paths that leave `root` (`..`, absolute paths
 * elsewhere), paths through a symlink that points outside `root` (the nearest existing ancestor is
 * resolved with realpath), and anything inside `.git` (the worktree's link to the repository).
 */
export function resolveInside(root: string, p: string): Result<string, string> {
  if (typeof p !== 'string' || p.trim() === '') return err('the path is empty');
  if (p.includes('\0')) return err('the path contains a NUL byte');
  const realRoot = fs.realpathSync(root);
  const abs = path.resolve(root, p);
  const rel = path.relative(root, abs);
  if (rel === '..' || rel.startsWith(`..${path.sep}`) || path.isAbsolute(rel)) {
    return err(`${p}: outside the workspace; paths are relative to ${root} and may not leave it`);
  }
  if (rel.split(path.sep)[0] === '.git') return err(`${p}: .git is not part of the workspace`);
  // Resolve symlinks on the longest existing prefix: a link inside the tree may point outside it.
  // lstat, not exists: a dangling symbolic link exists as a link, and writing through it would
  // create its target.
  const present = (p: string): boolean => {
    try {
      fs.lstatSync(p);
      return true;
    } catch {
      return false;
    }
  };
  let existing = abs;
  while (!present(existing) && existing !== root) existing = path.dirname(existing);
  let real: string;
  try {
    real = fs.realpathSync(existing);
  } catch {
    // A dangling symlink: where it points decides.
    const target = path.resolve(path.dirname(existing), fs.readlinkSync(existing));
    real = target;
  }
  const realRel = path.relative(realRoot, real);
  if (realRel === '..' || realRel.startsWith(`..${path.sep}`) || path.isAbsolute(realRel)) {
    return err(`${p}: resolves (through a symbolic link) to ${real}, outside the workspace`);
  }
  return ok(abs);
}

/** `abs` relative to `root`, with `/` separators, for messages to the model. */
export function display(root: string, abs: string): string {
  return path.relative(root, abs).split(path.sep).join('/') || '.';
}
