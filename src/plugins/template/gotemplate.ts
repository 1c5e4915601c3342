/**
 * @module plugins/template/gotemplate
 * The part of Go's text/template that CoreDNS template Corefiles use:
 * `{{ .Field.Sub }}`, `{{ index .Match 1 }}`, `{{ parseInt .Group.b 16 8 }}`,
 * `{{ .Meta "kubernetes/client-namespace" }}`, `printf`, `len`, `print`,
 * the comparison and logic functions (`eq ne lt le gt ge and or not`),
 * pipelines with `|`, parenthesised pipelines, `$` (the top data), string
 * and number literals, `{{-`/`-}}` trimming, and the control actions
 * `{{if}}`/`{{else if}}`/`{{else}}`/`{{end}}` and `{{range}}` (over `.Match`,
 * `.Group` and other lists and maps, `.` being each element; `{{else}}`
 * when empty) with Go's truth rules. Other actions (with, define,
 * template, block, break, continue) and variables (`$x`) are rejected when
 * the Corefile is read, never at query time.
 */

export class TemplateError extends Error {}

type Value = unknown;
/** Data a template reads: plain objects, arrays, strings, Maps, and functions (methods such as .Meta). */
export type TemplateData = Readonly<Record<string, Value>>;

type Operand =
  | { kind: 'field'; root: boolean; path: readonly string[] }
  | { kind: 'func'; name: string }
  | { kind: 'lit'; value: string | number }
  | { kind: 'pipe'; pipe: Pipeline };
type Command = readonly Operand[];
type Pipeline = readonly Command[];
type Node =
  | string
  | { readonly kind: 'out'; readonly pipe: Pipeline }
  | { readonly kind: 'if'; readonly branches: readonly { readonly cond: Pipeline; readonly body: readonly Node[] }[]; readonly otherwise: readonly Node[] }
  | { readonly kind: 'range'; readonly pipe: Pipeline; readonly body: readonly Node[]; readonly otherwise: readonly Node[] };

const FUNCS = new Set(['index', 'parseInt', 'printf', 'print', 'len', 'eq', 'ne', 'lt', 'le', 'gt', 'ge', 'and', 'or', 'not']);
const UNSUPPORTED = new Set(['with', 'define', 'template', 'block', 'break', 'continue']);
const KEYWORDS = new Set(['if', 'else', 'end', 'range', ...UNSUPPORTED]);
/** Nesting limit of if/range (a Corefile is not a program). */
const MAX_DEPTH = 32;

/** A compiled template; `source` is the text it was made from (the metrics' `template` label). */
export class GoTemplate {
  readonly source: string;
  readonly #nodes: readonly Node[];

  constructor(source: string) {
    this.source = source;
    this.#nodes = parse(lex(source), source);
  }

