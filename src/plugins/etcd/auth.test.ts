/**
 * @module plugins/etcd/auth.test
 * Authentication against a real etcd: `credentials USER PASS` with etcd's
 * auth enabled (right ones answer; wrong ones log a clear error and serve
 * no data: SERVFAIL, never a made-up NXDOMAIN), and `tls CERT KEY CACERT`
 * against an etcd that requires client certificates made with openssl.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startEtcd, type TestEtcd } from '../../../test/support/etcd.ts';
import { checkEtcdCases, putKeys, startEtcdDns, type EtcdDnsServer } from '../../../test/support/etcd-dns.ts';
import { waitUntil } from '../../../test/support/wait-until.ts';

const block = (endpoint: string, extra: string): string =>
  `.:0 {\n  bind 127.0.0.1\n  etcd example.test {\n    endpoint ${endpoint}\n${extra}  }\n}\n`;

describe('etcd plugin with user/password auth', () => {
  let etcd: TestEtcd;
  before(async () => {
    etcd = await startEtcd({ auth: { user: 'dns', password: 'right-pw' } });
    await putKeys(etcd, { '/skydns/test/example/www': { host: '10.5.0.1' } });
  });
  after(async () => { await etcd?.dispose(); });

  test('the right credentials answer', async () => {
    const srv = await startEtcdDns(block(etcd.endpoint, '    credentials dns right-pw\n'), { waitFor: 'www.example.test.' });
    try {
      await checkEtcdCases(srv, [{ name: 'www.example.test.', type: 'A', rcode: 'NOERROR', answer: ['www.example.test. 300 IN A 10.5.0.1'] }]);
    } finally {
      await srv.stop();
    }
  });

  test('wrong credentials: a clear error in the log and no data served', async () => {
    let srv: EtcdDnsServer | null = null;
    try {
      srv = await startEtcdDns(block(etcd.endpoint, '    credentials dns wrong-pw\n'));
      const s = srv;
      await waitUntil(() => s.logs.some((l) => l.includes('authentication failed')), { timeoutMs: 15_000 });
      assert.match(s.logs.join('\n'), /\[WARNING\] plugin\/etcd: authentication failed for user 'dns' at http:\/\/127\.0\.0\.1:\d+: .*no data yet; retrying/);
      await checkEtcdCases(s, [{ name: 'www.example.test.', type: 'A', rcode: 'SERVFAIL' }]);
    } finally {
      await srv?.stop();
    }
  });
});

describe('etcd plugin with TLS client certificates', () => {
  let etcd: TestEtcd;
  before(async () => {
    etcd = await startEtcd({ tls: true });
    await putKeys(etcd, { '/skydns/test/example/secure': { host: '10.6.0.1' } });
  });
  after(async () => { await etcd?.dispose(); });

  test('tls CERT KEY CACERT reaches an etcd that requires client certificates', async () => {
    const t = etcd.tls!;
    const srv = await startEtcdDns(block(etcd.endpoint, `    tls ${t.cert} ${t.key} ${t.ca}\n`), { waitFor: 'secure.example.test.' });
    try {
      await checkEtcdCases(srv, [{ name: 'secure.example.test.', type: 'A', rcode: 'NOERROR', answer: ['secure.example.test. 300 IN A 10.6.0.1'] }]);
    } finally {
      await srv.stop();
    }
  });

  test('without a client certificate etcd refuses, and nothing is served', async () => {
    const srv = await startEtcdDns(block(etcd.endpoint, `    tls ${etcd.tls!.ca}\n`));
    try {
      await waitUntil(() => srv.logs.some((l) => l.includes('plugin/etcd: etcd') && l.includes('unreachable')), { timeoutMs: 15_000 });
      await checkEtcdCases(srv, [{ name: 'secure.example.test.', type: 'A', rcode: 'SERVFAIL' }]);
    } finally {
      await srv.stop();
    }
  });
});
