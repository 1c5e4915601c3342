/**
 * @module cli/flags
 * Flags of the subcommands. One walk over argv (`cliFlags`: `-flag` and
 * `--flag` alike, the next word as a flag's value) serves both forms:
 * `parseFlags`, Go-style from a spec (resolv-conf, hosts, doctor, explain):
 * `-flag value`, `--flag value`, `--flag=value`; value flags may repeat
 * (every value is kept, in order); boolean flags take no value; other
 * arguments are positional when the command allows them; and the switch of
 * a command whose flags act in order (deploy render, gateway) over
 * `cliFlags` itself.
 */
import { UsageError } from './args.ts';

/** One word of a subcommand's argv: as typed, its flag name, and the word after it. */
export interface CliFlag {
  readonly raw: string;
  /** Without its leading `-` or `--`; null for a word that is no flag (no leading '-', or '-' alone). */
  readonly name: string | null;
  /** Takes the next word as this flag's value (undefined at the end of argv). */
  next(): string | undefined;
  /** `next()`, or throws `usageError('RAW needs a value')` at the end of argv. */
  value(): string;
}

export function* cliFlags(argv: readonly string[], usageError: (message: string) => Error = (m) => new UsageError(m)): Generator<CliFlag> {
  for (let i = 0; i < argv.length; i++) {
    const raw = argv[i]!;
    const next = (): string | undefined => argv[++i];
    yield {
      raw,
      name: raw.startsWith('-') && raw !== '-' ? raw.replace(/^--?/, '') : null,
      next,
      value: () => {
        const v = next();
        if (v === undefined) throw usageError(`${raw} needs a value`);
        return v;
      },
    };
  }
}

export interface ParsedFlags {
  readonly values: ReadonlyMap<string, readonly string[]>;
  readonly bools: ReadonlySet<string>;
  readonly positional: readonly string[];
}

export interface FlagSpec {
  readonly values: ReadonlySet<string>;
  readonly bools?: ReadonlySet<string>;
  /** How many positional arguments are allowed (default 0). */
  readonly positional?: number;
}

export function parseFlags(argv: readonly string[], spec: FlagSpec): ParsedFlags {
  const values = new Map<string, string[]>();
  const bools = new Set<string>();
  const positional: string[] = [];
  for (const flag of cliFlags(argv)) {
    const body = flag.name;
    if (body === null) {
      if (positional.length >= (spec.positional ?? 0)) throw new UsageError(`unexpected argument '${flag.raw}'`);
      positional.push(flag.raw);
      continue;
    }
    const eq = body.indexOf('=');
    const name = eq >= 0 ? body.slice(0, eq) : body;
    if (spec.bools?.has(name) === true && eq < 0) { bools.add(name); continue; }
    if (!spec.values.has(name)) throw new UsageError(`unknown flag -${name}`);
    const value = eq >= 0 ? body.slice(eq + 1) : flag.next();
    if (value === undefined || (eq < 0 && value.startsWith('--'))) throw new UsageError(`flag needs an argument: -${name}`);
    values.set(name, [...(values.get(name) ?? []), value]);
  }
  return { values, bools, positional };
}

/** The last value given for `name`, or `fallback`. */
export function lastValue<T extends string | null>(f: ParsedFlags, name: string, fallback: T): string | T {
  const v = f.values.get(name);
  return v === undefined ? fallback : v[v.length - 1]!;
}
