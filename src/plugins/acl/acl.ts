/**
 * @module plugins/acl
 * `acl [ZONES...] { ACTION [type QTYPE...] [net SOURCE...] }`: the first
 * rule whose types and networks match the query decides: allow (next
 * plugin), block (REFUSED, extended error 15 Blocked), filter (NOERROR with
 * nothing, extended error 17 Filtered) or drop (no reply). No rule matching
 * means allow. Several `acl` lines are separate handlers, as in CoreDNS.
 * Counts CoreDNS's coredns_acl_*_requests_total.
 */
import { Counter } from '../../metrics/prom-client.ts';
import { Rcode, Type, typeFromName } from '../../dns/constants.ts';
import { cidrContains, ipToBytes, parseCidr, type Cidr } from '../../dns/ip.ts';
import { isSubdomain } from '../../dns/name.ts';
import { DROP, edeOption, Reply } from '../../dns/reply.ts';
import type { DnsRequest } from '../../dns/request.ts';
import { processMetric } from '../../metrics/registry.ts';
import { children, fail, zonesArg } from '../../plugin/options.ts';
import type { Answer, ChainHandler, Handler, PluginDefinition } from '../../plugin/plugin.ts';
import type { ProcessServices } from '../../plugin/process-services.ts';

const P = 'acl';
type Action = 'allow' | 'block' | 'filter' | 'drop';

interface AclRule {
  readonly action: Action;
  /** null: every type. */
  readonly types: ReadonlySet<number> | null;
  /** null: every source. */
  readonly nets: readonly Cidr[] | null;
}

interface AclMetrics { blocked: Counter; filtered: Counter; allowed: Counter; dropped: Counter }

function aclMetrics(services: ProcessServices): AclMetrics {
  return processMetric(services, 'acl', (registry) => {
    const make = (what: string, help: string, labelNames: string[]): Counter =>
      new Counter({ name: `coredns_acl_${what}_requests_total`, help, labelNames, registers: [registry] });
    return {
      blocked: make('blocked', 'Counter of DNS requests being blocked.', ['server', 'zone', 'view']),
      filtered: make('filtered', 'Counter of DNS requests being filtered.', ['server', 'zone', 'view']),
      allowed: make('allowed', 'Counter of DNS requests being allowed.', ['server', 'view']),
      dropped: make('dropped', 'Counter of DNS requests being dropped.', ['server', 'zone', 'view']),
    };
  });
}

class AclHandler implements ChainHandler {
  readonly name = 'acl';
  next!: Handler;
  readonly #zones: readonly string[];
  readonly #rules: readonly AclRule[];
  readonly #metrics: AclMetrics;
  readonly #blocked = new Reply({ rcode: Rcode.REFUSED, plugin: P, ednsOptions: edeOption(15) });
  readonly #filtered = new Reply({ rcode: Rcode.NOERROR, plugin: P, ednsOptions: edeOption(17) });

  constructor(zones: readonly string[], rules: readonly AclRule[], metrics: AclMetrics) {
    this.#zones = zones;
    this.#rules = rules;
    this.#metrics = metrics;
  }

  serveDNS(req: DnsRequest): Answer {
    const zone = this.#zones.find((z) => isSubdomain(req.qname, z));
    if (zone === undefined) return this.next.serveDNS(req);
    const action = this.#decide(req);
    const labels = { server: req.server, zone, view: '' };
    switch (action) {
      case 'allow': this.#metrics.allowed.inc({ server: req.server, view: '' }); return this.next.serveDNS(req);
      case 'block': this.#metrics.blocked.inc(labels); return this.#blocked;
      case 'filter': this.#metrics.filtered.inc(labels); return this.#filtered;
      case 'drop': this.#metrics.dropped.inc(labels); return DROP;
    }
  }

  #decide(req: DnsRequest): Action {
    let ip: Uint8Array | null | undefined;
    for (const r of this.#rules) {
      if (r.types !== null && !r.types.has(req.qtype)) continue;
      if (r.nets !== null) {
        ip ??= ipToBytes(req.remoteAddress);
        if (ip === null || !r.nets.some((n) => cidrContains(n, ip!))) continue;
      }
      return r.action;
    }
    return 'allow';
  }
}

export const acl: PluginDefinition = {
  name: 'acl',
  setup(d, ctx) {
    const zones = zonesArg(d, P, d.args, ctx.zones);
    const rules: AclRule[] = [];
    for (const c of children(d)) {
      if (c.name !== 'allow' && c.name !== 'block' && c.name !== 'filter' && c.name !== 'drop') fail(c, P, `unexpected token '${c.name}'; expect 'allow', 'block', 'filter' or 'drop'`);
      let types: Set<number> | null = null;
      let nets: Cidr[] | null = null;
      let section: 'type' | 'net' | null = null;
      for (const a of c.args) {
        if (a === 'type' || a === 'net') { section = a; if (a === 'type') types ??= new Set(); else nets ??= []; continue; }
        if (section === null) fail(c, P, `unexpected token '${a}'; expect 'type' or 'net'`);
        if (section === 'type') {
          if (a === '*') { types = null; section = 'type'; continue; }
          const t = typeFromName(a);
          if (t === undefined || t === Type.OPT) fail(c, P, `unexpected token '${a}'; expect legal QTYPE`);
          types?.add(t!);
        } else {
          if (a === '*') { nets = null; continue; }
          const n = parseCidr(a);
          if (n === null) fail(c, P, `illegal CIDR notation '${a}'`);
          nets?.push(n!);
        }
      }
      rules.push({ action: c.name, types: types !== null && types.size === 0 ? null : types, nets: nets !== null && nets.length === 0 ? null : nets });
    }
    return new AclHandler(zones, rules, aclMetrics(ctx.services));
  },
};
