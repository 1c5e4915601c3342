/**
 * @module plugins/forward/forward-tls.test
 * forward over TLS against a real DNS-over-TLS upstream (unbound on
 * 127.0.0.1 with a certificate the test makes): `tls://` upstreams with
 * `tls CA`, `tls CERT KEY CA` and `tls_servername`, one pooled TLS connection
 * reused for many queries (conn cache hits/misses with proto "tcp-tls"), and
 * SERVFAIL when the certificate does not check out (wrong CA, wrong name).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Rcode } from '../../dns/constants.ts';
import { metricsRegistry } from '../../metrics/registry.ts';
import { dig, inject, startServer, type TestServer } from '../../../test/support/harness.ts';
import { startDotUpstream, type DotUpstream } from '../../../test/support/unbound-dot.ts';
import type { Forward } from './forward.ts';

let dot: DotUpstream;

before(async () => {
  dot = await startDotUpstream(['www.dot.example. 300 IN A 192.0.2.99', 'mail.dot.example. 300 IN A 192.0.2.98']);
});
after(async () => { await dot?.stop(); });

function forwardOf(s: TestServer): Forward {
  return s.app.server.generation!.blocks[0]!.handlers.find((h) => h.name === 'forward') as Forward;
}

async function connCache(s: TestServer, name: string): Promise<number> {
  const m = metricsRegistry(s.app.services).getSingleMetric(name);
  const values = m ? (await m.get()).values as { labels: Record<string, string | number>; value: number }[] : [];
  return values.filter((v) => v.labels.proto === 'tcp-tls').reduce((n, v) => n + v.value, 0);
}

async function withForward(options: string, fn: (s: TestServer) => Promise<void>, to = dot.address): Promise<void> {
  const s = await startServer(`.:0 {\n bind 127.0.0.1\n forward . ${to} {\n${options}\n }\n}\n`);
  try { await fn(s); } finally { await s.stop(); }
}

describe('forward over TLS (unbound DoT upstream)', () => {
  it('tls CA: answers come over TLS, every query on one reused connection, whatever the client transport', async () => {
    await withForward(`  tls ${dot.caFile}`, async (s) => {
      const first = await inject(s.app, 'www.dot.example', 'A');
      assert.equal(first.rcode, Rcode.NOERROR);
      assert.deepEqual(first.answer.map((r) => r.data.join('.')), ['192.0.2.99']);
      for (let i = 0; i < 4; i++) {
        const m = await inject(s.app, i % 2 === 0 ? 'mail.dot.example' : 'www.dot.example', 'A', { transport: i % 2 === 0 ? 'udp' : 'tcp' });
        assert.equal(m.rcode, Rcode.NOERROR);
      }
      const viaDig = await dig(s.port, 'mail.dot.example', 'A');
      assert.deepEqual(viaDig.answer.map((a) => a.data), ['192.0.2.98'], 'a real client over UDP, the upstream over TLS');
      assert.equal(forwardOf(s).upstreams[0]!.tcp.size, 1, 'one TLS connection');
      assert.equal(await connCache(s, 'coredns_proxy_conn_cache_misses_total'), 1, 'dialled once');
      assert.equal(await connCache(s, 'coredns_proxy_conn_cache_hits_total'), 5, 'reused for the other five queries');
      assert.ok(dot.log.some((l) => l.includes('www.dot.example. A IN')), 'unbound saw the queries');
    });
  });

  it('tls CERT KEY CA and tls_servername: the client certificate is loaded, the name checked against the certificate', async () => {
    await withForward(`  tls ${dot.clientCert} ${dot.clientKey} ${dot.caFile}\n  tls_servername ${dot.serverName}`, async (s) => {
      const m = await inject(s.app, 'www.dot.example', 'A');
      assert.equal(m.rcode, Rcode.NOERROR);
      assert.deepEqual(m.answer.map((r) => r.data.join('.')), ['192.0.2.99']);
    });
  });

  it('a certificate that does not check out is an upstream failure (SERVFAIL), never an answer', async () => {
    await withForward(`  tls ${dot.otherCaFile}`, async (s) => {
      assert.equal((await inject(s.app, 'www.dot.example', 'A')).rcode, Rcode.SERVFAIL, 'signed by a CA we do not trust');
    });
    await withForward(`  tls ${dot.caFile}\n  tls_servername wrong.test`, async (s) => {
      assert.equal((await inject(s.app, 'www.dot.example', 'A')).rcode, Rcode.SERVFAIL, 'the certificate is not for wrong.test');
    });
    await withForward('', async (s) => {
      assert.equal((await inject(s.app, 'www.dot.example', 'A')).rcode, Rcode.SERVFAIL, 'the system CAs do not know the test CA');
    });
  });
});
