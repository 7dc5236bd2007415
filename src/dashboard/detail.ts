// The detail pane's text and the pager's: a task's facts, its attempts (newest first, with the
// live activity of the one in flight), verify output and commit; one line per record of an
// attempt's events.jsonl; every attempt's log; and what became of this dashboard's requests.
// Pure: the model and the attempt files read by source.ts in, lines out.
import { totalTokens } from '../protocol/usage.js';
import type { CoordinatorLiveness } from '../protocol/run-reader.js';
import { clockTime, formatCost, formatDuration, oneLine, stripAnsi } from '../presenter/format.js';
import { asPlainObject } from '../util/plain-object.js';
import { attemptLiveOf, type AttemptFiles, type RequestFacts, type TaskFiles } from './facts.js';
import { numberField, stringField, stringsField } from './loose.js';
import type { RunModel } from './model.js';
import { STATE_STYLE, type Line, type Tone } from './theme.js';
import { usageField } from './usage.js';

/**
 * The detail pane of a task: what it is, where it stands, its attempts (newest first: the live
 * activity of the current one, the failures of earlier ones), verify output and commit.
 * @param m the model of the run
 * @param files the task's attempt files, if read (undefined: not read yet)
 * @param now ms since the epoch, for a running attempt's elapsed time
 */
export function taskDetail(m: RunModel, id: string, files: TaskFiles | undefined, now: number): Line[] {
  const t = m.plan.byId.get(id);
  if (!t) return [{ text: `no task ${id}`, tone: 'muted' }];
  const s = m.state.tasks[id];
  const row = m.row(id, now);
  const out: Line[] = [];
  const add = (text: string, tone: Tone = 'normal'): void => void out.push({ text, tone });
  add(`${row.glyph} ${id} · ${row.state}${row.critical ? ' · critical path' : ''}`, row.tone);
  if (t.title !== id) add(t.title, 'accent');
  const facts = [
    t.role ? `role ${t.role}` : null,
    `wave ${t.wave}`,
    `attempts ${row.attempts}`,
    t.retries ? `retries ${s?.failures ?? 0}/${t.retries} used` : null,
  ];
  const cost = formatCost(row.cost_usd);
  if (cost) facts.push(`cost ${cost}`);
  add(facts.filter(Boolean).join(' · '), 'muted');
  if (t.deps.length)
    add(`deps: ${t.deps.map((d) => `${STATE_STYLE[m.state.tasks[d]?.state ?? 'pending'].glyph} ${d}`).join('  ')}`);
  else add('deps: none', 'muted');
  const dependents = m.plan.dependents.get(id) ?? [];
  if (dependents.length)
    add(
      `dependents: ${dependents.slice(0, 12).join(', ')}${dependents.length > 12 ? ` (+${dependents.length - 12} more)` : ''}`,
    );
  if (s?.state === 'skipped') add(`skipped: ${s.skipped_because} did not succeed`, 'warn');
  if (s?.state === 'ready' && s.not_before) add(`retries at ${clockTime(s.not_before)}`, 'warn');
  if (s?.cancel_requested) add('cancel requested', 'warn');
  if (s?.last_conflict)
    add(`last merge conflict (attempt ${s.last_conflict.attempt}): ${s.last_conflict.files.join(', ')}`, 'warn');
  const req = m.requestFor(id);
  if (req) add(`your request: ${describeRequest(req, m.liveness)}`, req.status === 'rejected' ? 'bad' : 'accent');
  if (t.run) add(`$ ${t.run}`, 'muted');
  // The attempts (newest first, with a running one's live activity) come before the description:
  // what the task is doing now is what a small detail pane must show without scrolling.
  const attempts = (files?.attempts ?? []).slice().reverse();
  attempts.forEach((a, i) => {
    add('');
    const current = s?.current?.attempt === a.attempt;
    out.push(...attemptLines(a, current, i === 0, now));
  });
  if (s?.merged_commit)
    add(`merged ${s.merged_commit.slice(0, 12)} into ${m.state.git?.branch ?? 'the integration branch'}`, 'ok');
  if (t.description.trim()) {
    add('');
    if (attempts.length) add('the task:', 'muted');
    for (const l of t.description.trimEnd().split('\n').slice(0, 40)) add(oneLine(l));
  }
  return out;
}

/**
 * The lines of one attempt in a task's detail: its outcome (or its live state), what it did (an
 * agent's activity, else its output), verify, its commit.
 * @param current the state has it in flight; @param latest it is the task's newest attempt
 */
