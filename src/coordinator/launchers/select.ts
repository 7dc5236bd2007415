// Which launcher a run's workers get, from its config's `launcher:`.
import type { Logger } from 'pino';
import type { LauncherSpec } from '../../config/launcher.js';
import { LocalLauncher, type Launcher } from '../launcher.js';

/**
 * The launcher of a run: local processes, Podman containers (`launcher.kind: podman`) or
 * Kubernetes Jobs (`kubernetes`).
 * @param spec the config's `launcher:` (absent in run.json snapshots made before it existed: local)
 * @param run the run's id and repository (absolute), `scheduling.kill_grace` in ms, and the
 *   coordinator's log (where a launcher says what goes wrong between workers: a failing pod watch)
 * @throws Error when a kubernetes launcher's kubeconfig cannot be loaded (the preflight says so first)
 */
export async function launcherFor(
  spec: LauncherSpec | undefined,
  run: { id: string; repo: string; killGraceMs: number; log?: Logger },
): Promise<Launcher> {
  // The simulated-workers benchmark plays the workers itself (launchers/external.ts).
  if (process.env.SWARM_BENCH_EXTERNAL_WORKERS === '1') {
    // Said out loud: set by mistake, the run would wait for workers that never come.
    process.stderr.write(
      'swarm: warning: SWARM_BENCH_EXTERNAL_WORKERS=1 is set: no worker is started here (a benchmark plays them)\n',
    );
    const { ExternalLauncher } = await import('./external.js');
    return new ExternalLauncher();
  }
  if (spec?.kind === 'podman') {
    // Loaded only here, as the others: it brings execa (about a hundred modules) into start-up.
    const { PodmanLauncher } = await import('./podman.js');
    return new PodmanLauncher(spec.podman, run.id, run.repo, run.killGraceMs);
  }
  if (spec?.kind === 'kubernetes') {
    // Loaded only here: the Kubernetes client is large, and most runs never need it.
    const { KubernetesLauncher } = await import('./kubernetes.js');
    return new KubernetesLauncher(spec.kubernetes, run);
  }
  return new LocalLauncher();
}
