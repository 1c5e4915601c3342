/**
 * @module plugins/template/gotemplate
 * The part of Go's text/template that CoreDNS template Corefiles use:
 * `{{ .Field.Sub }}`, `{{ index .Match 1 }}`, `{{ parseInt .Group.b 16 8 }}`,
 * `{{ .Meta "kubernetes/client-namespace" }}`, `printf`, `len`, `print`,
 * pipelines with `|`, string and number literals, and `{{-`/`-}}` trimming.
 * Control actions (if, range, with, define...) are rejected when the
 * Corefile is read, never at query time.
 */

export class TemplateError extends Error {}

type Value = unknown;
/** Data a template reads: plain objects, arrays, strings, and functions (methods such as .Meta). */
export type TemplateData = Readonly<Record<string, Value>>;

type Operand =
  | { kind: 'field'; path: readonly string[] }
  | { kind: 'func'; name: string }
  | { kind: 'lit'; value: string | number };
type Command = readonly Operand[];
type Pipeline = readonly Command[];
type Piece = string | Pipeline;

const FUNCS = new Set(['index', 'parseInt', 'printf', 'print', 'len']);
const CONTROL = new Set(['if', 'else', 'end', 'range', 'with', 'define', 'template', 'block', 'break', 'continue']);

/** A compiled template; `source` is the text it was made from (the metrics' `template` label). */
export class GoTemplate {
  readonly source: string;
  readonly #pieces: readonly Piece[];

  constructor(source: string) {
    this.source = source;
    this.#pieces = compile(source);
  }

  /** Runs the template; throws TemplateError as Go's Execute returns an error. */
  execute(data: TemplateData): string {
    let out = '';
    for (const p of this.#pieces) out += typeof p === 'string' ? p : text(runPipeline(p, data));
    return out;
  }
}

function compile(src: string): Piece[] {
  const pieces: Piece[] = [];
  let i = 0;
  let trimNext = false;
  while (i < src.length) {
    const open = src.indexOf('{{', i);
    let lit = open < 0 ? src.slice(i) : src.slice(i, open);
    if (trimNext) lit = lit.replace(/^\s+/, '');
    trimNext = false;
    if (open < 0) { if (lit) pieces.push(lit); break; }
    let start = open + 2;
    if (src.startsWith('- ', start) || src.startsWith('-\t', start)) { lit = lit.replace(/\s+$/, ''); start += 1; }
    if (lit) pieces.push(lit);
    const close = findClose(src, start);
    if (close < 0) throw new TemplateError(`unclosed action in '${src}'`);
    let body = src.slice(start, close);
    if (/\s-$/.test(body)) { body = body.slice(0, -1); trimNext = true; }
    const trimmed = body.trim();
    if (trimmed.startsWith('/*') && trimmed.endsWith('*/')) { i = close + 2; continue; }
    pieces.push(parsePipeline(trimmed));
    i = close + 2;
  }
  return pieces;
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
  const cmds: Operand[][] = [[]];
  for (const w of words) {
    if (w === '|') { cmds.push([]); continue; }
    cmds[cmds.length - 1]!.push(operand(w));
  }
  for (const c of cmds) if (c.length === 0) throw new TemplateError(`missing command in '{{${body}}}'`);
  return cmds;
}

function splitWords(body: string): string[] {
  const out: string[] = [];
  const re = /\s*("(?:[^"\\]|\\.)*"|`[^`]*`|\||[^\s|]+)/gy;
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
  if (w === '.') return { kind: 'field', path: [] };
  if (w.startsWith('.')) {
    const path = w.slice(1).split('.');
    if (path.some((p) => !/^[A-Za-z_][A-Za-z0-9_]*$/.test(p))) throw new TemplateError(`bad field '${w}'`);
    return { kind: 'field', path };
  }
  if (w.startsWith('$')) throw new TemplateError(`template variables ('${w}') are not supported`);
  if (CONTROL.has(w)) throw new TemplateError(`'${w}' actions are not supported`);
  if (!FUNCS.has(w)) throw new TemplateError(`function "${w}" not defined`);
  return { kind: 'func', name: w };
}

function runPipeline(p: Pipeline, data: TemplateData): Value {
  let last: Value = undefined;
  p.forEach((cmd, n) => { last = runCommand(cmd, data, n === 0 ? [] : [last]); });
  return last;
}

function runCommand(cmd: Command, data: TemplateData, piped: Value[]): Value {
  const head = cmd[0]!;
  const args = (): Value[] => [...cmd.slice(1).map((o) => value(o, data)), ...piped];
  if (head.kind === 'func') return callFunc(head.name, args());
  const v = value(head, data);
  if (typeof v === 'function') return (v as (...a: Value[]) => Value)(...args());
  if (cmd.length > 1 || piped.length > 0) throw new TemplateError("can't give arguments to a non-function");
  return v;
}

function value(o: Operand, data: TemplateData): Value {
  if (o.kind === 'lit') return o.value;
  if (o.kind === 'func') return callFunc(o.name, []);
  let v: Value = data;
  for (const part of o.path) {
    if (v instanceof Map) { v = v.has(part) ? v.get(part) : NO_VALUE; continue; }
    if (v === null || typeof v !== 'object' || !(part in v)) throw new TemplateError(`can't evaluate field ${part}`);
    v = (v as Record<string, Value>)[part];
  }
  return v;
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
