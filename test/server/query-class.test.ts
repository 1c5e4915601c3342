/**
 * @module test/server/query-class.test
 * A query of a class other than IN never gets IN data: the chain passes
 * IN-only plugins (hosts, kubernetes, file) by for it, so QCLASS 42 of a name
 * they know is REFUSED when nothing else answers, a CH query still reaches
 * chaos, and QCLASS ANY is treated as IN.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rcode } from '../../src/dns/constants.ts';
import { inject, startServer } from '../support/harness.ts';

test('QCLASS 42 of an existing name gets no IN records; CH reaches chaos; ANY is IN', async () => {
  const s = await startServer(`.:0 {
  bind 127.0.0.1
  chaos clusterdns-test
  hosts {
    10.1.2.3 known.example
    fallthrough
  }
  kubernetes cluster.local {
    manifests examples/cluster
  }
}`);
  try {
    const inClass = await inject(s.app, 'known.example.', 'A');
    assert.equal(inClass.answer.length, 1);
    for (const [name, qclass] of [['known.example.', 42], ['kubernetes.default.svc.cluster.local.', 42], ['kubernetes.default.svc.cluster.local.', 3]] as const) {
      const m = await inject(s.app, name, 'A', { qclass });
      assert.equal(m.answer.length, 0, `${name} class ${qclass}`);
      assert.equal(m.rcode, Rcode.REFUSED);
    }
    assert.equal((await inject(s.app, 'kubernetes.default.svc.cluster.local.', 'A', { qclass: 255 })).answer.length, 1);
    const ch = await inject(s.app, 'version.bind.', 'TXT', { qclass: 3 });
    assert.equal(ch.answer.length, 1);
  } finally {
    await s.stop();
  }
});
