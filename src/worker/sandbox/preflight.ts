// Before a run that needs sandboxes does any work: is bubblewrap here, and can it make namespaces?
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import type { SandboxSettings } from '../../config/sandbox.js';
import { absolutePath, sandboxFor } from '../../config/sandbox.js';
import type { ResolvedTask } from '../../protocol/schemas.js';
import type { BackendName } from '../backends/registry.js';
import { findBwrap } from './bwrap.js';

/** How long the trial sandbox may take before it counts as failed, ms (it takes about 10 ms). */
const TRIAL_TIMEOUT_MS = 10_000;

/** What to do about a missing sandbox, said after each problem. */
const FIX =
  'install bubblewrap (Debian/Ubuntu: apt-get install bubblewrap), or set `sandbox.mode: none` to run without a sandbox';

/**
 * Whether bubblewrap can make a sandbox on this host: `bwrap` on PATH, and a trial
 * `bwrap --ro-bind / / --unshare-all --die-with-parent -- true` that exits 0 (it fails where user
 * namespaces are disabled or a container forbids mounts).
 * @returns null when it can, else a message saying what failed and what to do
 */
export function bubblewrapProblem(PATH: string | undefined = process.env.PATH): string | null {
  const bwrap = findBwrap(PATH);
  if (!bwrap) return `sandboxes need bubblewrap, and there is no \`bwrap\` on PATH: ${FIX}`;
  const trial = spawnSync(
    bwrap,
    ['--ro-bind', '/', '/', '--proc', '/proc', '--unshare-all', '--die-with-parent', '--', 'true'],
    { encoding: 'utf8', timeout: TRIAL_TIMEOUT_MS, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  if (trial.status === 0) return null;
  const why = trial.error?.message ?? (trial.stderr.trim() || `exit ${trial.status ?? trial.signal}`);
  return `${bwrap} cannot make a sandbox here (${why}; are user namespaces disabled?): ${FIX}`;
}

/** What {@link sandboxProblems} reads of the run. */
export interface SandboxNeeds {
  settings: SandboxSettings;
  /** The repository the run works on (absolute). */
  repo: string;
  /** The tasks that will run, with their role and backend. */
  tasks: readonly Pick<ResolvedTask, 'role' | 'backend'>[];
  /** Roles the planner may give tasks to (a run that plans), by name and backend. */
  plannedRoles: readonly { role: string; backend: BackendName }[];
}

/**
 * The problems that stop a run before any work because of its sandboxes: none when no task's mode
 * is `workspace`; else bubblewrap missing or unable to make a sandbox, and `writable` paths that do
 * not exist (bwrap cannot mount them). Each message says what to do.
 */
export function sandboxProblems(n: SandboxNeeds): string[] {
  const who = [...n.tasks, ...n.plannedRoles];
  const sandboxed = who.filter((t) => sandboxFor(n.settings, t, { repo: n.repo }).mode === 'workspace');
  if (sandboxed.length === 0) return [];
  const problems: string[] = [];
  const missing = bubblewrapProblem();
  if (missing) problems.push(missing);
  const writable = [
    ...n.settings.sandbox.writable.map((p) => ({ p, key: 'sandbox.writable' })),
    ...Object.entries(n.settings.roles).flatMap(([name, r]) =>
      (r.sandbox?.writable ?? []).map((p) => ({ p, key: `roles.${name}.sandbox.writable` })),
    ),
  ];
  for (const { p, key } of writable) {
    const abs = absolutePath(p, { repo: n.repo });
    if (!fs.existsSync(abs))
      problems.push(`${key}: ${abs} does not exist (a sandbox can only make an existing path writable)`);
  }
  return problems;
}
