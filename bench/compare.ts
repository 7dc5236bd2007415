// Compares this build with the build of another commit, benchmark by benchmark, in one process run:
// each round runs a benchmark under both builds back to back (alternating which goes first), so
// both see the same machine. The machine is shared and noisy; ratios of medians across rounds are
// what to read, not absolute numbers.
//   node dist/bench/compare.js --against <commit> [--only make-j8,...] [--rounds 2] [--quick]
// The reference is checked out in a temporary git worktree (detached, never on a branch), given this
// checkout's node_modules, built with this checkout's TypeScript, and removed at the end.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeResults, type BenchResult } from './lib.js';

/** The repository root of this build (bench/compare.ts is compiled to dist/bench/compare.js). */
const REPO = fileURLToPath(new URL('../../', import.meta.url));
const ALL = ['make-j8', 'dispatch-latency', 'makespan', 'scale', 'dashboard', 'agent-turns', 'serve-sse'];

/** One build under comparison: a source tree with a compiled `dist/`. */
interface Build {
  label: 'current' | 'reference';
  root: string;
  commit: string;
}

/** What one run of one benchmark under one build gave. */
interface Sample {
  round: number;
  build: Build['label'];
  result: BenchResult | null;
  error: string | null;
}

function git(cwd: string, ...args: string[]): string {
  const r = spawnSync('git', args, { cwd, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`git ${args.join(' ')}: ${r.stderr.trim()}`);
  return r.stdout.trim();
}

/**
 * Checks out `rev` in a temporary detached worktree and compiles it with this checkout's
 * TypeScript and node_modules (symlinked). Throws if git or tsc fails.
 */
function buildReference(rev: string, log: (l: string) => void): Build {
  const commit = git(REPO, 'rev-parse', '--verify', `${rev}^{commit}`);
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'fileswarm-bench-ref-'));
  fs.rmSync(root, { recursive: true });
  git(REPO, 'worktree', 'add', '--detach', '--quiet', root, commit);
  fs.symlinkSync(path.join(REPO, 'node_modules'), path.join(root, 'node_modules'));
  log(`reference ${commit.slice(0, 7)}: building in ${root}`);
  const tsc = spawnSync(process.execPath, [path.join(REPO, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json'], {
    cwd: root,
    encoding: 'utf8',
  });
  if (tsc.status !== 0) throw new Error(`building ${commit.slice(0, 7)} failed:\n${tsc.stdout}${tsc.stderr}`);
  return { label: 'reference', root, commit };
}

/** Runs `run-all.js --only <name>` of a build; resolves with its results file's content. */
function runOne(build: Build, name: string, quick: boolean, log: (l: string) => void): Promise<BenchResult> {
  const args = [path.join(build.root, 'dist/bench/run-all.js'), '--only', name, ...(quick ? ['--quick'] : [])];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: build.root, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => {
      for (const line of d.toString().split('\n')) if (line.trim()) log(`  [${build.label}] ${line}`);
    });
    child.on('close', (code) => {
      const file = /raw results: (.*)/.exec(out)?.[1]?.trim();
      if (!file || !fs.existsSync(file))
        return reject(new Error(`${name} under ${build.label}: exit ${code}, no results`));
      const data = JSON.parse(fs.readFileSync(file, 'utf8')) as {
        results: BenchResult[];
        failures: { error: string }[];
      };
      const result = data.results[0];
      if (!result) return reject(new Error(data.failures[0]?.error ?? `${name} under ${build.label}: no result`));
      resolve(result);
    });
  });
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

/** Median of each metric per build, and current ÷ reference. */
function summarize(name: string, samples: Sample[]): string[][] {
  const rows: string[][] = [];
  const first = samples.find((s) => s.result)?.result;
  for (const m of first?.metrics ?? []) {
    const values = (label: Build['label']): number[] =>
      samples.flatMap((s) =>
        s.build === label && s.result ? s.result.metrics.filter((x) => x.name === m.name).map((x) => x.value) : [],
      );
    const cur = values('current');
    const ref = values('reference');
    if (cur.length === 0 || ref.length === 0) continue;
    const c = median(cur);
    const r = median(ref);
    rows.push([
      name,
      m.name,
      `${c.toPrecision(4)} ${m.unit}`,
      `${r.toPrecision(4)} ${m.unit}`,
      r === 0 ? '' : `${(c / r).toFixed(3)}`,
      `${cur.length}/${ref.length}`,
    ]);
  }
  return rows;
}

function table(rows: string[][]): string {
  const head = ['benchmark', 'metric', 'current', 'reference', 'cur/ref', 'runs'];
  const all = [head, ...rows];
  const widths = head.map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)));
  return all.map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ')).join('\n');
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const opt = (flag: string): string | undefined => {
    const at = argv.indexOf(flag);
    return at >= 0 ? argv[at + 1] : undefined;
  };
  const log = (line: string): void => void process.stderr.write(`${line}\n`);
  const against = opt('--against');
  if (!against) {
    log('usage: node dist/bench/compare.js --against <commit> [--only a,b] [--rounds N] [--quick]');
    process.exitCode = 2;
    return;
  }
  const only = (opt('--only') ?? ALL.join(',')).split(',');
  const unknown = only.filter((n) => !ALL.includes(n));
  if (unknown.length > 0) {
    log(`unknown benchmark(s): ${unknown.join(', ')}; known: ${ALL.join(', ')}`);
    process.exitCode = 2;
    return;
  }
  const rounds = Number(opt('--rounds') ?? 2);
  const quick = argv.includes('--quick');
  const current: Build = { label: 'current', root: REPO, commit: git(REPO, 'rev-parse', 'HEAD') };
  const reference = buildReference(against, log);
  const samples = new Map<string, Sample[]>(only.map((n) => [n, []]));
  try {
    for (let round = 1; round <= rounds; round++) {
      for (const name of only) {
        const order = round % 2 === 1 ? [current, reference] : [reference, current];
        for (const build of order) {
          log(`round ${round}/${rounds}: ${name} under ${build.label} (${build.commit.slice(0, 7)})`);
          try {
            samples
              .get(name)!
              .push({ round, build: build.label, result: await runOne(build, name, quick, log), error: null });
          } catch (e) {
            samples.get(name)!.push({ round, build: build.label, result: null, error: (e as Error).message });
            log(`  FAILED: ${(e as Error).message}`);
          }
        }
      }
    }
  } finally {
    spawnSync('git', ['worktree', 'remove', '--force', reference.root], { cwd: REPO });
  }
  const rows = only.flatMap((n) => summarize(n, samples.get(n)!));
  process.stdout.write(
    `current ${current.commit.slice(0, 7)}${git(REPO, 'status', '--short', '--', 'src') ? ' (+ uncommitted src)' : ''} vs reference ${reference.commit.slice(0, 7)}, ${rounds} round(s)${quick ? ', --quick' : ''}; medians\n\n${table(rows)}\n`,
  );
  const file = writeResults('compare', {
    current: current.commit,
    reference: reference.commit,
    rounds,
    quick,
    samples: Object.fromEntries(samples),
  });
  process.stdout.write(`\nraw results: ${file}\n`);
  if ([...samples.values()].flat().some((s) => s.error)) process.exitCode = 1;
}

await main();
