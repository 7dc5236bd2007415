// The web page of `swarm serve` in a real headless Chromium (Debian's /usr/bin/chromium, driven by
// playwright-core), against a real `swarm serve` whose runs are real `swarm run` processes: a run
// started from the page's form (and the form's errors for bad configs), followed live in the DAG
// and the task list, a task cancelled with its button, the run to its end, the task detail, a
// narrow window; then a 10,000-task run directory drawn by wave with a windowed list.
// Screenshots go to test-output/web/.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Locator, type Page } from 'playwright-core';
import { ulid } from 'ulid';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { writeSyntheticRun } from '../../bench/synthetic-run.js';
import { makeGitRepo, makeWorld, startCli, waitFor, type CliProcess, type World } from '../helpers.js';

const CHROMIUM = '/usr/bin/chromium';
const PAGE = fileURLToPath(new URL('../../dist/web/index.html', import.meta.url));
const SHOTS = fileURLToPath(new URL('../../test-output/web/', import.meta.url));

let w: World | undefined;
let browser: Browser;
const servers: CliProcess[] = [];
afterEach(async ({ task }) => {
  if (task.result?.state === 'fail') await shootFailure();
  for (const page of pages.splice(0)) await page.context().close();
  for (const s of servers.splice(0)) {
    s.child.kill('SIGTERM');
    await s.done;
  }
  w?.cleanup();
  w = undefined;
});

/** Starts `swarm serve --port 0` in `cwd` and returns its base URL once it listens. */
async function serve(cwd: string, args: string[] = []): Promise<string> {
  const s = startCli(['serve', '--port', '0', ...args], { cwd });
  servers.push(s);
  const url = await waitFor(() => /http:\/\/[\d.]+:\d+/.exec(s.output().stdout)?.[0], 20_000, 'the server to listen');
  return url;
}

const pages: Page[] = [];

/** A new page of `width` × `height` px. */
async function newPage(width: number, height: number): Promise<Page> {
  const context = await browser.newContext({ viewport: { width, height } });
  const page = await context.newPage();
  pages.push(page);
  return page;
}

/** On a failure, what each page showed: test-output/web/failed-<n>.png. */
async function shootFailure(): Promise<void> {
  for (const [i, page] of pages.entries()) await shoot(page, `failed-${i}`, true).catch(() => undefined);
}

/** Saves a screenshot as test-output/web/<name>.png. */
async function shoot(page: Page, name: string, fullPage = false): Promise<void> {
  fs.mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage });
}

/** Waits until `locator` (one element) has `attribute` = `value`. */
async function waitAttr(locator: Locator, attribute: string, value: string, timeout = 30_000): Promise<void> {
  await locator.and(locator.page().locator(`[${attribute}="${value}"]`)).waitFor({ timeout });
}

/** The element with this `data-testid`. */
const byTest = (page: Page, id: string): Locator => page.getByTestId(id);

/** The box of an element, which must be laid out. */
async function box(locator: Locator): Promise<{ x: number; y: number; width: number; height: number }> {
  const b = await locator.boundingBox();
  expect(b).not.toBeNull();
  return b!;
}

const hasChromium = fs.existsSync(CHROMIUM);
if (!hasChromium) console.warn(`web.test.ts skipped: no ${CHROMIUM} (apt-get install chromium)`);

