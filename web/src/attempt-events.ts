// An attempt's events.jsonl (src/worker/backends/backend.ts AttemptEvent) as lines to read: an
// agent's messages, tool calls and results, errors; a command's lines of output.

/** One line to show, with its tone. */
export interface EventLine {
  text: string;
  tone: 'normal' | 'active' | 'muted' | 'bad';
}

/** The first line of `s`, at most 300 characters. */
function firstLine(s: string): string {
  const line = s.split('\n', 1)[0] ?? '';
  return line.length > 300 ? `${line.slice(0, 299)}…` : line;
}

/** The line of one record, or null for what is not worth a line (usage reports). */
function lineOf(r: Record<string, unknown>): EventLine | null {
  const text = typeof r.text === 'string' ? r.text : '';
  const name = typeof r.name === 'string' ? r.name : 'tool';
  switch (r.type) {
    case 'message':
      return { text: `» ${firstLine(text)}`, tone: 'normal' };
    case 'tool_call': {
      const input = r.input === undefined ? text : typeof r.input === 'string' ? r.input : JSON.stringify(r.input);
      return { text: `→ ${name} ${firstLine(input)}`, tone: 'active' };
    }
    case 'tool_result': {
      const output = typeof r.output === 'string' ? r.output : text;
      return r.is_error
        ? { text: `✗ ${name}: ${firstLine(output)}`, tone: 'bad' }
        : { text: `← ${name}: ${firstLine(output)}`, tone: 'muted' };
    }
    case 'error':
      return { text: `! ${firstLine(text)}`, tone: 'bad' };
    case 'usage':
      return null;
    default:
      return text ? { text: firstLine(text), tone: 'muted' } : null;
  }
}

/** The lines of an events.jsonl text; a line that is not JSON is shown as it is. */
export function eventLines(jsonl: string): EventLine[] {
  const out: EventLine[] = [];
  for (const raw of jsonl.split('\n')) {
    if (!raw.trim()) continue;
    try {
      const r = JSON.parse(raw) as unknown;
      const line = r && typeof r === 'object' && !Array.isArray(r) ? lineOf(r as Record<string, unknown>) : null;
      if (line) out.push(line);
    } catch {
      out.push({ text: raw, tone: 'muted' });
    }
  }
  return out;
}
