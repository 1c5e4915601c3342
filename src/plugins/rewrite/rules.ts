/**
 * @module plugins/rewrite/rules
 * The rewrite rules: what each does to the request (name, type, class,
 * EDNS0 options) and which response rules it leaves behind (answer names and
 * values reverted, TTLs, rcodes, CNAME targets). Matching follows CoreDNS:
 * names are lower case with the final dot; exact and suffix patterns get a
 * final dot, prefix and substring are used as written; regex replacements
 * take `{N}` groups.
 */
import { Type } from '../../dns/constants.ts';
import { canonicalName, encodeName, readName } from '../../dns/name.ts';
import type { DnsRequest } from '../../dns/request.ts';
import { goRegExp } from '../../plugin/options.ts';
import type { RR } from '../../dns/rr.ts';
import type { EdnsOption, OptRecord } from './query-wire.ts';

export type MatchKind = 'exact' | 'prefix' | 'suffix' | 'substring' | 'regex';

/** A name pattern and what to put instead. */
export class NameRewrite {
  readonly kind: MatchKind;
  readonly from: string;
  readonly to: string;
  readonly #re: RegExp | null;

  constructor(kind: MatchKind, from: string, to: string) {
    this.kind = kind;
    if (kind === 'regex') {
      this.from = from;
      this.to = to;
      this.#re = goRegExp(from);
    } else {
      const dotted = kind === 'exact' || kind === 'suffix';
      this.from = dotted ? canonicalName(from) : from.toLowerCase();
      this.to = dotted ? canonicalName(to) : to.toLowerCase();
      this.#re = null;
    }
  }

  /** Number of groups the regex has (for checking `{N}` in replacements). */
  get groups(): number {
    return this.#re === null ? 0 : new RegExp(`${this.#re.source}|`).exec('')!.length - 1;
  }

  /** The new name, or null when `name` does not match. */
  apply(name: string): string | null {
    switch (this.kind) {
      case 'exact': return name === this.from ? this.to : null;
      case 'prefix': return name.startsWith(this.from) ? this.to + name.slice(this.from.length) : null;
      case 'suffix': return name.endsWith(this.from) ? name.slice(0, name.length - this.from.length) + this.to : null;
      case 'substring': return name.includes(this.from) ? name.split(this.from).join(this.to) : null;
      case 'regex': {
        const m = this.#re!.exec(name);
        if (m === null) return null;
        let s = this.to;
        m.forEach((g, i) => { s = s.split(`{${i}}`).join(g ?? ''); });
        return canonicalName(s);
      }
    }
  }

  /** The opposite rewrite (`answer auto`); null for regex, which cannot be reversed in general. */
  reversed(): NameRewrite | null {
    return this.kind === 'regex' ? null : new NameRewrite(this.kind, this.to, this.from);
  }
}

/** The query as the rules change it. */
export interface QueryState {
  qname: string;
  qtype: number;
  qclass: number;
  /** Null until an edns0 rule touches the options. */
  opt: OptRecord | null;
  optChanged: boolean;
}

/** What a matched rule asks of the response. */
export type ResponseRule =
  | { readonly kind: 'name'; readonly rewrite: NameRewrite }
  | { readonly kind: 'value'; readonly rewrite: NameRewrite }
  | { readonly kind: 'ttl'; readonly min: number; readonly max: number }
  | { readonly kind: 'rcode'; readonly from: number; readonly to: number }
  | { readonly kind: 'cname'; readonly rewrite: NameRewrite };

export type Mode = 'stop' | 'continue';

export interface Rule {
  readonly mode: Mode;
  /** Applies the rule to `q`; returns the response rules it leaves, or null when it did not match. */
  apply(q: QueryState, req: DnsRequest, opt: () => OptRecord): readonly ResponseRule[] | null;
}

