/**
 * @module plugins/dnsrecord/handler
 * The dnsrecord handler: A/AAAA for each record's host with its gateway
 * address(es), NODATA with the SOA for other types of a host, NXDOMAIN for
 * other names in its zones unless `fallthrough`; names outside its zones go
 * on. Answers come from the pre-encoded DnsRecordAnswers, swapped whole when
 * the records change.
 */
import { Class } from '../../dns/constants.ts';
import type { DnsRequest } from '../../dns/request.ts';
import type { Fallthrough } from '../../plugin/options.ts';
import type { Answer, ChainHandler, Handler } from '../../plugin/plugin.ts';
import { PLUGIN, type DnsRecordAnswers } from './answers.ts';

export class DnsRecordHandler implements ChainHandler {
  readonly name = PLUGIN;
  next!: Handler;
  readonly #fallthrough: Fallthrough;
  /** Replaced on every change (see setup). */
  answers: DnsRecordAnswers;

  constructor(answers: DnsRecordAnswers, fallthrough: Fallthrough) {
    this.answers = answers;
    this.#fallthrough = fallthrough;
  }

  serveDNS(req: DnsRequest): Answer {
    if (req.qclass !== Class.IN) return this.next.serveDNS(req);
    const answers = this.answers;
    const qname = req.qname;
    const zone = answers.zoneOf(qname);
    if (zone === null) return this.next.serveDNS(req);
    const found = answers.answer(qname, req.qtype);
    if (found !== null) return found;
    if (this.#fallthrough.through(qname)) return this.next.serveDNS(req);
    return answers.nxdomain(zone);
  }
}
