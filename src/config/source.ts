// YAML/JSON source documents that keep line:column, and errors that name the place they are about.
import fs from 'node:fs';
import { LineCounter, parseDocument, isAlias, isCollection, isMap, isPair, isScalar, visit, type Document } from 'yaml';

/**
 * How many nodes aliases (`*name`) may add to a document when it is expanded: far more than any
 * hand-written config or plan uses, far less than an alias bomb (nested anchors that expand to
 * millions of nodes and would exhaust memory).
 */
export const MAX_ALIAS_NODES = 100_000;

/** One problem with user input, located: `file:line:col: field: message`. */
export interface InputIssue {
  /** The file (as the user named it), or a description such as "command line". */
  file: string;
  /** 1-based line and column, when known. */
  line?: number;
  col?: number;
  /** Field path, such as `tasks[2].deps[0]`; empty for the whole document. */
  field: string;
  message: string;
}

/** Formats an issue as one line: `swarm.yaml:12:5: tasks[2].deps[0]: unknown task "x"`. */
export function formatIssue(issue: InputIssue): string {
  const place = issue.line !== undefined ? `${issue.file}:${issue.line}:${issue.col ?? 1}` : issue.file;
  return issue.field ? `${place}: ${issue.field}: ${issue.message}` : `${place}: ${issue.message}`;
}

/** A path into a document: object keys and array indexes. */
export type FieldPath = ReadonlyArray<string | number | symbol>;

/** Renders a path as `tasks[2].deps[0]`. */
export function formatPath(path: FieldPath): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out ? `.${String(key)}` : String(key);
  }
  return out;
}

/**
 * A parsed YAML (or JSON, a subset) file that can locate paths in its text. It keeps the text and
 * the plain value; the YAML document with positions, which costs about ten times the value's
 * memory (about 190 MB for a 20,000-task plan), is parsed again only when an issue must be located.
 */
export class SourceDocument {
  readonly #text: string;
  readonly #value: unknown;
  #located: { doc: Document.Parsed; lines: LineCounter } | undefined;

  private constructor(
    readonly file: string,
    text: string,
    value: unknown,
  ) {
    this.#text = text;
    this.#value = value;
  }

  /**
   * Reads and parses `file`. Returns the document, or issues for an unreadable file or broken
   * YAML (each with line:col from the parser).
   */
  static read(file: string): { doc: SourceDocument } | { issues: InputIssue[] } {
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      const why =
        code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory, not a file' : (e as Error).message;
      return { issues: [{ file, field: '', message: `cannot read: ${why}` }] };
    }
    return SourceDocument.parse(file, text);
  }

  /**
   * Parses `text` as the content of `file` (see {@link read}). Text that is JSON (a generated plan
   * or config) is read with `JSON.parse`, which takes a fraction of the YAML parser's time and
   * memory; like `JSON.parse`, it takes the last of two equal keys, where YAML refuses them.
   */
  static parse(file: string, text: string): { doc: SourceDocument } | { issues: InputIssue[] } {
    const json = parseJson(text);
    if (json.ok) return { doc: new SourceDocument(file, text, json.value) };
    const lines = new LineCounter();
    const doc = parseDocument(text, { lineCounter: lines, prettyErrors: true, uniqueKeys: true });
    if (doc.errors.length > 0) {
      return {
        issues: doc.errors.map((e) => ({
          file,
          line: e.linePos?.[0].line,
          col: e.linePos?.[0].col,
          field: '',
          message: `invalid YAML: ${e.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '')}`,
        })),
      };
    }
    const bomb = aliasBomb(doc);
    if (bomb) {
      const pos = lines.linePos(bomb.offset);
      return {
        issues: [
          {
            file,
            line: pos.line,
            col: pos.col,
            field: '',
            message:
              bomb.size === Infinity
                ? 'invalid YAML: this alias is inside its own anchor, so it expands without end'
                : `invalid YAML: the aliases up to here expand to more than ${MAX_ALIAS_NODES} nodes; write the values out instead of nesting aliases`,
          },
        ],
      };
    }
    // Aliases expanded: the document was refused above if they expand too far.
    return { doc: new SourceDocument(file, text, doc.toJS({ maxAliasCount: -1 })) };
  }

  /** The document as plain data (aliases expanded). The same value on every call: do not change it. */
  toJS(): unknown {
    return this.#value;
  }

  /**
   * Locates a field: the node at `path`, or with `key`, the key of that name in the map at `path`.
   * Falls back to the nearest existing ancestor (a missing field is reported at its parent).
   */
  locate(path: FieldPath, key?: string): { line?: number; col?: number } {
    this.#located ??= (() => {
      const lines = new LineCounter();
      return { doc: parseDocument(this.#text, { lineCounter: lines }), lines };
    })();
    const { doc, lines } = this.#located;
    const keys = path.filter((k): k is string | number => typeof k !== 'symbol');
    for (let n = keys.length; n >= 0; n--) {
      const node = n === 0 ? doc.contents : doc.getIn(keys.slice(0, n), true);
      if (!node || typeof node !== 'object') continue;
      let target: unknown = node;
      if (key !== undefined && n === keys.length && isMap(node)) {
        const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && p.key.value === key);
        if (pair && isScalar(pair.key)) target = pair.key;
      }
      const range = (target as { range?: [number, number, number] }).range;
      if (range) {
        const pos = lines.linePos(range[0]);
        return { line: pos.line, col: pos.col };
      }
    }
    return {};
  }

  /** Makes an issue about `path` (or a key of the map at `path`) in this document. */
  issue(path: FieldPath, message: string, key?: string): InputIssue {
    const field = formatPath(key === undefined ? path : [...path, key]);
    return { file: this.file, ...this.locate(path, key), field, message };
  }
}

/**
 * The first alias (in document order) at which the nodes added by expanding aliases pass
 * {@link MAX_ALIAS_NODES}: its offset in the text and its own expanded size (nodes, Infinity for
 * an alias inside its own anchor); undefined if they never do. Each alias adds
 * the expanded size of its anchor's node (aliases inside it included), counted once per node, so
 * this takes time linear in the document, not in its expansion. An alias inside its own anchor
 * counts as infinite.
 */
function aliasBomb(doc: Document.Parsed): { offset: number; size: number } | undefined {
  const sizes = new Map<unknown, number>();
  const size = (node: unknown): number => {
    if (isAlias(node)) return size(node.resolve(doc));
    if (isPair(node)) return size(node.key) + size(node.value);
    if (!isCollection(node)) return 1;
    const known = sizes.get(node);
    if (known !== undefined) return known;
    sizes.set(node, Infinity); // until it is known: an alias reached from inside its own anchor
    let n = 1;
    for (const item of node.items) n += size(item);
    sizes.set(node, n);
    return n;
  };
  let added = 0;
  let found: { offset: number; size: number } | undefined;
  visit(doc, {
    Alias(_key, alias) {
      const n = size(alias);
      added += n;
      if (added <= MAX_ALIAS_NODES) return undefined;
      found = { offset: alias.range?.[0] ?? 0, size: n };
      return visit.BREAK;
    },
  });
  return found;
}

/** `JSON.parse` of text that looks like a JSON object or array; not ok for anything else (YAML). */
function parseJson(text: string): { ok: true; value: unknown } | { ok: false } {
  const first = text.trimStart()[0];
  if (first !== '{' && first !== '[') return { ok: false };
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch {
    return { ok: false }; // YAML flow style, or broken: the YAML parser says which, and where
  }
}
