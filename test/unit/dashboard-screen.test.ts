// The dashboard's screen, drawn by blessed into fake terminal streams and read back with blessed's
// screenshot: layout at 80×24 and other sizes, keys, pagers, control requests, live tailing.
import fs from 'node:fs';
import path from 'node:path';
import blessed from 'blessed';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { EventLog } from '../../src/coordinator/event-log.js';
import { Dashboard, type DashboardOptions } from '../../src/dashboard/app.js';
import { headerLines, relativeCommand } from '../../src/dashboard/header-view.js';
import { helpLine, KEYS } from '../../src/dashboard/keys.js';
import { RunModel } from '../../src/dashboard/model.js';
import { ScrollPane, wrapLine } from '../../src/dashboard/scroll-pane.js';
import { columnsFor, rowText } from '../../src/dashboard/task-list-view.js';
import { painter } from '../../src/dashboard/theme.js';
import { loadRun, parseEvents } from '../../src/protocol/run-reader.js';
import { RunPaths } from '../../src/protocol/paths.js';
import { replay } from '../../src/protocol/state.js';
import {
  copyWithDeadCoordinator,
  recordFinishedRun,
  recordGitRun,
  startLiveRun,
  writeLargeRun,
  type LiveRun,
} from '../dashboard-fixtures.js';
import { fakeTerminal, screenText, type FakeTerminal } from '../fake-terminal.js';
import { makeWorld, readJson, waitFor, type World } from '../helpers.js';

let world: World;
let finished: string;
let dead: string;
let gitRun: string;
let large: string;
let live: LiveRun;

beforeAll(async () => {
  world = makeWorld('swarm-dash-screen-');
  [finished, live, gitRun] = await Promise.all([recordFinishedRun(world), startLiveRun(world), recordGitRun(world)]);
  dead = copyWithDeadCoordinator(live.dir, world.path('dead'));
  await live.finish();
  large = await writeLargeRun(world.path('large'));
}, 120_000);

afterAll(() => world?.cleanup());

let open: { dashboard: Dashboard; term: FakeTerminal }[] = [];
afterEach(() => {
  for (const o of open) o.dashboard.quit();
  open = [];
});

/** Opens a dashboard on fake streams, with a slow rescan (tests call refresh()). */
function show(
  runDir: string,
  cols = 80,
  rows = 24,
  options: Partial<DashboardOptions> = {},
): { dashboard: Dashboard; term: FakeTerminal; text(): string[]; press(keys: string): Promise<string[]> } {
  const term = fakeTerminal(cols, rows);
  const dashboard = Dashboard.open({
    runDir,
    input: term.input,
    output: term.output,
    terminal: 'xterm-256color',
    rescanMs: 60_000,
    ...options,
  });
  open.push({ dashboard, term });
  const text = (): string[] => {
    dashboard.refresh();
    return screenText(dashboard.screen);
  };
  return { dashboard, term, text, press: async (keys) => (await term.press(keys), text()) };
}

const find = (lines: string[], re: RegExp): string | undefined => lines.find((l) => re.test(l));

