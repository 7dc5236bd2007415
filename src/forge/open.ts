// The forge a config's `publish:` settings name, with its token from the environment.
import type { Config } from '../config/schema.js';
import type { RunConfig } from '../protocol/run-config.js';
import { err, ok, type Result } from '../util/result.js';
import type { Forge } from './forge.js';

/** The `publish:` settings of a config or of a run's snapshot. */
export type PublishSettings = Config['publish'] | RunConfig['publish'];

/**
 * The forge, and the token it uses (for git over HTTPS too). The forge's client (Octokit) is
 * loaded here, only by the runs that publish or read an issue.
 * @returns a message naming the variable when the token is not set
 */
export async function openForge(
  settings: PublishSettings,
  env: NodeJS.ProcessEnv = process.env,
  onRateLimitWait?: (seconds: number) => void,
): Promise<Result<{ forge: Forge; token: string }, string>> {
  const token = env[settings.token_env];
  if (!token)
    return err(
      `${settings.token_env} is not set: publishing and issues need a ${settings.forge} token with the right to push and open pull requests (publish.token_env names another variable)`,
    );
  const { GitHubForge } = await import('./github.js');
  const forge = new GitHubForge({
    token,
    ...(settings.api_url ? { apiUrl: settings.api_url } : {}),
    ...(onRateLimitWait ? { onRateLimitWait } : {}),
  });
  return ok({ forge, token });
}
