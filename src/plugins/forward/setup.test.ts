/**
 * @module plugins/forward/setup.test
 * forward's option parser: valid snippets and what they set, invalid ones
 * and their exact FILE:LINE errors, resolv.conf reading and its loopback
 * warning.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseCorefile } from '../../corefile/parser.ts';
import { Rcode } from '../../dns/constants.ts';
import { parseForward, type ForwardConfig } from './setup.ts';
import { nameserversOf, splitHostPort } from './addresses.ts';

let dir = '';
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'forward-setup-'));
  writeFileSync(join(dir, 'resolv.conf'), '# generated\nsearch cluster.local\nnameserver 127.0.0.53\nnameserver 192.0.2.1 ; comment\noptions ndots:5\n');
  writeFileSync(join(dir, 'ports.conf'), 'nameserver 127.0.0.1:5300\nnameserver [::1]:5301\nnameserver fe80::1%eth0\nnameserver bogus\n');
  writeFileSync(join(dir, 'empty.conf'), 'search example.org\n');
});
after(() => rmSync(dir, { recursive: true, force: true }));

function parse(body: string, block = '.', port = 53): ForwardConfig {
  const [b] = parseCorefile(`${block}:${port} {\n${body}\n}\n`, 'Corefile');
  const d = b!.directives[0]!;
  return parseForward(d, { zones: [b!.keys[0]!.zone], configDir: dir, bindAddresses: ['127.0.0.1'], port });
}

describe('forward setup: valid', () => {
  const cases: { name: string; body: string; check: (c: ForwardConfig) => void }[] = [
    {
      name: 'defaults', body: 'forward . 127.0.0.1',
      check: (c) => {
        assert.equal(c.options.from, '.');
        assert.deepEqual(c.upstreams.map((u) => [u.host, u.port]), [['127.0.0.1', 53]]);
        assert.equal(c.options.policy, 'random');
        assert.equal(c.health.maxFails, 2);
        assert.equal(c.health.intervalMs, 500);
        assert.equal(c.health.domain, '.');
        assert.equal(c.health.recursionDesired, true);
        assert.equal(c.expireMs, 10_000);
        assert.equal(c.options.maxConcurrent, 0);
        assert.equal(c.options.readTimeoutMs, 2000);
        assert.equal(c.options.forceTcp, false);
        assert.deepEqual(c.options.nextRcodes, []);
      },
    },
    {
      name: 'address forms', body: 'forward example.org 127.0.0.1:5353 dns://127.0.0.2 dns://127.0.0.3:54 [::1]:5354 ::1',
      check: (c) => {
        assert.equal(c.options.from, 'example.org.');
        assert.deepEqual(c.upstreams.map((u) => [u.host, u.port]), [
          ['127.0.0.1', 5353], ['127.0.0.2', 53], ['127.0.0.3', 54], ['::1', 5354], ['::1', 53],
        ]);
      },
    },
    {
      name: 'every option',
      body: 'forward . 127.0.0.1 {\n except Internal.Example svc.cluster.local\n force_tcp\n prefer_udp\n expire 30s\n max_fails 5\n' +
        ' health_check 2s no_rec domain example.org\n policy sequential\n max_concurrent 1000\n next NXDOMAIN servfail\n}',
      check: (c) => {
        assert.deepEqual(c.options.except, ['internal.example.', 'svc.cluster.local.']);
        assert.equal(c.options.forceTcp, true);
        assert.equal(c.options.preferUdp, true);
        assert.equal(c.health.tcp, true);
        assert.equal(c.expireMs, 30_000);
        assert.equal(c.health.maxFails, 5);
        assert.equal(c.health.intervalMs, 2000);
        assert.equal(c.health.recursionDesired, false);
        assert.equal(c.health.domain, 'example.org.');
        assert.equal(c.options.policy, 'sequential');
        assert.equal(c.options.maxConcurrent, 1000);
        assert.deepEqual(c.options.nextRcodes, [Rcode.NXDOMAIN, Rcode.SERVFAIL]);
      },
    },
    { name: 'round_robin', body: 'forward . 127.0.0.1 {\n policy round_robin\n}', check: (c) => assert.equal(c.options.policy, 'round_robin') },
    { name: 'max_fails 0 disables', body: 'forward . 127.0.0.1 {\n max_fails 0\n}', check: (c) => assert.equal(c.health.maxFails, 0) },
    {
      name: 'resolv.conf: nameservers in order, loopback warned',
      body: 'forward . resolv.conf',
      check: (c) => {
        assert.deepEqual(c.upstreams.map((u) => [u.host, u.port]), [['127.0.0.53', 53], ['192.0.2.1', 53]]);
        assert.equal(c.warnings.length, 1);
        assert.match(c.warnings[0]!, /lists nameserver 127\.0\.0\.53, a loopback address .*systemd-resolved.*point forward at the real upstream resolvers/);
      },
    },
    {
      name: 'resolv.conf with ports (extension), zones stripped, junk ignored',
      body: `forward . ${'ports.conf'}`,
      check: (c) => assert.deepEqual(c.upstreams.map((u) => [u.host, u.port]), [['127.0.0.1', 5300], ['::1', 5301], ['fe80::1', 53]]),
    },
    {
      name: 'own listen address warned',
      body: 'forward . 127.0.0.1:53',
      check: (c) => assert.deepEqual(c.warnings, ['upstream 127.0.0.1:53 is this server\'s own listen address: queries will loop']),
    },
    {
      name: '15 upstreams allowed',
      body: `forward . ${Array.from({ length: 15 }, (_, i) => `127.0.0.${i + 1}`).join(' ')}`,
      check: (c) => assert.equal(c.upstreams.length, 15),
    },
  ];
  for (const c of cases) it(c.name, () => c.check(parse(c.body)));
});

describe('forward setup: invalid', () => {
  const cases: [string, string][] = [
    ['forward', "Corefile:2: plugin/forward: 'forward' takes at least 2 arguments, got 0"],
    ['forward .', "Corefile:2: plugin/forward: 'forward' takes at least 2 arguments, got 1"],
    ['forward . nosuchfile.conf', "Corefile:2: plugin/forward: 'nosuchfile.conf' is not an IP address or file"],
    ['forward . empty.conf', `Corefile:2: plugin/forward: no nameservers found in ${'DIR'}/empty.conf`],
    ['forward . https://127.0.0.1', "Corefile:2: plugin/forward: 'https://' upstreams are not supported: use plain DNS (IP[:PORT] or dns://) or DNS over TLS (tls://)"],
    ['forward . tls://dns.example', "Corefile:2: plugin/forward: 'tls://dns.example' is not an IP address or file"],
    ['forward . tls://127.0.0.1 {\n tls a b c d\n}', "Corefile:3: plugin/forward: 'tls' takes 0 to 3 arguments, got 4"],
    ['forward . tls://127.0.0.1 {\n tls_servername\n}', "Corefile:3: plugin/forward: 'tls_servername' takes 1 argument, got 0"],
    ['forward . tls://127.0.0.1 {\n tls missing-ca.pem\n}', `Corefile:3: plugin/forward: cannot read the TLS CA ${'DIR'}/missing-ca.pem: ENOENT: no such file or directory, open '${'DIR'}/missing-ca.pem'`],
    ['forward . 127.0.0.1:70000', "Corefile:2: plugin/forward: '127.0.0.1:70000' is not an IP address or file"],
    [`forward . ${Array.from({ length: 16 }, (_, i) => `127.0.0.${i + 1}`).join(' ')}`, 'Corefile:2: plugin/forward: more than 15 upstreams configured: 16'],
    ['forward . 127.0.0.1 {\n bogus\n}', "Corefile:3: plugin/forward: unknown property 'bogus'"],
    ['forward . 127.0.0.1 {\n except\n}', "Corefile:3: plugin/forward: 'except' takes at least 1 arguments, got 0"],
    ['forward . 127.0.0.1 {\n force_tcp yes\n}', "Corefile:3: plugin/forward: 'force_tcp' takes 0 arguments, got 1"],
    ['forward . 127.0.0.1 {\n expire soon\n}', "Corefile:3: plugin/forward: expire 'soon' is not a duration (like 5s, 1m, 250ms)"],
    ['forward . 127.0.0.1 {\n max_fails -1\n}', 'Corefile:3: plugin/forward: max_fails -1 is out of range 0..1000000'],
    ['forward . 127.0.0.1 {\n health_check 1s maybe\n}', "Corefile:3: plugin/forward: health_check: unknown argument 'maybe'"],
    ['forward . 127.0.0.1 {\n health_check 1s domain\n}', "Corefile:3: plugin/forward: health_check 'domain' needs a name"],
    ['forward . 127.0.0.1 {\n policy fastest\n}', "Corefile:3: plugin/forward: unknown policy 'fastest'"],
    ['forward . 127.0.0.1 {\n max_concurrent 0\n}', 'Corefile:3: plugin/forward: max_concurrent 0 is out of range 1..1000000'],
    ['forward . 127.0.0.1 {\n next NOPE\n}', "Corefile:3: plugin/forward: next: unknown rcode 'NOPE'"],
  ];
  for (const [body, err] of cases) {
    it(body.split('\n').join(' | '), () => {
      assert.throws(() => parse(body), (e: Error) => { assert.equal(e.message, err.replaceAll('DIR', dir)); return true; });
    });
  }
});

describe('forward addresses', () => {
  it('splits host and port', () => {
    assert.deepEqual(splitHostPort('10.0.0.1'), { host: '10.0.0.1', port: 53 });
    assert.deepEqual(splitHostPort('10.0.0.1:54'), { host: '10.0.0.1', port: 54 });
    assert.deepEqual(splitHostPort('[2001:DB8::1]:54'), { host: '2001:db8::1', port: 54 });
    assert.deepEqual(splitHostPort('2001:db8::1'), { host: '2001:db8::1', port: 53 });
    assert.equal(splitHostPort('dns.google'), null);
    assert.equal(splitHostPort('10.0.0.1:0'), null);
  });
  it('reads nameserver lines only', () => {
    assert.deepEqual(nameserversOf('nameserver 10.0.0.1\n#nameserver 10.0.0.2\nnameserver\nsearch x\n nameserver 10.0.0.3 \n', 'f').map((u) => u.host),
      ['10.0.0.1', '10.0.0.3']);
  });
});
