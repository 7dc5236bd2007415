// Before a run does any work: can its launcher start workers here?
import type { LauncherSpec } from '../../config/schema.js';
import { podmanProblems } from './podman-preflight.js';

/**
 * What stops the run's launcher from starting workers, as messages that say what to do: [] for the
 * local launcher; for podman, podman missing or unable to start a trial container (it runs one).
 */
export function launcherProblems(spec: LauncherSpec): string[] {
  return spec.kind === 'podman' ? podmanProblems(spec.podman) : [];
}
