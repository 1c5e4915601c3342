/**
 * @module test/docs/corefile-examples
 * Finding the Corefile examples in READMEs, and the only rewriting applied
 * before booting them in a test: a port below 1024 in a server block key
 * becomes 0 (any free port), and a server block without a `bind` line gets
 * `bind 127.0.0.1` as its first line. Keys without a port are given port 0
 * by the test (the App's dnsPort). Everything else is booted as written, so
 * examples must use loopback addresses and high or zero ports elsewhere.
 */

export interface CorefileExample {
  readonly file: string;
  /** 1-based line of the opening fence. */
  readonly line: number;
  readonly text: string;
}

/** Every fenced block tagged `corefile` (``` or ~~~ fences) in a Markdown text. */
export function corefileExamples(file: string, markdown: string): CorefileExample[] {
  const out: CorefileExample[] = [];
  const lines = markdown.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const open = /^(```|~~~)\s*corefile\s*$/.exec(lines[i]!);
    if (!open) continue;
    const body: string[] = [];
    let j = i + 1;
    while (j < lines.length && !lines[j]!.startsWith(open[1]!)) body.push(lines[j++]!);
    out.push({ file, line: i + 1, text: body.join('\n') + '\n' });
    i = j;
  }
  return out;
}

interface Block { keysStart: number; open: number; close: number }

/** Server blocks and snippets at the top level: where their keys start, their `{` and their `}`. */
function topLevelBlocks(text: string): Block[] {
  const blocks: Block[] = [];
  let depth = 0;
  let keysStart = 0;
  let open = -1;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '"' || c === '`') {
      const end = text.indexOf(c, i + 1);
      i = end < 0 ? text.length : end;
    } else if (c === '#' && (i === 0 || /\s/.test(text[i - 1]!))) {
      const end = text.indexOf('\n', i);
      i = end < 0 ? text.length : end;
    } else if (c === '{' && (text[i + 1] === '$' || text[i + 1] === '%')) {
      const end = text.indexOf('}', i);
      i = end < 0 ? text.length : end; // {$ENV} placeholder, not a block
    } else if (c === '{') {
      if (depth === 0) open = i;
      depth++;
    } else if (c === '}') {
      depth--;
      if (depth === 0) {
        blocks.push({ keysStart, open, close: i });
        keysStart = i + 1;
      }
    }
  }
  return blocks;
}

/** `example.org:53` -> `example.org:0`; keys with no port or a port of 1024 and up are unchanged. */
export function rewriteKey(key: string): string {
  const m = /^(.*):(\d+)$/.exec(key);
  if (!m || Number(m[2]) >= 1024) return key;
  return `${m[1]}:0`;
}

/** True when a block body has a `bind` directive of its own (not inside a nested block). */
function hasBind(body: string): boolean {
  let flat = '';
  let depth = 0;
  for (const c of body) {
    if (c === '{') depth++;
    else if (c === '}') depth--;
    else if (depth === 0) flat += c;
  }
  return /^\s*bind(\s|$)/m.test(flat);
}

/** The example made bootable on loopback and free ports (see the module comment). */
export function bootable(text: string): string {
  const blocks = topLevelBlocks(text);
  if (blocks.length === 0) {
    // The braceless form: keys on the first line, directives after.
    const nl = text.indexOf('\n');
    const keys = nl < 0 ? text : text.slice(0, nl);
    return bootable(`${keys} {\n${nl < 0 ? '' : text.slice(nl + 1)}\n}\n`);
  }
  let out = text;
  for (const b of [...blocks].reverse()) {
    const keys = text.slice(b.keysStart, b.open);
    if (keys.trim().startsWith('(')) continue; // a snippet
    const body = text.slice(b.open + 1, b.close);
    const newKeys = keys.replace(/[^\s,]+/g, rewriteKey);
    const newBody = hasBind(body) ? body : `\n    bind 127.0.0.1${body}`;
    out = out.slice(0, b.keysStart) + newKeys + '{' + newBody + out.slice(b.close);
  }
  return out;
}
