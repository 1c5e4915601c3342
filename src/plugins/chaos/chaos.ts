/**
 * @module plugins/chaos
 * CH class TXT answers about the server, as CoreDNS's chaos: version.bind /
 * version.server (the version string), authors.bind (one TXT per author),
 * hostname.bind / id.server (the host name). Any other question goes to the
 * next plugin. Replies are built and packed once, at setup.
 */
import { hostname } from 'node:os';
import { Class, Type } from '../../dns/constants.ts';
import { Reply } from '../../dns/reply.ts';
import { rr, rdata } from '../../dns/rr.ts';
import type { DnsRequest } from '../../dns/request.ts';
import { noBlock } from '../../plugin/options.ts';
import type { Answer, ChainHandler, Handler, PluginDefinition } from '../../plugin/plugin.ts';
import { VERSION } from '../../version.ts';

export const DEFAULT_CHAOS_VERSION = `CoreDNS-compatible clusterdns-${VERSION}`;

/** One TXT string holds at most 255 octets; CoreDNS cuts longer text there. */
function trim(text: string): string {
  const b = Buffer.from(text, 'utf8');
  return b.length <= 255 ? text : b.subarray(0, 255).toString('utf8');
}

function txtReply(name: string, texts: readonly string[]): Reply {
  const answer = texts.map((t) => rr(name, Type.TXT, 0, rdata.txt(trim(t)), Class.CH));
  return new Reply({ authoritative: true, plugin: 'chaos', answer }).prepack(name);
}

export class Chaos implements ChainHandler {
  readonly name = 'chaos';
  next!: Handler;
  readonly #answers: Map<string, Reply>;

  constructor(version: string, authors: readonly string[], host: string = hostname() || 'localhost') {
    this.#answers = new Map([
      ['version.bind.', txtReply('version.bind.', [version])],
      ['version.server.', txtReply('version.server.', [version])],
      ['hostname.bind.', txtReply('hostname.bind.', [host])],
      ['id.server.', txtReply('id.server.', [host])],
    ]);
    if (authors.length > 0) this.#answers.set('authors.bind.', txtReply('authors.bind.', authors));
  }

  serveDNS(req: DnsRequest): Answer {
    if (req.qclass !== Class.CH || req.qtype !== Type.TXT) return this.next.serveDNS(req);
    return this.#answers.get(req.qname) ?? this.next.serveDNS(req);
  }
}

export const chaos: PluginDefinition = {
  name: 'chaos',
  once: true,
  setup(d) {
    noBlock(d, 'chaos');
    const [version, ...authors] = d.args;
    // Authors are de-duplicated and sorted, as CoreDNS does.
    return new Chaos(version ?? DEFAULT_CHAOS_VERSION, [...new Set(authors)].sort());
  },
};
