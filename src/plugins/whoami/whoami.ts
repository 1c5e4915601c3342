/**
 * @module plugins/whoami
 * Answers every query with the client's address and port, as CoreDNS's
 * whoami: the A or AAAA of the client in the additional section and a
 * `_udp`/`_tcp` SRV with its port, in the question's class. The usual first
 * smoke test of a new server.
 */
import { Type } from '../../dns/constants.ts';
import { Reply } from '../../dns/reply.ts';
import { zoneSuffix } from '../../dns/name.ts';
import { rr, rdata } from '../../dns/rr.ts';
import type { DnsRequest } from '../../dns/request.ts';
import { argCount, noBlock } from '../../plugin/options.ts';
import type { ChainHandler, Handler, PluginDefinition } from '../../plugin/plugin.ts';

export class Whoami implements ChainHandler {
  readonly name = 'whoami';
  next!: Handler;

  serveDNS(req: DnsRequest): Reply {
    const name = req.qname;
    const addr = req.remoteAddress;
    const v6 = addr.includes(':');
    const address = rr(name, v6 ? Type.AAAA : Type.A, 0, v6 ? rdata.aaaa(addr) : rdata.a(addr), req.qclass);
    // "_udp." adds 5 octets; for a question name near the 255-octet limit the SRV cannot exist, so it is left out.
    const qnameWire = req.questionEnd - 16;
    if (qnameWire + 5 > 255) return new Reply({ authoritative: true, additional: [address], plugin: 'whoami' });
    const srvName = `_${req.transport}.${zoneSuffix(name)}`;
    const srv = rr(srvName, Type.SRV, 0, rdata.srv(0, 0, req.remotePort, '.'), req.qclass);
    return new Reply({ authoritative: true, additional: [address, srv], plugin: 'whoami' });
  }
}

export const whoami: PluginDefinition = {
  name: 'whoami',
  once: true,
  setup(d) {
    argCount(d, 'whoami', 0, 0);
    noBlock(d, 'whoami');
    return new Whoami();
  },
};