export class NameRule implements Rule {
  readonly mode: Mode;
  readonly #rewrite: NameRewrite;
  readonly #responses: readonly ResponseRule[];
  constructor(mode: Mode, rewrite: NameRewrite, responses: readonly ResponseRule[]) {
    this.mode = mode;
    this.#rewrite = rewrite;
    this.#responses = responses;
  }
  apply(q: QueryState): readonly ResponseRule[] | null {
    const to = this.#rewrite.apply(q.qname);
    if (to === null) return null;
    q.qname = to;
    return this.#responses;
  }
}

/** `type FROM TO` and `class FROM TO`. */
export class FieldRule implements Rule {
  readonly mode: Mode;
  readonly #field: 'qtype' | 'qclass';
  readonly #from: number;
  readonly #to: number;
  constructor(mode: Mode, field: 'qtype' | 'qclass', from: number, to: number) {
    this.mode = mode;
    this.#field = field;
    this.#from = from;
    this.#to = to;
  }
  apply(q: QueryState): readonly ResponseRule[] | null {
    if (q[this.#field] !== this.#from) return null;
    q[this.#field] = this.#to;
    return NONE;
  }
}

const NONE: readonly ResponseRule[] = [];

/** Rules that only act on the response (ttl, rcode, cname), for requests whose name matches. */
export class ResponseOnlyRule implements Rule {
  readonly mode: Mode;
  readonly #match: NameRewrite;
  readonly #responses: readonly ResponseRule[];
  constructor(mode: Mode, match: NameRewrite, response: ResponseRule) {
    this.mode = mode;
    this.#match = match;
    this.#responses = [response];
  }
  apply(q: QueryState): readonly ResponseRule[] | null {
    return this.#match.apply(q.qname) === null ? null : this.#responses;
  }
}

export type EdnsAction = 'set' | 'replace' | 'append' | 'unset';

/** An EDNS0 option rule; `value` makes the option's data for a request (null for unset). */
export class EdnsRule implements Rule {
  readonly mode: Mode;
  readonly #code: number;
  readonly #action: EdnsAction;
  readonly #value: (req: DnsRequest, q: QueryState) => Uint8Array;
  constructor(mode: Mode, code: number, action: EdnsAction, value: (req: DnsRequest, q: QueryState) => Uint8Array) {
    this.mode = mode;
    this.#code = code;
    this.#action = action;
    this.#value = value;
  }
  apply(q: QueryState, req: DnsRequest, opt: () => OptRecord): readonly ResponseRule[] | null {
    const o = opt();
    const at = o.options.findIndex((x) => x.code === this.#code);
    const make = (): EdnsOption => ({ code: this.#code, data: this.#value(req, q) });
    switch (this.#action) {
      case 'unset': if (at < 0) return null; o.options.splice(at, 1); break;
      case 'replace': if (at < 0) return null; o.options[at] = make(); break;
      case 'append': if (at >= 0) return null; o.options.push(make()); break;
      case 'set': if (at >= 0) o.options[at] = make(); else o.options.push(make()); break;
    }
    q.optChanged = true;
    return NONE;
  }
}

/** Types whose rdata holds one name at a fixed offset, to its end (what `answer value` rewrites). */
const valueNameAt = new Map<number, number>([[Type.CNAME, 0], [Type.DNAME, 0], [Type.PTR, 0], [Type.NS, 0], [Type.MX, 2], [Type.SRV, 6]]);

/** The name in a record's rdata that `answer value` and `cname` rules look at, or null. */
export function rdataName(r: RR): string | null {
  const at = valueNameAt.get(r.type);
  if (at === undefined) return null;
  try { return readName(r.data, at).name; } catch { return null; }
}

/** The record with its rdata name replaced. */
export function withRdataName(r: RR, name: string): RR {
  const at = valueNameAt.get(r.type)!;
  const n = encodeName(name);
  const data = new Uint8Array(at + n.length);
  data.set(r.data.subarray(0, at), 0);
  data.set(n, at);
  return { name: r.name, type: r.type, class: r.class, ttl: r.ttl, data };
}