function attemptLines(a: AttemptFiles, current: boolean, latest: boolean, now: number): Line[] {
  const out: Line[] = [];
  const add = (text: string, tone: Tone = 'normal'): void => void out.push({ text, tone });
  const result = a.result;
  const worker =
    stringField(result, 'worker') ?? stringField(a.assignment, 'worker') ?? stringField(a.status, 'worker');
  const live = attemptLiveOf(a.attempt, a.status);
  const usage = usageField(result) ?? live?.usage ?? null;
  const cost = formatCost(usage?.cost_usd ?? (result ? numberField(result, 'cost_usd') : null));
  const tokens = usage ? totalTokens(usage) : 0;
  const sandbox = sandboxOf(a.assignment);
  const extra = [cost, tokens ? `${tokens} tokens` : '', sandbox].filter(Boolean).join(', ');
  if (result) {
    const outcome = stringField(result, 'outcome') ?? '?';
    const tone: Tone = outcome === 'succeeded' ? 'ok' : outcome === 'failed' ? 'bad' : 'warn';
    const reason = stringField(result, 'reason');
    add(
      `── #${a.attempt} ${outcome}${reason && reason !== 'exit-zero' ? ` (${reason})` : ''} · ${formatDuration(numberField(result, 'duration_ms'))}${worker ? ` · ${worker}` : ''}${extra ? ` · ${extra}` : ''}`,
      tone,
    );
    add(`   ${stringField(result, 'summary') ?? ''}`, tone);
  } else if (current || live) {
    const since = live?.started_at ?? stringField(a.assignment, 'assigned_at');
    const state = live ? live.state : 'assigned';
    add(
      `── #${a.attempt} ${state}${since ? ` · ${formatDuration(now - Date.parse(since))}` : ''}${worker ? ` · ${worker}` : ''}${live?.turn != null ? ` · turn ${live.turn}` : ''}${extra ? ` · ${extra}` : ''}`,
      'active',
    );
  } else {
    add(`── #${a.attempt} no result (lost, taken back or never started: see the events)`, 'muted');
  }
  const agent = a.events.map(describeAttemptEvent).filter((l): l is Line => l !== null && l.tone !== 'muted');
  const liveFrom = out.length;
  const running = !result && current; // the coordinator's state has it in flight
  if (latest || current) {
    if (agent.length) {
      add('   activity:', 'muted');
      for (const l of agent.slice(-12)) add(`   ${l.text}`, l.tone);
    } else {
      if (a.stdout.length) {
        add('   stdout:', 'muted');
        for (const l of a.stdout.slice(-10)) add(`   ${oneLine(stripAnsi(l))}`);
      }
      if (a.stderr.length) {
        add('   stderr:', 'muted');
        for (const l of a.stderr.slice(-10)) add(`   ${oneLine(stripAnsi(l))}`, 'warn');
      }
      if (!a.stdout.length && !a.stderr.length && live?.activity) add(`   ${oneLine(live.activity)}`);
    }
  } else if (result && stringField(result, 'outcome') !== 'succeeded') {
    for (const l of stringsField(result, 'stderr_tail').slice(-5)) add(`   ${oneLine(stripAnsi(l))}`, 'warn');
  }
  const verify = asPlainObject(result?.verify);
  if (verify) {
    const code = numberField(verify, 'exit_code');
    add(
      `   verify \`${stringField(verify, 'command') ?? ''}\`: ${code === null ? 'stopped' : `exit ${code}`}`,
      code === 0 ? 'ok' : 'bad',
    );
    for (const l of stringsField(verify, 'output_tail').slice(-8)) add(`   ${oneLine(stripAnsi(l))}`, 'muted');
  } else if (a.verify.length && (latest || current)) {
    add('   verify output:', 'muted');
    for (const l of a.verify.slice(-8)) add(`   ${oneLine(stripAnsi(l))}`, 'muted');
  }
  // A running attempt's newest line (its activity, or its verify output once verify runs) stays
  // in view (ScrollPane) however long the detail is.
  if (running && out.length > liveFrom) out[out.length - 1] = { ...out[out.length - 1]!, anchor: true };
  const commit = stringField(result, 'commit');
  if (commit) {
    const files = stringsField(result, 'files_changed');
    add(
      `   commit ${commit.slice(0, 12)} · ${files.length} file${files.length === 1 ? '' : 's'}${files.length ? `: ${files.slice(0, 6).join(', ')}${files.length > 6 ? ', …' : ''}` : ''} · d: diff`,
      'accent',
    );
  }
  return out;
}

