/**
 * @module corefile/parser
 * Parses a Corefile (the Caddy v1 dialect CoreDNS reads) into server blocks:
 * zone keys plus a tree of directives (`name args... { nested directives }`).
 * Handles snippets `(name) { ... }`, `import` of snippets and files/globs,
 * environment substitution (in the lexer), the braceless single server block,
 * and rejects duplicate zone/port keys. Plugin options are not interpreted
 * here; each plugin's setup reads its Directive and throws CorefileError.
 */

import fs from 'node:fs';
import path from 'node:path';
import { CorefileError } from './errors.ts';
import { tokenize } from './lexer.ts';
import type { Env, Token } from './lexer.ts';
import { resolveImport } from './import-files.ts';
import { parseZoneKey } from './zone-key.ts';
import type { ZoneKey } from './zone-key.ts';
import { errorMessage } from '../errors/to-error.ts';


export interface Directive {
  readonly name: string;
  readonly args: readonly string[];
  /** Nested directives of `name args { ... }`; null when the directive has no block. */
  readonly block: readonly Directive[] | null;
  readonly file: string;
  readonly line: number;
}

export interface ServerBlock {
  readonly keys: readonly ZoneKey[];
  readonly directives: readonly Directive[];
  /** Position of the block's first key. */
  readonly file: string;
  readonly line: number;
}

export interface ParseOptions {
  /** Variables for `{$NAME}` / `{%NAME%}`; defaults to process.env. */
  env?: Readonly<Record<string, string | undefined>> | undefined;
  /** Reads imported files (and the file of parseCorefileFile); defaults to fs.readFileSync(path, 'utf8'). */
  readFile?: (path: string) => string;
}

/** One step of the import chain that produced a token: used to detect cycles. */
interface Link {
  readonly key: string;
  readonly label: string;
}

/**
 * The tokens of one file or snippet use. Blocks may not cross a frame's end:
 * a `{` must be closed in the same file or snippet, so errors point at it.
 */
interface Frame {
  readonly tokens: readonly Token[];
  pos: number;
  readonly chain: readonly Link[];
  /** Stack depth: frames pushed while this one is open are deeper. */
  readonly depth: number;
}

interface Entry {
  readonly tok: Token;
  /** True when the token starts a new line (or a new imported frame). */
  readonly newLine: boolean;
  readonly frame: Frame;
}

/** Tokens from the main file with imported files and snippets pushed on top as frames. */
class TokenStream {
  #frames: Frame[] = [];
  #last: Token | null = null;
  #boundary = true;
  #peeked: Entry | null = null;

  push(tokens: readonly Token[], chain: readonly Link[]): void {
    this.#frames.push({ tokens, pos: 0, chain, depth: this.#frames.length });
    this.#boundary = true;
    this.#peeked = null;
  }

  peek(): Entry | null {
    if (this.#peeked) return this.#peeked;
    for (let frame = this.#frames.at(-1); frame !== undefined; frame = this.#frames.at(-1)) {
      const tok = frame.tokens[frame.pos];
      if (tok !== undefined) {
        const last = this.#last;
        const newLine = this.#boundary || last === null || last.file !== tok.file || tok.line > last.endLine;
        this.#peeked = { tok, newLine, frame };
        return this.#peeked;
      }
      this.#frames.pop();
      this.#boundary = true;
    }
    return null;
  }

  next(): Entry | null {
    const e = this.peek();
    if (e) {
      e.frame.pos++;
      this.#last = e.tok;
      this.#boundary = false;
      this.#peeked = null;
    }
    return e;
  }
}

const SNIPPET_KEY = /^\((.+)\)$/;

class Parser {
  readonly #stream = new TokenStream();
  readonly #snippets = new Map<string, { tokens: Token[]; at: Token }>();
  readonly #env: Env;
  readonly #readFile: (path: string) => string;

  constructor(opts: ParseOptions) {
    this.#env = opts.env ?? process.env;
    this.#readFile = opts.readFile ?? ((p) => fs.readFileSync(p, 'utf8'));
  }

