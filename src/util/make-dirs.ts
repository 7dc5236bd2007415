// `mkdir -p` that fails instead of looping: Node's `fs.mkdirSync(dir, {recursive: true})` spins
// forever (at full CPU, with no output) under /proc, where mkdir answers ENOENT though the parent
// exists, so it keeps making the parent and trying again.
import fs from 'node:fs';
import path from 'node:path';

/**
 * Creates `dir` and whichever of its ancestors are missing, one `mkdir` each from the top down.
 * Does nothing if `dir` is a directory already.
 * @throws the file system's error (ENOENT, EPERM, EACCES, ENOTDIR, EROFS, ...) of the first
 *   directory that cannot be made, or ENOTDIR if `dir` exists and is not a directory.
 */
export function makeDirs(dir: string): void {
  const missing: string[] = [];
  let at = path.resolve(dir);
  while (!fs.existsSync(at)) {
    missing.push(at);
    const up = path.dirname(at);
    if (up === at) break;
    at = up;
  }
  if (missing.length === 0 && !fs.statSync(at).isDirectory()) {
    throw Object.assign(new Error(`ENOTDIR: not a directory, mkdir '${at}'`), { code: 'ENOTDIR', path: at });
  }
  for (const d of missing.reverse()) {
    try {
      fs.mkdirSync(d);
    } catch (e) {
      // Made meanwhile by another process: fine, if it is a directory.
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST' || !fs.statSync(d).isDirectory()) throw e;
    }
  }
}

/** A file system error as a short phrase for the user: `permission denied (EACCES)`, or its message. */
export function fsErrorPhrase(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  const phrase: Record<string, string> = {
    ENOENT: 'no such file or directory, or not a place where directories can be made',
    EACCES: 'permission denied',
    EPERM: 'operation not permitted',
    EROFS: 'read-only file system',
    ENOTDIR: 'a part of the path is not a directory',
    ENOSPC: 'no space left on the device',
    EEXIST: 'it exists already',
    ENOTEMPTY: 'it exists and is not empty',
  };
  return code && phrase[code] ? `${phrase[code]} (${code})` : (e as Error).message;
}
