// Directory watching as DESIGN §2 asks: watch directories (never files), made before watching,
// plus a periodic rescan, because file watchers drop events. A missed event costs latency only.
import fs from 'node:fs';
import { watch, type FSWatcher } from 'chokidar';

/**
 * Calls `onChange` (debounced to one call per macrotask) when anything in the watched directories
 * changes, and every `rescanMs` regardless. Directories are created if missing.
 */
export class DirectoryWatcher {
  readonly #watcher: FSWatcher;
  readonly #timer: NodeJS.Timeout;
  #pending = false;
  #closed = false;

  constructor(dirs: string[], readonly onChange: () => void, rescanMs = 1000) {
    for (const d of dirs) fs.mkdirSync(d, { recursive: true });
    this.#watcher = watch(dirs, { depth: 0, ignoreInitial: true, persistent: true });
    this.#watcher.on('all', () => this.#fire());
    this.#watcher.on('error', () => this.#fire());
    this.#timer = setInterval(() => this.#fire(), rescanMs);
  }

  /** Starts watching another directory (created if missing). */
  add(dir: string): void {
    fs.mkdirSync(dir, { recursive: true });
    this.#watcher.add(dir);
  }

  #fire(): void {
    if (this.#pending || this.#closed) return;
    this.#pending = true;
    setImmediate(() => {
      this.#pending = false;
      if (!this.#closed) this.onChange();
    });
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#timer);
    await this.#watcher.close();
  }
}
