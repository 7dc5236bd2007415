// Directory watching as DESIGN §2 asks: watch directories (never files), made before watching,
// plus a periodic rescan as the safety net. A missed event costs latency only.
//
// This uses Node's fs.watch (inotify on Linux) on each directory rather than chokidar: chokidar
// throttles change events per file (measured: of two rewrites of worker.json a few ms apart, the
// second was dropped, and the coordinator waited for its 1 s rescan), and its bookkeeping grew
// with every directory added and removed. Raw directory events have neither problem; all we need
// from them is "something in here changed, look".
import fs from 'node:fs';

/** SWARM_NO_WATCH=1: rely on the periodic rescan alone (see DirectoryWatcher.add). */
const RESCAN_ONLY = process.env.SWARM_NO_WATCH === '1';

/**
 * Calls `onChange` (debounced to one call per macrotask) when anything in the watched directories
 * changes, with the directories that changed, and every `rescanMs` regardless, with `all` (as
 * after a watched directory's watcher failed). Directories are created if missing, unless
 * `create: false` (readers such as the dashboard, which must not write into a run directory:
 * a missing directory is then not watched, and the rescan covers it).
 */
export class DirectoryWatcher {
  readonly #watchers = new Map<string, fs.FSWatcher>();
  readonly #timer: NodeJS.Timeout;
  readonly #create: boolean;
  #pending = false;
  #closed = false;
  /** What changed since the last onChange: the directories whose watcher fired, or all (the rescan). */
  #changed = new Set<string>();
  #all = false;

  constructor(
    dirs: string[],
    readonly onChange: (changed: ReadonlySet<string> | 'all') => void,
    rescanMs = 1000,
    options: { create?: boolean } = {},
  ) {
    this.#create = options.create ?? true;
    for (const d of dirs) this.add(d);
    this.#timer = setInterval(() => this.#fire(), rescanMs);
  }

  /**
   * Starts watching another directory (created if missing, unless `create: false`). With
   * SWARM_NO_WATCH=1 in the environment nothing is watched and only the rescan runs: what a run
   * directory on a network file system gets (inotify sees only local writes), and what the
   * simulated-workers benchmark measures.
   */
  add(dir: string): void {
    if (this.#closed || this.#watchers.has(dir)) return;
    if (this.#create) fs.mkdirSync(dir, { recursive: true });
    else if (!fs.existsSync(dir)) return;
    if (RESCAN_ONLY) return;
    try {
      const w = fs.watch(dir, { persistent: true }, () => this.#fire(dir));
      // A watched directory that disappears ends its watcher; the rescan still runs.
      w.on('error', () => {
        w.close();
        this.#watchers.delete(dir);
        this.#fire();
      });
      this.#watchers.set(dir, w);
    } catch {
      // Out of inotify watches, say: the periodic rescan still notices everything.
    }
  }

  /** Stops watching one directory (the others and the rescan go on). */
  remove(dir: string): void {
    this.#watchers.get(dir)?.close();
    this.#watchers.delete(dir);
  }

  /** The directories watched now. */
  get watched(): string[] {
    return [...this.#watchers.keys()];
  }

  /** Notes what changed (a directory, or `all` for the rescan), and calls onChange once this macrotask is over. */
  #fire(dir?: string): void {
    if (this.#closed) return;
    if (dir === undefined) this.#all = true;
    else this.#changed.add(dir);
    if (this.#pending) return;
    this.#pending = true;
    setImmediate(() => {
      this.#pending = false;
      const changed: ReadonlySet<string> | 'all' = this.#all ? 'all' : this.#changed;
      this.#all = false;
      this.#changed = new Set();
      if (!this.#closed) this.onChange(changed);
    });
  }

  /** Stops watching. */
  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#timer);
    for (const w of this.#watchers.values()) w.close();
    this.#watchers.clear();
  }
}
