// Before a run with `launcher.kind: podman` does any work: is podman here, and can it start a
// container with the run's settings?
import { spawnSync, type SpawnSyncOptionsWithStringEncoding, type SpawnSyncReturns } from 'node:child_process';
import type { PodmanSettings } from './podman.js';

/** How long the trial container may take, ms (it takes about 0.3 s). */
const TRIAL_TIMEOUT_MS = 60_000;

/** What to install, said after each problem. */
const FIX =
  'install Podman (Debian/Ubuntu: apt-get install podman runc catatonit uidmap slirp4netns fuse-overlayfs), or set `launcher.kind: local`';

/**
 * The problems that stop a run whose workers are Podman containers: `podman` not on PATH, or a
 * trial `podman run --rm` of the configured image, runtime, ulimits and network running `true`
 * that fails (its stderr is quoted). Each message says what to do.
 * @returns [] when podman can start the run's containers
 */
export function podmanProblems(settings: PodmanSettings): string[] {
  // node:child_process, not execa: this module is loaded by every `swarm run`, and execa is about a
  // hundred modules of start-up (bench/README.md).
  const options: SpawnSyncOptionsWithStringEncoding = {
    stdio: ['ignore', 'pipe', 'pipe'],
    encoding: 'utf8',
    timeout: TRIAL_TIMEOUT_MS,
    maxBuffer: 64 * 1024 * 1024, // a pull's progress on stderr must not kill the trial
  };
  const version = spawnSync('podman', ['--version'], options);
  if (version.error && (version.error as NodeJS.ErrnoException).code === 'ENOENT')
    return [`launcher.kind is podman, and there is no \`podman\` on PATH: ${FIX}`];
  if (version.error || version.status !== 0)
    return [`launcher.kind is podman, and \`podman --version\` failed (${failure(version)}): ${FIX}`];
  const args = [...podmanGlobals(settings), 'run', '--rm', '--network', settings.network];
  for (const u of settings.ulimits) args.push('--ulimit', u);
  if (settings.image === 'host') args.push('--rootfs', '/:O', 'true');
  else args.push(settings.image, 'true');
  const trial = spawnSync('podman', args, options);
  if (trial.status === 0) return [];
  return [
    `podman cannot start a worker container here (\`podman ${args.join(' ')}\` failed: ${failure(trial)}); check launcher.podman (runtime, ulimits, image): ${FIX}`,
  ];
}

/** Why a podman command failed, in a few words. */
function failure(r: SpawnSyncReturns<string>): string {
  if ((r.error as NodeJS.ErrnoException | undefined)?.code === 'ETIMEDOUT')
    return `timed out after ${TRIAL_TIMEOUT_MS / 1000} s`;
  if (r.error) return r.error.message;
  return r.stderr.trim() || (r.signal ? `killed by ${r.signal}` : `exit code ${r.status}`);
}

/**
 * The global options of every podman command: the OCI runtime (`--runtime runc` by default, since
 * crun fails on a hybrid cgroup layout).
 */
export function podmanGlobals(settings: PodmanSettings): string[] {
  return ['--runtime', settings.runtime];
}