/** One line for a record of an attempt's events.jsonl (agent backends: messages, tool calls). */
export function describeAttemptEvent(r: Record<string, unknown>): Line | null {
  const text = stringField(r, 'text');
  const name = stringField(r, 'name') ?? '?';
  switch (r.type) {
    case 'message':
      return { text: `» ${clean(text ?? '')}`, tone: 'normal' };
    case 'tool_call': {
      const input =
        r.input === undefined ? (text ?? '') : typeof r.input === 'string' ? r.input : JSON.stringify(r.input);
      return { text: `→ ${name} ${clean(input ?? '')}`, tone: 'active' };
    }
    case 'tool_result': {
      const output =
        typeof r.output === 'string' ? r.output : r.output === undefined ? (text ?? '') : JSON.stringify(r.output);
      return r.is_error === true
        ? { text: `✗ ${name}: ${clean(output)}`, tone: 'bad' }
        : { text: `← ${name}: ${clean(output)}`, tone: 'muted' };
    }
    case 'error':
      return { text: `! ${clean(text ?? JSON.stringify(r))}`, tone: 'bad' };
    case 'log':
      return { text: clean(text ?? ''), tone: 'muted' };
    default:
      return text ? { text: clean(text), tone: 'muted' } : null;
  }
}

/** First line of a text, without escape sequences or control characters. */
function clean(text: string): string {
  const first =
    stripAnsi(text)
      .split('\n')
      .find((l) => l.trim() !== '') ?? '';
  return oneLine(first).trim();
}

/** What became of a request, in a few words. */
export function describeRequest(r: RequestFacts, liveness: CoordinatorLiveness): string {
  const what = `${r.action}${r.task ? ` ${r.task}` : ''}`;
  switch (r.status) {
    case 'pending':
      return liveness === 'alive'
        ? `${what}: sent, waiting for the coordinator`
        : `${what}: waiting; no coordinator is running (\`swarm resume\` applies it)`;
    case 'archived':
      return `${what}: applied`;
    case 'applied':
      return `${what}: applied: ${r.message ?? ''}`;
    case 'rejected':
      return `${what}: rejected: ${r.message ?? ''}`;
  }
}

/** Lines of an attempt's log for the pager: events, stdout, stderr, an agent's bash commands and their output (bash.log), verify output. */
export function attemptLogLines(a: {
  attempt: number;
  events: Record<string, unknown>[];
  stdout: string[];
  stderr: string[];
  bash?: string[];
  verify: string[];
  result: Record<string, unknown> | null;
}): Line[] {
  const out: Line[] = [];
  const outcome = stringField(a.result, 'outcome');
  out.push({
    text: `════ attempt ${a.attempt}${outcome ? ` · ${outcome}: ${stringField(a.result, 'summary') ?? ''}` : ''}`,
    tone: 'accent',
  });
  const section = (name: string, lines: string[], tone: Tone): void => {
    if (!lines.length) return;
    out.push({ text: `── ${name}`, tone: 'muted' });
    for (const l of lines) out.push({ text: oneLine(stripAnsi(l)), tone });
  };
  section(
    'events',
    a.events.map(
      (r) => `${typeof r.at === 'string' ? clockTime(r.at) : ''} ${describeAttemptEvent(r)?.text ?? JSON.stringify(r)}`,
    ),
    'muted',
  );
  section('stdout', a.stdout, 'normal');
  section('stderr', a.stderr, 'warn');
  section("bash (the agent's commands and their output)", a.bash ?? [], 'normal');
  section('verify', a.verify, 'normal');
  if (!a.events.length && !a.stdout.length && !a.stderr.length && !a.bash?.length && !a.verify.length)
    out.push({ text: '(no output)', tone: 'muted' });
  return out;
}

/** The attempt's sandbox as its assignment.json says (`sandbox workspace, no network`); '' when none or unknown. */
function sandboxOf(assignment: unknown): string {
  const s = (assignment as { sandbox?: { mode?: unknown; network?: unknown } } | undefined)?.sandbox;
  if (!s || s.mode !== 'workspace') return '';
  return `sandbox workspace, ${s.network === 'allow' ? 'network' : 'no network'}`;
}
