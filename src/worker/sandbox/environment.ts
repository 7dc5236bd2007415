// The environment of a sandbox's processes, built from nothing: no variable of the worker's reaches
// them unless named here (API keys, tokens and the like stay out).

/** Variables of the worker's environment a sandboxed process gets: where programs are, and the locale. */
export const PASSED_VARIABLES = [
  'PATH',
  'LANG',
  'LANGUAGE',
  'LC_ALL',
  'LC_CTYPE',
  'LC_MESSAGES',
  'TZ',
  'USER',
  'LOGNAME',
];

/**
 * The environment of a sandboxed command: {@link PASSED_VARIABLES} from `worker`, `HOME` = the
 * sandbox's private home, `TMPDIR` = `/tmp` (its private one), then `added` (assignment.json `env`:
 * the role's and the task's `env` and `SWARM_*`, which the user wrote or fileswarm set).
 */
export function sandboxEnv(
  worker: NodeJS.ProcessEnv,
  added: Readonly<Record<string, string>>,
  home: string,
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of PASSED_VARIABLES) {
    const value = worker[name];
    if (value !== undefined) env[name] = value;
  }
  env.HOME = home;
  env.TMPDIR = '/tmp';
  return { ...env, ...added };
}
