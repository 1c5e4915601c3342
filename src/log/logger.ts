/**
 * @module log/logger
 * The process logger. Text mode prints CoreDNS-style lines
 * ("[INFO] plugin/reload: Running configuration SHA512 = ..."); JSON mode
 * (for log pipelines) goes through pino. Both behind one small interface so
 * plugins never care which.
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
}

export interface LoggerOptions {
  format?: 'text' | 'json';
  /** Suppress everything below warn (-quiet). */
  quiet?: boolean;
  /** Where text lines go; defaults to stdout. Tests pass an array sink. */
  write?: (line: string) => void;
}

export function createLogger(opts: LoggerOptions = {}): Logger {
  if (opts.format === 'json') return new JsonLogger(pino({ base: null, level: opts.quiet ? 'warn' : 'info' }), '');
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
  plugin(name: string): Logger { return new JsonLogger(this.#p, name); }
  #fields(): object { return this.#plugin ? { plugin: this.#plugin } : {}; }
}

/** A logger that keeps lines in memory, for tests. */
export function memoryLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const l = createLogger({ write: (s) => { lines.push(s); } });
  return Object.assign(l, { lines });
}
