/**
 * @module plugins/k8s_external/k8s_external.test
 * k8s_external over a manifest cluster: LoadBalancer ingress and external
 * IPs as A/AAAA, SRV with and without port labels, PTR in a listed reverse
 * zone, headless endpoints with `headless`, the apex SOA/NS, NODATA and
 * NXDOMAIN with the SOA, fallthrough, and option errors.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Rcode } from '../../dns/constants.ts';
import { startCluster, rrLine, type ClusterServer } from '../../../test/support/k8s-dns.ts';
import { ns, slice, svc } from '../../../test/support/k8s-objects.ts';
import { setupError } from '../../../test/support/setup-error.ts';

const objects = [
  ns('default'), ns('shop'),
  {
    ...svc('shop', 'web', ['10.96.0.10'], [{ name: 'http', port: 80 }, { name: 'https', port: 443 }], { spec: { type: 'LoadBalancer' } }),
    status: { loadBalancer: { ingress: [{ ip: '203.0.113.10' }, { ip: '2001:db8::10' }, { hostname: 'lb.cloud.example' }] } },
  },
  svc('default', 'test', 'None', [], { spec: { externalIPs: ['192.168.200.123'] } }),
  svc('shop', 'db', 'None', [{ name: 'pg', port: 5432 }]),
  slice('shop', 'db-1', 'db', [{ ip: '10.1.0.5', hostname: 'db-0' }, { ip: '10.1.0.6', hostname: 'db-1' }, { ip: '10.1.0.7', ready: false }], [{ name: 'pg', port: 5432 }]),
  svc('shop', 'internal', ['10.96.0.20']),
];

let srv: ClusterServer;
before(async () => {
  srv = await startCluster(objects, { extra: ['k8s_external example.org 113.0.203.in-addr.arpa {\n    headless\n    ttl 30\n  }'] });
});
after(async () => { await srv.stop(); });

const SOA = 'example.org. 30 IN SOA ns1.dns.example.org. hostmaster.example.org. SERIAL 14400 3600 604800 30';
const cases: [string, string, number, string[], string[]?][] = [
  ['web.shop.example.org.', 'A', Rcode.NOERROR, ['web.shop.example.org. 30 IN A 203.0.113.10']],
  ['web.shop.example.org.', 'AAAA', Rcode.NOERROR, ['web.shop.example.org. 30 IN AAAA 2001:db8::10']],
  ['test.default.example.org.', 'A', Rcode.NOERROR, ['test.default.example.org. 30 IN A 192.168.200.123']],
  ['_https._tcp.web.shop.example.org.', 'SRV', Rcode.NOERROR, ['_https._tcp.web.shop.example.org. 30 IN SRV 0 100 443 web.shop.example.org.']],
  ['web.shop.example.org.', 'SRV', Rcode.NOERROR, ['web.shop.example.org. 30 IN SRV 0 50 80 web.shop.example.org.', 'web.shop.example.org. 30 IN SRV 0 50 443 web.shop.example.org.']],
  ['10.113.0.203.in-addr.arpa.', 'PTR', Rcode.NOERROR, ['10.113.0.203.in-addr.arpa. 30 IN PTR web.shop.example.org.']],
  ['db.shop.example.org.', 'A', Rcode.NOERROR, ['db.shop.example.org. 30 IN A 10.1.0.5', 'db.shop.example.org. 30 IN A 10.1.0.6']],
  ['db-1.db.shop.example.org.', 'A', Rcode.NOERROR, ['db-1.db.shop.example.org. 30 IN A 10.1.0.6']],
  ['web.shop.example.org.', 'TXT', Rcode.NOERROR, [], [SOA]],
  ['internal.shop.example.org.', 'A', Rcode.NXDOMAIN, [], [SOA]],
  ['nope.shop.example.org.', 'A', Rcode.NXDOMAIN, [], [SOA]],
  ['example.org.', 'SOA', Rcode.NOERROR, [SOA]],
  ['example.org.', 'NS', Rcode.NOERROR, ['example.org. 30 IN NS ns1.dns.example.org.']],
  ['example.org.', 'A', Rcode.NOERROR, [], [SOA]],
];

describe('k8s_external answers', () => {
  for (const [name, type, rcode, answer, authority] of cases) {
    it(`${name} ${type}`, async () => {
      const m = await srv.query(name, type);
      assert.equal(m.rcode, rcode);
      assert.deepEqual(m.answer.map(rrLine).sort(), [...answer].sort());
      if (authority) assert.deepEqual(m.authority.map(rrLine), authority);
      assert.ok((m.flags & 0x0400) !== 0, 'authoritative');
    });
  }

  it('cluster names are untouched', async () => {
    assert.equal((await srv.query('web.shop.svc.cluster.local.', 'A')).answer.length, 1);
  });
});

describe('k8s_external options', () => {
  it('needs the kubernetes plugin and known properties', () => {
    assert.equal(setupError('. {\n k8s_external example.org\n}'), 'Corefile:2: plugin/k8s_external: needs the kubernetes plugin in the same server block');
    assert.equal(setupError('. {\n kubernetes\n k8s_external example.org {\n  apex a.b\n }\n}'), "Corefile:4: plugin/k8s_external: apex 'a.b' is not a single DNS label");
    assert.equal(setupError('. {\n kubernetes\n k8s_external example.org {\n  fallthru\n }\n}'), "Corefile:4: plugin/k8s_external: unknown property 'fallthru'");
  });
});
