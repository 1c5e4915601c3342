/**
 * @module plugins/kubernetes/spec-headless.test
 * Kubernetes DNS specification items for headless services: S10-S15
 * (addresses of ready endpoints, NXDOMAIN without any, endpoint hostnames,
 * readiness, N x M SRV records, endpoint PTRs), in-process and with dig.
 */
import { after, before, describe, it } from 'node:test';
import { checkAll, soa, startCluster, type ClusterServer, type DnsCase } from '../../../test/support/k8s-dns.ts';
import { testCluster } from '../../../test/support/k8s-objects.ts';

const R = 'redis-ha.shared.svc.cluster.local.';

describe('Kubernetes DNS specification: headless services (S10-S15)', () => {
  let srv: ClusterServer;
  before(async () => { srv = await startCluster(testCluster()); });
  after(() => srv.stop());

  const S10: DnsCase[] = [
    // Ready addresses only (10.2.0.13 is not ready); 10.2.0.11 is in two slices and answered once.
    { name: R, type: 'A', rcode: 'NOERROR', answer: [`${R} 5 IN A 10.2.0.10`, `${R} 5 IN A 10.2.0.11`, `${R} 5 IN A 10.2.0.12`] },
    { name: R, type: 'AAAA', rcode: 'NOERROR', answer: [`${R} 5 IN AAAA fd00::2:10`] },
    { name: 'empty-headless.shared.svc.cluster.local.', type: 'A', rcode: 'NXDOMAIN', authority: [soa()] },
    { name: 'empty-headless.shared.svc.cluster.local.', type: 'AAAA', rcode: 'NXDOMAIN', authority: [soa()] },
  ];
  const S11S12: DnsCase[] = [
    { name: `redis-ha-server-0.${R}`, type: 'A', rcode: 'NOERROR', answer: [`redis-ha-server-0.${R} 5 IN A 10.2.0.10`] },
    { name: `redis-ha-server-0.${R}`, type: 'AAAA', rcode: 'NOERROR', answer: [`redis-ha-server-0.${R} 5 IN AAAA fd00::2:10`] },
    { name: `redis-ha-server-1.${R}`, type: 'A', rcode: 'NOERROR', answer: [`redis-ha-server-1.${R} 5 IN A 10.2.0.11`] },
    // No hostname: the system-assigned name is the dashed address (C13).
    { name: `10-2-0-12.${R}`, type: 'A', rcode: 'NOERROR', answer: [`10-2-0-12.${R} 5 IN A 10.2.0.12`] },
    // With a hostname, the dashed form is not a name of that endpoint.
    { name: `10-2-0-10.${R}`, type: 'A', rcode: 'NXDOMAIN', authority: [soa()] },
    { name: `nobody.${R}`, type: 'A', rcode: 'NXDOMAIN', authority: [soa()] },
  ];
  const S13: DnsCase[] = [
    { name: `redis-ha-server-3.${R}`, type: 'A', rcode: 'NXDOMAIN', authority: [soa()] },
    // publishNotReadyAddresses: every endpoint counts.
    { name: 'tolerant.shared.svc.cluster.local.', type: 'A', rcode: 'NOERROR', answer: ['tolerant.shared.svc.cluster.local. 5 IN A 10.2.2.1'] },
    // conditions.ready unset counts as ready (C14); ready false does not.
    { name: '10-1-0-4.nginx.default.svc.cluster.local.', type: 'A', rcode: 'NOERROR', answer: ['10-1-0-4.nginx.default.svc.cluster.local. 5 IN A 10.1.0.4'] },
    { name: '10-1-0-3.nginx.default.svc.cluster.local.', type: 'A', rcode: 'NXDOMAIN', authority: [soa()] },
  ];
  const S14: DnsCase[] = [
    {
      // 5 (address, port) pairs before duplicates go: weight 20; one SRV per (target, port).
      name: `_redis._tcp.${R}`, type: 'SRV', rcode: 'NOERROR',
      answer: [
        `_redis._tcp.${R} 5 IN SRV 0 20 6379 redis-ha-server-0.${R}`,
        `_redis._tcp.${R} 5 IN SRV 0 20 6379 redis-ha-server-1.${R}`,
        `_redis._tcp.${R} 5 IN SRV 0 20 6379 10-2-0-12.${R}`,
      ],
      additional: [
        `redis-ha-server-0.${R} 5 IN A 10.2.0.10`, `redis-ha-server-1.${R} 5 IN A 10.2.0.11`,
        `10-2-0-12.${R} 5 IN A 10.2.0.12`, `redis-ha-server-0.${R} 5 IN AAAA fd00::2:10`,
      ],
    },
    {
      name: '_http._tcp.many.shared.svc.cluster.local.', type: 'SRV', rcode: 'NOERROR',
      answer: [1, 2, 3].map((i) => `_http._tcp.many.shared.svc.cluster.local. 5 IN SRV 0 33 80 10-2-4-${i}.many.shared.svc.cluster.local.`),
      additional: [1, 2, 3].map((i) => `10-2-4-${i}.many.shared.svc.cluster.local. 5 IN A 10.2.4.${i}`),
    },
    { name: `_http._tcp.${R}`, type: 'SRV', rcode: 'NXDOMAIN', authority: [soa()] },
    { name: '_http._tcp.empty-headless.shared.svc.cluster.local.', type: 'SRV', rcode: 'NXDOMAIN', authority: [soa()] },
  ];
  const S15: DnsCase[] = [
    { name: '10.0.2.10.in-addr.arpa.', type: 'PTR', rcode: 'NOERROR', answer: [`10.0.2.10.in-addr.arpa. 5 IN PTR redis-ha-server-0.${R}`] },
    { name: '12.0.2.10.in-addr.arpa.', type: 'PTR', rcode: 'NOERROR', answer: [`12.0.2.10.in-addr.arpa. 5 IN PTR 10-2-0-12.${R}`] },
    {
      name: '0.1.0.0.2.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.d.f.ip6.arpa.', type: 'PTR', rcode: 'NOERROR',
      answer: [`0.1.0.0.2.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.d.f.ip6.arpa. 5 IN PTR redis-ha-server-0.${R}`],
    },
    // Not ready: no PTR.
    { name: '13.0.2.10.in-addr.arpa.', type: 'PTR', rcode: 'NXDOMAIN', authority: [soa('in-addr.arpa.')] },
  ];

  it('S10 one A/AAAA per ready address; NXDOMAIN without ready endpoints', () => checkAll(srv, S10, true));
  it('S11/S12 endpoint names: hostname, else the dashed address', () => checkAll(srv, S11S12, true));
  it('S13 ready endpoints only, unless the service publishes not-ready ones', () => checkAll(srv, S13, true));
  it('S14 headless SRV: endpoints x named ports', () => checkAll(srv, S14, true));
  it('S15 endpoint PTRs to the endpoint name', () => checkAll(srv, S15, true));
});
