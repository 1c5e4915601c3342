/**
 * @module log/logger
 * The process logger. Text mode prints CoreDNS-style lines
 * ("[INFO] plugin/reload: Running configuration SHA512 = ..."); JSON mode
 * (for log pipelines) goes through pino: one JSON object per line, with
 * `plugin` as a field and query-log records as fields of their own. Both
 * behind one small interface so plugins rarely care which.
 */
import { pino, type Logger as PinoLogger } from 'pino';

export interface Logger {
  debug(msg: string): void;
  info(msg: string): void;
  warn(msg: string): void;
  error(msg: string): void;
  /** Logger whose lines are prefixed "plugin/<name>: ". */
  plugin(name: string): Logger;
  /** A raw line at INFO level without the plugin prefix (query logs). */
  line(msg: string): void;
  /** True in JSON mode: structured callers (the query log) then use record() instead of line(). */
  readonly structured: boolean;
  /** An INFO record made of these fields and no message: a JSON object in JSON mode, `key=value ...` in text mode. */
  record(fields: Readonly<Record<string, LogFieldValue>>): void;
}

export type LogFieldValue = string | number | boolean;

export interface LoggerOptions {
  format?: 'text' | 'json';
  /** Suppress everything below warn (-quiet). */
  quiet?: boolean;
  /** Where text lines go; defaults to stdout. Tests pass an array sink. */
  write?: (line: string) => void;
}

export function createLogger(opts: LoggerOptions = {}): Logger {
  if (opts.format === 'json') {
    const level = opts.quiet ? 'warn' : process.env.CLUSTERDNS_DEBUG ? 'debug' : 'info';
    const options = { base: null, level };
    const write = opts.write;
    // pino ends every object with a newline; a line sink gets it without.
    const p = write ? pino(options, { write: (s: string) => { write(s.endsWith('\n') ? s.slice(0, -1) : s); } }) : pino(options);
    return new JsonLogger(p, '');
  }
  const write = opts.write ?? ((l: string) => { process.stdout.write(l + '\n'); });
  return new TextLogger(write, '', opts.quiet ?? false);
}

class TextLogger implements Logger {
  readonly #write: (line: string) => void;
  readonly #prefix: string;
  readonly #quiet: boolean;
  constructor(write: (line: string) => void, prefix: string, quiet: boolean) {
    this.#write = write; this.#prefix = prefix; this.#quiet = quiet;
  }
  debug(msg: string): void { if (!this.#quiet && process.env.CLUSTERDNS_DEBUG) this.#write(`[DEBUG] ${this.#prefix}${msg}`); }
  info(msg: string): void { if (!this.#quiet) this.#write(`[INFO] ${this.#prefix}${msg}`); }
  warn(msg: string): void { this.#write(`[WARNING] ${this.#prefix}${msg}`); }
  error(msg: string): void { this.#write(`[ERROR] ${this.#prefix}${msg}`); }
  line(msg: string): void { this.#write(`[INFO] ${msg}`); }
  get structured(): boolean { return false; }
  record(fields: Readonly<Record<string, LogFieldValue>>): void {
    let s = '';
    for (const k in fields) s += `${s === '' ? '' : ' '}${k}=${String(fields[k])}`;
    this.#write(`[INFO] ${this.#prefix}${s}`);
  }
  plugin(name: string): Logger { return new TextLogger(this.#write, `plugin/${name}: `, this.#quiet); }
}

class JsonLogger implements Logger {
  readonly #p: PinoLogger;
  readonly #plugin: string;
  constructor(p: PinoLogger, plugin: string) { this.#p = p; this.#plugin = plugin; }
  debug(msg: string): void { this.#p.debug(this.#fields(), msg); }
  info(msg: string): void { this.#p.info(this.#fields(), msg); }
  warn(msg: string): void { this.#p.warn(this.#fields(), msg); }
  error(msg: string): void { this.#p.error(this.#fields(), msg); }
  line(msg: string): void { this.#p.info({ plugin: 'log' }, msg); }
  get structured(): boolean { return true; }
  record(fields: Readonly<Record<string, LogFieldValue>>): void { this.#p.info({ plugin: this.#plugin || 'log', ...fields }); }
  plugin(name: string): Logger { return new JsonLogger(this.#p, name); }
  #fields(): object { return this.#plugin ? { plugin: this.#plugin } : {}; }
}

/** A logger that keeps lines in memory, for tests (JSON mode: one JSON text per entry). */
export function memoryLogger(format: 'text' | 'json' = 'text'): Logger & { lines: string[] } {
  const lines: string[] = [];
  const l = createLogger({ format, write: (s) => { lines.push(s); } });
  return Object.assign(l, { lines });
}
