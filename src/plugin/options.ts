/**
 * @module plugin/options
 * Small readers every plugin's setup uses for its arguments, so option errors
 * read the same everywhere: "FILE:LINE: plugin/NAME: what is wrong".
 */
import { CorefileError } from '../corefile/errors.ts';
import type { Directive } from '../corefile/parser.ts';
import { canonicalName, isSubdomain } from '../dns/name.ts';
import { reverseZonesOfCidr } from '../corefile/reverse-zones.ts';
import { errorMessage } from '../errors/to-error.ts';

export function fail(d: Directive, plugin: string, what: string): never {
  throw new CorefileError(d.file, d.line, `plugin/${plugin}: ${what}`);
}

export function argCount(d: Directive, plugin: string, min: number, max: number = Infinity): void {
  const n = d.args.length;
  if (n < min || n > max) {
    const want = min === max ? `${min}` : max === Infinity ? `at least ${min}` : `${min} to ${max}`;
    fail(d, plugin, `'${d.name}' takes ${want} argument${want === '1' ? '' : 's'}, got ${n}`);
  }
}

export function noBlock(d: Directive, plugin: string): void {
  if (d.block && d.block.length > 0) fail(d, plugin, `'${d.name}' takes no block`);
}

export function int(d: Directive, plugin: string, text: string, min: number, max: number, what = 'value'): number {
  if (!/^-?\d+$/.test(text)) fail(d, plugin, `${what} '${text}' is not a whole number`);
  const n = Number(text);
  if (n < min || n > max) fail(d, plugin, `${what} ${n} is out of range ${min}..${max}`);
  return n;
}

/** The `ttl SECONDS` option of the plugins that answer with records (kubernetes, k8s_external, dnsrecord): 0..3600, as CoreDNS. */
export function ttlOption(d: Directive, plugin: string): number {
  argCount(d, plugin, 1, 1);
  return int(d, plugin, d.args[0]!, 0, 3600, 'ttl');
}

const unitMs: Record<string, number> = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Go duration text ("5s", "1m30s", "250ms", "0") in milliseconds, or null when malformed. */
export function parseDurationMs(text: string): number | null {
  if (text === '0') return 0;
  const re = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/gy;
  let total = 0;
  let matched = 0;
  let m: RegExpExecArray | null;
  while ((m = re.exec(text)) !== null) {
    total += Number(m[1]) * unitMs[m[2]!]!;
    matched = re.lastIndex;
  }
  return matched === text.length && matched > 0 ? total : null;
}

export function duration(d: Directive, plugin: string, text: string, what = 'duration'): number {
  const ms = parseDurationMs(text);
  if (ms === null) fail(d, plugin, `${what} '${text}' is not a duration (like 5s, 1m, 250ms)`);
  return ms;
}

/**
 * Zones given as arguments (names or CIDRs), made canonical; the block's
 * zones when none are given. CoreDNS narrows: an argument zone must be inside
 * one of the block's zones (else it can never be queried), except that we
 * accept any zone to keep Corefiles that list extra zones working.
 */
export function zonesArg(d: Directive, plugin: string, args: readonly string[], blockZones: readonly string[]): string[] {
  if (args.length === 0) return [...blockZones];
  const out: string[] = [];
  for (const a of args) {
    if (a.includes('/')) {
      try { out.push(...reverseZonesOfCidr(a)); } catch (e) { fail(d, plugin, errorMessage(e)); }
    } else out.push(canonicalName(a));
  }
  return out;
}

/** A Go (RE2) regular expression as a JavaScript one: `(?P<name>` groups become `(?<name>`. Throws SyntaxError when JavaScript cannot read it. */
export function goRegExp(text: string): RegExp {
  return new RegExp(text.replace(/\(\?P</g, '(?<'));
}

/** The nested directives of a block, or []. */
export function children(d: Directive): readonly Directive[] {
  return d.block ?? [];
}

/** Parses `fallthrough [ZONES...]` into a matcher. */
export class Fallthrough {
  readonly #zones: readonly string[] | null;
  constructor(zones: readonly string[] | null) { this.#zones = zones; }
  static none(): Fallthrough { return new Fallthrough([]); }
  static from(d: Directive, plugin: string): Fallthrough {
    return new Fallthrough(d.args.length === 0 ? null : zonesArg(d, plugin, d.args, []));
  }
  /** Whether a query for `qname` may pass on. */
  through(qname: string): boolean {
    const z = this.#zones;
    if (z === null) return true;
    // isSubdomain, not endsWith('.' + zone): on the query path of every NXDOMAIN, so no string is built.
    for (let i = 0; i < z.length; i++) if (isSubdomain(qname, z[i]!)) return true;
    return false;
  }
  /** Whether some query under `zone` may pass on (a fallthrough zone at, above or below it). */
  touches(zone: string): boolean {
    const z = this.#zones;
    if (z === null) return true;
    return z.some((f) => isSubdomain(f, zone) || isSubdomain(zone, f));
  }
}

/** An HTTP listen address "HOST:PORT", ":PORT" or "[V6]:PORT" (health, ready, prometheus); returns it unchanged. */
export function listenAddress(d: Directive, plugin: string, text: string): string {
  const m = /^(?:\[[0-9A-Fa-f:.]+\]|[^:[\]]*):(\d{1,5})$/.exec(text);
  if (!m || Number(m[1]) > 65535) fail(d, plugin, `'${text}' is not an address with a port (HOST:PORT or :PORT)`);
  return text;
}
