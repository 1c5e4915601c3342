/**
 * @module plugins/kubernetes/demo.test
 * The demo cluster (examples/Corefile + examples/cluster, what `npm start`
 * serves) answers the done-when checks through real dig: a ClusterIP,
 * a headless service's endpoints, a named-port SRV, a PTR, NXDOMAIN and NODATA
 * with the SOA, the ExternalName, the dual-stack service. The demo's port is
 * swapped for an ephemeral one.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { App } from '../../app/app.ts';
import { checkDig, soa, type ClusterServer, type DnsCase } from '../../../test/support/k8s-dns.ts';
import { inject, startServer } from '../../../test/support/harness.ts';

const COREFILE = fileURLToPath(new URL('../../../examples/Corefile', import.meta.url));
const Z = 'cluster.local.';

describe('the demo cluster (npm start)', () => {
  let app: App;
  let srv: ClusterServer;
  before(async () => {
    const text = readFileSync(COREFILE, 'utf8').replace('.:1053', '.:0');
    assert.notEqual(text, readFileSync(COREFILE, 'utf8'), 'the demo serves .:1053');
    const server = await startServer(text, { path: COREFILE, tcp: { idleTimeoutMs: 1000, maxConnections: 10 } });
    app = server.app;
    srv = { server, port: server.port, dir: '', logs: server.logs, query: (n, t) => inject(app, n, t, { udpSize: 1232 }), stop: () => server.stop(500) };
  });
  after(() => srv.stop());

  const cases: DnsCase[] = [
    { name: `nginx.default.svc.${Z}`, type: 'A', rcode: 'NOERROR', answer: [`nginx.default.svc.${Z} 5 IN A 10.96.100.10`] },
    { name: `redis-ha.shared.svc.${Z}`, type: 'A', rcode: 'NOERROR', answer: ['10.244.2.10', '10.244.2.11', '10.244.2.12'].map((ip) => `redis-ha.shared.svc.${Z} 5 IN A ${ip}`) },
    { name: `_http._tcp.nginx.default.svc.${Z}`, type: 'SRV', rcode: 'NOERROR',
      answer: [`_http._tcp.nginx.default.svc.${Z} 5 IN SRV 0 100 80 nginx.default.svc.${Z}`], additional: [`nginx.default.svc.${Z} 5 IN A 10.96.100.10`] },
    { name: '10.100.96.10.in-addr.arpa.', type: 'PTR', rcode: 'NOERROR', answer: [`10.100.96.10.in-addr.arpa. 5 IN PTR nginx.default.svc.${Z}`] },
    { name: `missing.default.svc.${Z}`, type: 'A', rcode: 'NXDOMAIN', authority: [soa()] },
    { name: `nginx.default.svc.${Z}`, type: 'AAAA', rcode: 'NOERROR', authority: [soa()] },
    { name: `db.default.svc.${Z}`, type: 'A', rcode: 'NOERROR', ordered: true,
      answer: [`db.default.svc.${Z} 5 IN CNAME postgres.shared.svc.${Z}`, `postgres.shared.svc.${Z} 5 IN A 10.96.200.20`] },
    { name: `web.default.svc.${Z}`, type: 'AAAA', rcode: 'NOERROR', answer: [`web.default.svc.${Z} 5 IN AAAA fd00:10:96::20`] },
    { name: `redis-ha-server-1.redis-ha.shared.svc.${Z}`, type: 'A', rcode: 'NOERROR', answer: [`redis-ha-server-1.redis-ha.shared.svc.${Z} 5 IN A 10.244.2.11`] },
    { name: `10-244-1-10.default.pod.${Z}`, type: 'A', rcode: 'NOERROR', answer: [`10-244-1-10.default.pod.${Z} 5 IN A 10.244.1.10`] },
  ];

  it('answers the done-when checks through dig', async () => {
    for (const c of cases) await checkDig(srv, c);
  });
});
