// The dashboard (DESIGN §8): the blessed screen over a RunSource. It lays out the panes, maps keys
// to moves and control requests, and redraws at most 10 times a second: file changes (directory
// watchers plus a slow rescan) ask for a poll of the run directory, a poll that changed the model
// asks for a frame, and a 1 s clock asks for one too (elapsed times, heartbeat ages).
//
//   keys ──▶ Dashboard ──request()──▶ control/<ulid>.json        (the only file it writes)
//              ▲    │
//   watcher ───┘    └── poll ──▶ RunSource ──▶ RunModel ──▶ views ──▶ screen (≤ 10 frames/s)
import blessed from 'blessed';
import type { ControlAction } from '../protocol/schemas.js';
import { TERMINAL } from '../protocol/state.js';
import { Throttle } from '../util/throttle.js';
import { unreachable } from '../util/unreachable.js';
import { DirectoryWatcher } from '../util/watch.js';
import { clockTime } from '../presenter/format.js';
import { cut, fit } from './format.js';
import { HEADER_HEIGHT, HeaderPane } from './header-view.js';
import { helpLine, helpText } from './keys.js';
import { describeRequest } from './detail.js';
import type { TaskFiles } from './facts.js';
import { parseFilter } from './filter.js';
import { ScrollPane } from './scroll-pane.js';
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