  parse(text: string, file: string): ServerBlock[] {
    const s = this.#stream;
    s.push(tokenize(text, file, this.#env), [{ key: `file:${path.resolve(file)}`, label: file }]);
    const blocks: ServerBlock[] = [];
    for (let e = s.peek(); e; e = s.peek()) {
      const { tok } = e;
      if (tok.kind === 'close') throw CorefileError.at(tok, "unexpected '}'");
      if (tok.kind === 'open') throw CorefileError.at(tok, "unexpected '{': expected server block keys before it");
      if (tok.text === 'import' && !tok.quoted) {
        this.#import();
        continue;
      }
      const block = this.#serverBlock();
      if (block) blocks.push(block);
    }
    checkDuplicates(blocks);
    return blocks;
  }

  /** Parses keys and their block; returns null for a snippet definition. */
  #serverBlock(): ServerBlock | null {
    const s = this.#stream;
    const keys: Token[] = [];
    const { tok: start, frame } = s.peek()!;
    let expectMore = false;
    for (;;) {
      const { tok } = s.next()!;
      const parts = tok.text.split(',');
      expectMore = tok.text.endsWith(',');
      for (const part of parts) if (part !== '') keys.push({ ...tok, text: part });
      const e = s.peek();
      if (!e) {
        if (expectMore) throw CorefileError.at(tok, `expected another server block key after ','`);
        break;
      }
      if (e.tok.kind === 'close') throw CorefileError.at(e.tok, "unexpected '}'");
      if (e.tok.kind === 'open') {
        if (expectMore) throw CorefileError.at(e.tok, `expected another server block key after ',' but found '{'`);
        if (e.newLine) throw CorefileError.at(e.tok, 'open brace must be on the same line as the server block keys');
        break;
      }
      if (e.newLine && !expectMore) break;
    }
    const first = keys[0];
    if (first === undefined) throw CorefileError.at(start, 'empty server block key');

    const open = s.peek();
    const braced = open !== null && open.tok.kind === 'open';
    if (braced) s.next();

    const snippet = keys.map((k) => SNIPPET_KEY.exec(k.text)).find((m) => m !== null);
    if (snippet) {
      if (keys.length > 1) throw CorefileError.at(first, `a snippet definition '${snippet[0]}' must be the only key of its block`);
      if (!braced) throw CorefileError.at(first, `snippet '${snippet[1]}' needs a '{' block on the same line`);
      this.#defineSnippet(snippet[1] ?? '', first, open);
      return null;
    }

    const zoneKeys = keys.flatMap((k) => parseZoneKey(k.text, k));
    const directives = braced ? this.#blockBody(open.tok, open.frame) : this.#blockBody(null, frame);
    return { keys: zoneKeys, directives, file: first.file, line: first.line };
  }

  #defineSnippet(name: string, at: Token, open: Entry): void {
    const prev = this.#snippets.get(name);
    if (prev) {
      throw CorefileError.at(at, `snippet '${name}' is defined twice (first at ${prev.at.file}:${prev.at.line})`);
    }
    const s = this.#stream;
    const tokens: Token[] = [];
    let depth = 0;
    for (;;) {
      const e = s.peek();
      if (!e || e.frame !== open.frame) throw CorefileError.at(open.tok, "unclosed '{'");
      s.next();
      if (e.tok.kind === 'close' && depth === 0) break;
      if (e.tok.kind === 'open') depth++;
      if (e.tok.kind === 'close') depth--;
      tokens.push(e.tok);
    }
    this.#snippets.set(name, { tokens, at });
  }

  /**
   * Directives up to the `}` matching `open` (which is in `frame`), or, for a
   * braceless server block (`open` null), to the end of `frame`.
   */
  #blockBody(open: Token | null, frame: Frame): Directive[] {
    const s = this.#stream;
    const out: Directive[] = [];
    for (;;) {
      const e = s.peek();
      if (!e || e.frame.depth < frame.depth) {
        if (open) throw CorefileError.at(open, "unclosed '{'");
        return out;
      }
      const { tok } = e;
      if (tok.kind === 'close') {
        if (!open || e.frame !== frame) throw CorefileError.at(tok, "unexpected '}'");
        s.next();
        return out;
      }
      if (tok.kind === 'open') {
        const prev = out[out.length - 1];
        throw CorefileError.at(
          tok,
          prev && e.newLine ? `open brace must be on the same line as directive '${prev.name}'` : "unexpected '{'",
        );
      }
      if (tok.text === 'import' && !tok.quoted) {
        this.#import();
        continue;
      }
      out.push(this.#directive());
    }
  }

