/**
 * @module plugins/rewrite/setup
 * `rewrite [continue|stop] FIELD [TYPE] FROM TO [answer auto|name F T|value F T]...`
 * and the block form `rewrite [continue|stop] { FIELD ...; answer ... }`,
 * whose lines are joined into one rule as CoreDNS does. FIELD is name, type,
 * class, ttl, edns0 (local, nsid, subnet with set/replace/append/unset),
 * cname or rcode. All `rewrite` lines of a block form one handler, applied
 * in Corefile order.
 */
import type { Directive } from '../../corefile/parser.ts';
import { classFromName, rcodeFromName, typeFromName } from '../../dns/constants.ts';
import type { DnsRequest } from '../../dns/request.ts';
import { ipToBytes } from '../../dns/ip.ts';
import { metadataValue } from '../../plugin/metadata.ts';
import { fail } from '../../plugin/options.ts';
import type { BlockContext, PluginDefinition } from '../../plugin/plugin.ts';
import { RewriteHandler } from './rewrite.ts';
import { EdnsRule, FieldRule, NameRewrite, NameRule, ResponseOnlyRule, type EdnsAction, type MatchKind, type Mode, type ResponseRule, type Rule } from './rules.ts';

const P = 'rewrite';
const KINDS = new Set<string>(['exact', 'prefix', 'suffix', 'substring', 'regex']);

function nameRewrite(d: Directive, kind: MatchKind, from: string, to: string): NameRewrite {
  let r: NameRewrite;
  try { r = new NameRewrite(kind, from, to); } catch { return fail(d, P, `invalid regex matching pattern: ${from}`); }
  if (kind === 'regex') {
    const used = [...to.matchAll(/\{(\d+)\}/g)].reduce((n, m) => Math.max(n, Number(m[1])), 0);
    if (used > r.groups) fail(d, P, `the rewrite regex pattern (${to}) uses more subexpressions than its corresponding matching regex pattern (${from})`);
  }
  return r;
}

/** `[TYPE] A B...`: the match type when given (default exact) and the rest. */
function matchAndRest(args: readonly string[], fixed: number): [MatchKind, string[]] {
  if (args.length > fixed && KINDS.has(args[0]!.toLowerCase())) return [args[0]!.toLowerCase() as MatchKind, args.slice(1)];
  return ['exact', [...args]];
}

function nameRule(d: Directive, mode: Mode, args: readonly string[]): Rule {
  if (args.length < 2) fail(d, P, 'too few arguments for a name rule');
  let kind: MatchKind = 'exact';
  let rest = [...args];
  if (args.length > 2) {
    if (!KINDS.has(args[0]!.toLowerCase())) fail(d, P, `name rule supports only exact, prefix, suffix, substring, and regex name matching, received: ${args[0]}`);
    kind = args[0]!.toLowerCase() as MatchKind;
    rest = args.slice(1);
  }
  const [from, to, ...opts] = rest;
  const rewrite = nameRewrite(d, kind, from!, to!);
  const responses: ResponseRule[] = [];
  let auto = false;
  for (let i = 0; i < opts.length;) {
    if (opts[i] !== 'answer') fail(d, P, `unexpected '${opts[i]}' after a name rule: want 'answer auto', 'answer name FROM TO' or 'answer value FROM TO'`);
    const what = opts[i + 1];
    if (what === 'auto') { auto = true; i += 2; continue; }
    if (what !== 'name' && what !== 'value') fail(d, P, `'answer ${what ?? ''}': want 'answer auto', 'answer name FROM TO' or 'answer value FROM TO'`);
    if (opts[i + 3] === undefined) fail(d, P, `'answer ${what}' needs FROM and TO`);
    responses.push({ kind: what as 'name' | 'value', rewrite: nameRewrite(d, 'regex', opts[i + 2]!, opts[i + 3]!) });
    i += 4;
  }
  if (auto) {
    const back = rewrite.reversed();
    if (back === null) fail(d, P, "'answer auto' cannot reverse a regex rule: use 'answer name FROM TO'");
    responses.push({ kind: 'name', rewrite: back! }, { kind: 'value', rewrite: back! });
  } else if (kind === 'exact' && responses.length === 0) {
    // The client asked for FROM: answers for TO are shown under FROM.
    responses.push({ kind: 'name', rewrite: rewrite.reversed()! });
  }
  return new NameRule(mode, rewrite, responses);
}

