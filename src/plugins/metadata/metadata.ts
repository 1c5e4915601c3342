/**
 * @module plugins/metadata
 * `metadata [ZONES...]`: for queries in its zones, gives the request a
 * metadata map and lets every plugin of the block that describes requests
 * (the kubernetes plugin: the client's namespace and pod, the service asked
 * for) fill it before the chain runs, so `log` `{/label}` placeholders,
 * template's `.Meta` and rewrite's `{label}` read the values. Values are
 * computed only when read. Without this plugin requests carry no map.
 */
import type { DnsRequest } from '../../dns/request.ts';
import { isMetadataProvider, type MetadataProvider } from '../../plugin/metadata.ts';
import { zonesArg } from '../../plugin/options.ts';
import type { Answer, BlockContext, ChainHandler, Handler, PluginDefinition } from '../../plugin/plugin.ts';

class MetadataHandler implements ChainHandler {
  readonly name = 'metadata';
  next!: Handler;
  readonly #zones: readonly string[];
  readonly #ctx: BlockContext;
  #providers: readonly MetadataProvider[] | null = null;

  constructor(zones: readonly string[], ctx: BlockContext) {
    this.#zones = zones;
    this.#ctx = ctx;
  }

  serveDNS(req: DnsRequest): Answer {
    if (req.zoneIn(this.#zones) === null) return this.next.serveDNS(req);
    req.metadata = new Map();
    // The chain is complete by the first query; find the providers once.
    const providers = (this.#providers ??= this.#ctx.plugins.flatMap((n) => this.#ctx.handlersNamed(n)).filter((h): h is ChainHandler & MetadataProvider => isMetadataProvider(h)));
    for (const p of providers) p.offerMetadata(req);
    return this.next.serveDNS(req);
  }
}

export const metadata: PluginDefinition = {
  name: 'metadata',
  once: true,
  setup(d, ctx) {
    return new MetadataHandler(zonesArg(d, 'metadata', d.args, ctx.zones), ctx);
  },
};
