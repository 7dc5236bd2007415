// Finding an agent CLI's executable and checking its version, before a run starts (preflight) and
// when a worker starts an attempt.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import which from 'which';
import { CLI_PATH } from '../../../util/cli-path.js';

/** fileswarm's own node_modules/.bin (dist/src/cli.js is three levels below the package root). */
const OWN_BIN = path.resolve(path.dirname(CLI_PATH), '..', '..', 'node_modules', '.bin');

/**
 * Where a CLI's executable is, absolute, or null if it is nowhere:
 * - the role's `command`: a path (absolute, or relative to the repository), or a name on PATH;
 * - else `bin` on PATH, then in the repository's `node_modules/.bin`, then in fileswarm's own.
 * @param bin the CLI's usual name (`claude`, `codex`, `gemini`)
 * @param command the role's `command`, if it has one
 * @param repo the repository the run works on (absolute)
 * @param pathEnv the PATH to search (the worker's)
 */
export function locateCli(
  bin: string,
  command: string | undefined,
  repo: string,
  pathEnv: string | undefined,
): string | null {
  const onPath = (name: string): string | null => which.sync(name, { nothrow: true, path: pathEnv ?? '' });
  const executable = (file: string): string | null => {
    try {
      fs.accessSync(file, fs.constants.X_OK);
      return fs.statSync(file).isFile() ? file : null;
    } catch {
      return null;
    }
  };
  if (command !== undefined) return command.includes('/') ? executable(path.resolve(repo, command)) : onPath(command);
  return onPath(bin) ?? executable(path.join(repo, 'node_modules', '.bin', bin)) ?? executable(path.join(OWN_BIN, bin));
}

/** A version as three numbers. */
export type Version = [number, number, number];

/**
 * The CLI's version from `<file> --version` (the first `x.y.z` it prints, e.g. `2.1.330 (Claude
 * Code)`, `codex-cli 0.169.0`, `0.61.0`), or why it could not be read. Waits at most `timeoutMs`.
 */
export function cliVersion(
  file: string,
  timeoutMs = 30_000,
): { ok: true; version: Version; text: string } | { ok: false; error: string } {
  const r = spawnSync(file, ['--version'], {
    encoding: 'utf8',
    timeout: timeoutMs,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { PATH: process.env.PATH, HOME: process.env.HOME },
  });
  if (r.error) return { ok: false, error: r.error.message };
  const text = `${r.stdout ?? ''}${r.stderr ?? ''}`.trim();
  const m = /(\d+)\.(\d+)\.(\d+)/.exec(text);
  if (r.status !== 0 || !m)
    return { ok: false, error: `\`${file} --version\` exited ${r.status}: ${text.slice(0, 200)}` };
  return { ok: true, version: [Number(m[1]), Number(m[2]), Number(m[3])], text: text.split('\n')[0]! };
}

/** Whether `v` is `min` or newer. */
export function versionAtLeast(v: Version, min: Version): boolean {
  for (let i = 0; i < 3; i++) if (v[i] !== min[i]) return v[i]! > min[i]!;
  return true;
}

/** `1.2.3`. */
export const versionText = (v: Version): string => v.join('.');