function ttlRange(d: Directive, text: string): [number, number] {
  const m = /^(\d*)(-?)(\d*)$/.exec(text);
  const max32 = 0x7fffffff;
  if (!m || (m[1] === '' && m[3] === '')) return fail(d, P, `invalid TTL '${text}': want SECONDS or MIN-MAX`);
  if (m[2] === '') return [Number(m[1]), Number(m[1])];
  const lo = m[1] === '' ? 0 : Number(m[1]), hi = m[3] === '' ? max32 : Number(m[3]);
  if (lo > hi) fail(d, P, `invalid TTL range '${text}': minimum above maximum`);
  return [lo, hi];
}

function rcodeOf(d: Directive, text: string): number {
  const r = rcodeFromName(text);
  if (r === undefined) fail(d, P, `unknown rcode '${text}'`);
  return r!;
}

/** The data of an EDNS0 local option: `0x` hex, a {variable}, or text. */
function localData(d: Directive, text: string): (req: DnsRequest, q: { qname: string; qtype: number }) => Uint8Array {
  if (/^0x/i.test(text)) {
    if (!/^0x(?:[0-9a-f]{2})+$/i.test(text)) fail(d, P, `invalid hex data '${text}'`);
    const bytes = Uint8Array.from(Buffer.from(text.slice(2), 'hex'));
    return () => bytes;
  }
  const v = /^\{(.+)\}$/.exec(text);
  if (v === null) { const bytes = Uint8Array.from(Buffer.from(text, 'utf8')); return () => bytes; }
  const str = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s, 'utf8'));
  switch (v[1]) {
    case 'qname': return (_r, q) => str(q.qname);
    case 'qtype': return (_r, q) => { const t = new Uint8Array(2); t[0] = q.qtype >> 8; t[1] = q.qtype & 0xff; return t; };
    case 'client_ip': return (r) => ipToBytes(r.remoteAddress) ?? new Uint8Array(0);
    case 'client_port': return (r) => Uint8Array.of(r.remotePort >> 8, r.remotePort & 0xff);
    case 'protocol': return (r) => str(r.transport);
    case 'server_ip': return (r) => ipToBytes(r.localAddress) ?? new Uint8Array(0);
    case 'server_port': return (r) => Uint8Array.of(r.localPort >> 8, r.localPort & 0xff);
    default: {
      const label = v[1]!;
      if (!label.includes('/')) fail(d, P, `unsupported variable '${text}'`);
      return (r) => str(metadataValue(r, label));
    }
  }
}

/** RFC 7871 client subnet of the client's own address. */
function subnetData(v4: number, v6: number): (req: DnsRequest) => Uint8Array {
  return (req) => {
    const ip = ipToBytes(req.remoteAddress) ?? new Uint8Array(4);
    const bits = ip.length === 4 ? v4 : v6;
    const n = Math.ceil(bits / 8);
    const out = new Uint8Array(4 + n);
    out[1] = ip.length === 4 ? 1 : 2;
    out[2] = bits;
    out.set(ip.subarray(0, n), 4);
    if (bits % 8 !== 0) out[4 + n - 1]! &= (0xff << (8 - (bits % 8))) & 0xff;
    return out;
  };
}

