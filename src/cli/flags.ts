/**
 * @module cli/flags
 * Go-style flags for the subcommands (resolv-conf, hosts, doctor, explain):
 * `-flag value`, `--flag value`, `--flag=value`; value flags may repeat
 * (every value is kept, in order); boolean flags take no value; other
 * arguments are positional when the command allows them.
 */
import { UsageError } from './args.ts';

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
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith('-') || a === '-') {
      if (positional.length >= (spec.positional ?? 0)) throw new UsageError(`unexpected argument '${a}'`);
      positional.push(a);
      continue;
    }
    const body = a.replace(/^--?/, '');
    const eq = body.indexOf('=');
    const name = eq >= 0 ? body.slice(0, eq) : body;
    if (spec.bools?.has(name) === true && eq < 0) { bools.add(name); continue; }
    if (!spec.values.has(name)) throw new UsageError(`unknown flag -${name}`);
    const value = eq >= 0 ? body.slice(eq + 1) : argv[++i];
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