  /** Runs the template; throws TemplateError as Go's Execute returns an error. */
  execute(data: TemplateData): string {
    return run(this.#nodes, data, data);
  }
}

/** Text and action bodies (trimmed, comments dropped), with `{{-`/`-}}` applied. */
function lex(src: string): (string | { action: string })[] {
  const out: (string | { action: string })[] = [];
  let i = 0;
  let trimNext = false;
  while (i < src.length) {
    const open = src.indexOf('{{', i);
    let lit = open < 0 ? src.slice(i) : src.slice(i, open);
    if (trimNext) lit = lit.replace(/^\s+/, '');
    trimNext = false;
    if (open < 0) { if (lit) out.push(lit); break; }
    let start = open + 2;
    if (src.startsWith('- ', start) || src.startsWith('-\t', start)) { lit = lit.replace(/\s+$/, ''); start += 1; }
    if (lit) out.push(lit);
    const close = findClose(src, start);
    if (close < 0) throw new TemplateError(`unclosed action in '${src}'`);
    let body = src.slice(start, close);
    if (/\s-$/.test(body)) { body = body.slice(0, -1); trimNext = true; }
    const trimmed = body.trim();
    i = close + 2;
    if (trimmed.startsWith('/*') && trimmed.endsWith('*/')) continue;
    out.push({ action: trimmed });
  }
  return out;
}

/** The tree of if/range blocks; every block closed by its {{end}}. */
function parse(tokens: readonly (string | { action: string })[], src: string): Node[] {
  let at = 0;
  /** Nodes up to an {{else...}} or {{end}} (returned as `stop`), or the end of the text at depth 0. */
  const list = (depth: number): { nodes: Node[]; stop: string | null } => {
    if (depth > MAX_DEPTH) throw new TemplateError(`more than ${MAX_DEPTH} nested actions`);
    const nodes: Node[] = [];
    while (at < tokens.length) {
      const t = tokens[at++]!;
      if (typeof t === 'string') { nodes.push(t); continue; }
      const word = /^[a-z]+/.exec(t.action)?.[0] ?? '';
      const rest = t.action.slice(word.length).trim();
      if (!KEYWORDS.has(word)) { nodes.push({ kind: 'out', pipe: parsePipeline(t.action) }); continue; }
      if (UNSUPPORTED.has(word)) throw new TemplateError(`'${word}' actions are not supported`);
      if (word === 'end' || word === 'else') {
        if (depth === 0) throw new TemplateError(`unexpected {{${t.action}}} in '${src}'`);
        if (word === 'end' && rest !== '') throw new TemplateError(`unexpected '${rest}' in end`);
        return { nodes, stop: t.action };
      }
      if (word === 'if') nodes.push(ifNode(rest, depth));
      else nodes.push(rangeNode(rest, depth));
    }
    if (depth > 0) throw new TemplateError(`unexpected EOF in '${src}': an if or range without its {{end}}`);
    return { nodes, stop: null };
  };
  const ifNode = (cond: string, depth: number): Node => {
    const branches: { cond: Pipeline; body: Node[] }[] = [];
    let c = cond;
    for (;;) {
      const b = list(depth + 1);
      branches.push({ cond: parsePipeline(c), body: b.nodes });
      if (b.stop === 'end') return { kind: 'if', branches, otherwise: [] };
      const after = b.stop!.slice('else'.length).trim();
      if (after === '') return { kind: 'if', branches, otherwise: closing(depth) };
      if (!/^if\s/.test(after)) throw new TemplateError(`unexpected '${after}' after else`);
      c = after.slice(2).trim();
    }
  };
  const rangeNode = (pipe: string, depth: number): Node => {
    const p = parsePipeline(pipe);
    const b = list(depth + 1);
    if (b.stop === 'end') return { kind: 'range', pipe: p, body: b.nodes, otherwise: [] };
    if (b.stop!.trim() !== 'else') throw new TemplateError(`unexpected {{${b.stop}}} in range`);
    return { kind: 'range', pipe: p, body: b.nodes, otherwise: closing(depth) };
  };
  /** The {{else}} part: nodes up to {{end}}. */
  const closing = (depth: number): Node[] => {
    const b = list(depth + 1);
    if (b.stop !== 'end') throw new TemplateError(`expected end; found {{${b.stop}}}`);
    return b.nodes;
  };
  return list(0).nodes;
}

function run(nodes: readonly Node[], dot: Value, root: TemplateData): string {
  let out = '';
  for (const n of nodes) {
    if (typeof n === 'string') { out += n; continue; }
    switch (n.kind) {
      case 'out': out += text(runPipeline(n.pipe, dot, root)); break;
      case 'if': {
        const hit = n.branches.find((b) => truth(runPipeline(b.cond, dot, root)));
        out += run(hit ? hit.body : n.otherwise, dot, root);
        break;
      }
      case 'range': {
        const items = rangeItems(runPipeline(n.pipe, dot, root));
        if (items.length === 0) out += run(n.otherwise, dot, root);
        for (const item of items) out += run(n.body, item, root);
        break;
      }
    }
  }
  return out;
}

/** Go's truth: false, 0, and empty strings, lists and maps are false; nil too. */
function truth(v: Value): boolean {
  if (v === undefined || v === null) return false;
  if (typeof v === 'boolean') return v;
  if (typeof v === 'number') return v !== 0;
  if (typeof v === 'bigint') return v !== 0n;
  if (typeof v === 'string' || Array.isArray(v)) return v.length > 0;
  if (v instanceof Map) return v.size > 0;
  return true;
}

/** What range visits: list elements in order, map values by sorted key (as Go). */
function rangeItems(v: Value): readonly Value[] {
  if (v === undefined || v === null) return [];
  if (Array.isArray(v)) return v;
  if (v instanceof Map) return [...v.keys()].map(String).sort().map((k) => v.get(k));
  throw new TemplateError(`range can't iterate over ${text(v)}`);
}

/** The `}}` ending the action starting at `from`, skipping quoted strings. */
function findClose(src: string, from: number): number {
  for (let i = from; i < src.length; i++) {
    const c = src[i];
    if (c === '"') { for (i++; i < src.length && src[i] !== '"'; i++) if (src[i] === '\\') i++; continue; }
    if (c === '`') { i = src.indexOf('`', i + 1); if (i < 0) return -1; continue; }
    if (c === '}' && src[i + 1] === '}') return i;
  }
  return -1;
}

function parsePipeline(body: string): Pipeline {
  if (body === '') throw new TemplateError('missing value for command');
  const words = splitWords(body);
  let at = 0;
  const pipeline = (nested: boolean): Pipeline => {
    const cmds: Operand[][] = [[]];
    while (at < words.length) {
      const w = words[at++]!;
      if (w === ')') { if (!nested) throw new TemplateError(`unexpected ) in '{{${body}}}'`); return check(cmds); }
      if (w === '|') { cmds.push([]); continue; }
      cmds[cmds.length - 1]!.push(w === '(' ? { kind: 'pipe', pipe: pipeline(true) } : operand(w));
    }
    if (nested) throw new TemplateError(`unclosed left paren in '{{${body}}}'`);
    return check(cmds);
  };
  const check = (cmds: Operand[][]): Pipeline => {
    for (const c of cmds) if (c.length === 0) throw new TemplateError(`missing command in '{{${body}}}'`);
    return cmds;
  };
  return pipeline(false);
}

function splitWords(body: string): string[] {
  const out: string[] = [];
  const re = /\s*("(?:[^"\\]|\\.)*"|`[^`]*`|[|()]|[^\s|()]+)/gy;
  let m: RegExpExecArray | null;
  while ((m = re.exec(body)) !== null) { out.push(m[1]!); if (re.lastIndex >= body.length) break; }
  if (out.join('').replace(/\s/g, '').length !== body.replace(/\s/g, '').length) throw new TemplateError(`cannot read '{{${body}}}'`);
  return out;
}

