// End-to-end in a real terminal: tmux runs `swarm run` on a DAG; the dashboard opens because
// stdout is a terminal. The test reads the screen with capture-pane, presses keys with send-keys,
// and checks the run directory for what the keys asked for. CI installs tmux (.ci/run).
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { TmuxTerminal } from '../../bench/tmux.js';
import { screenWith } from '../tmux-screen.js';
import { CLI, makeWorld, readJsonlFile, runCli, waitFor, type World } from '../helpers.js';

let world: World;
let term: TmuxTerminal | undefined;
afterEach(() => {
  term?.kill();
  term = undefined;
  world?.cleanup();
});

const line = (screen: string[], re: RegExp): string | undefined => screen.find((l) => re.test(l));

/** Every entry under `dir` with its kind, size, mtime and content hash: what a reader must not change. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) {
    const p = path.join(e.parentPath, e.name);
    const st = fs.statSync(p);
    out[path.relative(dir, p)] = e.isFile()
      ? `file ${st.size} ${st.mtimeMs} ${crypto.createHash('sha1').update(fs.readFileSync(p)).digest('hex')}`
      : `dir ${st.mtimeMs}`;
  }
  return out;
}

describe('the dashboard in a terminal', () => {
  it('opens for swarm run, follows the tasks, cancels the selected task with c, and gives the terminal back with q', async () => {
    world = makeWorld('swarm-dash-e2e-');
    world.write('swarm.yaml', {
      version: 1,
      workers: 2,
      goal: 'tmux end-to-end',
      git: { isolation: 'none' },
      tasks: [
        { id: 'a', run: 'sleep 1.5' },
        { id: 'long', title: 'Never ends by itself', run: 'echo started; while [ ! -f never ]; do sleep 0.1; done' },
        { id: 'b', deps: ['a'], run: 'sleep 0.5' },
        { id: 'after-long', deps: ['long'], run: 'true' },
      ],
    });
    term = new TmuxTerminal({ cwd: world.dir, cols: 100, rows: 30 });
    term.type(`node ${CLI} run swarm.yaml --run-dir run; echo "exit=$?"`);

    // The dashboard: header, both first-wave tasks running.
    // The help line is the last line drawn, so a screen that has it has the whole frame.
    let s = await screenWith(
      term,
      [/^│▶[ *]long +Never ends by itself/, /q quit {2}\(q: the run goes on\)$/],
      'long running',
    );
    expect(s[0]).toMatch(/^swarm run \w{26} · tmux end-to-end$/);
    expect(s[1]).toMatch(/^running · .* · [01]\/4 done /); // a (1.5 s) may have finished on a slow machine
    expect(line(s, /^┌─ tasks/)).toBeDefined();
    expect(s.at(-1)).toMatch(/q quit {2}\(q: the run goes on\)$/);

    // Rows and header change as tasks finish.
    s = await screenWith(term, /^│✓[ *]a /, 'a to succeed');
    s = await screenWith(term, /^│✓[ *]b /, 'b to succeed');
    expect(s[1]).toMatch(/ 2\/4 done /);

    // Select long (the cursor starts on a), cancel it, confirm.
    term.keys('j');
    await screenWith(term, /┐┌─ detail · long/, 'the detail of long');
    term.keys('c');
    await screenWith(term, /^cancel long \(running, attempt 1\) and skip its dependents\? y\/n$/, 'the question');
    term.keys('y');
    const events = path.join(world.dir, 'run/events.jsonl');
    await waitFor(
      () => readJsonlFile(events).some((e) => e.type === 'task.cancelled' && e.task === 'long'),
      30_000,
      'long cancelled in events.jsonl',
    );
    const applied = readJsonlFile(events).find((e) => e.type === 'control.applied');
    expect(applied).toMatchObject({ action: 'cancel-task', task: 'long', by: 'dashboard', accepted: true });
    expect(fs.readdirSync(path.join(world.dir, 'run/control/done'))).toHaveLength(1);
    await screenWith(
      term,
      [/^finished: failed · /, /^│⊘[ *]long /, /^│–[ *]after-long +long did not succeed/],
      'the finished header and rows',
    );
    // The request's line may come a frame later than the header (frames are throttled): wait for it,
    // on the status line or, once that message has given way, in the task's detail.
    await screenWith(term, /cancel-task long: applied/, 'the request shown applied', 20_000);

    // q: the dashboard goes, the run's summary is printed, the shell prompt is back.
    term.keys('q');
    s = await screenWith(term, /^exit=1$/, 'the shell to print the exit code');
    expect(line(s, /^failed: 2 succeeded, 0 failed, 1 skipped, 1 cancelled in /)).toBeDefined();
    expect(line(s, /┌─ tasks/)).toBeUndefined();
    await screenWith(term, /^[$#] ?$/, 'the prompt');
    term.type('echo still-here');
    await screenWith(term, /^still-here$/, 'the shell to take input again');
  });

  it('passes Ctrl-C to the coordinator; after q the run goes on printing lines, and a second Ctrl-C stops it', async () => {
    world = makeWorld('swarm-dash-e2e-');
    world.write('swarm.yaml', {
      version: 1,
      workers: 1,
      git: { isolation: 'none' },
      tasks: [
        { id: 'slow', run: 'sleep 60' },
        { id: 'next', deps: ['slow'], run: 'true' },
      ],
    });
    term = new TmuxTerminal({ cwd: world.dir, cols: 100, rows: 30 });
    term.type(`node ${CLI} run swarm.yaml --run-dir run; echo "exit=$?"`);
    await screenWith(term, /^│▶[ *]slow /, 'slow running');
    term.keys('C-c');
    await screenWith(
      term,
      [/^stopping · /, /stopping: waiting for 1 running attempt\(s\) to finish; press Ctrl-C again to cancel them/],
      'the stopping header and line',
    );
    term.keys('q');
    let s = await screenWith(
      term,
      /^dashboard closed; the run goes on here, one line per event/,
      'the notice that the run goes on',
    );
    expect(line(s, /^exit=/)).toBeUndefined();
    term.keys('C-c'); // the terminal's own Ctrl-C now: the second one cancels the running attempt
    s = await screenWith(term, /^exit=130$/, 'the run to stop', 60_000);
    expect(line(s, /cancelling 1 running attempt\(s\)$/)).toBeDefined(); // after the ^C the terminal echoes
    expect(line(s, /^stopped \(interrupt\); continue with: swarm resume /)).toBeDefined();
    expect(
      readJsonlFile(path.join(world.dir, 'run/events.jsonl')).some(
        (e) => e.type === 'run.paused' && e.reason === 'interrupt',
      ),
    ).toBe(true);
  });

  it('swarm dashboard with no argument opens the newest run; --no-dashboard prints lines', async () => {
    world = makeWorld('swarm-dash-e2e-');
    world.write('swarm.yaml', { version: 1, git: { isolation: 'none' }, tasks: [{ id: 'only', run: 'echo hi' }] });
    term = new TmuxTerminal({ cwd: world.dir, cols: 80, rows: 24 });
    term.type(`node ${CLI} run swarm.yaml --no-dashboard; echo "exit=$?"`);
    const s = await screenWith(term, /^exit=0$/, 'the run to end');
    expect(line(s, /^\[1\/1\] ✓ only/)).toBeDefined();
    const runs = world.path('.swarm/runs');
    const before = snapshot(runs);
    term.type(`clear; node ${CLI} dashboard`);
    await screenWith(
      term,
      [/^finished: succeeded · /, /^│✓[ *]only/, /^coordinator exited/],
      'the dashboard of the newest run',
    );
    // Looking around (moving, the detail, the help, a filter) writes nothing into the run directory.
    for (const k of ['j', 'k', 'Enter', 'Tab', '?', 'Escape', 'G', 'g']) term.keys(k);
    await new Promise((r) => setTimeout(r, 1500)); // its clock and its rescan tick meanwhile
    term.keys('q');
    await screenWith(term, /^[$#] ?$/, 'the prompt');
    expect(snapshot(runs)).toEqual(before);
  });

  it('refuses to start without a terminal, and points to swarm status --follow', async () => {
    world = makeWorld('swarm-dash-e2e-');
    world.write('swarm.yaml', { version: 1, git: { isolation: 'none' }, tasks: [{ id: 'only', run: 'true' }] });
    const run = await runCli(['run', 'swarm.yaml', '--run-dir', 'run'], { cwd: world.dir });
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('[1/1] ✓ only'); // no terminal: the line presenter, as before
    const res = await runCli(['dashboard', 'run'], { cwd: world.dir });
    expect(res.code).toBe(2);
    expect(res.stderr).toBe(
      `swarm: the dashboard needs a terminal (stdin and stdout); without one use \`swarm status ${world.path('run')} --follow\`\n`,
    );
  });
});
