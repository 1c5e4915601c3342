/**
 * @module corefile/lexer
 * Splits Corefile text into tokens the way CoreDNS's Caddy v1 lexer does:
 * whitespace separates tokens, `#` (outside quotes) comments out the rest of
 * the line, `"..."` strings may hold spaces and newlines with `\"` as the only
 * escape, and `` `...` `` strings are raw. Environment references `{$NAME}` and
 * `{%NAME%}` are substituted inside every token except raw (backquoted) ones.
 */

import { CorefileError } from './errors.ts';

/** `open` / `close` are unquoted `{` / `}` tokens; everything else is a `word`. */
export type TokenKind = 'word' | 'open' | 'close';

export interface Token {
  readonly kind: TokenKind;
  /** Token text after quote removal and environment substitution. */
  readonly text: string;
  /** True when the token was written in double quotes or backquotes. */
  readonly quoted: boolean;
  readonly file: string;
  /** Line the token starts on (1-based). */
  readonly line: number;
  /** Line the token ends on; larger than `line` for quoted tokens holding newlines. */
  readonly endLine: number;
}

export type Env = Readonly<Record<string, string | undefined>>;

const ENV_REF = /\{\$([^{}\s]+)\}|\{%([^{}%\s]+)%\}/g;

/** Replaces `{$NAME}` and `{%NAME%}` with the variable's value; unset variables become ''. */
export function substituteEnv(text: string, env: Env): string {
  if (!text.includes('{')) return text;
  return text.replace(ENV_REF, (_m, a: string | undefined, b: string | undefined) => env[a ?? b ?? ''] ?? '');
}

function isSpace(c: number): boolean {
  // \t \n \v \f \r and space, plus the Unicode spaces Go's unicode.IsSpace knows.
  return (c >= 9 && c <= 13) || c === 32 || c === 0x85 || c === 0xa0 || (c > 0xff && /\s/.test(String.fromCharCode(c)));
}

const HASH = 35; // '#'
const DQUOTE = 34; // '"'
const BQUOTE = 96; // '`'
const BACKSLASH = 92; // '\\'
const NEWLINE = 10;

/** Tokenizes a whole Corefile (or imported file). Throws CorefileError on an unterminated quote. */
export function tokenize(text: string, file: string, env: Env): Token[] {
  const tokens: Token[] = [];
  const n = text.length;
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0; // byte order mark
  let line = 1;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === NEWLINE) {
      line++;
      i++;
      continue;
    }
    if (isSpace(c)) {
      i++;
      continue;
    }
    if (c === HASH) {
      while (i < n && text.charCodeAt(i) !== NEWLINE) i++;
      continue;
    }
    const start = line;
    if (c === DQUOTE || c === BQUOTE) {
      const raw = c === BQUOTE;
      let val = '';
      let j = i + 1;
      for (;;) {
        if (j >= n) throw new CorefileError(file, start, 'unterminated quoted string');
        const d = text.charCodeAt(j);
        if (d === c) {
          j++;
          break;
        }
        if (!raw && d === BACKSLASH && j + 1 < n) {
          // Only \" is an escape; any other backslash pair is kept verbatim.
          const e = text.charCodeAt(j + 1);
          if (e === DQUOTE) {
            val += '"';
          } else {
            val += text.slice(j, j + 2);
            if (e === NEWLINE) line++;
          }
          j += 2;
          continue;
        }
        if (d === NEWLINE) line++;
        val += text[j];
        j++;
      }
      i = j;
      tokens.push({ kind: 'word', text: raw ? val : substituteEnv(val, env), quoted: true, file, line: start, endLine: line });
      continue;
    }
    let j = i;
    while (j < n) {
      const d = text.charCodeAt(j);
      if (isSpace(d) || d === HASH) break;
      j++;
    }
    const word = text.slice(i, j);
    i = j;
    if (word === '{}') {
      // An empty block written without a space: same as '{ }'.
      tokens.push({ kind: 'open', text: '{', quoted: false, file, line: start, endLine: start });
      tokens.push({ kind: 'close', text: '}', quoted: false, file, line: start, endLine: start });
      continue;
    }
    const kind: TokenKind = word === '{' ? 'open' : word === '}' ? 'close' : 'word';
    tokens.push({ kind, text: kind === 'word' ? substituteEnv(word, env) : word, quoted: false, file, line: start, endLine: start });
  }
  return tokens;
}
