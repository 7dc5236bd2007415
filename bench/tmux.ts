// A real terminal for the dashboard's end-to-end test and benchmark: a tmux server of its own
// (`tmux -L <socket>`, so it never touches anyone's sessions), one window of a fixed size running
// a shell, keys sent with `send-keys`, the screen read with `capture-pane -p`.
// NCURSES_NO_UTF8_ACS=1 makes blessed draw borders with Unicode box characters rather than the
// terminal's line-drawing set, which capture-pane would show as letters (q, x, l...).
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';

/** Whether tmux can be run here. */
export function tmuxAvailable(): boolean {
  return spawnSync('tmux', ['-V']).status === 0;
}

let sessions = 0;

/** One tmux server with one window running `sh` (or a given command). */
export class TmuxTerminal {
  readonly socket: string;
  /** The server's socket file (tmux leaves it behind when the server is killed). */
  readonly #socketPath: string;

  /**
   * Starts the server and its window: `cols` × `rows`, in `cwd`, UTF-8, `env` added to its
   * environment, running `command` (argv; default: a shell, `sh`).
   */
  constructor(options: { cwd: string; cols: number; rows: number; env?: Record<string, string>; command?: string[] }) {
    this.socket = `swarm-${process.pid}-${++sessions}-${Date.now().toString(36)}`;
    const env = { LANG: 'C.UTF-8', NCURSES_NO_UTF8_ACS: '1', ...options.env };
    const args = [
      '-L',
      this.socket,
      '-u',
      '-f',
      '/dev/null',
      'new-session',
      '-d',
      '-s',
      'main',
      '-x',
      String(options.cols),
      '-y',
      String(options.rows),
      '-c',
      options.cwd,
    ];
    for (const [k, v] of Object.entries(env)) args.push('-e', `${k}=${v}`);
    args.push(...(options.command ?? ['sh']));
    execFileSync('tmux', args, { stdio: 'pipe' });
    this.#socketPath = execFileSync('tmux', ['-L', this.socket, 'display-message', '-p', '#{socket_path}'], {
      encoding: 'utf8',
    }).trim();
  }

  /** Sends keys by tmux name (`Enter`, `C-c`, `Up`, `q`...). */
  keys(...keys: string[]): void {
    execFileSync('tmux', ['-L', this.socket, 'send-keys', '-t', 'main', ...keys], { stdio: 'pipe' });
  }

  /** Types text literally, then Enter. */
  type(line: string): void {
    execFileSync('tmux', ['-L', this.socket, 'send-keys', '-t', 'main', '-l', line], { stdio: 'pipe' });
    this.keys('Enter');
  }

  /** The visible screen, one string per row (trailing spaces removed). */
  screen(): string[] {
    const out = execFileSync('tmux', ['-L', this.socket, 'capture-pane', '-p', '-t', 'main'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    return out
      .replace(/\n$/, '')
      .split('\n')
      .map((l) => l.trimEnd());
  }

  /** Pid of the process running in the window (the shell). */
  panePid(): number {
    return Number(
      execFileSync('tmux', ['-L', this.socket, 'list-panes', '-t', 'main', '-F', '#{pane_pid}'], {
        encoding: 'utf8',
      }).trim(),
    );
  }

  /** Stops the server and everything in its window, and removes its socket file. */
  kill(): void {
    spawnSync('tmux', ['-L', this.socket, 'kill-server'], { stdio: 'ignore' });
    if (this.#socketPath) fs.rmSync(this.#socketPath, { force: true });
  }
}
