/**
 * @module plugins/chaos
 * CH class TXT answers about the server: version.bind / version.server (the
 * version string), authors.bind, hostname.bind / id.server. Anything else
 * goes to the next plugin.
 */
import { hostname } from 'node:os';
import { Class, Type } from '../../dns/constants.ts';
import { Reply } from '../../dns/reply.ts';
import { rr, rdata } from '../../dns/rr.ts';
import type { DnsRequest } from '../../dns/request.ts';
import { noBlock } from '../../plugin/options.ts';
import type { Answer, ChainHandler, Handler, PluginDefinition } from '../../plugin/plugin.ts';
import { VERSION } from '../../version.ts';

class Chaos implements ChainHandler {
  readonly name = 'chaos';
  next!: Handler;
  readonly #answers: Map<string, Reply>;

  constructor(version: string, authors: readonly string[]) {
    const host = hostname();
    const txt = (name: string, ...texts: string[]): [string, Reply] =>
      [name, new Reply({ authoritative: true, plugin: 'chaos', answer: [rr(name, Type.TXT, 0, rdata.txt(...texts), Class.CH)] })];
    this.#answers = new Map([
      txt('version.bind.', version), txt('version.server.', version),
      txt('hostname.bind.', host), txt('id.server.', host),
      ...(authors.length > 0 ? [txt('authors.bind.', ...authors)] : []),
    ]);
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
    return new Chaos(version ?? `CoreDNS-compatible clusterdns-${VERSION}`, authors);
  },
};
