// Resolving the `sandbox:` settings (the run's, then the task's role's) into the sandbox of one
// attempt, as assignment.json carries it. Pure: the caller gives the home directory and repository.
import os from 'node:os';
import path from 'node:path';
import type { SandboxSpec } from '../protocol/schemas.js';
import { isAgentBackend, type BackendName } from '../worker/backends/registry.js';
import { SANDBOX_HIDDEN } from './defaults.js';
import type { RoleSandboxSpec, RunSandboxSpec } from './schema.js';
import type { z } from 'zod';

/** What resolution reads of a config (swarm.yaml's, or run.json's snapshot of it). */
export interface SandboxSettings {
  sandbox: z.output<typeof RunSandboxSpec>;
  roles: Record<string, { sandbox?: z.output<typeof RoleSandboxSpec> }>;
  /** Where workers run (absent in run.json snapshots made before `launcher:` existed: local). */
  launcher?: { kind: 'local' | 'podman' | 'kubernetes' };
}

/** Where relative and `~/` paths of the settings point. */
export interface SandboxPlaces {
  /** Absolute: the repository the run works on (relative paths are under it). */
  repo: string;
  /** Absolute: the home directory `~/` stands for (default: the current user's). */
  home?: string;
}

/**
 * The sandbox of a task's attempts: the role's `sandbox:` keys where set, else the run's; `mode`
 * unset in both is `workspace` for an agent backend and `none` for a command (a command is the
 * user's own, an agent's commands are not). `writable` and `hidden` are the run's plus the role's
 * (and {@link SANDBOX_HIDDEN} for `hidden`), made absolute. With `launcher.kind: podman` or
 * `kubernetes` the mode is always `none`: the worker's container is the attempt's confinement
 * (bubblewrap cannot make its namespaces inside a container without CAP_SYS_ADMIN).
 * @param task the task's role (null: a command task without a role) and backend
 */
export function sandboxFor(
  settings: SandboxSettings,
  task: { role: string | null; backend: BackendName },
  places: SandboxPlaces,
): SandboxSpec {
  const own = task.role === null ? undefined : settings.roles[task.role]?.sandbox;
  const run = settings.sandbox;
  const inContainer = settings.launcher?.kind === 'podman' || settings.launcher?.kind === 'kubernetes';
  const mode = inContainer ? 'none' : (own?.mode ?? run.mode ?? (isAgentBackend(task.backend) ? 'workspace' : 'none'));
  const abs = (p: string): string => absolutePath(p, places);
  return {
    mode,
    network: own?.network ?? run.network,
    writable: unique([...run.writable, ...(own?.writable ?? [])].map(abs)),
    hidden: unique([...SANDBOX_HIDDEN, ...run.hidden, ...(own?.hidden ?? [])].map(abs)),
    allow_hosts: unique([...run.allow_hosts, ...(own?.allow_hosts ?? [])]),
  };
}

/** `p` made absolute: `~` and `~/...` under the home directory, a relative path under the repository. */
export function absolutePath(p: string, places: SandboxPlaces): string {
  const home = places.home ?? os.homedir();
  if (p === '~') return home;
  if (p.startsWith('~/')) return path.join(home, p.slice(2));
  return path.resolve(places.repo, p);
}

const unique = (xs: string[]): string[] => [...new Set(xs)];
