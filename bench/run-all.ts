// Runs every benchmark in turn, prints a summary table and each one's notes, and writes the raw
// results to bench/out/all-<timestamp>.json. `npm run bench` builds first, then runs this.
//   node dist/bench/run-all.js [--quick] [--keep] [--only make-j8,makespan,...] [--scale-limit-min N]
import { agentTurns } from './agent-turns.js';
import { cliOverhead } from './cli-overhead.js';
import { fsyncs } from './fsyncs.js';
import { simulatedWorkers } from './simulated-workers.js';
import { dashboard } from './dashboard.js';
import { dispatchLatency } from './dispatch-latency.js';
import {
  buildInfo,
  cleanup,
  formatTable,
  machineInfo,
  otherBenchmarks,
  parseOptions,
  requireBuild,
  writeResults,
  type BenchOptions,
  type BenchResult,
} from './lib.js';
import { makeJ8 } from './make-j8.js';
import { makespan } from './makespan.js';
import { sandboxOverhead } from './sandbox-overhead.js';
import { scale } from './scale.js';
import { serveSse } from './serve-sse.js';
import { startupBench } from './startup.js';

const BENCHMARKS: [string, (o: BenchOptions) => Promise<BenchResult>][] = [
  ['make-j8', makeJ8],
  ['dispatch-latency', dispatchLatency],
  ['makespan', makespan],
  ['scale', scale],
  ['dashboard', dashboard],
  ['agent-turns', agentTurns],
  ['cli-overhead', cliOverhead],
  ['serve-sse', serveSse],
  ['sandbox-overhead', sandboxOverhead],
  ['startup', startupBench],
  ['fsyncs', fsyncs],
  ['simulated-workers', simulatedWorkers],
];

async function main(): Promise<void> {
  const options = parseOptions();
  const onlyAt = process.argv.indexOf('--only');
  const only = onlyAt >= 0 ? new Set((process.argv[onlyAt + 1] ?? '').split(',')) : undefined;
  const selected = BENCHMARKS.filter(([name]) => !only || only.has(name));
  requireBuild();
  const machine = machineInfo();
  options.log(
    `fileswarm benchmarks${options.quick ? ' (--quick: NOT final numbers)' : ''}: ${selected.map(([n]) => n).join(', ')}`,
  );
  options.log(
    `build: ${buildInfo?.head?.slice(0, 7) ?? '?'}${buildInfo?.dirtySrc ? ' + uncommitted src changes' : ''}, dist built ${buildInfo?.distBuiltAt ?? '?'}`,
  );
  options.log(
    `machine: ${String(machine.nproc)} cpus (${String(machine.cpu)}), node ${String(machine.node)}, load ${(machine.loadavg as number[]).map((l) => l.toFixed(2)).join(' ')}`,
  );

  // Another benchmark suite running at the same time would distort these numbers: look for one
  // every 5 s and say so in the results.
  const concurrent = new Set<string>();
  const look = (): void => otherBenchmarks().forEach((o) => concurrent.add(o));
  look();
  const watcher = setInterval(look, 5000);
  const results: BenchResult[] = [];
  const failures: { name: string; error: string }[] = [];
  for (const [name, bench] of selected) {
    const t = Date.now();
    options.log(`\n== ${name}`);
    try {
      const r = await bench(options);
      results.push(r);
      options.log(`== ${name}: done in ${((Date.now() - t) / 1000).toFixed(0)} s`);
    } catch (e) {
      failures.push({ name, error: (e as Error).stack ?? String(e) });
      options.log(`== ${name}: FAILED: ${(e as Error).message}`);
    }
  }

  clearInterval(watcher);
  look();
  const out = process.stdout;
  out.write(`\n${formatTable(results)}\n`);
  for (const r of results) {
    out.write(`\n${r.name}: ${r.description}\n`);
    for (const n of r.notes) out.write(`  - ${n}\n`);
  }
  for (const f of failures) out.write(`\n${f.name} FAILED:\n${f.error}\n`);
  out.write(
    concurrent.size
      ? `\nWARNING: other benchmark runs were seen during this one (numbers distorted): ${[...concurrent].join('; ')}\n`
      : '\nNo other benchmark run was seen during this one.\n',
  );
  const file = writeResults('all', {
    machine,
    build: buildInfo,
    concurrentBenchmarks: [...concurrent],
    quick: options.quick,
    loadavgAfter: machineInfo().loadavg,
    results,
    failures,
  });
  out.write(`\nraw results: ${file}\n`);
  cleanup();
  if (failures.length > 0) process.exitCode = 1;
}

await main();
