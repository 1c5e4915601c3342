/**
 * @module plugins/whoami
 * Answers every query with the client's address and port: the A or AAAA of
 * the client in the additional section and `_udp`/`_tcp` SRV with its port.
 * The usual first smoke test of a new server.
 */
import { Type } from '../../dns/constants.ts';
import { Reply } from '../../dns/reply.ts';
import { rrs } from '../../dns/rr.ts';
import type { DnsRequest } from '../../dns/request.ts';
import { argCount, noBlock } from '../../plugin/options.ts';
import type { ChainHandler, Handler, PluginDefinition } from '../../plugin/plugin.ts';

class Whoami implements ChainHandler {
  readonly name = 'whoami';
  next!: Handler;

  serveDNS(req: DnsRequest): Reply {
    const name = req.qname;
    const addr = stripV4Mapped(req.remoteAddress);
    const srvName = `_${req.transport}.${name === '.' ? '' : name}`;
    return new Reply({
      authoritative: true,
      additional: [rrs.addr(name, 0, addr), rrs.srv(srvName, 0, 0, 0, req.remotePort, '.')],
      plugin: 'whoami',
    });
  }
}

function stripV4Mapped(a: string): string {
  return a.startsWith('::ffff:') && a.includes('.') ? a.slice(7) : a;
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

export { Type };
