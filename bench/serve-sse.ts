// Benchmark 8: `swarm serve`'s event stream under load. 50 SSE clients follow one busy run
// (`swarm run --no-dashboard` of a random 1000-task DAG of `true`, 8 workers) through
// `GET /api/runs/:id/events`; each must receive every event of events.jsonl once, in order, its
// data byte-equal to the line (the benchmark fails otherwise). Measured: the server's CPU and peak
// RSS, and each event's lag at each client behind its appearance in events.jsonl. The reference,
// in the same run: `swarm status --follow --json`, the CLI's reader of the same log, which prints
// each event as the same JSON text the server sends as `data:`.
//
// Processes: the coordinator (`swarm run`, started directly, not through POST /api/runs, so its
// pid and exit are at hand), `swarm serve --port 0`, the 50 clients in a child process of their own
// (bench/sse-clients.ts: their CPU is not the server's, and their work does not delay this
// process's tail of the log), `swarm status --follow --json`, and this process, which tails
// events.jsonl (every 1 ms and on each fs.watch event) and notes when each seq first appeared.
// All times are CLOCK_MONOTONIC (`process.hrtime`), one clock for all processes of the machine.
import { fork, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ulid } from 'ulid';
import { checkStream, readLog, type ClientsMessage, type ClientSummary, type StreamCheck } from './sse-clients.js';
import {
  CLI,
  cpuSeconds,
  isMain,
  max,
  median,
  memoryKiB,
  metric,
  min,
  percentile,
  randomDag,
  removeDir,
  requireBuild,
  round,
  runStandalone,
  schedSeconds,
  settle,
  tempDir,
  until,
  writeConfig,
  type BenchOptions,
  type BenchResult,
} from './lib.js';

/** The clients' program, next to this file's compiled form. */
const CLIENTS_JS = fileURLToPath(new URL('./sse-clients.js', import.meta.url));

/** CLOCK_MONOTONIC now, in ms (the clock the clients' process uses too). */
const hrMs = (): number => Number(process.hrtime.bigint()) / 1e6;

/**
 * This process's tail of a run's events.jsonl: when each seq first appeared. It reads on every
 * fs.watch event of the run directory and every `everyMs` (1 ms timer). A line seen by a read that
 * ended at time t, when the read before it began at time p, was appended in (p, t]: `seenMs[seq]`
 * is t and `boundMs[seq]` is t − p, the most by which t can be late.
 */
export class LogTail {
  /** By seq: monotonic ms at which the read that first returned the line ended. */
  readonly seenMs: number[] = [];
  /** By seq: the uncertainty of `seenMs` (t − p above), ms. */
  readonly boundMs: number[] = [];
  /** Time between the starts of consecutive reads, ms (how often it looked). */
  readonly gapsMs: number[] = [];
  /** The highest seq seen so far (0: none). */
  lastSeq = 0;
  readonly #file: string;
  readonly #timer: NodeJS.Timeout;
  readonly #watcher: fs.FSWatcher;
  #fd: number | undefined;
  #offset = 0;
  #rest = '';
  #prevStart: number | undefined;
  #closed = false;
  readonly #buf = Buffer.alloc(1 << 20);

  constructor(runDir: string, everyMs = 1) {
    this.#file = path.join(runDir, 'events.jsonl');
    this.#watcher = fs.watch(runDir, () => this.poll());
    this.#timer = setInterval(() => this.poll(), everyMs);
  }

