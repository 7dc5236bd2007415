// Which directory a run works on: the config's `run.repo` or the current directory, widened to the
// top level of the git repository that contains it.
import path from 'node:path';
import type { Config } from '../config/schema.js';
import { repoTopLevel } from '../git/repo.js';

/** The directory tasks run in, and whether it is (the top level of) a git repository. */
export interface TargetRepo {
  /** Absolute path: the repository's top level when `git`, else the directory itself. */
  dir: string;
  git: boolean;
}

/**
 * The target directory: `run.repo` (relative to the config file), else `cwd`; either way the top
 * level of the git repository that contains it, if there is one. Runs `git rev-parse`; never throws
 * for a directory that is missing or not in a repository.
 */
export function resolveRepo(configFile: string, config: Config, cwd: string = process.cwd()): TargetRepo {
  const dir = config.run.repo !== undefined ? path.resolve(path.dirname(configFile), config.run.repo) : cwd;
  const top = repoTopLevel(dir);
  return top ? { dir: top, git: true } : { dir, git: false };
}
