// The dashboard (DESIGN §8): the blessed screen over a RunSource. It lays out the panes, maps keys
// to moves and control requests, and redraws at most 10 times a second: file changes (directory
// watchers plus a slow rescan) ask for a poll of the run directory, a poll that changed the model
// asks for a frame, and a 1 s clock asks for one too (elapsed times, heartbeat ages).
//
//   keys ──▶ Dashboard ──request()──▶ control/<ulid>.json        (the only file it writes)
//              ▲    │
//   watcher ───┘    └── poll ──▶ RunSource ──▶ RunModel ──▶ views ──▶ screen (≤ 10 frames/s)
import blessed from 'blessed';
import { Throttle } from '../util/throttle.js';
import { unreachable } from '../util/unreachable.js';
import { DirectoryWatcher } from '../util/watch.js';
import { RunActions } from './actions.js';
import { BottomLine, type BottomMode } from './bottom-line.js';
import { DetailPane } from './detail-pane.js';
import { parseFilter } from './filter.js';
import { FeedPane } from './feed-pane.js';
import { HeaderPane } from './header-view.js';
import { layoutFor, place } from './layout.js';
import { openHelp, readFilter } from './overlays.js';
import { Pager } from './pager.js';
import { RunSource } from './source.js';
import { TaskListPane } from './task-list-view.js';
import { painter, type Line, type Paint, type Tone } from './theme.js';
import { WorkersPane } from './workers-view.js';

/** How a dashboard is started. */
export interface DashboardOptions {
  /** The run directory. */
  runDir: string;
  /** Terminal input and output; default: the process's stdin and stdout. Tests pass fake TTY streams. */
  input?: NodeJS.ReadableStream;
  output?: NodeJS.WritableStream;
  /** terminfo name; default: $TERM. */
  terminal?: string;
  /**
   * Set when the dashboard runs under `swarm run`/`swarm resume`: Ctrl-C is then the run's Ctrl-C
   * (this callback sends it to the coordinator) instead of quitting.
   */
  onInterrupt?: () => void;
  /** Colours (default true; false for NO_COLOR). */
  colors?: boolean;
  /** The slow rescan of the run directory, ms (default 2000). */
  rescanMs?: number;
  /** Least time between two frames and between two polls, ms (default 100: at most 10 a second). */
  frameMs?: number;
  /** Called after the first full frame (the benchmark measures start-up to here). */
  onFirstFrame?: (dashboard: Dashboard) => void;
}

/** The pane that j/k and the arrows move in; tab cycles, enter and esc switch tasks ⇄ detail. */
type Pane = 'tasks' | 'detail' | 'feed';

/**
 * What keys do now. Every mode returns to `normal`; Ctrl-C acts in all of them.
 *
 *            ┌── ? ──▶ help ──── any key ───┐
 *            ├── l, d ─▶ pager ── q, esc ───┤
 *   normal ──┼── / ──▶ prompt ── enter, esc ─┼──▶ normal
 *            └── c ──▶ confirm ── y (sends), other ─┘
 */
type Mode = 'normal' | 'help' | 'pager' | 'prompt' | 'confirm';

/** A live dashboard on one run directory. */
export class Dashboard {
  readonly source: RunSource;
  readonly screen: blessed.Widgets.Screen;
  /** Settles when the dashboard has quit and the terminal is restored. */
  readonly closed: Promise<void>;
  /** Frames drawn so far (tests and the benchmark). */
  frames = 0;
  readonly #options: DashboardOptions;
  readonly #paint: Paint;
  readonly #header: HeaderPane;
  readonly #tasks: TaskListPane;
  readonly #detail: DetailPane;
  readonly #feed: FeedPane;
  readonly #workers: WorkersPane;
  readonly #bottom: BottomLine;
  readonly #actions: RunActions;
  readonly #frame: Throttle;
  readonly #poll: Throttle;
  readonly #watcher: DirectoryWatcher;
  readonly #clock: NodeJS.Timeout;
  #resolveClosed!: () => void;
  #focus: Pane = 'tasks';
  #mode: Mode = 'normal';
  #overlay: blessed.Widgets.BoxElement | undefined;
  #pager: Pager | undefined;
  #confirm: { question: string; action: () => void } | undefined;
  /** The newest `notice` event already shown on the bottom line (those read at opening are in the feed only). */
  #noticeSeq: number;
  #quit = false;