  /** One directive: name, the arguments on its line, and an optional `{ ... }` block. */
  #directive(): Directive {
    const s = this.#stream;
    const name = s.next()!.tok;
    const args: string[] = [];
    let block: Directive[] | null = null;
    for (let e = s.peek(); e && !e.newLine && e.tok.kind !== 'close'; e = s.peek()) {
      s.next();
      if (e.tok.kind === 'open') {
        block = this.#blockBody(e.tok, e.frame);
        const after = s.peek();
        if (after && !after.newLine && after.tok.kind === 'word') {
          throw CorefileError.at(after.tok, `unexpected '${after.tok.text}' after '}' of directive '${name.text}'`);
        }
        break;
      }
      args.push(e.tok.text);
    }
    return { name: name.text, args, block, file: name.file, line: name.line };
  }

  /** Handles `import <snippet|path|glob>` at the cursor by pushing the imported tokens. */
  #import(): void {
    const s = this.#stream;
    const { tok: at, frame } = s.next()!;
    const args: Token[] = [];
    for (let e = s.peek(); e && !e.newLine && e.tok.kind === 'word'; e = s.peek()) args.push(s.next()!.tok);
    const target = args.length === 1 ? args[0]?.text : undefined;
    if (target === undefined || target === '') {
      throw CorefileError.at(at, 'import takes exactly one argument: a snippet name or a file path/glob');
    }
    const enter = (link: Link): Link[] => {
      const i = frame.chain.findIndex((l) => l.key === link.key);
      if (i !== -1) {
        const cycle = [...frame.chain.slice(i), link].map((l) => l.label).join(' -> ');
        throw CorefileError.at(at, `import cycle: ${cycle}`);
      }
      return [...frame.chain, link];
    };

    const snippet = this.#snippets.get(target);
    if (snippet) {
      s.push(snippet.tokens, enter({ key: `snippet:${target}`, label: `(${target})` }));
      return;
    }

    let files: string[];
    let wildcard: boolean;
    try {
      ({ files, wildcard } = resolveImport(target, path.dirname(at.file)));
    } catch (err) {
      throw CorefileError.at(at, `import '${target}': ${errorMessage(err)}`);
    }
    if (!wildcard) {
      // A name that is neither a known snippet nor an existing file.
      const file = files[0];
      if (file === undefined) throw CorefileError.at(at, `import '${target}': no such snippet or file`);
      const text = this.#read(file, at, target);
      s.push(tokenize(text, file, this.#env), enter({ key: `file:${path.resolve(file)}`, label: file }));
      return;
    }
    // Push in reverse so the first match is read first.
    const loaded = files.map((file) => ({ file, text: this.#read(file, at, target) }));
    for (const { file, text } of loaded.reverse()) {
      s.push(tokenize(text, file, this.#env), enter({ key: `file:${path.resolve(file)}`, label: file }));
    }
  }

  #read(file: string, at: Token, target: string): string {
    try {
      return this.#readFile(file);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') {
        throw CorefileError.at(at, `import '${target}': no snippet or file with that name`);
      }
      throw CorefileError.at(at, `import '${target}': cannot read '${file}': ${errorMessage(err)}`);
    }
  }
}

function checkDuplicates(blocks: readonly ServerBlock[]): void {
  const seen = new Set<string>();
  for (const block of blocks) {
    for (const key of block.keys) {
      const id = `${key.zone}|${key.port ?? ''}`;
      if (seen.has(id)) {
        const where = key.port === null ? 'on the default port' : `on port ${key.port}`;
        throw CorefileError.at(key, `duplicate zone '${key.zone}' ${where}`);
      }
      seen.add(id);
    }
  }
}

/** Parses Corefile text; `file` is the name used in positions and errors and the base for relative imports. */
export function parseCorefile(text: string, file: string, opts: ParseOptions = {}): ServerBlock[] {
  return new Parser(opts).parse(text, file);
}

/** Reads and parses a Corefile from disk (or through opts.readFile). */
export function parseCorefileFile(path: string, opts: ParseOptions = {}): ServerBlock[] {
  const read = opts.readFile ?? ((p: string) => fs.readFileSync(p, 'utf8'));
  return parseCorefile(read(path), path, opts);
}
