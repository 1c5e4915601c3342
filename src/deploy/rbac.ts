/**
 * @module deploy/rbac
 * What a Corefile needs from the Kubernetes API, read from the parsed
 * Corefile (never from its text): the ClusterRole rules of the rendered
 * manifests grant exactly that, list and watch only.
 *
 * - `kubernetes` reading the API (no `manifests`): services, namespaces, and
 *   endpointslices unless `noendpoints`; pods with `pods verified`.
 * - `autopath @kubernetes`: pods (it looks the client pod up).
 * - `dnsrecord` reading the API (neither `manifests` nor `etcd`): dnsrecords
 *   (clusterdns.io), and the services and endpointslices its gateways name.
 * Nothing else: a Corefile without these gets a ClusterRole with no rules.
 */
import type { Directive, ServerBlock } from '../corefile/parser.ts';

export interface PolicyRule {
  readonly apiGroups: readonly string[];
  readonly resources: readonly string[];
  readonly verbs: readonly string[];
}

const VERBS = ['list', 'watch'] as const;

function hasChild(d: Directive, name: string): Directive | undefined {
  return d.block?.find((c) => c.name === name);
}

/** The ClusterRole rules `blocks` need: core, discovery.k8s.io and clusterdns.io resources, each sorted. */
export function rbacRules(blocks: readonly ServerBlock[]): PolicyRule[] {
  const core = new Set<string>();
  const discovery = new Set<string>();
  const clusterdns = new Set<string>();
  for (const b of blocks) {
    for (const d of b.directives) {
      if (d.name === 'kubernetes' && !hasChild(d, 'manifests')) {
        core.add('services').add('namespaces');
        if (!hasChild(d, 'noendpoints')) discovery.add('endpointslices');
        if (hasChild(d, 'pods')?.args[0] === 'verified') core.add('pods');
      } else if (d.name === 'autopath' && d.args.includes('@kubernetes')) {
        core.add('pods');
      } else if (d.name === 'dnsrecord' && !hasChild(d, 'manifests') && !hasChild(d, 'etcd')) {
        clusterdns.add('dnsrecords');
        core.add('services');
        discovery.add('endpointslices');
      }
    }
  }
  const rules: PolicyRule[] = [];
  const add = (group: string, resources: Set<string>): void => {
    if (resources.size > 0) rules.push({ apiGroups: [group], resources: [...resources].sort(), verbs: [...VERBS] });
  };
  add('', core);
  add('discovery.k8s.io', discovery);
  add('clusterdns.io', clusterdns);
  return rules;
}
