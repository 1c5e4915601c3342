/**
 * @module corefile/errors
 * The one error type for everything wrong in a Corefile: syntax errors from the
 * lexer and parser, and option errors from plugin setup code. The message is
 * always `${file}:${line}: ${what}` so a user can jump straight to the place.
 */

/** Anything that knows where it came from in a Corefile (tokens, directives, zone keys). */
export interface SourcePosition {
  readonly file: string;
  readonly line: number;
}

export class CorefileError extends Error {
  readonly file: string;
  readonly line: number;
  /** The message without the `file:line: ` prefix. */
  readonly what: string;

  constructor(file: string, line: number, what: string) {
    super(`${file}:${line}: ${what}`);
    this.name = 'CorefileError';
    this.file = file;
    this.line = line;
    this.what = what;
  }

  /** Error at the position of a directive, token or zone key: `CorefileError.at(d, "unknown option 'x'")`. */
  static at(d: SourcePosition, what: string): CorefileError {
    return new CorefileError(d.file, d.line, what);
  }
}