/** How long a message stays on the bottom line, ms. */
const MESSAGE_MS = 15_000;
/** A running task's detail is re-read at most this often, ms. */
const LIVE_DETAIL_MS = 500;

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
  readonly #detail: ScrollPane;
  readonly #feed: ScrollPane;
  readonly #workers: WorkersPane;
  readonly #bottom: blessed.Widgets.BoxElement;
  readonly #frame: Throttle;
  readonly #poll: Throttle;
  readonly #watcher: DirectoryWatcher;
  readonly #clock: NodeJS.Timeout;
  #resolveClosed!: () => void;
  #focus: Pane = 'tasks';
  #mode: Mode = 'normal';
  #overlay: blessed.Widgets.BoxElement | undefined;
  #pager: ScrollPane | undefined;
  #confirm: { question: string; action: () => void } | undefined;
  #message: { text: string; tone: Tone; at: number } | undefined;
  /** The last request's status as last drawn, and since when. */
  #request: { id: string; status: string; at: number } = { id: '', status: '', at: 0 };
  #detailTask: string | null = null;
  #detailFiles: TaskFiles | undefined;
  #detailStamp = '';
  #detailReadAt = 0;
  #detailLinesKey = '';
  #watchedAttempt: string | undefined;
  #feedKey = '';
  readonly #feedCache = new WeakMap<object, Line>();
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
    this.#header = new HeaderPane(this.screen, paint);
    this.#tasks = new TaskListPane(this.screen, source.model, paint);
    this.#detail = new ScrollPane({ parent: this.screen, paint, label: 'detail' });
    this.#feed = new ScrollPane({ parent: this.screen, paint, label: 'events', follow: true, wrap: false });
    this.#workers = new WorkersPane(this.screen, paint);
    this.#bottom = blessed.box({ parent: this.screen, height: 1, left: 0, tags: true, wrap: false });
    this.#layout();

    const frameMs = options.frameMs ?? 100;
    this.#frame = new Throttle(() => this.#draw(), frameMs);
    this.#poll = new Throttle(() => this.#pollNow(), frameMs);
    this.#watcher = new DirectoryWatcher(source.watchDirs(), () => this.#poll.request(), options.rescanMs ?? 2000, {
      create: false,
    });
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

  /** A line from the coordinator this dashboard is attached to (not an event: "stopping: waiting for..."). */
  notice(text: string): void {
    this.source.model.notice(text, new Date().toISOString());
    this.#say(text, 'warn');
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
    const rows = Number(this.screen.height) || 24;
    const cols = Number(this.screen.width) || 80;
    const bottom = rows >= 40 ? 12 : rows >= 30 ? 8 : rows >= 18 ? 6 : 0;
    const mid = Math.max(3, rows - HEADER_HEIGHT - 1 - bottom);
    const listW = Math.floor(cols * (cols >= 120 ? 0.5 : 0.55));
    const workersW = Math.min(40, Math.max(26, Math.floor(cols * 0.35)));
    const place = (el: blessed.Widgets.BoxElement, top: number, left: number, width: number, height: number): void => {
      el.top = top;
      el.left = left;
      el.width = Math.max(1, width);
      el.height = Math.max(1, height);
    };
    place(this.#tasks.element, HEADER_HEIGHT, 0, listW, mid);
    place(this.#detail.element, HEADER_HEIGHT, listW, cols - listW, mid);
    place(this.#feed.element, HEADER_HEIGHT + mid, 0, cols - workersW, bottom);
    place(this.#workers.element, HEADER_HEIGHT + mid, cols - workersW, workersW, bottom);
    for (const el of [this.#feed.element, this.#workers.element]) {
      if (bottom === 0) el.hide();
      else el.show();
    }
    place(this.#bottom, rows - 1, 0, cols, 1);
    if (this.#overlay) place(this.#overlay, 0, 0, cols, rows);
    if (this.#pager) place(this.#pager.element, 0, 0, cols, rows);
  }

  #pollNow(throttleFiles = true): void {
    if (this.#quit) return;
    const changed = this.source.poll({ throttleFiles });
    for (const dir of this.source.watchDirs()) this.#watcher.add(dir);
    if (changed) this.#frame.request();
  }

  #draw(): void {
    if (this.#quit) return;
    const now = Date.now();
    const model = this.source.model;
    this.#header.update(model.header(now));
    this.#tasks.render(now, this.#focus === 'tasks' && this.#mode !== 'pager');
    this.#tasks.element.style.border = { fg: this.#focus === 'tasks' ? 'cyan' : 'gray' };
    this.#drawDetail(now);
    this.#detail.render(this.#focus === 'detail');
    this.#updateFeed();
    this.#feed.render(this.#focus === 'feed');
    this.#workers.update(model.workerRows(now));
    this.#bottom.setContent(this.#bottomLine(now));
    this.#pager?.render(true);
    this.screen.render();
    this.frames++;
    if (this.frames === 1) this.#options.onFirstFrame?.(this);
  }

  #drawDetail(now: number): void {
    const model = this.source.model;
    const id = this.#tasks.selected;
    const changedTask = id !== this.#detailTask;
    const snapshot = id ? model.state.tasks[id] : undefined;
    const stamp = `${id}:${JSON.stringify(snapshot)}`;
    const running = snapshot?.state === 'running';
    if (id && (changedTask || stamp !== this.#detailStamp || (running && now - this.#detailReadAt >= LIVE_DETAIL_MS))) {
      this.#detailFiles = this.source.readTask(id);
      this.#detailStamp = stamp;
      this.#detailReadAt = now;
      this.#watchAttempt(id);
    }
    this.#detailTask = id;
    if (!id) {
      this.#detail.setLines([{ text: 'no task selected', tone: 'muted' }], changedTask);
      return;
    }
    const lines = model.detail(id, this.#detailFiles, now);
    const key = JSON.stringify(lines);
    if (key !== this.#detailLinesKey || changedTask) this.#detail.setLines(lines, changedTask);
    this.#detailLinesKey = key;
    this.#detail.setLabel(`detail · ${id}`);
  }

  /** Watches the selected task's attempt directory (its output changes there), and only that one. */
  #watchAttempt(id: string): void {
    const dir = this.source.model.state.tasks[id]?.state === 'running' ? this.source.attemptDir(id) : undefined;
    if (dir === this.#watchedAttempt) return;
    if (this.#watchedAttempt) this.#watcher.remove(this.#watchedAttempt);
    this.#watchedAttempt = dir;
    if (dir) this.#watcher.add(dir);
  }

  /** Hands the feed pane its lines when the feed changed; each line is formatted once. */
  #updateFeed(): void {
    const feed = this.source.model.feed();
    const key = `${feed.length}:${feed.at(-1)?.seq}:${feed.at(-1)?.at}`;
    if (key === this.#feedKey) return;
    this.#feedKey = key;
    this.#feed.setLines(
      feed.map((f) => {
        let line = this.#feedCache.get(f);
        if (!line) this.#feedCache.set(f, (line = { text: `${clockTime(f.at)} ${f.text}`, tone: f.tone }));
        return line;
      }),
    );
  }

  #bottomLine(now: number): string {
    const width = Number(this.screen.width) || 80;
    const p = this.#paint;
    if (this.#mode === 'confirm' && this.#confirm) return p('warn', fit(this.#confirm.question, width));
    if (this.#mode === 'pager') return p('muted', fit('↑↓ jk scroll  space/b page  g/G top/end  q/esc close', width));
    if (this.#mode === 'prompt') return '';
    const model = this.source.model;
    const req = model.lastRequest();
    if (req && (req.id !== this.#request.id || req.status !== this.#request.status))
      this.#request = { id: req.id, status: req.status, at: now };
    if (req && this.#request.at >= (this.#message?.at ?? 0)) {
      // A request's line stays while it is pending, and for a while after each change.
      const fresh = req.status === 'pending' || now - this.#request.at < MESSAGE_MS;
      if (fresh)
        return p(
          req.status === 'rejected' ? 'bad' : req.status === 'pending' ? 'warn' : 'ok',
          cut(describeRequest(req, model.liveness), width),
        );
    }
    if (this.#message && now - this.#message.at < MESSAGE_MS)
      return p(this.#message.tone, cut(this.#message.text, width));
    const live = model.liveness === 'alive' && model.state.phase !== 'finished';
    const attached = this.#options.onInterrupt && live ? '  (q: the run goes on)' : '';
    return p('muted', cut(helpLine(width - attached.length) + attached, width));
  }

  #say(text: string, tone: Tone = 'normal'): void {
    this.#message = { text, tone, at: Date.now() };
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
        return this.#pagerKey(ch, name);
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
        return this.#pauseOrResume();
      case 'c':
        if (task) this.#cancel(task);
        return;
      case 'r':
        if (task) this.#retry(task);
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
    else (this.#focus === 'detail' ? this.#detail : this.#feed).scroll(delta);
    this.#frame.request();
  }

  #page(direction: 1 | -1): void {
    if (this.#focus === 'tasks') this.#tasks.move(direction * Math.max(1, this.#tasks.pageSize - 1));
    else (this.#focus === 'detail' ? this.#detail : this.#feed).page(direction);
    this.#frame.request();
  }

  #jump(where: 'start' | 'end'): void {
    if (this.#focus === 'tasks') this.#tasks.jump(where);
    else (this.#focus === 'detail' ? this.#detail : this.#feed).jump(where);
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

  // -- actions -------------------------------------------------------------------------------

  /** Refuses an action on a finished run (its requests are never applied); returns true if refused. */
  #finished(what: string): boolean {
    if (this.source.model.state.phase !== 'finished') return false;
    this.#say(
      `the run is finished: nothing to ${what}${what === 'retry' ? ` (swarm resume --retry-failed ${this.source.paths.root} runs failed tasks again)` : ''}`,
      'muted',
    );
    return true;
  }

  #send(action: ControlAction, task?: string): void {
    this.source
      .request(action, task)
      .then(() => this.#frame.request())
      .catch((e: unknown) => this.#say(`could not create the ${action} request: ${(e as Error).message}`, 'bad'));
  }

  #pauseOrResume(): void {
    if (this.#finished('pause')) return;
    const phase = this.source.model.state.phase;
    if (phase === 'paused') this.#send('resume');
    else if (phase === 'running') this.#send('pause');
    else this.#say(`the run is ${phase}: nothing to pause or resume`, 'muted');
  }

  #cancel(task: string): void {
    if (this.#finished('cancel')) return;
    const state = this.source.model.state.tasks[task]?.state ?? 'pending';
    if (TERMINAL.has(state)) return this.#say(`${task} is already ${state}`, 'muted');
    const attempt = this.source.model.state.tasks[task]?.current?.attempt;
    this.#confirm = {
      question: `cancel ${task} (${state}${attempt ? `, attempt ${attempt}` : ''}) and skip its dependents? y/n`,
      action: () => this.#send('cancel-task', task),
    };
    this.#mode = 'confirm';
    this.#frame.request();
  }

  #retry(task: string): void {
    if (this.#finished('retry')) return;
    const state = this.source.model.state.tasks[task]?.state ?? 'pending';
    if (state !== 'failed' && state !== 'cancelled')
      return this.#say(`${task} is ${state}; only failed or cancelled tasks can be retried`, 'muted');
    this.#send('retry-task', task);
  }

  // -- overlays ------------------------------------------------------------------------------

  #openHelp(): void {
    const lines = helpText();
    const width = Math.min(Number(this.screen.width) || 80, Math.max(...lines.map((l) => l.length)) + 4);
    const height = Math.min(Number(this.screen.height) || 24, lines.length + 2);
    this.#overlay = blessed.box({
      parent: this.screen,
      top: 'center',
      left: 'center',
      width,
      height,
      border: { type: 'line' },
      label: ' keys ',
      tags: true,
      content: lines.map((l) => this.#paint('normal', l)).join('\n'),
    });
    this.#mode = 'help';
    this.#frame.request();
  }

  #closeOverlay(): void {
    this.#overlay?.destroy();
    this.#overlay = undefined;
    this.#mode = 'normal';
    this.#frame.request();
  }

  #openPager(label: string, lines: Line[]): void {
    this.#pager?.element.destroy();
    this.#pager = new ScrollPane({ parent: this.screen, paint: this.#paint, label });
    const p = this.#pager.element;
    p.top = 0;
    p.left = 0;
    p.width = Number(this.screen.width) || 80;
    p.height = (Number(this.screen.height) || 24) - 1;
    this.#pager.setLines(lines, true);
    this.#mode = 'pager';
    this.#frame.request();
  }

  #openDiff(task: string): void {
    this.#openPager(`diff · ${task}`, [{ text: 'reading the diff…', tone: 'muted' }]);
    const pager = this.#pager;
    this.source
      .readDiff(task)
      .then((lines) => {
        if (this.#pager !== pager || !pager) return;
        pager.setLines(lines, true);
        this.#frame.request();
      })
      .catch((e: unknown) => pager?.setLines([{ text: (e as Error).message, tone: 'bad' }]));
  }

  #pagerKey(ch: string | undefined, name: string): void {
    const pager = this.#pager;
    if (!pager) return;
    if (ch === 'q' || name === 'escape') {
      pager.element.destroy();
      this.#pager = undefined;
      this.#mode = 'normal';
    } else if (ch === 'j' || name === 'down') pager.scroll(1);
    else if (ch === 'k' || name === 'up') pager.scroll(-1);
    else if (ch === ' ' || ch === 'f' || name === 'pagedown' || name === 'space') pager.page(1);
    else if (ch === 'b' || name === 'pageup') pager.page(-1);
    else if (ch === 'g' || name === 'home') pager.jump('start');
    else if (ch === 'G' || name === 'end') pager.jump('end');
    this.#frame.request();
  }

  #openPrompt(): void {
    const prompt = blessed.textbox({
      parent: this.screen,
      bottom: 0,
      left: 0,
      height: 1,
      width: '100%',
      inputOnFocus: false,
      style: { fg: 'white' },
    });
    const label = blessed.text({ parent: this.screen, bottom: 0, left: 0, height: 1, content: 'filter: ' });
    prompt.left = 8;
    prompt.width = (Number(this.screen.width) || 80) - 8;
    prompt.setValue(
      this.#tasks.filter
        ? `${[...(this.#tasks.filter.states ?? [])].join(' ')} ${this.#tasks.filter.text ?? ''}`.trim()
        : '',
    );
    this.#mode = 'prompt';
    this.screen.render();
    prompt.readInput((_err, value) => {
      prompt.destroy();
      label.destroy();
      this.#mode = 'normal';
      if (typeof value === 'string') this.#setFilter(parseFilter(value));
      this.#frame.request();
    });
  }
}
