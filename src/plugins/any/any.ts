/**
 * @module plugins/any
 * `any`: answers every QTYPE ANY query with RFC 8482's minimal answer, one
 * HINFO record "RFC8482" "" for the name with TTL 8482, as CoreDNS does,
 * instead of gathering every record (which makes ANY a good amplifier).
 */
import { Type } from '../../dns/constants.ts';
import { Reply } from '../../dns/reply.ts';
import { rdata, rr } from '../../dns/rr.ts';
import type { DnsRequest } from '../../dns/request.ts';
import { argCount, noBlock } from '../../plugin/options.ts';
import type { Answer, ChainHandler, Handler, PluginDefinition } from '../../plugin/plugin.ts';

class AnyHandler implements ChainHandler {
  readonly name = 'any';
  next!: Handler;
  serveDNS(req: DnsRequest): Answer {
    if (req.qtype !== Type.ANY) return this.next.serveDNS(req);
    return new Reply({ answer: [rr(req.qname, Type.HINFO, 8482, rdata.hinfo('RFC8482', ''))], plugin: 'any' });
  }
}

export const any: PluginDefinition = {
  name: 'any',
  once: true,
  setup(d) {
    argCount(d, 'any', 0, 0);
    noBlock(d, 'any');
    return new AnyHandler();
  },
};
