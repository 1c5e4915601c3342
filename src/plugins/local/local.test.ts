/**
 * @module plugins/local/local.test
 * local: localhost and its reverse zones answered without the next plugin,
 * names starting with or below localhost. counted, everything else passed on.
 */
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { bytesToIp } from '../../dns/ip.ts';
import { Rcode } from '../../dns/constants.ts';
import { metricsRegistry } from '../../metrics/registry.ts';
import { inject, startServer } from '../../../test/support/harness.ts';
import { rrLine } from '../../../test/support/k8s-dns.ts';

const cases: [string, string, number, string[]][] = [
  ['localhost.', 'A', Rcode.NOERROR, ['localhost. 604800 IN A 127.0.0.1']],
  ['localhost.', 'AAAA', Rcode.NOERROR, ['localhost. 604800 IN AAAA ::1']],
  ['localhost.', 'NS', Rcode.NOERROR, ['localhost. 604800 IN NS localhost.']],
  ['localhost.', 'MX', Rcode.NOERROR, []],
  ['1.0.0.127.in-addr.arpa.', 'PTR', Rcode.NOERROR, ['1.0.0.127.in-addr.arpa. 604800 IN PTR localhost.']],
  ['2.0.0.127.in-addr.arpa.', 'PTR', Rcode.NXDOMAIN, []],
  ['255.in-addr.arpa.', 'A', Rcode.NOERROR, []],
  ['localhost.default.svc.cluster.local.', 'A', Rcode.NOERROR, ['localhost.default.svc.cluster.local. 604800 IN A 127.0.0.1']],
  ['app.localhost.', 'AAAA', Rcode.NOERROR, ['app.localhost. 604800 IN AAAA ::1']],
];

it('answers the local names, passes others on, counts localhost.<domain>', async () => {
  const s = await startServer('.:0 {\n bind 127.0.0.1\n local\n hosts {\n  10.0.0.1 other.test\n }\n}');
  try {
    for (const [name, type, rcode, answer] of cases) {
      const m = await inject(s.app, name, type);
      assert.equal(m.rcode, rcode, `${name} ${type}`);
      assert.deepEqual(m.answer.map(rrLine), answer, `${name} ${type}`);
      if (answer.length === 0) assert.equal(m.authority[0]?.type, 6, 'SOA with the negative answer');
    }
    assert.deepEqual((await inject(s.app, 'other.test.', 'A')).answer.map((r) => bytesToIp(r.data)), ['10.0.0.1']);
    assert.match(await metricsRegistry(s.app.services).metrics(), /coredns_local_localhost_requests_total 2/);
  } finally { await s.stop(); }
});
