// Reading a real terminal's screen in tests: waiting for what a dashboard draws.
import type { TmuxTerminal } from '../bench/tmux.js';
import { waitFor } from './helpers.js';

/**
 * Waits until every pattern matches some line of one capture of the screen (returns that screen);
 * fails with the last screen. A capture can catch a frame half drawn (tmux reads the pty in
 * chunks), so whatever a check reads from the screen is waited for, not read from another capture.
 */
export async function screenWith(
  t: TmuxTerminal,
  patterns: RegExp | RegExp[],
  what: string,
  timeoutMs = 60_000,
): Promise<string[]> {
  const all = Array.isArray(patterns) ? patterns : [patterns];
  let last: string[] = [];
  try {
    return await waitFor(
      () => {
        last = t.screen();
        return all.every((re) => last.some((l) => re.test(l))) ? last : undefined;
      },
      timeoutMs,
      what,
    );
  } catch (e) {
    throw new Error(`${(e as Error).message}; the screen was:\n${last.join('\n')}`);
  }
}