  /** Reads what was appended since the last read. */
  poll(): void {
    const start = hrMs();
    if (this.#prevStart !== undefined) this.gapsMs.push(start - this.#prevStart);
    const prev = this.#prevStart;
    this.#prevStart = start;
    if (this.#fd === undefined) {
      try {
        this.#fd = fs.openSync(this.#file, 'r');
      } catch {
        return; // not created yet
      }
    }
    let text = '';
    for (;;) {
      const n = fs.readSync(this.#fd, this.#buf, 0, this.#buf.length, this.#offset);
      if (n === 0) break;
      this.#offset += n;
      text += this.#buf.toString('utf8', 0, n); // lines are ASCII-safe JSON; a split character is not a concern for seq
    }
    const end = hrMs();
    if (text === '') return;
    const lines = (this.#rest + text).split('\n');
    this.#rest = lines.pop()!;
    for (const line of lines) {
      const seq = (JSON.parse(line) as { seq: number }).seq;
      if (this.seenMs[seq] !== undefined) continue;
      this.seenMs[seq] = end;
      this.boundMs[seq] = end - (prev ?? start);
      this.lastSeq = Math.max(this.lastSeq, seq);
    }
  }

  /** Stops reading (one last read first). */
  close(): void {
    if (this.#closed) return;
    this.poll();
    this.#closed = true;
    clearInterval(this.#timer);
    this.#watcher.close();
    if (this.#fd !== undefined) fs.closeSync(this.#fd);
  }
}

/** A process's CPU time (s), its main thread's wait for a CPU (s) and peak RSS (KiB) at one moment (monotonic ms). */
interface Reading {
  atMs: number;
  cpuS: number;
  waitS: number;
  hwmKiB: number;
}

/** Reads a live process's CPU time and VmHWM; undefined once it is gone. */
function reading(pid: number | undefined): Reading | undefined {
  if (pid === undefined) return undefined;
  const cpuS = cpuSeconds(pid);
  const mem = memoryKiB(pid);
  const { waitS } = schedSeconds(pid);
  return Number.isNaN(cpuS) || mem === undefined ? undefined : { atMs: hrMs(), cpuS, waitS, hwmKiB: mem.hwm };
}

/** A process's CPU and memory over the measured window. */
export interface ProcessUse {
  /** CPU time (user + system) between the window's start and this process's end reading, s. */
  cpuS: number;
  /** That time, s (the window as this process saw it). */
  wallS: number;
  /** cpuS ÷ wallS, in % of one core (the machine has 2). */
  percent: number;
  /** Over the same time, how long its main thread (where the JavaScript runs) was runnable but waiting for a CPU, s. */
  cpuWaitS: number;
  /** VmHWM at the end reading (peak RSS of the process's life, start-up included), MiB. */
  peakRssMiB: number;
}

function use(from: Reading | undefined, to: Reading | undefined): ProcessUse {
  if (!from || !to) return { cpuS: NaN, wallS: NaN, percent: NaN, cpuWaitS: NaN, peakRssMiB: NaN };
  const wallS = (to.atMs - from.atMs) / 1000;
  const cpuS = to.cpuS - from.cpuS;
  const cpuWaitS = to.waitS - from.waitS;
  return { cpuS, wallS, percent: (100 * cpuS) / wallS, cpuWaitS, peakRssMiB: to.hwmKiB / 1024 };
}

/** p50 / p99 / max (and min) of a sample, ms. */
export interface Dist {
  n: number;
  min: number;
  p50: number;
  p99: number;
  max: number;
}

function dist(xs: readonly number[]): Dist {
  return { n: xs.length, min: min(xs), p50: percentile(xs, 50), p99: percentile(xs, 99), max: max(xs) };
}

/** What one repeat measured. */
export interface SseRun {
  tasks: number;
  clients: number;
  /** Lines of events.jsonl; run.started → run.finished (`at`), ms; events ÷ that time, per s. */
  events: number;
  runMs: number;
  eventsPerS: number;
  /** Events appended after every reader was attached (seq > startSeq): the ones whose lag is measured. */
  startSeq: number;
  /** From run.json's appearance until every stream was open / status --follow printed its report, ms. */
  attachMs: { clients: number; reference: number };
  /** From run.json's appearance until each stream's headers came (the server loads the run per stream), ms. */
  openMs: Dist;
  /** os.loadavg() before the repeat (1, 5, 15 min). */
  loadavg: number[];
  timedEvents: number;
  server: ProcessUse;
  reference: ProcessUse;
  clientsProcess: ProcessUse;
  coordinator: ProcessUse;
  /** Lag behind this process's tail (client's receive time − tail's seen time), every client and timed event, ms. */
  lag: Dist;
  /** The same, received wall clock − the event's `at` (ms precision). */
  lagAt: Dist;
  /** Each client's p50 and p99 lag, in connection order, ms. */
  perClient: { p50: number; p99: number }[];
  referenceLag: Dist;
  referenceLagAt: Dist;
  /** The tail's own delay: bound per timed event, and the time between its reads, ms. */
  tailBound: Dist;
  tailGaps: Dist;
  /** Clients whose stream had every event in order, byte-equal (must be all). */
  clientsOk: number;
  reconnects: number;
  comments: number;
  referenceCheck: StreamCheck;
  problems: string[];
}

/** Waits for a child's exit (resolves at once if it has exited). */
function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((r) => child.once('exit', (code) => r(code)));
}

/** Rejects after `ms` with a message naming `what`; `race` it with the awaited promise. */
function deadline(ms: number, what: string): Promise<never> {
  return new Promise((_, reject) =>
    setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms).unref(),
  );
}

/** One run: the coordinator, the server, the clients and the reference, measured over one window. */
async function once(options: BenchOptions, tasks: number, clients: number, seed: number): Promise<SseRun> {
  const loadavg = os.loadavg();
  const dir = tempDir('serve-sse');
  const git = (...args: string[]): void => {
    const r = spawnSync('git', ['-c', 'user.name=bench', '-c', 'user.email=bench@example.invalid', ...args], {
      cwd: dir,
      encoding: 'utf8',
    });
    if (r.status !== 0) throw new Error(`git ${args.join(' ')}: ${r.stderr}`);
  };
  git('init', '-q');
  fs.writeFileSync(path.join(dir, '.gitignore'), '.swarm/\n');
  writeConfig(path.join(dir, 'swarm.json'), {
    workers: 8,
    isolation: 'none',
    tasks: randomDag(tasks, seed).map((t) => ({ ...t, run: 'true' })),
  });
  git('add', '-A');
  git('commit', '-q', '-m', 'benchmark config');
  // The run directory exists (empty) before the run starts, so the clients can ask for its events
  // first: the server waits for its run.json, and each stream starts at seq 1.
  const runsDir = path.join(dir, '.swarm', 'runs');
  const id = ulid();
  const runDir = path.join(runsDir, id);
  fs.mkdirSync(runDir, { recursive: true });
  const eventsFile = path.join(runDir, 'events.jsonl');

  const children: ChildProcess[] = [];
  let tail: LogTail | undefined;
  let sampler: NodeJS.Timeout | undefined;
  try {
    // ── The server ─────────────────────────────────────────────────────────────────────────
    const server = spawn(process.execPath, [CLI, 'serve', '--runs-dir', runsDir, '--port', '0'], {
      cwd: dir,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(server);
    let serverOut = '';
    server.stdout.setEncoding('utf8').on('data', (d: string) => (serverOut += d));
    server.stderr.setEncoding('utf8').on('data', (d: string) => (serverOut += d));
    const port = await until(
      () => /at http:\/\/127\.0\.0\.1:(\d+)\//.exec(serverOut)?.[1] ?? (server.exitCode !== null ? '' : false),
      30_000,
      'swarm serve to listen',
    );
    if (port === '') throw new Error(`swarm serve exited: ${serverOut}`);

    // ── The clients ────────────────────────────────────────────────────────────────────────
    const url = `http://127.0.0.1:${port}/api/runs/${id}/events`;
    const clientsProc = fork(CLIENTS_JS, [url, String(clients), eventsFile], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      serialization: 'advanced',
      execArgv: [],
    });
    children.push(clientsProc);
    const message = (type: ClientsMessage['type']): Promise<ClientsMessage> =>
      new Promise((resolve, reject) => {
        const on = (m: ClientsMessage): void => {
          if (m.type !== type) return;
          clientsProc.off('message', on);
          resolve(m);
        };
        clientsProc.on('message', on);
        clientsProc.once('exit', (code) => reject(new Error(`the clients' process exited ${code} before '${type}'`)));
      });
    const opened = message('open');
    const ended = message('ended');
    const done = message('done');
    for (const p of [opened, ended, done]) p.catch(() => undefined);
    await Promise.race([message('sent'), deadline(30_000, 'the clients to connect')]);
    await settle(500); // the requests reach the server, which waits for run.json

    // ── The run ────────────────────────────────────────────────────────────────────────────
    tail = new LogTail(runDir);
    options.log(`  ${clients} clients connected to ${url}; starting the run (${tasks} tasks)`);
    const run = spawn(
      process.execPath,
      [CLI, 'run', 'swarm.json', '--run-dir', runDir, '--run-id', id, '--no-dashboard'],
      {
        cwd: dir,
        stdio: ['ignore', 'ignore', 'pipe'],
        env: { ...process.env, NO_COLOR: '1' },
      },
    );
    children.push(run);
    let runErr = '';
    run.stderr.setEncoding('utf8').on('data', (d: string) => (runErr += d.slice(0, 4000)));
    await until(() => fs.existsSync(path.join(runDir, 'run.json')) || run.exitCode !== null, 60_000, 'run.json', 2);
    if (run.exitCode !== null) throw new Error(`swarm run exited ${run.exitCode}: ${runErr}`);
    const runJsonAt = hrMs();
    let openedAt = NaN;
    let refReadyAt = NaN;
    void opened.then(() => (openedAt = hrMs()));

    // ── The reference: status --follow --json, each line timestamped as it arrives ────────
    const status = spawn(process.execPath, [CLI, 'status', runDir, '--follow', '--json'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(status);
    const ref = { seqs: [] as number[], data: [] as string[], recvMs: [] as number[], recvWallMs: [] as number[] };
    let refReady = false;
    let refEnd: Reading | undefined;
    let partial = '';
    let statusErr = '';
    status.stderr.setEncoding('utf8').on('data', (d: string) => (statusErr += d));
    status.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      const t = hrMs();
      const wall = Date.now();
      const lines = (partial + chunk).split('\n');
      partial = lines.pop()!;
      for (const line of lines) {
        if (!refReady) {
          refReady = true; // the first line is the status report; events follow
          refReadyAt = t;
          continue;
        }
        const e = JSON.parse(line) as { seq: number; type: string };
        ref.seqs.push(e.seq);
        ref.data.push(line);
        ref.recvMs.push(t);
        ref.recvWallMs.push(wall);
        // Its CPU up to the last event (it exits right after: /proc would be gone).
        if (e.type === 'run.finished') refEnd = reading(status.pid);
      }
    });

    await Promise.race([
      Promise.all([opened, until(() => refReady, 60_000, 'status --follow to start', 2)]),
      deadline(60_000, 'every client to open its stream'),
    ]);
    // ── The window: from here (every reader attached) until each reader has the run's end ──
    const startSeq = tail.lastSeq;
    const pids = { server: server.pid, reference: status.pid, clients: clientsProc.pid, coordinator: run.pid };
    type Name = keyof typeof pids;
    const names = Object.keys(pids) as Name[];
    const first = Object.fromEntries(names.map((n) => [n, reading(pids[n])])) as Record<Name, Reading | undefined>;
    const last = { ...first };
    sampler = setInterval(() => {
      for (const n of names) last[n] = reading(pids[n]) ?? last[n];
    }, 100);
    const attachMs = { clients: openedAt - runJsonAt, reference: refReadyAt - runJsonAt };
    options.log(
      `  every reader attached at seq ${startSeq} (after run.json: streams open ${attachMs.clients.toFixed(0)} ms, status --follow printing ${attachMs.reference.toFixed(0)} ms); measuring until the run's end`,
    );

    await Promise.race([ended, deadline(5 * 60_000, 'the clients to get the end of the run')]);
    const serverEnd = reading(server.pid);
    const clientsEnd = reading(clientsProc.pid);
    clearInterval(sampler);
    const result = (await Promise.race([done, deadline(60_000, "the clients' checks")])) as Extract<
      ClientsMessage,
      { type: 'done' }
    >;
    if (clientsProc.connected) clientsProc.disconnect(); // it exits
    const [runCode, statusCode] = await Promise.race([
      Promise.all([exited(run), exited(status)]),
      deadline(60_000, 'swarm run and status --follow to exit'),
    ]);
    tail.close();
    if (runCode !== 0) throw new Error(`swarm run exited ${runCode}: ${runErr}`);
    if (statusCode !== 0) throw new Error(`swarm status --follow exited ${statusCode}: ${statusErr}`);
    server.kill('SIGTERM');
    await Promise.race([exited(server), deadline(15_000, 'swarm serve to stop')]);

    // ── Checks and figures ─────────────────────────────────────────────────────────────────
    const log = readLog(eventsFile);
    const at = log.lines.map((l) => Date.parse((JSON.parse(l) as { at: string }).at));
    const summaries: ClientSummary[] = result.results;
    const problems: string[] = [];
    for (const c of summaries) {
      if (!c.check.ok) problems.push(`client ${c.client}: ${JSON.stringify(c.check)}`);
      if (c.errors.length > 0) problems.push(`client ${c.client}: ${c.errors.join('; ')}`);
      if (c.end !== '{"reason":"finished"}') problems.push(`client ${c.client}: end ${c.end}`);
    }
    const refFrom = (ref.seqs[0] ?? log.lines.length + 1) - 1;
    const referenceCheck = checkStream(log, refFrom, ref);
    if (!referenceCheck.ok) problems.push(`status --follow: ${JSON.stringify(referenceCheck)}`);
    if (refFrom > startSeq)
      problems.push(`status --follow began at seq ${refFrom + 1}, after the window (${startSeq})`);

    const timed = (seq: number): boolean => seq > startSeq && tail!.seenMs[seq] !== undefined;
    const lags: number[] = [];
    const lagsAt: number[] = [];
    const perClient = summaries.map((c) => {
      const mine: number[] = [];
      c.seqs.forEach((seq, i) => {
        if (!timed(seq)) return;
        mine.push(c.recvMs[i]! - tail!.seenMs[seq]!);
        lagsAt.push(c.recvWallMs[i]! - at[seq - 1]!);
      });
      lags.push(...mine);
      return { p50: round(percentile(mine, 50), 2), p99: round(percentile(mine, 99), 2) };
    });
    const refLags: number[] = [];
    const refLagsAt: number[] = [];
    ref.seqs.forEach((seq, i) => {
      if (!timed(seq)) return;
      refLags.push(ref.recvMs[i]! - tail!.seenMs[seq]!);
      refLagsAt.push(ref.recvWallMs[i]! - at[seq - 1]!);
    });
    const timedSeqs = log.lines.map((_, i) => i + 1).filter(timed);
    const runMs = at.at(-1)! - at[0]!;
    return {
      tasks,
      clients,
      events: log.lines.length,
      runMs,
      eventsPerS: (log.lines.length / runMs) * 1000,
      startSeq,
      attachMs,
      openMs: dist(summaries.map((c) => c.openMs - runJsonAt)),
      loadavg,
      timedEvents: timedSeqs.length,
      server: use(first.server, serverEnd),
      reference: use(first.reference, refEnd),
      clientsProcess: use(first.clients, clientsEnd),
      coordinator: use(first.coordinator, last.coordinator),
      lag: dist(lags),
      lagAt: dist(lagsAt),
      perClient,
      referenceLag: dist(refLags),
      referenceLagAt: dist(refLagsAt),
      tailBound: dist(timedSeqs.map((s) => tail!.boundMs[s]!)),
      tailGaps: dist(tail.gapsMs),
      clientsOk: summaries.filter((c) => c.check.ok && c.errors.length === 0 && c.end === '{"reason":"finished"}')
        .length,
      reconnects: summaries.reduce((a, c) => a + c.reconnects, 0),
      comments: summaries.reduce((a, c) => a + c.comments, 0),
      referenceCheck,
      problems,
    };
  } finally {
    clearInterval(sampler);
    tail?.close();
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    removeDir(dir, options);
  }
}

/** Runs the SSE load benchmark: 50 clients on one busy run, against `swarm status --follow`. */
export async function serveSse(options: BenchOptions): Promise<BenchResult> {
  requireBuild();
  const began = Date.now();
  // For investigation, not for the reported numbers: --clients N, --tasks N, --repeats N.
  const flag = (name: string, dflt: number): number => {
    const at = process.argv.indexOf(`--${name}`);
    return at >= 0 ? Number(process.argv[at + 1]) : dflt;
  };
  const tasks = flag('tasks', options.quick ? 300 : 1000);
  const clients = flag('clients', 50);
  const repeats = flag('repeats', options.quick ? 1 : 3);
  const runs: SseRun[] = [];
  for (let i = 0; i < repeats; i++) {
    options.log(`serve-sse: repeat ${i + 1}/${repeats}: ${clients} SSE clients and status --follow on ${tasks} tasks`);
    const r = await once(options, tasks, clients, 1001);
    runs.push(r);
    options.log(
      `  ${r.events} events in ${(r.runMs / 1000).toFixed(1)} s (${r.eventsPerS.toFixed(0)}/s); server ${r.server.cpuS.toFixed(2)} s CPU (${r.server.percent.toFixed(0)}%), ${r.server.peakRssMiB.toFixed(0)} MiB; status --follow ${r.reference.cpuS.toFixed(2)} s (${r.reference.percent.toFixed(0)}%), ${r.reference.peakRssMiB.toFixed(0)} MiB; lag p50/p99/max ${r.lag.p50.toFixed(1)}/${r.lag.p99.toFixed(1)}/${r.lag.max.toFixed(1)} ms vs ${r.referenceLag.p50.toFixed(1)}/${r.referenceLag.p99.toFixed(1)}/${r.referenceLag.max.toFixed(1)} ms; ${r.clientsOk}/${clients} clients complete`,
    );
    if (r.problems.length > 0)
      throw new Error(
        `serve-sse: the streams were wrong (repeat ${i + 1}):\n${r.problems.slice(0, 10).join('\n')}${r.problems.length > 10 ? `\n… ${r.problems.length - 10} more` : ''}`,
      );
  }
  /** A metric: the median over the repeats of `f`, rounded to `digits`. */
  const m = (name: string, f: (r: SseRun) => number, unit: string, digits = 1): ReturnType<typeof metric> =>
    metric(name, round(median(runs.map(f)), digits), unit);
  const waitPct = (u: (r: SseRun) => ProcessUse) => (r: SseRun) => (100 * u(r).cpuWaitS) / u(r).wallS;
  const metrics = [
    metric(
      'clients that got every event once, in order, byte-equal (every repeat)',
      min(runs.map((r) => r.clientsOk)),
      `of ${clients}`,
    ),
    m('events in the run', (r) => r.events, '', 0),
    m('  events per second of the run', (r) => r.eventsPerS, '/s', 0),
    m(`server CPU, ${clients} clients`, (r) => r.server.cpuS, 's', 2),
    m('  % of one core over the window', (r) => r.server.percent, '%'),
    m(
      '  its main thread runnable but waiting for a CPU, % of the window',
      waitPct((r) => r.server),
      '%',
      0,
    ),
    m('server peak RSS', (r) => r.server.peakRssMiB, 'MiB', 0),
    m('SSE lag p50, every client and event', (r) => r.lag.p50, 'ms'),
    m('SSE lag p99', (r) => r.lag.p99, 'ms'),
    m('SSE lag max', (r) => r.lag.max, 'ms'),
    m("SSE lag p50 against the events' `at` (an upper bound)", (r) => r.lagAt.p50, 'ms'),
    m('  p99 against `at`', (r) => r.lagAt.p99, 'ms'),
    m('reference: status --follow CPU', (r) => r.reference.cpuS, 's', 2),
    m('  % of one core over the window', (r) => r.reference.percent, '%'),
    m(
      '  its main thread waiting for a CPU, % of the window',
      waitPct((r) => r.reference),
      '%',
      0,
    ),
    m('reference: status --follow peak RSS', (r) => r.reference.peakRssMiB, 'MiB', 0),
    m('reference: lag p50', (r) => r.referenceLag.p50, 'ms'),
    m('reference: lag p99', (r) => r.referenceLag.p99, 'ms'),
    m('reference: lag max', (r) => r.referenceLag.max, 'ms'),
    m('reference: lag p50 against `at`', (r) => r.referenceLagAt.p50, 'ms'),
    m('  p99 against `at`', (r) => r.referenceLagAt.p99, 'ms'),
    m('server CPU ÷ status --follow CPU', (r) => r.server.cpuS / r.reference.cpuS, '×'),
    m(`  per client (÷ ${clients})`, (r) => r.server.cpuS / r.reference.cpuS / clients, '×', 2),
    m('SSE lag p99 ÷ reference lag p99', (r) => r.lag.p99 / r.referenceLag.p99, '×'),
    m('  the same against `at`', (r) => r.lagAt.p99 / r.referenceLagAt.p99, '×'),
    m('tail watcher: its delay bound p99 (timed events)', (r) => r.tailBound.p99, 'ms', 2),
  ];
  const f1 = (n: number): string => n.toFixed(1);
  const notes = [
    `Each repeat: a random ${tasks}-task DAG of \`true\` (seed 1001), 8 workers, git isolation none (tasks in place: the highest event rate), started as \`swarm run --no-dashboard --run-id\` into an empty run directory the ${clients} clients were already waiting on. The window runs from the moment every reader was attached (all streams open, status --follow printing) to each reader's last event; lag is measured on the events appended in it, correctness on every event.`,
    ...runs.map(
      (r, i) =>
        `Repeat ${i + 1}: ${r.events} events, ${f1(r.runMs / 1000)} s, window from seq ${r.startSeq} (${r.timedEvents} timed events × ${r.clients} clients). Load average before it ${r.loadavg.map((l) => l.toFixed(1)).join(' ')}. Streams open ${f1(r.openMs.min)}–${f1(r.openMs.max)} ms after run.json (median ${f1(r.openMs.p50)}), status --follow printing after ${f1(r.attachMs.reference)} ms. Server ${r.server.cpuS.toFixed(2)} s CPU over ${f1(r.server.wallS)} s (${f1(r.server.percent)}%), its main thread waiting for a CPU ${r.server.cpuWaitS.toFixed(2)} s, peak ${r.server.peakRssMiB.toFixed(0)} MiB; status --follow ${r.reference.cpuS.toFixed(2)} s over ${f1(r.reference.wallS)} s (${f1(r.reference.percent)}%), waiting ${r.reference.cpuWaitS.toFixed(2)} s, ${r.reference.peakRssMiB.toFixed(0)} MiB; the clients' process ${r.clientsProcess.cpuS.toFixed(2)} s (${f1(r.clientsProcess.percent)}%); coordinator ${f1(r.coordinator.percent)}%. Lag p50/p99/max: SSE ${f1(r.lag.p50)}/${f1(r.lag.p99)}/${f1(r.lag.max)} ms (min ${f1(r.lag.min)}), status --follow ${f1(r.referenceLag.p50)}/${f1(r.referenceLag.p99)}/${f1(r.referenceLag.max)} ms; against the events' \`at\`: SSE ${f1(r.lagAt.p50)}/${f1(r.lagAt.p99)}/${f1(r.lagAt.max)} ms, status --follow ${f1(r.referenceLagAt.p50)}/${f1(r.referenceLagAt.p99)}/${f1(r.referenceLagAt.max)} ms. Per-client p50 from ${f1(min(r.perClient.map((c) => c.p50)))} to ${f1(max(r.perClient.map((c) => c.p50)))} ms (first client ${f1(r.perClient[0]!.p50)}, last ${f1(r.perClient.at(-1)!.p50)}). Reconnections ${r.reconnects}.`,
    ),
    `The tail (this process, every 1 ms and on fs.watch): time between reads p50/p99/max ${runs.map((r) => `${r.tailGaps.p50.toFixed(2)}/${r.tailGaps.p99.toFixed(2)}/${r.tailGaps.max.toFixed(1)}`).join(', ')} ms; an event was appended at most (bound) before the tail saw it, p50/p99/max ${runs.map((r) => `${r.tailBound.p50.toFixed(2)}/${r.tailBound.p99.toFixed(2)}/${r.tailBound.max.toFixed(1)}`).join(', ')} ms: the true lag is the measured one plus up to that bound. The \`at\` lag is an upper bound (\`at\` is taken before the write, truncated to the ms). status --follow's lines are timestamped in this process, like the tail: when this process waits for a CPU, both are late together and its lag against the tail looks smaller than it is; against \`at\` it does not.`,
  ];
  return {
    name: 'serve-sse',
    description: `${clients} SSE clients of swarm serve on one busy ${tasks}-task run; reference: swarm status --follow --json`,
    params: { tasks, clients, repeats, workers: 8, seed: 1001, isolation: 'none' },
    metrics,
    notes,
    raw: { runs },
    elapsedMs: Date.now() - began,
  };
}

if (isMain(import.meta.url)) await runStandalone('serve-sse', serveSse);
