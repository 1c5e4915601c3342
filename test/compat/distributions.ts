/**
 * @module test/compat/distributions
 * What the distribution-Corefile test runs: the cluster every Corefile
 * serves, what the stand-in upstream (dnsmasq) answers, the distributions
 * (test/compat/corefiles) with the files each writes next to its Corefile,
 * and the operator snippets from the CoreDNS, kubespray and AKS docs with
 * where each is pasted.
 */
import { ns, slice, svc } from '../support/k8s-objects.ts';

/** The small cluster every Corefile serves. */
export const CLUSTER: readonly object[] = [
  ns('default'), ns('kube-system'),
  svc('kube-system', 'kube-dns', ['10.96.0.10'], [{ name: 'dns', port: 53, protocol: 'UDP' }]),
  slice('kube-system', 'kube-dns-a', 'kube-dns', [{ ip: '10.244.0.2' }], [{ name: 'dns', port: 53, protocol: 'UDP' }]),
  svc('default', 'web', ['10.96.0.20'], [{ name: 'http', port: 80 }]),
  slice('default', 'web-a', 'web', [{ ip: '10.244.1.5' }], [{ name: 'http', port: 8080 }]),
  // A LoadBalancer Service with the status a cloud controller sets.
  { ...svc('default', 'lb', ['10.96.0.30'], [{ name: 'https', port: 443 }], { spec: { type: 'LoadBalancer' } }), status: { loadBalancer: { ingress: [{ ip: '203.0.113.7' }] } } },
];

/** What dnsmasq (the "node's resolvers" and every public upstream) answers. */
export const DNSMASQ_RECORDS = [
  '--address=/ext.example.test/192.0.2.80',
  '--host-record=www.example.com,192.0.2.81',
  '--host-record=www.example.io,192.0.2.82',
  '--host-record=db.puglife.local,192.0.2.83',
  // AKS's rewrite example forwards the rewritten name; its docs say the upstream must resolve it.
  '--host-record=web.default.svc.cluster.local,10.96.0.20',
];

export interface Distribution {
  readonly name: string;
  /** The Corefile's own DNS ports (besides 53). */
  readonly ports?: readonly number[];
  /** Files the distribution writes next to its Corefile (relative to /etc/coredns). */
  readonly files?: Readonly<Record<string, string>>;
  /** Text pasted into the Corefile before localizing: [after this line, the snippet]. */
  readonly paste?: readonly (readonly [string, string])[];
}

export const DISTRIBUTIONS: readonly Distribution[] = [
  { name: 'kubeadm' }, { name: 'kube-up' }, { name: 'nodelocaldns' }, { name: 'helm-coredns' },
  { name: 'k3s', files: { NodeHosts: '172.18.0.3 k3d-server-0\n172.18.0.4 k3d-agent-0\n' } },
  { name: 'rke2' }, { name: 'kubespray' }, { name: 'minikube' }, { name: 'microk8s' },
  { name: 'aks' }, { name: 'eks' }, { name: 'openshift', ports: [5353] },
  { name: 'talos' }, { name: 'k0s' }, { name: 'cilium-node-local' },
];

/** Operator snippets, each pasted into its distribution's Corefile (one server each). */
export const SNIPPETS: readonly (Distribution & { base: string })[] = [
  // coredns.io/2017/05/08/custom-dns-entries-for-kubernetes: a name for a Service, and a zone file next to the cluster zone.
  {
    name: 'blog-rewrite-and-file', base: 'kubeadm',
    files: { 'example.db': [
      '$ORIGIN example.org.',
      '@ 3600 IN SOA sns.dns.icann.org. noc.dns.icann.org. 2017042745 7200 3600 1209600 3600',
      '@ 3600 IN NS a.iana-servers.net.',
      '@ 3600 IN NS b.iana-servers.net.',
      'www IN A 127.0.0.1',
      '    IN AAAA ::1',
      '',
    ].join('\n') },
    paste: [
      ['    ready', '    rewrite name foo.example.com web.default.svc.cluster.local'],
      ['', 'example.org:53 {\n    errors\n    log\n    file /etc/coredns/example.db\n}'],
    ],
  },
  // The template README's AAAA suppression for IPv4-only clusters.
  { name: 'template-aaaa', base: 'kubeadm', paste: [['    ready', '    template IN AAAA . {\n        rcode NOERROR\n    }']] },
  // k8s_external README: LoadBalancer IPs under a public zone.
  { name: 'k8s-external', base: 'kubeadm', paste: [['    ready', '    k8s_external example.net']] },
  // kubespray docs/dns-stack.md coredns_external_zones, rendered as coredns-config.yml.j2 does (before `.:53`).
  {
    name: 'kubespray-external-zones', base: 'kubeadm', ports: [1053],
    paste: [['#top', 'example.com example.io:1053 {\n    log\n    errors {\n    }\n    forward . 1.1.1.1 2.2.2.2\n    loadbalance\n    cache 5\n    reload\n}']],
  },
  // kubespray's coredns_rewrite_block (the example in roles/kubernetes-apps/ansible/defaults/main.yml), in the main block.
  {
    name: 'kubespray-rewrite-block', base: 'kubespray',
    paste: [['    ready', '    rewrite stop {\n      name regex (.*)\\.my\\.domain {1}.svc.cluster.local\n      answer name (.*)\\.svc\\.cluster\\.local {1}.my.domain\n    }']],
  },
  // kubeadm's Corefile as it runs, before an operator edits its ConfigMap (the reload test below).
  { name: 'kubeadm-edited', base: 'kubeadm' },
  // learn.microsoft.com/azure/aks/coredns-custom: rewrite, hosts override, stub domain, as coredns-custom keys.
  {
    name: 'aks-custom', base: 'aks',
    files: {
      'custom/test.server': [
        'contoso.com:53 {',
        'log',
        'errors',
        'rewrite stop {',
        '  name regex (.*)\\.contoso\\.com {1}.default.svc.cluster.local',
        '  answer name (.*)\\.default\\.svc\\.cluster\\.local {1}.contoso.com',
        '}',
        'forward . /etc/resolv.conf # you can redirect this to a specific DNS server such as 10.0.0.10, but that server must be able to resolve the rewritten domain name',
        '}',
        '',
      ].join('\n'),
      'custom/test.override': 'hosts {\n  10.0.0.1 example1.org\n  10.0.0.2 example2.org\n  10.0.0.3 example3.org\n  fallthrough\n}\n',
      'custom/puglife.server': 'puglife.local:53 {\n    errors\n    cache 30\n    forward . 192.11.0.1  # this is my test/dev DNS server\n}\n',
    },
  },
];

/** Pastes snippets into a Corefile: after the first line equal to the marker, '' = at the end, '#top' = after the source comment. */
export function paste(text: string, snippets: readonly (readonly [string, string])[]): string {
  let lines = text.split('\n');
  for (const [marker, snippet] of snippets) {
    const at = marker === '' ? lines.length : marker === '#top' ? 1 : lines.indexOf(marker) + 1;
    if (at === 0) throw new Error(`paste: no line ${JSON.stringify(marker)}`);
    lines = [...lines.slice(0, at), ...snippet.split('\n'), ...lines.slice(at)];
  }
  return lines.join('\n');
}