  private constructor(source: RunSource, options: DashboardOptions) {
    this.source = source;
    this.#options = options;
    this.#paint = painter(options.colors ?? true);
    this.closed = new Promise((resolve) => (this.#resolveClosed = resolve));
    // @types/blessed swaps the types of `input` and `output`; both are plain streams here.
    const streams = {
      input: options.input ?? process.stdin,
      output: options.output ?? process.stdout,
    } as unknown as Pick<blessed.Widgets.IScreenOptions, 'input' | 'output'>;
    this.screen = blessed.screen({
      ...streams,
      ...(options.terminal ? { terminal: options.terminal } : {}),
      smartCSR: true,
      fullUnicode: true,
      warnings: false,
      title: `swarm dashboard ${source.model.run.id}`,
    });
    const paint = this.#paint;
    const frameMs = options.frameMs ?? 100;
    this.#frame = new Throttle(() => this.#draw(), frameMs);
    this.#poll = new Throttle(() => this.#pollNow(), frameMs);
    this.#watcher = new DirectoryWatcher(source.watchDirs(), () => this.#poll.request(), options.rescanMs ?? 2000, {
      create: false,
    });
    this.#header = new HeaderPane(this.screen, paint);
    this.#tasks = new TaskListPane(this.screen, source.model, paint);
    this.#detail = new DetailPane(this.screen, paint, source, this.#watcher);
    this.#feed = new FeedPane(this.screen, paint);
    this.#workers = new WorkersPane(this.screen, paint);
    this.#bottom = new BottomLine(this.screen, paint);
    this.#actions = new RunActions({
      source,
      say: (text, tone) => this.#say(text, tone),
      confirm: (question, action) => {
        this.#confirm = { question, action };
        this.#mode = 'confirm';
        this.#frame.request();
      },
      redraw: () => this.#frame.request(),
    });
    this.#noticeSeq = source.model.lastNotice?.seq ?? 0;
    this.#layout();

    this.#clock = setInterval(() => this.#frame.request(), 1000);
    this.screen.on('resize', () => {
      this.#layout();
      this.#frame.request();
    });
    this.screen.on('keypress', (ch: string | undefined, key: blessed.Widgets.Events.IKeyEventArg | undefined) =>
      this.#key(ch, key),
    );
    this.#draw();
  }

  /**
   * Opens the run directory (before touching the terminal, so a bad directory is an error message,
   * not a broken screen), then the screen.
   * @throws NotARunError, ProtocolFileError, or an Error for a broken event log.
   */
  static open(options: DashboardOptions): Dashboard {
    const source = RunSource.open(options.runDir);
    return new Dashboard(source, options);
  }

  /** Quits: stops watching, restores the terminal, settles `closed`. */
  quit(): void {
    if (this.#quit) return;
    this.#quit = true;
    this.#frame.stop();
    this.#poll.stop();
    clearInterval(this.#clock);
    void this.#watcher.close();
    this.screen.destroy();
    this.#resolveClosed();
  }

  /** Polls the run directory and draws a frame now (tests). */
  refresh(): void {
    this.#pollNow(false);
    this.#draw();
  }

  /** The selected task (tests). */
  get selected(): string | null {
    return this.#tasks.selected;
  }

  // -- layout and drawing --------------------------------------------------------------------

  #layout(): void {
    const at = layoutFor(Number(this.screen.height) || 24, Number(this.screen.width) || 80);
    place(this.#tasks.element, at.tasks);
    place(this.#detail.pane.element, at.detail);
    place(this.#feed.pane.element, at.feed);
    place(this.#workers.element, at.workers);
    for (const el of [this.#feed.pane.element, this.#workers.element]) {
      if (at.feed.height === 0) el.hide();
      else el.show();
    }
    place(this.#bottom.element, at.bottom);
    if (this.#overlay) place(this.#overlay, at.screen);
    if (this.#pager) place(this.#pager.element, at.screen);
  }

  #pollNow(throttleFiles = true): void {
    if (this.#quit) return;
    const changed = this.source.poll({ throttleFiles });
    for (const dir of this.source.watchDirs()) this.#watcher.add(dir);
    // A notice that arrives while the dashboard is open is said on the bottom line too.
    const notice = this.source.model.lastNotice;
    if (notice && notice.seq > this.#noticeSeq) {
      this.#noticeSeq = notice.seq;
      this.#bottom.say(notice.text, 'warn');
    }
    if (changed) this.#frame.request();
  }

  #draw(): void {
    if (this.#quit) return;
    const now = Date.now();
    const model = this.source.model;
    this.#header.update(model.header(now));
    this.#tasks.render(now, this.#focus === 'tasks' && this.#mode !== 'pager');
    this.#tasks.element.style.border = { fg: this.#focus === 'tasks' ? 'cyan' : 'gray' };
    this.#detail.update(this.#tasks.selected, now);
    this.#detail.pane.render(this.#focus === 'detail');
    this.#feed.update(model);
    this.#feed.pane.render(this.#focus === 'feed');
    this.#workers.update(model.workerRows(now));
    this.#bottom.update(model, this.#bottomMode(), now, Number(this.screen.width) || 80);
    this.#pager?.render();
    this.screen.render();
    this.frames++;
    if (this.frames === 1) this.#options.onFirstFrame?.(this);
  }

  #bottomMode(): BottomMode {
    switch (this.#mode) {
      case 'confirm':
        return { kind: 'confirm', question: this.#confirm?.question ?? '' };
      case 'pager':
        return { kind: 'pager' };
      case 'prompt':
        return { kind: 'prompt' };
      case 'normal':
      case 'help': {
        const m = this.source.model;
        const live = m.liveness === 'alive' && m.state.phase !== 'finished';
        return { kind: 'normal', attached: this.#options.onInterrupt !== undefined && live };
      }
      default:
        return unreachable(this.#mode, 'mode');
    }
  }

  #say(text: string, tone: Tone = 'normal'): void {
    this.#bottom.say(text, tone);
    this.#frame.request();
  }

  // -- keys ------------------------------------------------------------------------------------

  #key(ch: string | undefined, key: blessed.Widgets.Events.IKeyEventArg | undefined): void {
    if (this.#quit) return;
    const name = key?.full ?? ch ?? '';
    if (name === 'C-c') return this.#interrupt();
    switch (this.#mode) {
      case 'prompt':
        return; // the textbox has the keys
      case 'help':
        return this.#closeOverlay();
      case 'confirm': {
        const confirm = this.#confirm;
        this.#mode = 'normal';
        this.#confirm = undefined;
        if (confirm && (ch === 'y' || ch === 'Y')) confirm.action();
        else this.#say('not cancelled', 'muted');
        this.#frame.request();
        return;
      }
      case 'pager':
        if (this.#pager?.key(ch, name) === 'closed') {
          this.#pager = undefined;
          this.#mode = 'normal';
        }
        this.#frame.request();
        return;
      case 'normal':
        break;
      default:
        unreachable(this.#mode, 'mode');
    }
    const task = this.#tasks.selected;
    switch (ch) {
      case 'q':
        return this.quit();
      case 'j':
        return this.#move(1);
      case 'k':
        return this.#move(-1);
      case 'g':
        return this.#jump('start');
      case 'G':
        return this.#jump('end');
      case '?':
        return this.#openHelp();
      case '/':
        return this.#openPrompt();
      case 'f':
        this.#setFilter(
          this.#tasks.filter?.states?.has('failed') && this.#tasks.filter.states.size === 1 && !this.#tasks.filter.text
            ? null
            : parseFilter('failed'),
        );
        return;
      case 'l':
        if (task) this.#openPager(`log · ${task}`, this.source.readLog(task));
        return;
      case 'd':
        if (task) this.#openDiff(task);
        return;
      case 'p':
        return this.#actions.pauseOrResume();
      case 'c':
        if (task) this.#actions.cancel(task);
        return;
      case 'r':
        if (task) this.#actions.retry(task);
        return;
    }
    switch (name) {
      case 'up':
        return this.#move(-1);
      case 'down':
        return this.#move(1);
      case 'pageup':
        return this.#page(-1);
      case 'pagedown':
        return this.#page(1);
      case 'home':
        return this.#jump('start');
      case 'end':
        return this.#jump('end');
      case 'tab':
        this.#focus = this.#focus === 'tasks' ? 'detail' : this.#focus === 'detail' ? 'feed' : 'tasks';
        this.#frame.request();
        return;
      case 'S-tab':
        this.#focus = this.#focus === 'tasks' ? 'feed' : this.#focus === 'feed' ? 'detail' : 'tasks';
        this.#frame.request();
        return;
      case 'enter': // blessed sends `return` and then `enter` for one Enter key: only this one counts
        this.#focus = this.#focus === 'tasks' ? 'detail' : 'tasks';
        this.#frame.request();
        return;
      case 'escape':
        if (this.#focus !== 'tasks') this.#focus = 'tasks';
        else if (this.#tasks.filter) this.#setFilter(null);
        this.#frame.request();
        return;
    }
  }

  #move(delta: number): void {
    if (this.#focus === 'tasks') this.#tasks.move(delta);
    else (this.#focus === 'detail' ? this.#detail.pane : this.#feed.pane).scroll(delta);
    this.#frame.request();
  }

  #page(direction: 1 | -1): void {
    if (this.#focus === 'tasks') this.#tasks.move(direction * Math.max(1, this.#tasks.pageSize - 1));
    else (this.#focus === 'detail' ? this.#detail.pane : this.#feed.pane).page(direction);
    this.#frame.request();
  }

  #jump(where: 'start' | 'end'): void {
    if (this.#focus === 'tasks') this.#tasks.jump(where);
    else (this.#focus === 'detail' ? this.#detail.pane : this.#feed.pane).jump(where);
    this.#frame.request();
  }

  #setFilter(filter: ReturnType<typeof parseFilter>): void {
    this.#tasks.setFilter(filter);
    this.#frame.request();
  }

  #interrupt(): void {
    const m = this.source.model;
    const live = m.liveness === 'alive' && m.state.phase !== 'finished';
    if (this.#options.onInterrupt && live) {
      this.#options.onInterrupt();
      this.#say(
        'Ctrl-C sent to the coordinator: it stops dispatching (again: cancels running attempts; a third time: exits at once)',
        'warn',
      );
      return;
    }
    this.quit();
  }

  // -- overlays ------------------------------------------------------------------------------

  #openHelp(): void {
    this.#overlay = openHelp(this.screen, this.#paint);
    this.#mode = 'help';
    this.#frame.request();
  }

  #closeOverlay(): void {
    this.#overlay?.destroy();
    this.#overlay = undefined;
    this.#mode = 'normal';
    this.#frame.request();
  }

  #openPager(label: string, lines: Line[]): Pager {
    this.#pager?.destroy();
    this.#pager = new Pager(this.screen, this.#paint, label, lines);
    this.#mode = 'pager';
    this.#frame.request();
    return this.#pager;
  }

  #openDiff(task: string): void {
    const pager = this.#openPager(`diff · ${task}`, [{ text: 'reading the diff…', tone: 'muted' }]);
    this.source
      .readDiff(task)
      .then((lines) => {
        if (this.#pager !== pager) return;
        pager.setLines(lines);
        this.#frame.request();
      })
      .catch((e: unknown) => pager.setLines([{ text: (e as Error).message, tone: 'bad' }]));
  }

  #openPrompt(): void {
    this.#mode = 'prompt';
    readFilter(this.screen, this.#tasks.filter, (value) => {
      this.#mode = 'normal';
      if (value !== undefined) this.#setFilter(parseFilter(value));
      this.#frame.request();
    });
  }
}
