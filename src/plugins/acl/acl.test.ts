/**
 * @module plugins/acl/acl.test
 * acl: first matching rule wins (allow, block, filter, drop), types and
 * networks, zones, the extended errors dig shows, the counters, and option
 * errors.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Rcode, Type } from '../../dns/constants.ts';
import { encodeQuery } from '../../dns/message.ts';
import { serveQuery, ServeStats } from '../../server/serve.ts';
import { metricsRegistry } from '../../metrics/registry.ts';
import { dig, inject, startServer, type TestServer } from '../../../test/support/harness.ts';
import { setupError } from '../../../test/support/setup-error.ts';

let srv: TestServer;
before(async () => {
  srv = await startServer(`.:0 {
  bind 127.0.0.1
  acl example.org {
    allow net 192.168.1.0/24
    block type A net 192.168.0.0/16
    filter type AAAA net 192.168.0.0/16 fd00::/8
    drop type TXT net 10.0.0.0/8
    block net 172.16.0.0/12
  }
  template ANY ANY {
    answer "{{ .Name }} 60 IN TXT ok"
  }
}`);
});
after(async () => { await srv.stop(); });

const table: [string, string, string, number | 'dropped', string][] = [
  ['192.168.1.5', 'a.example.org.', 'A', Rcode.NOERROR, 'allowed by the first rule'],
  ['192.168.2.5', 'a.example.org.', 'A', Rcode.REFUSED, 'blocked'],
  ['192.168.2.5', 'a.example.org.', 'MX', Rcode.NOERROR, 'type not listed: allowed'],
  ['192.168.2.5', 'a.example.org.', 'AAAA', Rcode.NOERROR, 'filtered (empty)'],
  ['fd00::7', 'a.example.org.', 'AAAA', Rcode.NOERROR, 'filtered over IPv6'],
  ['10.1.2.3', 'a.example.org.', 'TXT', 'dropped', 'dropped'],
  ['172.20.0.1', 'a.example.org.', 'A', Rcode.REFUSED, 'rule without type'],
  ['172.20.0.1', 'a.example.net.', 'A', Rcode.NOERROR, 'outside the acl zone'],
  ['8.8.8.8', 'a.example.org.', 'A', Rcode.NOERROR, 'no rule: allowed'],
];

describe('acl rules', () => {
  for (const [from, name, type, want, why] of table) {
    it(`${why}: ${from} ${name} ${type}`, async () => {
      if (want === 'dropped') {
        // The chain is synchronous here: had a reply been written, send would have run before serveQuery returned.
        let sent = 0;
        const routes = srv.app.server.generation!.listeners[0]!.routes;
        serveQuery(encodeQuery(name, Type.TXT, { id: 9 }), 'udp', from, 5300, '127.0.0.1', 53, routes, { send: () => { sent++; } }, new ServeStats());
        assert.equal(sent, 0);
        assert.match(await metricsRegistry(srv.app.services).metrics(), /coredns_acl_dropped_requests_total\{server="dns:\/\/127\.0\.0\.1:\d+",zone="example\.org\.",view=""\} 1/);
        return;
      }
      const m = await inject(srv.app, name, type, { remoteAddress: from });
      assert.equal(m.rcode, want);
      if (why.startsWith('filtered')) assert.equal(m.answer.length, 0);
      if (why.startsWith('allowed') || why.startsWith('no rule')) assert.equal(m.answer.length, 1);
    });
  }

  it('dig sees the extended error of a blocked query, and the counters count', async () => {
    const s = await startServer('.:0 {\n bind 127.0.0.1\n acl {\n  block net 127.0.0.0/8\n }\n whoami\n}');
    try {
      const r = await dig(s.port, 'x.test', 'A');
      assert.equal(r.status, 'REFUSED');
      assert.match(r.raw, /EDE: 15 \(Blocked\)/);
      assert.match(await metricsRegistry(s.app.services).metrics(), /coredns_acl_blocked_requests_total\{server="dns:\/\/127\.0\.0\.1:\d+",zone="\.",view=""\} 1/);
    } finally { await s.stop(); }
  });
});

describe('acl options', () => {
  const bad: [string, string][] = [
    ['acl {\n  deny net 10.0.0.0/8\n }', "Corefile:4: plugin/acl: unexpected token 'deny'; expect 'allow', 'block', 'filter' or 'drop'"],
    ['acl {\n  block net 10.0.0.0/33\n }', "Corefile:4: plugin/acl: illegal CIDR notation '10.0.0.0/33'"],
    ['acl {\n  block type BOGUS\n }', "Corefile:4: plugin/acl: unexpected token 'BOGUS'; expect legal QTYPE"],
    ['acl {\n  block 10.0.0.1\n }', "Corefile:4: plugin/acl: unexpected token '10.0.0.1'; expect 'type' or 'net'"],
  ];
  for (const [text, want] of bad) it(`rejects ${text.split('\n')[1]!.trim()}`, () => assert.equal(setupError(`.:53 {\n bind 127.0.0.1\n ${text}\n}`), want));
});
