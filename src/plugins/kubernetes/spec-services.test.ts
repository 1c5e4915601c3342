/**
 * @module plugins/kubernetes/spec-services.test
 * Kubernetes DNS specification items for ClusterIP and ExternalName services
 * and the zone itself: S1-S9, S16-S20. Every case runs in-process; every S
 * item also runs at least once through real dig.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { checkAll, checkDig, runClientRaw, soa, startCluster, type ClusterServer, type DnsCase } from '../../../test/support/k8s-dns.ts';
import { testCluster } from '../../../test/support/k8s-objects.ts';

const RSOA = soa('in-addr.arpa.');

describe('Kubernetes DNS specification: services (S1-S9, S16-S20)', () => {
  let srv: ClusterServer;
  before(async () => { srv = await startCluster(testCluster()); });
  after(() => srv.stop());

  const S1: DnsCase[] = [
    { name: 'dns-version.cluster.local.', type: 'TXT', rcode: 'NOERROR', answer: ['dns-version.cluster.local. 28800 IN TXT "1.1.0"'] },
  ];
  const S4: DnsCase[] = [
    { name: 'nginx.default.svc.cluster.local.', type: 'A', rcode: 'NOERROR', answer: ['nginx.default.svc.cluster.local. 5 IN A 10.96.0.20'] },
    { name: 'noslices.default.svc.cluster.local.', type: 'A', rcode: 'NOERROR', answer: ['noslices.default.svc.cluster.local. 5 IN A 10.96.0.60'] },
  ];
  const S5: DnsCase[] = [
    { name: 'v6only.default.svc.cluster.local.', type: 'AAAA', rcode: 'NOERROR', answer: ['v6only.default.svc.cluster.local. 5 IN AAAA fd00::40'] },
    { name: 'dual.default.svc.cluster.local.', type: 'A', rcode: 'NOERROR', answer: ['dual.default.svc.cluster.local. 5 IN A 10.96.0.30'] },
    { name: 'dual.default.svc.cluster.local.', type: 'AAAA', rcode: 'NOERROR', answer: ['dual.default.svc.cluster.local. 5 IN AAAA fd00::30'] },
  ];
  const S6S7: DnsCase[] = [
    {
      name: '_http._tcp.nginx.default.svc.cluster.local.', type: 'SRV', rcode: 'NOERROR',
      answer: ['_http._tcp.nginx.default.svc.cluster.local. 5 IN SRV 0 100 80 nginx.default.svc.cluster.local.'],
      additional: ['nginx.default.svc.cluster.local. 5 IN A 10.96.0.20'],
    },
    {
      name: '_dns._udp.nginx.default.svc.cluster.local.', type: 'SRV', rcode: 'NOERROR',
      answer: ['_dns._udp.nginx.default.svc.cluster.local. 5 IN SRV 0 100 53 nginx.default.svc.cluster.local.'],
      additional: ['nginx.default.svc.cluster.local. 5 IN A 10.96.0.20'],
    },
    // The unnamed port 8443 has no _port._proto name.
    { name: '_8443._tcp.nginx.default.svc.cluster.local.', type: 'SRV', rcode: 'NXDOMAIN', authority: [soa()] },
  ];
  const S8S9: DnsCase[] = [
    { name: '20.0.96.10.in-addr.arpa.', type: 'PTR', rcode: 'NOERROR', answer: ['20.0.96.10.in-addr.arpa. 5 IN PTR nginx.default.svc.cluster.local.'] },
    { name: '60.0.96.10.in-addr.arpa.', type: 'PTR', rcode: 'NOERROR', answer: ['60.0.96.10.in-addr.arpa. 5 IN PTR noslices.default.svc.cluster.local.'] },
    {
      name: '0.3.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.d.f.ip6.arpa.', type: 'PTR', rcode: 'NOERROR',
      answer: ['0.3.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.d.f.ip6.arpa. 5 IN PTR dual.default.svc.cluster.local.'],
    },
    { name: '99.0.96.10.in-addr.arpa.', type: 'PTR', rcode: 'NXDOMAIN', authority: [RSOA] },
  ];
  const S16: DnsCase[] = [
    {
      name: 'ext-in.default.svc.cluster.local.', type: 'A', rcode: 'NOERROR', ordered: true,
      answer: ['ext-in.default.svc.cluster.local. 5 IN CNAME nginx.default.svc.cluster.local.', 'nginx.default.svc.cluster.local. 5 IN A 10.96.0.20'],
    },
    { name: 'ext.default.svc.cluster.local.', type: 'CNAME', rcode: 'NOERROR', answer: ['ext.default.svc.cluster.local. 5 IN CNAME example.org.'] },
  ];
  const S17: DnsCase[] = [
    // Extensions beyond the spec (endpoint names of a ClusterIP service, C12) sit beside the required records.
    { name: '10-1-0-1.nginx.default.svc.cluster.local.', type: 'A', rcode: 'NOERROR', answer: ['10-1-0-1.nginx.default.svc.cluster.local. 5 IN A 10.1.0.1'] },
  ];
  const S18: DnsCase[] = [
    // Pod records are not in the spec; off by default (pods disabled).
    { name: '10-1-0-1.default.pod.cluster.local.', type: 'A', rcode: 'NXDOMAIN', authority: [soa()] },
  ];
  const S20: DnsCase[] = [
    { name: 'missing.default.svc.cluster.local.', type: 'A', rcode: 'NXDOMAIN', authority: [soa()] },
    { name: 'nginx.default.svc.cluster.local.', type: 'AAAA', rcode: 'NOERROR', authority: [soa()] },
    { name: 'v6only.default.svc.cluster.local.', type: 'A', rcode: 'NOERROR', authority: [soa()] },
  ];

  it('S1 schema version TXT', () => checkAll(srv, S1, true));
  it('S4 ClusterIP IPv4 A', () => checkAll(srv, S4, true));
  it('S5 ClusterIP IPv6 AAAA and dual-stack', () => checkAll(srv, S5, true));
  it('S6/S7 SRV for named ports, target addresses in additional', () => checkAll(srv, S6S7, true));
  it('S8/S9 ClusterIP PTR, IPv4 and IPv6 nibbles', () => checkAll(srv, S8S9, true));
  it('S16 ExternalName CNAME (followed to the target\'s address)', () => checkAll(srv, S16, true));
  it('S17 extensions are served beside the spec records', () => checkAll(srv, S17, true));
  it('S18 no pod records by default', () => checkAll(srv, S18, true));
  it('S20 plain DNS negative answers: NXDOMAIN and NODATA with the SOA', () => checkAll(srv, S20, true));

  it('S3 names, namespaces, port names and protocols compare case-insensitively; the answer echoes the question', async () => {
    await checkAll(srv, [
      { name: 'NGINX.Default.SVC.Cluster.LOCAL.', type: 'A', rcode: 'NOERROR', answer: ['nginx.default.svc.cluster.local. 5 IN A 10.96.0.20'] },
      {
        name: '_HTTP._Tcp.nginx.DEFAULT.svc.cluster.local.', type: 'SRV', rcode: 'NOERROR',
        answer: ['_http._tcp.nginx.default.svc.cluster.local. 5 IN SRV 0 100 80 nginx.default.svc.cluster.local.'],
        additional: ['nginx.default.svc.cluster.local. 5 IN A 10.96.0.20'],
      },
    ], true);
    const raw = await runClientRaw(srv.port, ['A', 'NGINX.Default.SVC.Cluster.LOCAL.']);
    assert.match(raw, /^NGINX\.Default\.SVC\.Cluster\.LOCAL\.\s+5\s+IN\s+A\s+10\.96\.0\.20$/m, 'owner spelled as asked (C20)');
  });

  it('S19 TTL: every generated record carries the configured ttl', async () => {
    const other = await startCluster(testCluster(), { options: ['ttl 30'] });
    try {
      await checkAll(other, [
        { name: 'nginx.default.svc.cluster.local.', type: 'A', rcode: 'NOERROR', answer: ['nginx.default.svc.cluster.local. 30 IN A 10.96.0.20'] },
        { name: 'missing.default.svc.cluster.local.', type: 'A', rcode: 'NXDOMAIN', authority: [soa('cluster.local.', 30)] },
        { name: 'dns-version.cluster.local.', type: 'TXT', rcode: 'NOERROR', answer: ['dns-version.cluster.local. 28800 IN TXT "1.1.0"'] },
      ], true);
    } finally {
      await other.stop();
    }
  });

  it('S2 the cluster domain is configurable', async () => {
    const other = await startCluster(testCluster(), { zones: 'corp.example in-addr.arpa' });
    try {
      await checkAll(other, [
        { name: 'nginx.default.svc.corp.example.', type: 'A', rcode: 'NOERROR', answer: ['nginx.default.svc.corp.example. 5 IN A 10.96.0.20'] },
        { name: 'dns-version.corp.example.', type: 'TXT', rcode: 'NOERROR', answer: ['dns-version.corp.example. 28800 IN TXT "1.1.0"'] },
        { name: 'missing.default.svc.corp.example.', type: 'A', rcode: 'NXDOMAIN', authority: [soa('corp.example.')] },
        { name: '20.0.96.10.in-addr.arpa.', type: 'PTR', rcode: 'NOERROR', answer: ['20.0.96.10.in-addr.arpa. 5 IN PTR nginx.default.svc.corp.example.'] },
      ], true);
      // cluster.local is not served by this block: the query leaves the plugin (no next plugin: SERVFAIL).
      await checkDig(other, { name: 'nginx.default.svc.cluster.local.', type: 'A', rcode: 'SERVFAIL' });
    } finally {
      await other.stop();
    }
  });
});