function edns0Rule(d: Directive, mode: Mode, args: readonly string[]): Rule {
  const [kind, action, ...rest] = args;
  if (action !== 'set' && action !== 'replace' && action !== 'append' && action !== 'unset') fail(d, P, `invalid action '${action ?? ''}' for edns0: want set, replace, append or unset`);
  const act = action as EdnsAction;
  switch (kind) {
    case 'local': {
      const code = rest[0] === undefined ? NaN : /^0x/i.test(rest[0]) ? parseInt(rest[0].slice(2), 16) : Number(rest[0]);
      if (!(code >= 0 && code <= 65535)) fail(d, P, `invalid EDNS0 local code '${rest[0] ?? ''}'`);
      if (act === 'unset') { if (rest.length !== 1) fail(d, P, 'edns0 local unset takes a code'); return new EdnsRule(mode, code, act, () => new Uint8Array(0)); }
      if (rest.length !== 2) fail(d, P, `edns0 local ${act} takes a code and data`);
      return new EdnsRule(mode, code, act, localData(d, rest[1]!));
    }
    case 'nsid':
      if (rest.length !== 0) fail(d, P, 'edns0 nsid takes no arguments');
      return new EdnsRule(mode, 3, act, () => new Uint8Array(0));
    case 'subnet': {
      if (act === 'unset') { if (rest.length !== 0) fail(d, P, 'edns0 subnet unset takes no arguments'); return new EdnsRule(mode, 8, act, () => new Uint8Array(0)); }
      if (rest.length !== 2) fail(d, P, `edns0 subnet ${act} takes IPv4 and IPv6 prefix lengths`);
      const v4 = Number(rest[0]), v6 = Number(rest[1]);
      if (!/^\d+$/.test(rest[0]!) || v4 > 32) fail(d, P, `invalid IPv4 prefix length '${rest[0]}'`);
      if (!/^\d+$/.test(rest[1]!) || v6 > 128) fail(d, P, `invalid IPv6 prefix length '${rest[1]}'`);
      return new EdnsRule(mode, 8, act, subnetData(v4, v6));
    }
    default:
      return fail(d, P, `invalid rule type for edns0 '${kind ?? ''}': want local, nsid or subnet`);
  }
}

/** One rule from its words (after the directive name). */
export function parseRule(d: Directive, words: readonly string[]): Rule {
  let args = [...words];
  let mode: Mode = 'stop';
  if (args[0] === 'continue' || args[0] === 'stop') { mode = args[0]; args = args.slice(1); }
  const field = args[0];
  const rest = args.slice(1);
  switch (field) {
    case 'name': return nameRule(d, mode, rest);
    case 'type': case 'class': {
      if (rest.length !== 2) fail(d, P, `${field} rule takes FROM and TO`);
      const read = field === 'type' ? typeFromName : classFromName;
      const from = read(rest[0]!), to = read(rest[1]!);
      if (from === undefined) fail(d, P, `invalid ${field} '${rest[0]}'`);
      if (to === undefined) fail(d, P, `invalid ${field} '${rest[1]}'`);
      return new FieldRule(mode, field === 'type' ? 'qtype' : 'qclass', from!, to!);
    }
    case 'ttl': {
      const [kind, r] = matchAndRest(rest, 2);
      if (r.length !== 2) fail(d, P, 'ttl rule takes [MATCH] NAME TTL');
      const [min, max] = ttlRange(d, r[1]!);
      return new ResponseOnlyRule(mode, nameRewrite(d, kind, r[0]!, r[0]!), { kind: 'ttl', min, max });
    }
    case 'rcode': {
      const [kind, r] = matchAndRest(rest, 3);
      if (r.length !== 3) fail(d, P, 'rcode rule takes [MATCH] NAME FROM TO');
      return new ResponseOnlyRule(mode, nameRewrite(d, kind, r[0]!, r[0]!), { kind: 'rcode', from: rcodeOf(d, r[1]!), to: rcodeOf(d, r[2]!) });
    }
    case 'cname': {
      const [kind, r] = matchAndRest(rest, 2);
      if (r.length !== 2) fail(d, P, 'cname rule takes [MATCH] FROM TO');
      const rewrite = nameRewrite(d, kind, r[0]!, r[1]!);
      return new ResponseOnlyRule(mode, new NameRewrite('regex', '', ''), { kind: 'cname', rewrite });
    }
    case 'edns0': return edns0Rule(d, mode, rest);
    case undefined: return fail(d, P, 'missing rule: want name, type, class, ttl, edns0, cname or rcode');
    default: return fail(d, P, `invalid rule type '${field}'`);
  }
}

/** The words of a `rewrite` line: its arguments, then (block form) every line of its block. */
function ruleWords(d: Directive): string[] {
  const words = [...d.args];
  for (const c of d.block ?? []) words.push(c.name, ...c.args);
  return words;
}

const handlerOfBlock = new WeakMap<BlockContext, { rules: Rule[] }>();

export const rewrite: PluginDefinition = {
  name: 'rewrite',
  setup(d, ctx) {
    const rule = parseRule(d, ruleWords(d));
    const existing = handlerOfBlock.get(ctx);
    if (existing) { existing.rules.push(rule); return null; }
    const rules = [rule];
    handlerOfBlock.set(ctx, { rules });
    return new RewriteHandler(rules, () => ctx.chainHead());
  },
};
