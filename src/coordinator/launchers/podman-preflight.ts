// Before a run with `launcher.kind: podman` does any work: is podman here, and can it start a
// container with the run's settings?
import { execaSync } from 'execa';
import type { PodmanSettings } from './podman.js';
import { podmanGlobals } from './podman.js';

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
  const version = execaSync('podman', ['--version'], { reject: false, stdin: 'ignore', timeout: TRIAL_TIMEOUT_MS });
  if (version.failed && (version.code === 'ENOENT' || version.exitCode === undefined))
    return [`launcher.kind is podman, and there is no \`podman\` on PATH: ${FIX}`];
  const args = [...podmanGlobals(settings), 'run', '--rm', '--network', settings.network];
  for (const u of settings.ulimits) args.push('--ulimit', u);
  if (settings.image === 'host') args.push('--rootfs', '/:O', 'true');
  else args.push(settings.image, 'true');
  const trial = execaSync('podman', args, { reject: false, stdin: 'ignore', timeout: TRIAL_TIMEOUT_MS });
  if (trial.exitCode === 0) return [];
  const why = trial.stderr.trim() || trial.shortMessage;
  return [
    `podman cannot start a worker container here (\`podman ${args.join(' ')}\` failed: ${why}); check launcher.podman (runtime, ulimits, image): ${FIX}`,
  ];
}
