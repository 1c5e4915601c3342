/**
 * @module plugins/minimal
 * `minimal`: positive answers (NOERROR with records in the answer section)
 * leave with only that section: authority and additional records are
 * dropped, as CoreDNS's minimal does. Negative answers keep their SOA,
 * referrals their NS and glue, errors pass untouched.
 */
import { Rcode } from '../../dns/constants.ts';
import type { Reply } from '../../dns/reply.ts';
import type { DnsRequest } from '../../dns/request.ts';
import { argCount, noBlock } from '../../plugin/options.ts';
import type { Answer, ChainHandler, Handler, PluginDefinition } from '../../plugin/plugin.ts';

/** The reply with authority and additional dropped when it is a positive answer. */
export function minimise(r: Reply): Reply {
  if (r.rcode !== Rcode.NOERROR || r.answerCount === 0 || (r.authorityCount === 0 && r.additionalCount === 0)) return r;
  return r.with({ authority: [], additional: [] });
}

class MinimalHandler implements ChainHandler {
  readonly name = 'minimal';
  next!: Handler;
  serveDNS(req: DnsRequest): Answer {
    const a = this.next.serveDNS(req);
    return a instanceof Promise ? a.then(minimise) : minimise(a);
  }
}

export const minimal: PluginDefinition = {
  name: 'minimal',
  once: true,
  setup(d) {
    argCount(d, 'minimal', 0, 0);
    noBlock(d, 'minimal');
    return new MinimalHandler();
  },
};
