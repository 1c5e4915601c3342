/**
 * @module plugins/etcd/setup.test
 * etcd's option parser (defaults, every option, FILE:LINE errors for bad
 * ones), value parsing (fields, types, impossible values) and the key
 * mapping helpers. No etcd needed: setup never connects.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseCorefile } from '../../corefile/parser.ts';
import { setupError } from '../../../test/support/setup-error.ts';
import { parseEtcdDirective, type EtcdOptions } from './setup.ts';
import { domainOfKey, HostKind, normalizePath, parseService, stripLabels } from './service.ts';

function parse(body: string, zone = '.', configDir = '/conf'): EtcdOptions {
  const [b] = parseCorefile(`${zone} {\n${body}\n}\n`, 'Corefile');
  return parseEtcdDirective(b!.directives[0]!, { zones: [b!.keys[0]!.zone], configDir });
}

describe('etcd setup: valid', () => {
  it('CoreDNS defaults', () => {
    const o = parse('etcd', 'skydns.local');
    assert.deepEqual(o.zones, ['skydns.local.']);
    assert.equal(o.path, '/skydns');
    assert.deepEqual(o.connection.endpoints, ['http://localhost:2379']);
    assert.equal(o.connection.username, undefined);
    assert.equal(o.connection.tls, null);
    assert.equal(o.minLeaseTtl, 30);
    assert.equal(o.maxLeaseTtl, 86_400);
    assert.equal(o.fallthrough.through('x.skydns.local.'), false);
  });

  it('every option; zones and reverse CIDRs from the arguments', () => {
    const dir = mkdtempSync(join(tmpdir(), 'etcd-setup-'));
    for (const f of ['c.pem', 'k.pem', 'ca.pem']) writeFileSync(join(dir, f), `PEM ${f}`);
    const o = parse([
      'etcd skydns.local 10.0.0.0/24 {', '  path dns/', '  endpoint http://10.0.0.1:2379 https://etcd.example:2379',
      '  credentials user pass', '  tls c.pem k.pem ca.pem', '  fallthrough in-addr.arpa', '  min-lease-ttl 1m', '  max-lease-ttl 7200', '}',
    ].join('\n'), '.', dir);
    assert.deepEqual(o.zones, ['skydns.local.', '0.0.10.in-addr.arpa.']);
    assert.equal(o.path, '/dns');
    assert.deepEqual(o.connection.endpoints, ['http://10.0.0.1:2379', 'https://etcd.example:2379']);
    assert.equal(o.connection.username, 'user');
    assert.equal(o.connection.password, 'pass');
    assert.equal(o.connection.tls?.cert?.toString(), 'PEM c.pem');
    assert.equal(o.connection.tls?.key?.toString(), 'PEM k.pem');
    assert.equal(o.connection.tls?.ca?.toString(), 'PEM ca.pem');
    assert.equal(o.fallthrough.through('1.0.0.10.in-addr.arpa.'), true);
    assert.equal(o.fallthrough.through('a.skydns.local.'), false);
    assert.equal(o.minLeaseTtl, 60);
    assert.equal(o.maxLeaseTtl, 7200);
  });

  it('tls with 0, 1 and 2 arguments as CoreDNS (system CAs, CA only, client certificate only)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'etcd-setup-'));
    writeFileSync(join(dir, 'a.pem'), 'A');
    writeFileSync(join(dir, 'b.pem'), 'B');
    assert.deepEqual(parse('etcd {\n tls\n}', '.', dir).connection.tls, {});
    assert.equal(parse('etcd {\n tls a.pem\n}', '.', dir).connection.tls?.ca?.toString(), 'A');
    const two = parse('etcd {\n tls a.pem b.pem\n}', '.', dir).connection.tls;
    assert.equal(two?.cert?.toString(), 'A');
    assert.equal(two?.key?.toString(), 'B');
    assert.equal(two?.ca, undefined);
  });

  it('stubzones, debug and upstream are accepted and ignored, as CoreDNS', () => {
    assert.deepEqual(parse('etcd {\n stubzones\n debug\n upstream 1.2.3.4\n}').ignored, ['stubzones', 'debug', 'upstream']);
  });
});

describe('etcd setup: FILE:LINE errors', () => {
  const cases: Array<[string, string]> = [
    ['path', "Corefile:3: plugin/etcd: 'path' takes 1 argument, got 0"],
    ['path /a /b', "Corefile:3: plugin/etcd: 'path' takes 1 argument, got 2"],
    ['endpoint', "Corefile:3: plugin/etcd: 'endpoint' takes at least 1 argument"],
    ['endpoint localhost:2379', "Corefile:3: plugin/etcd: endpoint 'localhost:2379': the scheme must be http or https"],
    ['endpoint ftp://x:1', "Corefile:3: plugin/etcd: endpoint 'ftp://x:1': the scheme must be http or https"],
    ['credentials user', 'Corefile:3: plugin/etcd: credentials takes 2 arguments, username and password, got 1'],
    ['credentials', 'Corefile:3: plugin/etcd: credentials takes 2 arguments, username and password, got 0'],
    ['tls a b c d', "Corefile:3: plugin/etcd: 'tls' takes 0 to 3 arguments, got 4"],
    ['tls /nonexistent/ca.pem', "Corefile:3: plugin/etcd: tls: cannot read '/nonexistent/ca.pem'"],
    ['min-lease-ttl soon', "Corefile:3: plugin/etcd: min-lease-ttl 'soon' is not a number of seconds or a duration"],
    ['max-lease-ttl', "Corefile:3: plugin/etcd: 'max-lease-ttl' takes 1 argument, got 0"],
    ['min-lease-ttl 2h\n    max-lease-ttl 1h', 'Corefile:2: plugin/etcd: min-lease-ttl 7200s is above max-lease-ttl 3600s'],
    ['fallthru', "Corefile:3: plugin/etcd: unknown property 'fallthru'"],
  ];
  for (const [body, want] of cases) {
    it(body.split('\n')[0]!, () => {
      const err = setupError(`.:53 {\n  etcd {\n    ${body}\n  }\n}\n`);
      assert.ok(err.startsWith(want), `got: ${err}`);
    });
  }
  it('a CIDR that is not one', () => {
    assert.match(setupError('.:53 {\n  etcd 10.0.0.0/99\n}\n'), /^Corefile:2: plugin\/etcd: /);
  });
});

describe('etcd values and keys', () => {
  const v = (o: unknown): Uint8Array => Buffer.from(typeof o === 'string' ? o : JSON.stringify(o));
  it('fields, defaults and host kinds', () => {
    const s = parseService('/k', v({ host: '10.0.0.1', port: 80, weight: 5, ttl: 9, targetstrip: 1, group: 'g', mail: true, text: '' }));
    assert.deepEqual([s.host, s.kind, s.port, s.priority, s.weight, s.ttl, s.targetStrip, s.group, s.mail], ['10.0.0.1', HostKind.A, 80, 10, 5, 9, 1, 'g', true]);
    assert.equal(parseService('/k', v({ host: '2001:DB8::1' })).host, '2001:db8::1');
    assert.equal(parseService('/k', v({ host: 'Target.Example' })).host, 'target.example.');
    assert.equal(parseService('/k', v({ host: 'x.example', text: 't' })).kind, HostKind.TXT);
    assert.equal(parseService('/k', v({ text: 't' })).kind, HostKind.TXT);
    assert.equal(parseService('/k', v({ HOST: '10.0.0.2', Priority: 3 })).priority, 3);
  });
  it('rejects what no record could carry', () => {
    const bad: Array<[unknown, RegExp]> = [
      ['{', /not JSON/], ['[1]', /not a JSON object/], ['"x"', /not a JSON object/],
      [{ host: 5 }, /"host" is not a string/], [{ port: 65536 }, /"port" 65536 is out of range/],
      [{ port: 1.5 }, /"port" is not a whole number/], [{ priority: -1 }, /out of range/],
      [{ mail: 'yes' }, /"mail" is not true or false/], [{ host: 'a..b' }, /neither an IP address nor a domain name/],
      [{ host: `${'x'.repeat(64)}.example` }, /63/], [{ ttl: -5 }, /out of range/],
      [{ text: 'x'.repeat(65300) }, /more than one TXT record holds/],
    ];
    for (const [value, re] of bad) assert.throws(() => parseService('/k', v(value)), re, JSON.stringify(value));
  });
  it('paths and names', () => {
    assert.equal(normalizePath('skydns/'), '/skydns');
    assert.equal(normalizePath('//a//b/'), '/a/b');
    assert.equal(domainOfKey('/skydns/com/example/www', '/skydns'), 'www.example.com.');
    assert.equal(domainOfKey('/a/b/local/skydns/', '/a/b'), 'skydns.local.');
    assert.equal(stripLabels('a.b.c.', 1), 'b.c.');
    assert.equal(stripLabels('a.b.c.', 3), 'a.b.c.');
  });
});
