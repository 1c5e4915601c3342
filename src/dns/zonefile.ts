/**
 * @module dns/zonefile
 * RFC 1035 master files -> records: `$ORIGIN`, `$TTL`, `$INCLUDE`, `@`,
 * relative names, a blank owner meaning the previous one, TTL and class in
 * either order, `( ... )` spanning lines, `;` comments, quoted strings and
 * escapes. Every error says FILE:LINE. Kept apart from the file plugin so it
 * can be fuzzed on its own; `template` reads single lines with it.
 */
import { classFromName, Class, typeFromName } from './constants.ts';
import { canonicalName, encodeName, readNameText } from './name.ts';
import { absoluteName, RdataError, rdataFromText, ttlSeconds, type RdataToken } from './rdata-text.ts';
import { rr, type RR } from './rr.ts';
import { errorMessage } from '../errors/to-error.ts';

export class ZoneFileError extends Error {
  readonly file: string;
  readonly line: number;
  constructor(file: string, line: number, what: string) {
    super(`${file}:${line}: ${what}`);
    this.name = 'ZoneFileError';
    this.file = file;
    this.line = line;
  }
}

/** One logical entry: a line, or lines joined by parentheses. */
interface Entry {
  readonly line: number;
  /** The entry began with blank space: its owner is the previous record's. */
  readonly blankOwner: boolean;
  readonly tokens: RdataToken[];
}

/** Splits master-file text into entries. */
function* entries(text: string, file: string): Generator<Entry> {
  let i = 0, line = 1;
  const n = text.length;
  while (i < n) {
    const start = line;
    const blankOwner = text[i] === ' ' || text[i] === '\t';
    const tokens: RdataToken[] = [];
    let depth = 0;
    let parenLine = 0;
    for (;;) {
      if (i >= n) {
        if (depth > 0) throw new ZoneFileError(file, parenLine, "'(' is never closed");
        break;
      }
      const c = text[i]!;
      if (c === '\n') {
        i++; line++;
        if (depth === 0) break;
        continue;
      }
      if (c === ' ' || c === '\t' || c === '\r') { i++; continue; }
      if (c === ';') { while (i < n && text[i] !== '\n') i++; continue; }
      if (c === '(') { if (depth === 0) parenLine = line; depth++; i++; continue; }
      if (c === ')') {
        if (depth === 0) throw new ZoneFileError(file, line, "')' without '('");
        depth--; i++; continue;
      }
      if (c === '"') {
        let s = '';
        i++;
        for (;;) {
          if (i >= n) throw new ZoneFileError(file, start, 'a quoted string is never closed');
          const q = text[i]!;
          if (q === '\\' && i + 1 < n) { s += q + text[i + 1]!; if (text[i + 1] === '\n') line++; i += 2; continue; }
          if (q === '"') { i++; break; }
          if (q === '\n') line++;
          s += q; i++;
        }
        tokens.push({ text: s, quoted: true });
        continue;
      }
      let s = '';
      while (i < n) {
        const q = text[i]!;
        if (q === '\\' && i + 1 < n) { s += q + text[i + 1]!; i += 2; continue; }
        if (q === ' ' || q === '\t' || q === '\r' || q === '\n' || q === ';' || q === '(' || q === ')' || q === '"') break;
        s += q; i++;
      }
      tokens.push({ text: s, quoted: false });
    }
    if (tokens.length > 0) yield { line: start, blankOwner, tokens };
  }
}

export interface ZoneParseOptions {
  /** Origin the file is read with ($ORIGIN changes it); canonical. */
  readonly origin: string;
  /** Name shown in errors. */
  readonly file: string;
  /** Reads a `$INCLUDE`d file (path as written, resolved by the caller); without it $INCLUDE is an error. */
  readonly include?: (path: string) => { text: string; file: string };
  /** TTL of records that name none before any $TTL (miekg/dns and Knot use 3600). */
  readonly defaultTtl?: number;
}

const MAX_INCLUDE_DEPTH = 8;

function typeOf(text: string): number | undefined {
  return typeFromName(text);
}

interface State {
  origin: string;
  ttl: number | null;
  lastOwner: string | null;
  lastTtl: number | null;
}

/** Every record of a master file, in file order. Throws ZoneFileError (FILE:LINE) on the first bad line. */
export function parseZone(text: string, opts: ZoneParseOptions): RR[] {
  const out: RR[] = [];
  const st: State = { origin: opts.origin, ttl: null, lastOwner: null, lastTtl: null };
  readInto(out, text, opts.file, st, opts, 0);
  return out;
}

