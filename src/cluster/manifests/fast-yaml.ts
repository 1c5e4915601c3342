/**
 * @module cluster/manifests/fast-yaml
 * A fast reader for the plain subset of YAML that Kubernetes manifests are
 * written in (what `kubectl get -o yaml` and yaml.stringify print): block
 * mappings and sequences indented with spaces, plain, single- and
 * double-quoted scalars on one line, flow collections of such scalars, and
 * comments, resolved with the YAML 1.2 core schema as the `yaml` package
 * does. Anything else in a document (anchors, aliases, tags, block scalars,
 * multi-line scalars, complex keys, duplicate keys, tabs) makes it give up
 * on that document (NOT_HANDLED), and the caller parses it with the `yaml`
 * package, which also reports every syntax error. The point is speed: the
 * full parser reads about 1 MB/s of manifests on a loaded core, this about
 * 20× that, which is what loading 100,000 services in seconds needs.
 */

/** The document is outside the subset: parse it with the full parser. */
export const NOT_HANDLED: unique symbol = Symbol('not handled');

type Value = null | boolean | number | string | Value[] | { [k: string]: Value };

class Bail extends Error {}
const bail = (): never => { throw new Bail(); };

const INT = /^[-+]?[0-9]+$/;
const FLOAT = /^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$/;

/** A plain scalar's value under the core schema. */
function plain(s: string): Value {
  switch (s) {
    case '': case '~': case 'null': case 'Null': case 'NULL': return null;
    case 'true': case 'True': case 'TRUE': return true;
    case 'false': case 'False': case 'FALSE': return false;
    case '.inf': case '.Inf': case '.INF': case '+.inf': case '+.Inf': case '+.INF': return Infinity;
    case '-.inf': case '-.Inf': case '-.INF': return -Infinity;
    case '.nan': case '.NaN': case '.NAN': return NaN;
  }
  const c = s.charCodeAt(0);
  if ((c >= 48 && c <= 57) || c === 45 || c === 43 || c === 46) {
    if (INT.test(s)) {
      const n = Number(s);
      return Number.isSafeInteger(n) ? n : bail();
    }
    if (/^0o[0-7]+$/.test(s)) return parseInt(s.slice(2), 8);
    if (/^0x[0-9a-fA-F]+$/.test(s)) return parseInt(s.slice(2), 16);
    if (FLOAT.test(s)) return Number(s);
  }
  return s;
}

/** Characters a plain scalar may not start with (YAML indicators), besides "- ", "? ", ": ". */
const INDICATOR = new Set(['[', ']', '{', '}', ',', '#', '&', '*', '!', '|', '>', "'", '"', '%', '@', '`']);

/** A scalar written on the rest of a line (comment already removed), or a flow collection. */
function scalar(s: string): Value {
  const c = s[0];
  if (c === '"' || c === "'") {
    const [v, end] = quoted(s, 0);
    if (s.slice(end).trim() !== '') bail();
    return v;
  }
  if (c === '[' || c === '{') {
    const [v, end] = flow(s, 0);
    if (s.slice(end).trim() !== '') bail();
    return v;
  }
  if (c !== undefined && (INDICATOR.has(c) || ((c === '-' || c === '?' || c === ':') && (s.length === 1 || s[1] === ' ')))) bail();
  if (s.includes(': ') || s.endsWith(':') || s.includes(' #')) bail();
  return plain(s);
}

/** A quoted scalar starting at s[i]; returns it and the index after its closing quote. */
function quoted(s: string, i: number): [string, number] {
  const q = s[i];
  let out = '';
  for (let j = i + 1; j < s.length; j++) {
    const ch = s[j]!;
    if (q === "'") {
      if (ch === "'") {
        if (s[j + 1] === "'") { out += "'"; j++; continue; }
        return [out, j + 1];
      }
      out += ch;
      continue;
    }
    if (ch === '"') return [out, j + 1];
    if (ch !== '\\') { out += ch; continue; }
    const e = s[++j];
    switch (e) {
      case '"': case '\\': case '/': out += e; break;
      case 'n': out += '\n'; break;
      case 't': out += '\t'; break;
      case 'r': out += '\r'; break;
      case '0': out += '\0'; break;
      case 'u': {
        const hex = s.slice(j + 1, j + 5);
        if (!/^[0-9a-fA-F]{4}$/.test(hex)) bail();
        out += String.fromCharCode(parseInt(hex, 16));
        j += 4;
        break;
      }
      default: bail();
    }
  }
  return bail(); // unterminated: maybe multi-line, or an error the full parser reports
}