describe.skipIf(!hasChromium)('the web page, in Chromium (needs /usr/bin/chromium)', () => {
  beforeAll(async () => {
    expect(fs.existsSync(PAGE), `${PAGE} is missing: run \`npm run build\` first`).toBe(true);
    browser = await chromium.launch({ executablePath: CHROMIUM });
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('starts a run from the form, follows it live, cancels a task with its button, and shows it finished', async () => {
    w = makeWorld('swarm-web-');
    const repo = makeGitRepo(w, { 'README.md': '# demo\n' });
    // Six command tasks in git isolation (each attempt's work is a commit): five short ones in a
    // diamond, and one that would sleep 30 s, to cancel.
    const step = (seconds: number, file: string): string =>
      `sleep ${seconds} && mkdir -p out && echo ${file} > out/${file}.txt && echo wrote out/${file}.txt`;
    w.write('repo/swarm.yaml', {
      version: 1,
      workers: 3,
      integration: { verify: 'test -f README.md' }, // the merge queue: the page says the tip is verified
      tasks: [
        { id: 'schema', title: 'Write the schema', run: step(1, 'schema') },
        { id: 'api', title: 'Build the API', deps: ['schema'], run: step(1, 'api') },
        { id: 'ui', title: 'Build the UI', deps: ['schema'], run: step(1.5, 'ui') },
        { id: 'docs', title: 'Write the docs', run: step(0.5, 'docs') },
        { id: 'package', title: 'Package it', deps: ['api', 'ui', 'docs'], run: step(0.5, 'package') },
        { id: 'soak', title: 'Soak test', run: 'echo soaking && sleep 30 && true' },
      ],
    });
    w.write('repo/bad.yaml', 'version: 1\ntasks:\n  - id: x\n    run: echo\n    colour: blue\n');
    const base = await serve(repo);
    const page = await newPage(1440, 1000);
    const began = Date.now();

    // The form refuses a config that does not exist, and shows a bad one's issues where they are.
    await page.goto(`${base}/`);
    const form = byTest(page, 'start-form');
    await form.waitFor();
    await byTest(page, 'start-config').fill('missing.yaml');
    await byTest(page, 'start-submit').click();
    await byTest(page, 'start-error').waitFor();
    expect(await byTest(page, 'start-error').textContent()).toContain('missing.yaml');
    await byTest(page, 'start-config').fill('bad.yaml');
    await byTest(page, 'start-submit').click();
    await byTest(page, 'start-error').getByText('bad.yaml:5').waitFor();
    const issue = await byTest(page, 'start-error').textContent();
    expect(issue).toContain('tasks[0].colour');
    await shoot(page, 'start-form-error');
    expect(fs.existsSync(path.join(repo, '.swarm/runs'))).toBe(false); // nothing started

    // A good one starts, and the page goes to the run.
    await byTest(page, 'start-config').fill('swarm.yaml');
    await byTest(page, 'start-goal').fill('Build the demo');
    await byTest(page, 'start-workers').fill('3');
    await byTest(page, 'start-submit').click();
    await page.waitForURL(/\/runs\/[0-9A-Z]{26}$/, { timeout: 30_000 });
    const id = new URL(page.url()).pathname.split('/').at(-1)!;
    // The server answers once `swarm run` has its run directory, under its temporary name while it
    // is created: the page shows it as starting until it is in place.
    await waitFor(() => fs.existsSync(path.join(repo, '.swarm/runs', id)), 30_000, 'the run directory in place');

    // The long task runs; the DAG says so, live.
    const node = (task: string): Locator => byTest(page, `dag-node-${task}`);
    const row = (task: string): Locator => byTest(page, `task-row-${task}`);
    await waitAttr(node('soak'), 'data-state', 'running');
    await shoot(page, 'run-live');
    // Pause and resume dispatch (the long task keeps the run from finishing meanwhile).
    await byTest(page, 'run-pause').click();
    await byTest(page, 'run-phase').getByText('paused').waitFor();
    await byTest(page, 'run-unpause').click();
    await byTest(page, 'run-phase').getByText('running').waitFor();
    // Its output, live while it runs; then cancel it with its button.
    await node('soak').click();
    await waitAttr(byTest(page, 'task-detail'), 'data-task', 'soak');
    await byTest(page, 'attempt-log').getByText('soaking').waitFor();
    await byTest(page, 'task-cancel').click();
    await waitAttr(node('soak'), 'data-state', 'cancelled');
    await waitAttr(row('soak'), 'data-state', 'cancelled');
    for (const said of ['pause', 'resume', 'cancel-task soak'])
      await byTest(page, 'run-messages').getByText(said).first().waitFor();

    // The others turn green, in the graph and in the list; the run finishes.
    for (const task of ['schema', 'api', 'ui', 'docs', 'package']) {
      await waitAttr(node(task), 'data-state', 'succeeded', 60_000);
      await waitAttr(row(task), 'data-state', 'succeeded');
    }
    await byTest(page, 'run-phase').getByText('finished').waitFor({ timeout: 60_000 });
    const finishedAfter = Date.now() - began;
    expect(await byTest(page, 'run-outcome').textContent()).toContain('failed'); // a task was cancelled
    expect(await byTest(page, 'progress-text').first().textContent()).toBe('6 / 6');
    await byTest(page, 'stream-state').getByText('run finished').waitFor();

    // What the page shows is what the server says.
    const report = (await (await fetch(`${base}/api/runs/${id}`)).json()) as {
      phase: string;
      tasks: { id: string; state: string; critical: boolean }[];
    };
    expect(report.phase).toBe('finished');
    for (const t of report.tasks) {
      expect(await node(t.id).getAttribute('data-state'), t.id).toBe(t.state);
      expect(await node(t.id).getAttribute('data-critical'), t.id).toBe(String(t.critical));
    }
    // The critical path is marked: its boxes and the edges between them drawn thicker.
    const critical = report.tasks.filter((t) => t.critical).map((t) => t.id);
    expect(critical).toEqual(expect.arrayContaining(['schema', 'package']));
    expect(critical).not.toContain('docs');
    expect(await node('schema').getAttribute('class')).toMatch(/\bcritical\b/);
    expect(await node('docs').getAttribute('class')).not.toMatch(/\bcritical\b/);
    expect(await page.locator('.react-flow__edge.critical').count()).toBe(critical.length - 1);
    expect(await page.locator('.react-flow__edge').count()).toBe(5); // the diamond's edges

    // A task's detail: its attempt, outcome, commit, files changed and output.
    await row('package').click();
    await waitAttr(byTest(page, 'task-detail'), 'data-task', 'package');
    const detail = byTest(page, 'task-detail');
    await detail.getByTestId('attempt-outcome').getByText('succeeded').waitFor();
    await detail.getByTestId('attempt-log').getByText('wrote out/package.txt').waitFor();
    expect(await detail.getByTestId('attempt-files').textContent()).toContain('out/package.txt +1 −0'); // with its diffstat
    expect(await detail.getByTestId('attempt-commit').textContent()).toMatch(/^[0-9a-f]{12}$/);
    await byTest(page, 'run-verified')
      .getByText(/tip verified by check \d+/)
      .waitFor();
    await shoot(page, 'run-finished', true);

    // The cancelled task's detail says so, and offers a retry rather than a cancel.
    await node('soak').click();
    await waitAttr(detail, 'data-task', 'soak');
    await detail.getByTestId('attempt-outcome').getByText('cancelled').waitFor();
    expect(await byTest(page, 'task-retry').isVisible()).toBe(true);
    expect(await byTest(page, 'task-cancel').count()).toBe(0);

    // The runs list has it, with its progress.
    await page.goto(`${base}/`);
    const item = byTest(page, `run-item-${id}`);
    await item.waitFor();
    expect(await item.getByTestId('progress-text').textContent()).toBe('6 / 6');
    expect(await item.textContent()).toContain('Build the demo');
    await shoot(page, 'runs');

    // A 400 px window: one column, nothing wider than the window.
    const narrow = await newPage(400, 900);
    await narrow.goto(`${base}/runs/${id}?task=package`);
    await waitAttr(byTest(narrow, 'dag-node-package'), 'data-state', 'succeeded');
    await byTest(narrow, 'task-detail').getByTestId('attempt-outcome').waitFor();
    expect(await narrow.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(400);
    for (const testId of ['run-phase', 'budget', 'dag', 'task-rows', 'task-detail', 'attempt-log']) {
      const b = await box(byTest(narrow, testId));
      expect(b.x, testId).toBeGreaterThanOrEqual(0);
      expect(b.x + b.width, testId).toBeLessThanOrEqual(400);
    }
    // Stacked: the graph above the list, the list above the detail.
    const [dag, rows, detailBox] = await Promise.all(
      ['dag', 'task-rows', 'task-detail'].map((t) => box(byTest(narrow, t))),
    );
    expect(dag!.y + dag!.height).toBeLessThanOrEqual(rows!.y);
    expect(rows!.y + rows!.height).toBeLessThanOrEqual(detailBox!.y);
    await shoot(narrow, 'narrow', true);
    await narrow.goto(`${base}/`);
    await byTest(narrow, `run-item-${id}`).waitFor();
    expect(await narrow.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(400);
    await shoot(narrow, 'narrow-runs', true);
    console.log(`web: the run finished in the page ${finishedAfter} ms after the page opened`);
  });

  it('draws a 10,000-task run by waves, with a list that renders only the rows in view', async () => {
    w = makeWorld('swarm-web-big-');
    const runsDir = w.path('runs');
    const id = ulid();
    await writeSyntheticRun(path.join(runsDir, id), {
      tasks: 10_000,
      finished: 6000,
      running: 8,
      failEvery: 40,
      runId: id,
    });
    const base = await serve(w.dir, ['--runs-dir', runsDir]);
    const report = (await (await fetch(`${base}/api/runs/${id}`)).json()) as {
      counts: Record<string, number>;
      tasks: { id: string; wave: number; state: string }[];
    };
    expect(report.tasks).toHaveLength(10_000);
    const waves = Math.max(...report.tasks.map((t) => t.wave)) + 1;

    const page = await newPage(1440, 1000);
    const began = Date.now();
    await page.goto(`${base}/runs/${id}`);
    await page.locator('[data-testid="dag"][data-mode="waves"]').waitFor({ timeout: 60_000 });
    await byTest(page, `task-row-${report.tasks[0]!.id}`).waitFor({ timeout: 60_000 });
    await byTest(page, 'dag-wave-0').waitFor({ timeout: 60_000 });
    const renderedAfter = Date.now() - began;
    expect(renderedAfter).toBeLessThan(60_000);

    // A few boxes of consecutive waves, covering every wave once, each with the server's count of
    // its tasks.
    const boxes = page.locator('[data-testid^="dag-wave-"]');
    const n = await boxes.count();
    expect(n).toBeGreaterThan(1);
    expect(n).toBeLessThanOrEqual(20);
    let nextWave = 0;
    for (let i = 0; i < n; i++) {
      const from = Number(await boxes.nth(i).getAttribute('data-from'));
      const to = Number(await boxes.nth(i).getAttribute('data-to'));
      expect(from).toBe(nextWave);
      nextWave = to + 1;
      const inRange = report.tasks.filter((t) => t.wave >= from && t.wave <= to).length;
      expect(await boxes.nth(i).textContent()).toContain(`${inRange} tasks`);
    }
    expect(nextWave).toBe(waves);
    const c = report.counts;
    const done = (c.succeeded ?? 0) + (c.failed ?? 0) + (c.skipped ?? 0) + (c.cancelled ?? 0);
    expect(await byTest(page, 'progress-text').textContent()).toBe(`${done} / 10000`);
    expect(await byTest(page, 'task-count').textContent()).toBe('10000 tasks');

    // The list holds only the rows in view, at the top and after scrolling to the very end.
    const rendered = page.locator('[data-testid^="task-row-"]');
    expect(await rendered.count()).toBeLessThan(100);
    const last = byTest(page, `task-row-${report.tasks.at(-1)!.id}`);
    await byTest(page, 'task-rows').hover();
    const scrolled = Date.now();
    while (!(await last.isVisible())) {
      expect(Date.now() - scrolled, 'time to scroll to the last task').toBeLessThan(30_000);
      await page.mouse.wheel(0, 50_000);
      await page.waitForTimeout(50);
    }
    const scrollMs = Date.now() - scrolled;
    expect(await rendered.count()).toBeLessThan(100);
    await shoot(page, 'synthetic-10k');

    // A click on a box lists its tasks.
    const first = byTest(page, 'dag-wave-0');
    const to = Number(await first.getAttribute('data-to'));
    const inFirst = report.tasks.filter((t) => t.wave <= to).length;
    await first.click();
    expect(await byTest(page, 'wave-filter').inputValue()).toBe(`0-${to}`);
    await byTest(page, 'task-count').getByText(`${inFirst} of 10000 tasks`).waitFor();

    // The event stream replays the whole log, then says the coordinator is gone; the run can be resumed.
    await byTest(page, 'stream-state').getByText('the coordinator is gone').waitFor({ timeout: 60_000 });
    expect(await byTest(page, 'run-resume').isVisible()).toBe(true);
    console.log(
      `web: 10,000 tasks (${waves} waves) drawn in ${renderedAfter} ms; scrolled to the end in ${scrollMs} ms`,
    );
  });

  it('says what to do when the server wants a bearer token', async () => {
    w = makeWorld('swarm-web-token-');
    const s = startCli(['serve', '--port', '0', '--token-env', 'SERVE_TOKEN'], {
      cwd: w.dir,
      env: { SERVE_TOKEN: 'a-token' },
    });
    servers.push(s);
    const base = await waitFor(() => /http:\/\/[\d.]+:\d+/.exec(s.output().stdout)?.[0], 20_000, 'the server');
    const page = await newPage(1000, 700);
    await page.goto(`${base}/`); // the page itself needs no token
    await page.getByRole('alert').getByText('needs a bearer token').waitFor();
  });
});