describe('the dashboard screen', () => {
  it('draws the header, tasks by wave, detail, events, workers and the help line at 80×24', () => {
    const { text } = show(finished);
    const s = text();
    expect(s).toHaveLength(24);
    expect(s[0]).toMatch(/^swarm run \w{26} · dashboard fixture$/);
    expect(s[1]).toMatch(/^finished: failed · \d+(\.\d)?s · 6\/6 done █+ 100% {2}✓4 ✗1 –1$/);
    expect(s[2]).toBe('coordinator exited · cost — · branch — · critical path 3/3');
    expect(s[3]).toMatch(/^┌─ tasks ─+┐┌─ detail · fetch( \d+\/\d+)? ─+┐$/);
    expect(find(s, /│─ wave 0 · 2\/2 done · 1 failed ─+/)).toBeDefined();
    // The fixture is a real run: under load its fetch may take a second or more (shown as 1.2s).
    expect(find(s, /│✓\*fetch +Fetch the inputs +#1 +(\d+ms|\d+(\.\d)?s)/)).toBeDefined();
    expect(find(s, /│✗ fail +exited with code 3 +#2/)).toBeDefined();
    expect(find(s, /│– after-fail +fail did not succ/)).toBeDefined();
    expect(find(s, /│✓\*report +#1/)).toBeDefined();
    expect(find(s, /✓ fetch · succeeded · critical/)).toBeDefined();
    expect(find(s, /┌─ events \d+\/\d+ ─+┐┌─ workers ─+┐/)).toBeDefined();
    expect(find(s, /│\d\d:\d\d:\d\d run finished: failed +│/)).toBeDefined();
    expect(find(s, /│w1 +exited/)).toBeDefined();
    expect(s[23]).toMatch(/^↑↓ move {2}⏎ detail {2}tab pane {2}\/ filter {2}f failed .*\? help {2}q quit$/);
  });

  it('moves with j, k and the arrows, and shows the selected task in the detail pane', async () => {
    const { press, dashboard } = show(finished, 100, 40);
    expect(dashboard.selected).toBe('fetch');
    let s = await press('j');
    expect(dashboard.selected).toBe('fail');
    expect(find(s, /detail · fail/)).toBeDefined();
    expect(find(s, /│ +oops +│$/)).toBeDefined(); // its stderr
    s = await press('j'); // skips the wave heading
    expect(dashboard.selected).toBe('flaky');
    expect(find(s, /── #2 succeeded/)).toBeDefined();
    expect(find(s, /── #1 failed \(exit-non-zero\)/)).toBeDefined();
    await press('\x1b[B\x1b[B\x1b[B'); // down ×3: bounded, after-fail, report
    expect(dashboard.selected).toBe('report');
    await press('j'); // the last task: stays
    expect(dashboard.selected).toBe('report');
    await press('k\x1b[A');
    expect(dashboard.selected).toBe('bounded');
    await press('g');
    expect(dashboard.selected).toBe('fetch');
    await press('G');
    expect(dashboard.selected).toBe('report');
  });

  it('focuses the detail pane with enter, cycles panes with tab, and goes back with esc', async () => {
    const { press, dashboard } = show(finished, 80, 24);
    await press('jj'); // flaky: a long detail
    const before = await press('\r');
    expect(find(before, /^┌─ tasks/)).toBeDefined();
    await press('j'); // scrolls the detail, not the list
    expect(dashboard.selected).toBe('flaky');
    await press('\t'); // → events
    await press('\t'); // → tasks
    await press('j');
    expect(dashboard.selected).toBe('bounded');
    await press('\r');
    await press('\x1b');
    await press('k');
    expect(dashboard.selected).toBe('flaky');
  });

  it('filters: f shows the failed tasks, / takes states or text, esc clears', async () => {
    const { press, dashboard } = show(finished);
    let s = await press('f');
    expect(find(s, /tasks · failed: 1 of 6/)).toBeDefined();
    expect(find(s, /│✗ fail/)).toBeDefined();
    expect(find(s, /fetch +Fetch/)).toBeUndefined();
    expect(dashboard.selected).toBe('fail');
    s = await press('f'); // again: all
    expect(find(s, /│✓\*fetch/)).toBeDefined();
    await press('/');
    s = await press('inputs\r');
    expect(find(s, /tasks · "inputs": 1 of 6/)).toBeDefined();
    expect(dashboard.selected).toBe('fetch');
    s = await press('\x1b');
    expect(find(s, /^┌─ tasks ─/)).toBeDefined();
    await press('/');
    s = await press('skipped succ\r');
    expect(find(s, /tasks · skipped, succeeded: 5 of 6/)).toBeDefined();
    expect(find(s, /│✗ fail/)).toBeUndefined();
    s = await press('\x1b');
    expect(find(s, /^┌─ tasks ─/)).toBeDefined();
    expect(find(s, /│✗ fail/)).toBeDefined();
  });

  it('asks before cancelling, then creates a cancel-task request as swarm control does, and shows when it is applied', async () => {
    const { press, dashboard, text } = show(dead, 120, 30);
    /** The screen once its status line says `want` (the request is written before the line changes), or as it is after 10 s. */
    const statusLine = async (want: string): Promise<string[]> => {
      let screen = text();
      await waitFor(() => (screen = text())[29] === want, 10_000, want).catch(() => undefined);
      return screen;
    };
    await press('j'); // wait (running in this snapshot)
    expect(dashboard.selected).toBe('wait');
    let s = await press('c');
    expect(s[29]).toBe('cancel wait (running, attempt 1) and skip its dependents? y/n');
    s = await press('n');
    expect(s[29]).toBe('not cancelled');
    const control = path.join(dead, 'control');
    const requests = (): string[] => fs.readdirSync(control).filter((n) => /^[0-9A-Z]{26}\.json$/.test(n));
    expect(requests()).toEqual([]);
    await press('c');
    await press('y');
    await waitFor(() => requests().length === 1, 10_000, 'the request file');
    const [name] = requests();
    expect(readJson(path.join(control, name!))).toMatchObject({ action: 'cancel-task', task: 'wait', by: 'dashboard' });
    s = await statusLine('cancel-task wait: waiting; no coordinator is running (`swarm resume` applies it)');
    expect(s[29]).toBe('cancel-task wait: waiting; no coordinator is running (`swarm resume` applies it)');
    expect(find(s, /your request: cancel-task wait: waiting/)).toBeDefined();
    // The coordinator applies it: archives it, records control.applied (with its own writer).
    const paths = new RunPaths(dead);
    const id = name!.slice(0, -5);
    fs.mkdirSync(paths.controlDoneDir, { recursive: true });
    fs.renameSync(paths.controlRequest(id), paths.controlDone(id));
    s = await statusLine('cancel-task wait: applied');
    expect(s[29]).toBe('cancel-task wait: applied');
    const log = new EventLog(paths, loadRun(dead).state);
    log.append({
      type: 'control.applied',
      request: id,
      action: 'cancel-task',
      task: 'wait',
      by: 'dashboard',
      accepted: true,
      message: 'cancelling attempt 1 of wait',
    });
    await log.close();
    s = await statusLine('cancel-task wait: applied: cancelling attempt 1 of wait');
    expect(s[29]).toBe('cancel-task wait: applied: cancelling attempt 1 of wait');
    expect(find(s, /control cancel-task wait by dashboard: cancelling attempt 1 of wait/)).toBeDefined();
  });

  it('pauses with p, refuses to retry a task that did not fail, and refuses actions on a finished run', async () => {
    const a = show(dead);
    await a.press('p');
    await waitFor(
      () =>
        fs
          .readdirSync(path.join(dead, 'control'))
          .some((n) => n.endsWith('.json') && readJson(path.join(dead, 'control', n)).action === 'pause'),
      10_000,
      'a pause request',
    );
    // The bottom line follows the request (written, then what became of it): let it settle before
    // the next key, whose message it would otherwise overwrite on a loaded machine.
    await waitFor(() => /^pause: waiting; no coordinator/.test(a.text()[23] ?? ''), 10_000, "the pause request's line");
    let s = await a.press('r');
    expect(s[23]).toBe('quick is succeeded; only failed or cancelled tasks can be retried');
    const b = show(finished);
    s = await b.press('p');
    expect(s[23]).toBe('the run is finished: nothing to pause');
    s = await b.press('jr');
    expect(s[23]).toMatch(/^the run is finished: nothing to retry \(swarm resume --retry-failed /);
    expect(
      fs.existsSync(path.join(finished, 'control'))
        ? fs.readdirSync(path.join(finished, 'control')).filter((n) => n.endsWith('.json'))
        : [],
    ).toEqual([]);
  });

  it("shows a task's full log in a pager with l, and q closes it", async () => {
    const { press } = show(finished);
    let s = await press('jjl');
    expect(s[0]).toMatch(/^┌─ log · flaky/);
    expect(find(s, /│════ attempt 1 · failed: exited with code 1/)).toBeDefined();
    expect(find(s, /│try 1/)).toBeDefined();
    expect(find(s, /│════ attempt 2 · succeeded/)).toBeDefined();
    expect(s[23]).toMatch(/q\/esc close/);
    s = await press('q');
    expect(s[0]).toMatch(/^swarm run/);
  });

  it("shows the diff of a task's commit with d (git isolation), and says why there is none without git", async () => {
    const g = show(gitRun, 100, 30);
    await g.press('d');
    const s = await waitFor(
      () => {
        const t = g.text();
        return find(t, /\+hello from the swarm/) ? t : undefined;
      },
      20_000,
      'the diff',
    );
    expect(s[0]).toMatch(/^┌─ diff · greet/);
    expect(find(s, /│attempt 1 · [0-9a-f]{12}\.\.[0-9a-f]{12} \(merged\)/)).toBeDefined();
    expect(find(s, /greeting\.txt \| 1 \+/)).toBeDefined();
    await g.press('q');
    expect(g.text()[2]).toMatch(/branch swarm\/\w{26} @[0-9a-f]{8}/);
    const f = show(finished);
    await f.press('d');
    const t = await waitFor(
      () => {
        const x = f.text();
        return find(x, /no git isolation/) ? x : undefined;
      },
      10_000,
      'the no-diff message',
    );
    expect(find(t, /this run has no git isolation: attempts ran in place, without commits/)).toBeDefined();
  });

  it('lists every key with ?, and any key closes the list', async () => {
    const { press } = show(finished, 100, 30);
    let s = await press('?');
    for (const k of KEYS) expect(s.join('\n')).toContain(k.keys);
    s = await press('x');
    expect(find(s, /keys/)).toBeUndefined();
  });

  it('redraws for a new size, larger and down to 80×24', async () => {
    const { term, text } = show(finished);
    term.resize(120, 40);
    await new Promise((r) => setTimeout(r, 20));
    let s = text();
    expect(s).toHaveLength(40);
    expect(s[3]!.length).toBe(120);
    expect(find(s, /│✓\*fetch +Fetch the inputs/)).toBeDefined();
    term.resize(80, 24);
    await new Promise((r) => setTimeout(r, 20));
    s = text();
    expect(s).toHaveLength(24);
    expect(s[3]!.length).toBe(80);
    expect(s[23]).toMatch(/^↑↓ move/);
  });

  it('shows a dead coordinator and the command that continues the run', () => {
    const { text } = show(dead, 100, 30);
    const s = text();
    expect(s[1]).toMatch(/^running \(no coordinator\) · /);
    const pid = readJson<{ pid: number }>(path.join(dead, 'coordinator.json')).pid;
    const full = `coordinator DEAD (pid ${pid} is gone) · continue with: swarm resume ${dead}`;
    expect(s[2]).toBe(full.length <= 100 ? full : `coordinator DEAD · continue: swarm resume ${dead}`); // the short form when the long one does not fit
    const wide = show(dead, 200, 30).text();
    expect(wide[2]).toBe(full);
    const narrow = show(dead, 60, 24).text();
    expect(narrow[2]).toBe(`coordinator DEAD · continue: swarm resume ${dead}`.slice(0, 59) + '…');
  });

  it('follows a live run: new events appear without a key press (watcher), at most 10 frames a second', async () => {
    // A copy of the finished run whose state.json and log stop after event 12: then the rest arrives.
    const dir = world.path('replayed');
    fs.cpSync(finished, dir, { recursive: true });
    const paths = new RunPaths(dir);
    const lines = fs.readFileSync(paths.eventsJsonl, 'utf8').split('\n').filter(Boolean);
    const events = parseEvents(
      paths.eventsJsonl,
      lines.map((l) => JSON.parse(l)),
    );
    fs.writeFileSync(paths.stateJson, JSON.stringify(replay(events.slice(0, 12))) + '\n');
    fs.writeFileSync(paths.eventsJsonl, lines.slice(0, 12).join('\n') + '\n');
    const term = fakeTerminal(80, 24);
    const dashboard = Dashboard.open({
      runDir: dir,
      input: term.input,
      output: term.output,
      terminal: 'xterm-256color',
    });
    open.push({ dashboard, term });
    expect(screenText(dashboard.screen)[1]).not.toMatch(/^finished/);
    const framesBefore = dashboard.frames;
    const started = Date.now();
    for (const line of lines.slice(12)) {
      fs.appendFileSync(paths.eventsJsonl, line + '\n');
      await new Promise((r) => setTimeout(r, 10));
    }
    await waitFor(
      () => /^finished: failed/.test(screenText(dashboard.screen)[1] ?? ''),
      20_000,
      'the header to show the finished run',
    );
    const seconds = (Date.now() - started) / 1000;
    const frames = dashboard.frames - framesBefore;
    expect(frames).toBeGreaterThan(0);
    expect(frames).toBeLessThanOrEqual(Math.ceil(seconds * 10) + 2);
  });

  it('opens a 10,000-task run, draws only what fits, and jumps to the last task', async () => {
    const t0 = performance.now();
    const { dashboard, press } = show(large, 100, 30);
    const openMs = performance.now() - t0;
    let s = screenText(dashboard.screen);
    expect(s[1]).toMatch(/\d+\/10000 done/);
    expect(find(s, /│─ wave 0 · /)).toBeDefined();
    s = await press('G');
    const last = dashboard.source.model.plan.tasks
      .filter((t) => t.wave === dashboard.source.model.plan.waves.length - 1)
      .at(-1)!.id;
    expect(dashboard.selected).toBe(last);
    expect(find(s, new RegExp(`│. ?\\*?${last}`))).toBeDefined();
    const t1 = performance.now();
    for (let i = 0; i < 20; i++) await press('\x1b[6~'); // page down ×20 from the top... after g
    const pagingMs = performance.now() - t1;
    s = await press('f');
    expect(find(s, /tasks · failed: \d+ of 10000/)).toBeDefined();
    console.log(
      `10,000 tasks on fake streams: first frame ${openMs.toFixed(0)} ms; 20 page-downs ${pagingMs.toFixed(0)} ms`,
    );
  });

  it('quits with q: the terminal is given back (alternate screen left, cursor shown) and closed settles', async () => {
    const { dashboard, term } = show(finished);
    await term.press('q');
    await dashboard.closed;
    const out = term.written();
    expect(out).toContain('\x1b[?1049h'); // entered the alternate screen
    expect(out.lastIndexOf('\x1b[?1049l')).toBeGreaterThan(out.lastIndexOf('\x1b[?1049h')); // and left it
    expect(out.lastIndexOf('\x1b[?25h')).toBeGreaterThan(out.lastIndexOf('\x1b[?25l')); // cursor visible
  });
});

describe('the views, as text', () => {
  const plain = painter(false);

  it('shows cost against the budget in the header once usage is reported, and blanks before', () => {
    const base = loadRun(finished);
    const blank = RunModel.fromSnapshot(base).header(Date.now());
    expect(headerLines(blank, 100, plain)[2]).toBe('coordinator exited · cost — · branch — · critical path 3/3');
    const state = {
      ...base.state,
      usage: { input_tokens: 1200, output_tokens: 300, cache_read_tokens: 0, cache_write_tokens: 0, cost_usd: 1.5 },
      budget: { max_cost_usd: 10, max_tokens: 2_000_000, exhausted: false },
    };
    const h = new RunModel({ dir: finished, run: base.run, plan: base.plan, state: state as never }).header(Date.now());
    expect(headerLines({ ...h, liveness: 'stopped' }, 120, plain)[2]).toBe(
      'no coordinator has run · cost $1.50 / $10.00 · 1.5k / 2.0M tokens · branch — · critical path 3/3',
    );
    expect(headerLines({ ...h, budget: { ...h.budget!, exhausted: true } }, 120, plain)[2]).toContain(
      'BUDGET EXHAUSTED',
    );
  });

  it('says in the header whether the integration branch tip is verified (merge queue)', () => {
    const base = loadRun(finished);
    const git = { branch: 'swarm/r', base: 'b'.repeat(40), tip: 'c'.repeat(40) };
    const queue = {
      verified: { tip: 'c'.repeat(40), check: 3 },
      queue: [],
      check: null,
      bisect: null,
      checks: 3,
      check_ms: 100,
      last: null,
    };
    const header = (integration: unknown): string =>
      headerLines(
        new RunModel({
          dir: finished,
          run: base.run,
          plan: base.plan,
          state: { ...base.state, git, integration } as never,
        }).header(Date.now()),
        160,
        plain,
      )[2]!;
    expect(header(queue)).toContain('branch swarm/r @cccccccc verified by check 3');
    expect(header({ ...queue, verified: { tip: 'd'.repeat(40), check: 2 }, queue: [{}, {}] })).toContain(
      '@cccccccc 2 merge(s) unverified',
    );
    expect(header({ ...queue, check: { check: 4, tip: 'c'.repeat(40), kind: 'batch', merges: 1 } })).toContain(
      'checking (check 4)',
    );
    expect(header(null)).not.toContain('verified');
  });

  it('fits rows to narrow panes, dropping columns before the id', () => {
    expect(columnsFor(38, 10, false)).toMatchObject({ cost: 0, role: 0, duration: 0 });
    expect(columnsFor(80, 10, true)).toMatchObject({ role: 11, cost: 7, duration: 7, attempt: 4 });
    // The task list of an 80-column screen: a plan with agents shows their cost, one without does not.
    expect(columnsFor(42, 10, true, true)).toMatchObject({ cost: 7, role: 0 });
    expect(columnsFor(42, 10, true, false)).toMatchObject({ cost: 0, role: 0 });
    const row = {
      id: 'build',
      title: 'Build it',
      role: 'ci',
      state: 'running',
      glyph: '▶',
      tone: 'active',
      critical: true,
      wave: 0,
      attempts: 2,
      duration_ms: 61_000,
      cost_usd: 0.5,
      worker: 'w1',
      note: null,
      activity: null,
    } as const;
    const t = rowText(row, columnsFor(80, 10, true));
    expect(`${t.glyph}${t.mark}${t.rest}`).toBe(
      '▶*build      Build it                               ci          #2  1m01s $0.500',
    );
    // A running agent shows its current step in place of the title.
    const a = rowText({ ...row, activity: 'edit_file src/build.ts' }, columnsFor(80, 10, true));
    expect(`${a.glyph}${a.mark}${a.rest}`).toBe(
      '▶*build      → edit_file src/build.ts               ci          #2  1m01s $0.500',
    );
  });

  it("keeps a running attempt's newest line (the anchor) in view until the user scrolls", () => {
    const term = fakeTerminal(40, 12);
    // @types/blessed swaps the types of `input` and `output` (as src/dashboard/app.ts notes).
    const streams = { input: term.input, output: term.output } as unknown as Pick<
      blessed.Widgets.IScreenOptions,
      'input' | 'output'
    >;
    const screen = blessed.screen({ ...streams, terminal: 'xterm-256color' });
    try {
      const pane = new ScrollPane({ parent: screen, paint: painter(false), label: 'detail' });
      Object.assign(pane.element, { top: 0, left: 0, width: 40, height: 8 }); // 6 lines inside
      const lines = (newest: number) => [
        ...Array.from({ length: 4 }, (_, i) => ({ text: `head ${i}`, tone: 'normal' as const })),
        ...Array.from({ length: newest + 1 }, (_, i) => ({
          text: `call ${i}`,
          tone: 'active' as const,
          ...(i === newest ? { anchor: true } : {}),
        })),
        { text: 'the task:', tone: 'muted' as const },
        { text: 'a description below the activity', tone: 'normal' as const },
      ];
      const inside = (): string[] =>
        screenText(screen)
          .slice(1, 7)
          .map((l) => l.slice(1, -1).trim());
      pane.setLines(lines(1), true);
      pane.render(false);
      screen.render();
      expect(inside()).toEqual(['head 0', 'head 1', 'head 2', 'head 3', 'call 0', 'call 1']); // fits: from the top
      pane.setLines(lines(5));
      pane.render(false);
      screen.render();
      expect(inside()).toEqual(['call 0', 'call 1', 'call 2', 'call 3', 'call 4', 'call 5']); // the newest at the bottom
      pane.scroll(-2); // the user scrolls: the anchor lets go
      pane.setLines(lines(6));
      pane.render(false);
      screen.render();
      expect(inside()).toEqual(['head 2', 'head 3', 'call 0', 'call 1', 'call 2', 'call 3']);
      pane.setLines(lines(6), true); // another task (a reset): the anchor holds again
      pane.render(false);
      screen.render();
      expect(inside().at(-1)).toBe('call 6');
    } finally {
      screen.destroy();
    }
  });

  it('keeps ? and q in the help line at any width, wraps at spaces, and writes a run under the current directory relative to it', () => {
    for (const w of [20, 40, 80, 200]) expect(helpLine(w)).toMatch(/\? help {2}q quit$/);
    expect(wrapLine({ text: 'one two three four five', tone: 'normal' }, 10).map((l) => l.text)).toEqual([
      'one two',
      '  three',
      '  four',
      '  five',
    ]);
    expect(relativeCommand('swarm resume /repo/.swarm/runs/X', '/repo/.swarm/runs/X', '/repo')).toBe(
      'swarm resume .swarm/runs/X',
    );
    expect(relativeCommand('swarm resume /elsewhere/run', '/elsewhere/run', '/repo')).toBe(
      'swarm resume /elsewhere/run',
    );
  });
});