function operand(w: string): Operand {
  if (w.startsWith('"')) {
    try { return { kind: 'lit', value: JSON.parse(w) as string }; } catch { throw new TemplateError(`bad string ${w}`); }
  }
  if (w.startsWith('`')) return { kind: 'lit', value: w.slice(1, -1) };
  if (/^-?\d+$/.test(w)) return { kind: 'lit', value: Number(w) };
  if (w === '.') return { kind: 'field', root: false, path: [] };
  if (w === '$') return { kind: 'field', root: true, path: [] };
  if (w.startsWith('.') || w.startsWith('$.')) {
    const root = w.startsWith('$');
    const path = w.slice(root ? 2 : 1).split('.');
    if (path.some((p) => !/^[A-Za-z_][A-Za-z0-9_]*$/.test(p))) throw new TemplateError(`bad field '${w}'`);
    return { kind: 'field', root, path };
  }
  if (w.startsWith('$')) throw new TemplateError(`template variables ('${w}') are not supported`);
  if (KEYWORDS.has(w)) throw new TemplateError(`'${w}' is an action, not a value`);
  if (!FUNCS.has(w)) throw new TemplateError(`function "${w}" not defined`);
  return { kind: 'func', name: w };
}

function runPipeline(p: Pipeline, dot: Value, root: TemplateData): Value {
  let last: Value = undefined;
  p.forEach((cmd, n) => { last = runCommand(cmd, dot, root, n === 0 ? [] : [last]); });
  return last;
}

function runCommand(cmd: Command, dot: Value, root: TemplateData, piped: Value[]): Value {
  const head = cmd[0]!;
  const args = (): Value[] => [...cmd.slice(1).map((o) => value(o, dot, root)), ...piped];
  if (head.kind === 'func' && (head.name === 'and' || head.name === 'or')) {
    // Go 1.18+: evaluation stops at the first false (and) or true (or) argument, which is the result.
    const lazy = [...cmd.slice(1).map((o) => () => value(o, dot, root)), ...piped.map((v) => () => v)];
    if (lazy.length === 0) throw new TemplateError(`wrong number of args for ${head.name}: want at least 1 got 0`);
    let v: Value;
    for (const get of lazy) { v = get(); if (truth(v) === (head.name === 'or')) return v; }
    return v;
  }
  if (head.kind === 'func') return callFunc(head.name, args());
  const v = value(head, dot, root);
  if (typeof v === 'function') return (v as (...a: Value[]) => Value)(...args());
  if (cmd.length > 1 || piped.length > 0) throw new TemplateError("can't give arguments to a non-function");
  return v;
}

function value(o: Operand, dot: Value, root: TemplateData): Value {
  if (o.kind === 'lit') return o.value;
  if (o.kind === 'func') return callFunc(o.name, []);
  if (o.kind === 'pipe') return runPipeline(o.pipe, dot, root);
  let v: Value = o.root ? root : dot;
  for (const part of o.path) {
    if (v instanceof Map) { v = v.has(part) ? v.get(part) : NO_VALUE; continue; }
    if (v === null || typeof v !== 'object' || !(part in v)) throw new TemplateError(`can't evaluate field ${part}`);
    v = (v as Record<string, Value>)[part];
  }
  return v;
}