/** A flow collection of scalars (and nested flow collections) starting at s[i]. */
function flow(s: string, i: number): [Value, number] {
  const open = s[i];
  const close = open === '[' ? ']' : '}';
  const items: Value[] = [];
  const map: Record<string, Value> = {};
  let j = i + 1;
  const skip = (): void => { while (s[j] === ' ') j++; };
  const item = (stops: string): Value => {
    skip();
    const c = s[j];
    if (c === '"' || c === "'") { const [v, e] = quoted(s, j); j = e; return v; }
    if (c === '[' || c === '{') { const [v, e] = flow(s, j); j = e; return v; }
    const start = j;
    while (j < s.length && !stops.includes(s[j]!) && !(s[j] === ':' && s[j + 1] === ' ')) j++;
    const text = s.slice(start, j).trim();
    // Flow indicators cannot appear in a plain scalar inside a flow collection (`{a{: 1}` is an error to yaml).
    if (text === '' || INDICATOR.has(text[0]!) || /[[\]{}]/.test(text)) bail();
    return plain(text);
  };
  skip();
  if (s[j] === close) return [open === '[' ? items : map, j + 1];
  for (;;) {
    if (open === '[') {
      items.push(item(',]'));
    } else {
      // A plain key ends at ': ' only: `{a:b}` is the key "a:b" (a ':' not followed by a space is part of it).
      const k = item(',}');
      skip();
      if (s[j] !== ':') bail();
      j++;
      const key = String(k);
      if (Object.hasOwn(map, key) || key === '__proto__') bail();
      map[key] = item(',}');
    }
    skip();
    if (s[j] === ',') { j++; skip(); if (s[j] === close) return [open === '[' ? items : map, j + 1]; continue; }
    if (s[j] === close) return [open === '[' ? items : map, j + 1];
    return bail();
  }
}

interface Line { readonly indent: number; readonly text: string }

/** The document's lines: indentation and content without comments; blank and comment lines dropped. */
function linesOf(doc: string): Line[] {
  const out: Line[] = [];
  for (const raw of doc.split('\n')) {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    let indent = 0;
    while (line.charCodeAt(indent) === 32) indent++;
    if (line.charCodeAt(indent) === 9) bail(); // tabs: let the full parser judge
    let text = line.slice(indent);
    if (text === '' || text[0] === '#') continue;
    if (text.includes('#')) text = stripComment(text);
    text = text.trimEnd();
    if (text !== '') out.push({ indent, text });
  }
  return out;
}

/** Removes a ` #` comment that is outside quotes. */
function stripComment(text: string): string {
  let q: string | null = null;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (q !== null) {
      if (c === '\\' && q === '"') { i++; continue; }
      if (c === q) q = null;
      continue;
    }
    if ((c === '"' || c === "'") && (i === 0 || ' :[{,-'.includes(text[i - 1]!))) q = c;
    else if (c === '#' && (i === 0 || text[i - 1] === ' ')) return text.slice(0, i);
  }
  return text;
}

/** Splits `key: rest` (rest may be ''); null when the line is not a mapping entry. */
function entry(text: string): [string, string] | null {
  const c = text[0];
  if (c === '"' || c === "'") {
    const [k, end] = quoted(text, 0);
    if (text[end] !== ':') return null;
    if (end + 1 < text.length && text[end + 1] !== ' ') return null;
    return [k, text.slice(end + 1).trim()];
  }
  if (c === '?' && (text.length === 1 || text[1] === ' ')) bail();
  if (c !== undefined && INDICATOR.has(c)) return null;
  // A plain key ends at its last non-space: `name : x` is the key "name", as in the yaml package (found by fuzz/targets/manifest).
  const i = text.indexOf(': ');
  if (i > 0) return [text.slice(0, i).trimEnd(), text.slice(i + 2).trim()];
  if (text.endsWith(':')) return [text.slice(0, -1).trimEnd(), ''];
  return null;
}

/** Parses the node whose first line is lines[pos] at exactly `indent`; returns it and the next position. */
function node(lines: readonly Line[], pos: number, indent: number): [Value, number] {
  const first = lines[pos]!;
  if (first.text === '-' || first.text.startsWith('- ')) return sequence(lines, pos, indent);
  if (entry(first.text) !== null) return mapping(lines, pos, indent);
  // A lone scalar line (a document that is just a scalar, or a value on its own line).
  if (pos + 1 < lines.length && lines[pos + 1]!.indent > indent) bail(); // multi-line scalar
  return [scalar(first.text), pos + 1];
}

/** The value after `key:` or `- `: inline, or the more-indented block below (or null). */
function valueAfter(rest: string, lines: readonly Line[], pos: number, parentIndent: number, seqParent: boolean): [Value, number] {
  if (rest !== '') {
    if (rest[0] === '&' || rest[0] === '!' || rest[0] === '|' || rest[0] === '>') bail();
    const v = scalar(rest);
    if (pos < lines.length && lines[pos]!.indent > parentIndent) bail(); // continuation lines
    return [v, pos];
  }
  const next = lines[pos];
  if (next === undefined) return [null, pos];
  // Kubernetes style also writes a mapping's sequence at the same indent as its key.
  if (next.indent > parentIndent || (!seqParent && next.indent === parentIndent && (next.text === '-' || next.text.startsWith('- ')))) {
    return node(lines, pos, next.indent);
  }
  return [null, pos];
}

