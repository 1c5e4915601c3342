/**
 * @module plugins/template/template
 * The template handler: the first template whose zone, class, type and a
 * regex match answers, with records built from its Go templates (read back
 * with the zone-file reader). As CoreDNS: a template whose zone, class and
 * type match but no regex gives SERVFAIL unless `fallthrough` lets the next
 * template (then the next plugin) try; names outside every template zone go
 * straight on. Replies are authoritative.
 */
import { Class, className, Type, typeName } from '../../dns/constants.ts';
import { isSubdomain } from '../../dns/name.ts';
import { edeOption, Reply } from '../../dns/reply.ts';
import type { DnsRequest } from '../../dns/request.ts';
import type { RR } from '../../dns/rr.ts';
import { parseRecordLine } from '../../dns/zonefile.ts';
import { metadataValue } from '../../plugin/metadata.ts';
import type { Fallthrough } from '../../plugin/options.ts';
import type { Answer, ChainHandler, Handler } from '../../plugin/plugin.ts';
import type { GoTemplate } from './gotemplate.ts';
import type { TemplateMetrics } from './metrics.ts';
import { errorMessage } from '../../errors/to-error.ts';

export type Section = 'answer' | 'additional' | 'authority';

export interface TemplateRule {
  readonly qclass: number;
  readonly qtype: number;
  readonly zones: readonly string[];
  readonly regexes: readonly RegExp[];
  readonly answer: readonly GoTemplate[];
  readonly additional: readonly GoTemplate[];
  readonly authority: readonly GoTemplate[];
  readonly rcode: number;
  /** RFC 8914 extended error (info code and extra text), or null. */
  readonly ederror: { readonly code: number; readonly reason: string } | null;
  readonly fallthrough: Fallthrough;
}

function zoneOf(zones: readonly string[], qname: string): string | null {
  let best: string | null = null;
  for (const z of zones) if (isSubdomain(qname, z) && (best === null || z.length > best.length)) best = z;
  return best;
}

export class TemplateHandler implements ChainHandler {
  readonly name = 'template';
  next!: Handler;
  readonly #rules: TemplateRule[] = [];
  readonly #zones: string[] = [];
  readonly #metrics: TemplateMetrics;
  readonly #server: string;
  readonly #ede: (Uint8Array | null)[] = [];

  constructor(metrics: TemplateMetrics, server: string) {
    this.#metrics = metrics;
    this.#server = server;
  }

  /** Adds the next `template` line of the block (tried after the ones before it). */
  add(rule: TemplateRule): void {
    this.#rules.push(rule);
    this.#zones.push(...rule.zones);
    this.#ede.push(rule.ederror ? edeOption(rule.ederror.code, rule.ederror.reason) : null);
  }

  serveDNS(req: DnsRequest): Answer {
    const qname = req.qname;
    if (zoneOf(this.#zones, qname) === null) return this.next.serveDNS(req);
    for (let i = 0; i < this.#rules.length; i++) {
      const t = this.#rules[i]!;
      const zone = zoneOf(t.zones, qname);
      if (zone === null) continue;
      if (t.qclass !== Class.ANY && req.qclass !== Class.ANY && req.qclass !== t.qclass) continue;
      if (t.qtype !== Type.ANY && req.qtype !== Type.ANY && req.qtype !== t.qtype) continue;
      let match: RegExpExecArray | null = null;
      for (const re of t.regexes) { match = re.exec(qname); if (match !== null) break; }
      if (match === null) {
        if (t.fallthrough.through(qname)) continue;
        return Reply.error(2, 'template');
      }
      const cls = className(req.qclass !== Class.ANY ? req.qclass : t.qclass);
      const type = typeName(req.qtype !== Type.ANY ? req.qtype : t.qtype);
      this.#metrics.match(this.#server, zone, cls, type);
      if (t.rcode === 2) return Reply.error(2, 'template');
      const data = templateData(req, zone, cls, type, match);
      const sections: Record<Section, RR[]> = { answer: [], additional: [], authority: [] };
      for (const section of ['answer', 'additional', 'authority'] as const) {
        for (const tmpl of t[section]) {
          const r = this.#record(tmpl, data, section, zone, cls, type);
          if (r instanceof Error) return Reply.error(2, 'template', r);
          sections[section].push(r);
        }
      }
      return new Reply({
        rcode: t.rcode, authoritative: true, plugin: 'template', ednsOptions: this.#ede[i] ?? null,
        answer: sections.answer, authority: sections.authority, additional: sections.additional,
      });
    }
    return this.next.serveDNS(req);
  }

  #record(tmpl: GoTemplate, data: Record<string, unknown>, section: Section, zone: string, cls: string, type: string): RR | Error {
    let text: string;
    try {
      text = tmpl.execute(data);
    } catch (e) {
      this.#metrics.failure('template', this.#server, zone, cls, type, section, tmpl.source);
      return new Error(`plugin/template: ${section} template '${tmpl.source}': ${errorMessage(e)}`);
    }
    try {
      return parseRecordLine(text, '.', `${section} template`);
    } catch (e) {
      this.#metrics.failure('rr', this.#server, zone, cls, type, section, tmpl.source);
      return new Error(`plugin/template: ${section} record '${text}': ${errorMessage(e)}`);
    }
  }
}

/** CoreDNS's template data: .Zone .Name .Class .Type .Match .Group .Message .Question .Remote and .Meta. */
function templateData(req: DnsRequest, zone: string, cls: string, type: string, m: RegExpExecArray): Record<string, unknown> {
  const match = [...m].map((s) => s ?? '');
  const group = new Map<string, string>();
  match.forEach((s, i) => group.set(String(i), s));
  if (m.groups) for (const [k, v] of Object.entries(m.groups)) group.set(k, v ?? '');
  const question = { Name: req.qname, Qtype: req.qtype, Qclass: req.qclass, toString: () => `;${req.qname}\t${cls}\t${typeName(req.qtype)}` };
  return {
    Zone: zone, Name: req.qname, Class: cls, Type: type, Match: match, Group: group, Remote: req.remoteAddress,
    Question: question,
    Message: { Id: req.id, Question: [question], toString: () => `;; QUESTION SECTION:\n${question.toString()}` },
    Meta: (name: unknown) => metadataValue(req, String(name)),
  };
}