/** Go's basic kinds for eq/lt: the template's strings, integers (literals, len) and booleans. */
function kindOf(v: Value): 'string' | 'number' | 'boolean' | null {
  return typeof v === 'string' ? 'string' : typeof v === 'number' ? 'number' : typeof v === 'boolean' ? 'boolean' : null;
}

function compare(name: string, a: Value, b: Value): number {
  const ka = kindOf(a);
  if (ka === null || kindOf(b) === null) throw new TemplateError(`error calling ${name}: invalid type for comparison`);
  if (ka !== kindOf(b)) throw new TemplateError(`error calling ${name}: incompatible types for comparison`);
  if (ka === 'boolean' && name !== 'eq' && name !== 'ne') throw new TemplateError(`error calling ${name}: invalid type for comparison`);
  return (a as string | number) < (b as string | number) ? -1 : a === b ? 0 : 1;
}

/** What Go prints for a missing map key. */
const NO_VALUE = '<no value>';

function callFunc(name: string, args: Value[]): Value {
  switch (name) {
    case 'index': {
      let v = args[0];
      for (const k of args.slice(1)) {
        if (Array.isArray(v)) {
          if (typeof k !== 'number' || k < 0 || k >= v.length) throw new TemplateError(`error calling index: index out of range: ${String(k)}`);
          v = v[k];
        } else if (v instanceof Map) v = v.get(String(k)) ?? '';
        else throw new TemplateError("error calling index: can't index item");
      }
      return v;
    }
    case 'parseInt': {
      const [s, base, bits] = args;
      if (typeof s !== 'string' || typeof base !== 'number' || typeof bits !== 'number') throw new TemplateError('error calling parseInt: wrong arguments');
      const ok = s !== '' && [...s.toLowerCase()].every((c) => { const d = parseInt(c, 36); return !Number.isNaN(d) && d < base; });
      const n = ok ? BigInt(parseInt(s, base)) : -1n;
      if (!ok || n >= 1n << BigInt(bits)) throw new TemplateError(`error calling parseInt: strconv.ParseUint: parsing "${s}": invalid syntax or out of range`);
      return n.toString();
    }
    case 'len': {
      const v = args[0];
      if (typeof v === 'string' || Array.isArray(v)) return v.length;
      if (v instanceof Map) return v.size;
      throw new TemplateError("error calling len: len of this type");
    }
    case 'print': return args.map(text).join('');
    case 'printf': {
      const [fmt, ...rest] = args;
      if (typeof fmt !== 'string') throw new TemplateError('error calling printf: format is not a string');
      let k = 0;
      return fmt.replace(/%(0?\d*)([sdvxX%])/g, (_m, width: string, verb: string) => {
        if (verb === '%') return '%';
        const a = rest[k++];
        let s = verb === 'x' || verb === 'X' ? Number(a).toString(16) : text(a);
        if (verb === 'X') s = s.toUpperCase();
        const w = Number(width || 0);
        return s.padStart(w, width.startsWith('0') ? '0' : ' ');
      });
    }
    case 'eq': {
      if (args.length < 2) throw new TemplateError('error calling eq: missing argument for comparison');
      return args.slice(1).some((b) => compare('eq', args[0], b) === 0);
    }
    case 'ne': case 'lt': case 'le': case 'gt': case 'ge': {
      if (args.length !== 2) throw new TemplateError(`wrong number of args for ${name}: want 2 got ${args.length}`);
      const c = compare(name, args[0], args[1]);
      return name === 'ne' ? c !== 0 : name === 'lt' ? c < 0 : name === 'le' ? c <= 0 : name === 'gt' ? c > 0 : c >= 0;
    }
    case 'not': {
      if (args.length !== 1) throw new TemplateError(`wrong number of args for not: want 1 got ${args.length}`);
      return !truth(args[0]);
    }
    default: throw new TemplateError(`function "${name}" not defined`);
  }
}

function text(v: Value): string {
  if (v === undefined || v === null) return '<no value>';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'bigint' || typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return `[${v.map(text).join(' ')}]`;
  if (v instanceof Map) return `map[${[...v.entries()].sort().map(([k, x]) => `${String(k)}:${text(x)}`).join(' ')}]`;
  if (typeof v === 'object' && 'toString' in v && v.toString !== Object.prototype.toString) return String(v);
  return JSON.stringify(v);
}