function readInto(out: RR[], text: string, file: string, st: State, opts: ZoneParseOptions, depth: number): void {
  for (const e of entries(text, file)) {
    const first = e.tokens[0]!;
    if (!e.blankOwner && !first.quoted && first.text.startsWith('$')) {
      directive(out, e, file, st, opts, depth);
      continue;
    }
    out.push(record(e, file, st, opts.defaultTtl ?? 3600));
  }
}

function directive(out: RR[], e: Entry, file: string, st: State, opts: ZoneParseOptions, depth: number): void {
  const [d, ...args] = e.tokens;
  const fail = (what: string): never => { throw new ZoneFileError(file, e.line, what); };
  switch (d!.text.toUpperCase()) {
    case '$ORIGIN':
      if (args.length !== 1) fail('$ORIGIN takes one name');
      st.origin = canonicalName(absoluteName(args[0]!.text, st.origin));
      return;
    case '$TTL': {
      if (args.length !== 1) fail('$TTL takes one value');
      const t = ttlSeconds(args[0]!.text);
      if (t === null) fail(`$TTL '${args[0]!.text}' is not a TTL`);
      st.ttl = t;
      return;
    }
    case '$INCLUDE': {
      if (args.length < 1 || args.length > 2) fail('$INCLUDE takes a file name and an optional origin');
      if (!opts.include) fail('$INCLUDE is not allowed here');
      if (depth >= MAX_INCLUDE_DEPTH) fail(`$INCLUDE nested more than ${MAX_INCLUDE_DEPTH} deep`);
      let inc: { text: string; file: string };
      try { inc = opts.include!(args[0]!.text); } catch (err) { return fail(`$INCLUDE ${args[0]!.text}: ${errorMessage(err)}`); }
      // The included file starts from the given origin (or ours) and does not change ours (RFC 1035 5.1).
      const sub: State = { ...st, origin: args[1] ? canonicalName(absoluteName(args[1].text, st.origin)) : st.origin };
      readInto(out, inc.text, inc.file, sub, opts, depth + 1);
      return;
    }
    default:
      fail(`unsupported directive '${d!.text}'`);
  }
}

function record(e: Entry, file: string, st: State, defaultTtl: number): RR {
  const t = e.tokens;
  const fail = (what: string): never => { throw new ZoneFileError(file, e.line, what); };
  let i = 0;
  let owner: string;
  if (e.blankOwner) {
    if (st.lastOwner === null) fail('a record without an owner name before any other record');
    owner = st.lastOwner!;
  } else {
    owner = canonicalName(absoluteName(t[0]!.text, st.origin));
    i = 1;
  }
  let ttl: number | null = null;
  let cls: number | null = null;
  let type: number | undefined;
  for (; i < t.length; i++) {
    const tok = t[i]!.text;
    if (ttl === null && /^\d/.test(tok)) {
      ttl = ttlSeconds(tok);
      if (ttl === null) fail(`'${tok}' is not a TTL`);
      continue;
    }
    const c: number | undefined = cls === null ? classFromName(tok) : undefined;
    if (c !== undefined) { cls = c; continue; }
    type = typeOf(tok);
    if (type === undefined || type > 65535) fail(`unknown type '${tok}'`);
    i++;
    break;
  }
  if (type === undefined) fail('no record type');
  try {
    // The form a query's name is read in (name.ts): `\065bc` and `ABC` are `abc`, a raw control byte is `\001`,
    // so the record answers the query for its name (found by fuzz/targets/zonefile).
    owner = readNameText(encodeName(owner), 0);
  } catch (err) {
    fail(`bad owner name '${owner}': ${errorMessage(err)}`);
  }
  const recTtl = ttl ?? st.ttl ?? st.lastTtl ?? defaultTtl;
  let data: Uint8Array;
  try {
    data = rdataFromText(type!, t.slice(i), st.origin, typeOf);
  } catch (err) {
    if (err instanceof RdataError) fail(`${t[i - 1]!.text} ${owner}: ${err.message}`);
    throw err;
  }
  st.lastOwner = owner;
  st.lastTtl = recTtl;
  return rr(owner, type!, recTtl, data!, cls ?? Class.IN);
}

/** One record line ("name TTL CLASS TYPE DATA"), as `template` produces; relative names are made absolute against `origin`. */
export function parseRecordLine(text: string, origin = '.', file = 'record'): RR {
  const list = parseZone(text, { origin, file });
  if (list.length !== 1) throw new ZoneFileError(file, 1, `expected one record, got ${list.length}`);
  return list[0]!;
}
