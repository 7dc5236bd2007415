// The environment variables a config gives to tasks and roles: only what a process can be started with.
import { z } from 'zod';
import { MAX_ARG_STRLEN } from '../util/exec-limits.js';

/** Why `name=value` cannot be in a process's environment, or undefined if it can. */
export function envEntryProblem(name: string, value: string): string | undefined {
  if (name === '') return 'an environment variable needs a name';
  if (name.includes('=')) return `${shown(name)}: the name of an environment variable cannot contain "="`;
  if (name.includes('\0') || value.includes('\0'))
    return `${shown(name)}: an environment variable cannot hold a NUL byte`;
  const bytes = Buffer.byteLength(`${name}=${value}`) + 1;
  if (bytes > MAX_ARG_STRLEN)
    return `${shown(name)} is ${bytes.toLocaleString('en')} bytes; Linux starts no program with a variable over ${MAX_ARG_STRLEN.toLocaleString('en')} bytes (E2BIG): put the value in a file and pass its path`;
  return undefined;
}

/** `env:` of a task or a role as run.json's snapshot holds it: variables, unchecked. */
export const EnvRecord = z.record(z.string(), z.string()).meta({ description: 'Extra environment variables.' });

/**
 * `env:` of a task or a role in swarm.yaml or a plan file: variables added to the environment of
 * its commands and agents, each one a process can be started with ({@link envEntryProblem}).
 */
export const Env = z
  .record(z.string(), z.string())
  .superRefine((env, ctx) => {
    for (const [name, value] of Object.entries(env)) {
      const problem = envEntryProblem(name, value);
      if (problem) ctx.addIssue({ code: 'custom', path: [name], message: problem });
    }
  })
  .meta({ description: 'Extra environment variables.' });

/** A variable's name in a message: as it is when it is a plain name, else quoted and cut to 40 characters. */
function shown(name: string): string {
  if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(name) && name.length <= 40) return name;
  return JSON.stringify(name.length > 40 ? `${name.slice(0, 40)}…` : name);
}
