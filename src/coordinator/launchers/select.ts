// Which launcher a run's workers get, from its config's `launcher:`.
import type { LauncherSpec } from '../../config/schema.js';
import { LocalLauncher, type Launcher } from '../launcher.js';
import { PodmanLauncher } from './podman.js';

/**
 * The launcher of a run: local processes, or Podman containers (`launcher.kind: podman`).
 * @param spec the config's `launcher:` (absent in run.json snapshots made before it existed: local)
 * @param run the run's id and repository (absolute), and `scheduling.kill_grace` in ms
 */
export function launcherFor(
  spec: LauncherSpec | undefined,
  run: { id: string; repo: string; killGraceMs: number },
): Launcher {
  if (spec?.kind === 'podman') return new PodmanLauncher(spec.podman, run.id, run.repo, run.killGraceMs);
  return new LocalLauncher();
}