function mapping(lines: readonly Line[], pos: number, indent: number): [Value, number] {
  const out: Record<string, Value> = {};
  while (pos < lines.length) {
    const l = lines[pos]!;
    if (l.indent < indent) break;
    if (l.indent > indent) bail();
    // The parent's sequence continues (or, after `key: value`, a syntax error the caller finds): never a key "- x".
    if (l.text === '-' || l.text.startsWith('- ')) break;
    const e = entry(l.text);
    if (e === null) bail();
    const [key, rest] = e!;
    if (Object.hasOwn(out, key)) bail(); // duplicate key: the full parser reports it
    if (key === '__proto__') bail(); // would set the object's prototype; the yaml package keeps it as a key
    const [v, next] = valueAfter(rest, lines, pos + 1, indent, false);
    out[key] = v;
    pos = next;
  }
  return [out, pos];
}

function sequence(lines: readonly Line[], pos: number, indent: number): [Value, number] {
  const out: Value[] = [];
  while (pos < lines.length) {
    const l = lines[pos]!;
    if (l.indent !== indent || !(l.text === '-' || l.text.startsWith('- '))) {
      if (l.indent > indent) bail();
      break;
    }
    const rest = l.text.slice(1).trimStart();
    const inner = indent + (l.text.length - rest.length);
    if (rest !== '' && (rest === '-' || rest.startsWith('- '))) bail(); // nested "- - x"
    if (rest !== '' && entry(rest) !== null) {
      // "- key: value" starts a mapping indented at the key's column.
      const sub: Line[] = [{ indent: inner, text: rest }];
      let j = pos + 1;
      while (j < lines.length && lines[j]!.indent > indent) sub.push(lines[j++]!);
      const [v, used] = mapping(sub, 0, inner);
      if (used !== sub.length) bail();
      out.push(v);
      pos = j;
      continue;
    }
    const [v, next] = valueAfter(rest, lines, pos + 1, indent, true);
    out.push(v);
    pos = next;
  }
  return [out, pos];
}

const NON_YAML_SPACE = /[\f\v\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff]/;

/** One document's text (no `---` line) as a plain value, or NOT_HANDLED. */
export function fastDocument(doc: string): Value | undefined | typeof NOT_HANDLED {
  try {
    // JavaScript's trim() also strips \f, \v, NBSP, BOM and Unicode spaces, which YAML keeps in scalars (found by fuzz/targets/manifest).
    if (doc.includes('\t') || NON_YAML_SPACE.test(doc) || doc.includes('&') && /(^|[\s:\-[{,])&\w/.test(doc) || /(^|[\s:\-[{,])[*!]\S/.test(doc)) return NOT_HANDLED;
    const lines = linesOf(doc);
    if (lines.length === 0) return undefined;
    if (lines[0]!.text.startsWith('%')) return NOT_HANDLED;
    const [v, next] = node(lines, 0, lines[0]!.indent);
    return next === lines.length ? v : NOT_HANDLED;
  } catch (e) {
    if (e instanceof Bail) return NOT_HANDLED;
    throw e;
  }
}

/** The line of the first content (not blank, not a comment) of a document starting at `line`. */
function contentLine(doc: string, line: number): number {
  let i = 0;
  while (i < doc.length) {
    let j = doc.indexOf('\n', i);
    if (j < 0) j = doc.length;
    const t = doc.slice(i, j).trim();
    if (t !== '' && t[0] !== '#') return line;
    line++;
    i = j + 1;
  }
  return line;
}

/**
 * The documents of a YAML stream split at `---` / `...` lines, each with the
 * line it starts on and the line its content starts on. Null when a marker line carries content (`--- !tag`,
 * `--- {a: 1}`): the caller then parses the whole file with the full parser.
 */
export function splitDocuments(text: string): { text: string; start: number; line: number }[] | null {
  const out: { text: string; start: number; line: number }[] = [];
  let start = 0;
  let startLine = 1;
  let line = 1;
  let i = 0;
  while (i <= text.length) {
    let j = text.indexOf('\n', i);
    if (j < 0) j = text.length;
    if (text.startsWith('---', i) || text.startsWith('...', i)) {
      const rest = text.slice(i + 3, j).trim();
      if (rest !== '' && !rest.startsWith('#')) return null;
      if (i > start || out.length > 0 || text.startsWith('...', i)) out.push({ text: text.slice(start, i), start: startLine, line: contentLine(text.slice(start, i), startLine) });
      start = j + 1;
      startLine = line + 1;
    }
    i = j + 1;
    line++;
  }
  if (start < text.length) out.push({ text: text.slice(start), start: startLine, line: contentLine(text.slice(start), startLine) });
  return out;
}
