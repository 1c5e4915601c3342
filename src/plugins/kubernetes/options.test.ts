/**
 * @module plugins/kubernetes/options.test
 * What each option changes in the answers: O2 kubeconfig (live API), O4
 * namespaces, O5 namespace_labels (not applied to PTR: D10), O6 labels, O8
 * endpoint_pod_names, O9 ttl (SOA TTL capped at 300), O10 noendpoints, O11
 * fallthrough (NXDOMAIN only, in its zones), O12 ignore empty_service (PTR
 * stays: D13), O15 zonal.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkAll, soa, startCluster, type ClusterServer, type DnsCase } from '../../../test/support/k8s-dns.ts';
import { ns, slice, svc, testCluster } from '../../../test/support/k8s-objects.ts';
import { FakeApiServer, type KubeObject } from '../../../test/support/fake-apiserver.ts';
import { startServer, inject } from '../../../test/support/harness.ts';
import { makeTempDir, removeDir, writeKubeconfig } from '../../../test/support/kubeconfig.ts';

const Z = 'cluster.local.';
const SOA = soa();
const N = `nginx.default.svc.${Z}`;
const R = `redis-ha.shared.svc.${Z}`;
const nx = (name: string, type = 'A', s = SOA): DnsCase => ({ name, type, rcode: 'NXDOMAIN', authority: [s] });
const nodata = (name: string, type = 'A'): DnsCase => ({ name, type, rcode: 'NOERROR', authority: [SOA] });
const a = (name: string, ip: string, ttl = 5): DnsCase => ({ name, type: 'A', rcode: 'NOERROR', answer: [`${name} ${ttl} IN A ${ip}`] });
const ptr = (rev: string, target: string): DnsCase => ({ name: rev, type: 'PTR', rcode: 'NOERROR', answer: [`${rev} 5 IN PTR ${target}`] });

async function withCluster(options: string[], fn: (s: ClusterServer) => Promise<void>, extra: string[] = [], objects = testCluster()): Promise<void> {
  const srv = await startCluster(objects, { options, extra });
  try {
    await fn(srv);
  } finally {
    await srv.stop();
  }
}

describe('kubernetes options in answers', () => {
  it('O4 namespaces: only the listed namespaces exist, forward and reverse', () => withCluster(['namespaces default'], (s) => checkAll(s, [
    a(N, '10.96.0.20'), nx(R), nx(`shared.svc.${Z}`),
    ptr('20.0.96.10.in-addr.arpa.', N), nx('51.0.96.10.in-addr.arpa.', 'PTR', soa('in-addr.arpa.')),
  ], true)));

  it('O5 namespace_labels: only matching namespaces exist; PTR ignores it (D10)', () => withCluster(['namespace_labels team=platform'], (s) => checkAll(s, [
    a(`announce-1.shared.svc.${Z}`, '10.96.0.51'), nx(N), nx(`default.svc.${Z}`),
    ptr('20.0.96.10.in-addr.arpa.', N),
  ], true)));

  it('O6 labels: objects not matching do not exist (services, slices); namespaces are not filtered', async () => {
    const objects = [
      ns('default'),
      svc('default', 'web', ['10.96.1.1'], [{ name: 'http', port: 80 }], { labels: { dns: 'yes' } }),
      svc('default', 'hidden', ['10.96.1.2'], [{ name: 'http', port: 80 }]),
      svc('default', 'hl', 'None', [{ name: 'http', port: 80 }], { labels: { dns: 'yes' } }),
      slice('default', 'hl-a', 'hl', [{ ip: '10.1.1.1' }], [{ name: 'http', port: 80 }], { labels: { dns: 'yes' } }),
      slice('default', 'hl-b', 'hl', [{ ip: '10.1.1.2' }], [{ name: 'http', port: 80 }]),
    ];
    await withCluster(['labels dns=yes'], (s) => checkAll(s, [
      a(`web.default.svc.${Z}`, '10.96.1.1'), nx(`hidden.default.svc.${Z}`),
      a(`hl.default.svc.${Z}`, '10.1.1.1'), nodata(`default.svc.${Z}`),
    ], true), [], objects);
  });

  it('O8 endpoint_pod_names: the target pod name replaces the dashed address', () => withCluster(['endpoint_pod_names'], (s) => checkAll(s, [
    a(`nginx-0.${N}`, '10.1.0.1'), nx(`10-1-0-1.${N}`),
    a(`web-two.${N}`, '10.1.0.2'), // a hostname still wins
    ptr('1.0.1.10.in-addr.arpa.', `nginx-0.${N}`),
  ], true)));

  it('O9 ttl: records carry it, the SOA TTL is capped at 300 and its minimum is the ttl', () => withCluster(['ttl 600'], (s) => checkAll(s, [
    a(N, '10.96.0.20', 600),
    { name: `missing.default.svc.${Z}`, type: 'A', rcode: 'NXDOMAIN', authority: [`${Z} 300 IN SOA ns.dns.${Z} hostmaster.${Z} SERIAL 7200 1800 86400 600`] },
  ], true)));

  it('O10 noendpoints: headless, endpoint names and endpoint PTRs are NXDOMAIN; ClusterIPs still answer', () => withCluster(['noendpoints'], (s) => checkAll(s, [
    a(N, '10.96.0.20'), nx(R), nx(`10-1-0-1.${N}`),
    nx('1.0.1.10.in-addr.arpa.', 'PTR', soa('in-addr.arpa.')), ptr('20.0.96.10.in-addr.arpa.', N),
    { name: `_http._tcp.${N}`, type: 'SRV', rcode: 'NOERROR', answer: [`_http._tcp.${N} 5 IN SRV 0 100 80 ${N}`], additional: [`${N} 5 IN A 10.96.0.20`] },
  ], true)));

  it('O11 fallthrough: NXDOMAIN in the listed zones goes to the next plugin; NODATA never does', () => withCluster(['fallthrough in-addr.arpa'], async (s) => {
    await checkAll(s, [nx(`missing.default.svc.${Z}`), nodata(`nginx.default.svc.${Z}`, 'AAAA'), ptr('20.0.96.10.in-addr.arpa.', N)], true);
    const m = await s.query('99.99.99.10.in-addr.arpa.', 'PTR');
    assert.equal(m.rcode, 0);
    assert.ok(m.additional.some((r) => r.name === '_udp.99.99.99.10.in-addr.arpa.'), 'whoami answered');
  }, ['whoami']));

  it('O11 fallthrough without zones: every zone falls through, malformed names and unknown namespaces too', () => withCluster(['fallthrough'], async (s) => {
    for (const name of [`missing.default.svc.${Z}`, `a.b.c.d.svc.${Z}`, `nginx.nope.svc.${Z}`, `foo.${Z}`]) {
      const m = await s.query(name, 'A');
      assert.ok(m.additional.some((r) => r.name === `_udp.${name}`), `${name} reached whoami`);
    }
    await checkAll(s, [nodata(`default.svc.${Z}`)], true);
  }, ['whoami']));

  it('O12 ignore empty_service: ClusterIP services without ready endpoints are NXDOMAIN; PTR stays (D13)', async () => {
    const objects = [...testCluster(), slice('default', 'dual-a', 'dual', [{ ip: '10.1.5.1', ready: false }], [{ name: 'http', port: 80 }])];
    await withCluster(['ignore empty_service'], (s) => checkAll(s, [
      a(N, '10.96.0.20'), nx(`noslices.default.svc.${Z}`), nx(`dual.default.svc.${Z}`), nx(`_http._tcp.noslices.default.svc.${Z}`, 'SRV'),
      ptr('60.0.96.10.in-addr.arpa.', `noslices.default.svc.${Z}`),
      // Headless and ExternalName services are not affected.
      a(`tolerant.shared.svc.${Z}`, '10.2.2.1'), { name: `ext.default.svc.${Z}`, type: 'CNAME', rcode: 'NOERROR', answer: [`ext.default.svc.${Z} 5 IN CNAME example.org.`] },
    ], true), [], objects);
  });

  it('O15 zonal: pin and prefer names of headless services by endpoint topology zone', () => withCluster(['zonal'], (s) => checkAll(s, [
    { name: `zone-b.pin._zone.${R}`, type: 'A', rcode: 'NOERROR', answer: [`zone-b.pin._zone.${R} 5 IN A 10.2.0.11`, `zone-b.pin._zone.${R} 5 IN A 10.2.0.12`] },
    { name: `zone-a.pin._zone.${R}`, type: 'AAAA', rcode: 'NOERROR', answer: [`zone-a.pin._zone.${R} 5 IN AAAA fd00::2:10`] },
    nodata(`zone-c.pin._zone.${R}`),
    { name: `zone-c.prefer._zone.${R}`, type: 'A', rcode: 'NOERROR',
      answer: ['10.2.0.10', '10.2.0.11', '10.2.0.12'].map((ip) => `zone-c.prefer._zone.${R} 5 IN A ${ip}`) },
    { name: `zone-a.prefer._zone.${R}`, type: 'A', rcode: 'NOERROR', answer: [`zone-a.prefer._zone.${R} 5 IN A 10.2.0.10`] },
    nx(`zone-a.pin._zone.${N}`),
    // Without `zonal` the same names are malformed (checked below).
  ], true)));

  it('O15 without zonal, zone names are NXDOMAIN', () => withCluster([], (s) => checkAll(s, [nx(`zone-b.pin._zone.${R}`)], true)));
});

describe('O2 kubeconfig: answers from the live API', () => {
  it('lists and watches through the kubeconfig and answers from it', async () => {
    const api = new FakeApiServer({ token: 'secret' });
    const { url } = await api.start();
    const dir = await makeTempDir('clusterdns-k8s-kc-');
    try {
      for (const o of [ns('prod'), svc('prod', 'api', ['10.96.9.9'], [{ name: 'http', port: 80 }])]) api.create(o as unknown as KubeObject);
      const kubeconfig = await writeKubeconfig(dir, { server: url, token: 'secret' });
      const s = await startServer(`.:0 {\n  bind 127.0.0.1\n  kubernetes cluster.local {\n    kubeconfig ${kubeconfig}\n    startup_timeout 60s\n  }\n}\n`);
      try {
        const m = await inject(s.app, `api.prod.svc.${Z}`, 'A');
        assert.deepEqual(m.answer.map((r) => r.data.join('.')), ['10.96.9.9']);
        api.create(svc('prod', 'late', ['10.96.9.10'], [{ name: 'http', port: 80 }]) as unknown as KubeObject);
        let late = await inject(s.app, `late.prod.svc.${Z}`, 'A');
        for (let i = 0; i < 100 && late.answer.length === 0; i++) {
          await new Promise((r) => setTimeout(r, 20));
          late = await inject(s.app, `late.prod.svc.${Z}`, 'A');
        }
        assert.deepEqual(late.answer.map((r) => r.data.join('.')), ['10.96.9.10'], 'watch event reflected');
      } finally {
        await s.stop();
      }
    } finally {
      await api.stop();
      await removeDir(dir);
    }
  });
});
