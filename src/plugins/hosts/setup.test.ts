/**
 * @module plugins/hosts/setup.test
 * hosts' option parser: valid snippets and what they set, invalid ones and
 * their exact FILE:LINE errors.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseCorefile } from '../../corefile/parser.ts';
import type { HostsOptions } from './hosts.ts';
import { parseHostsDirective } from './setup.ts';

function parse(body: string, zone = '.'): HostsOptions {
  const [b] = parseCorefile(`${zone} {\n${body}\n}\n`, 'Corefile');
  return parseHostsDirective(b!.directives[0]!, { zones: [b!.keys[0]!.zone], configDir: '/conf' });
}

describe('hosts setup: valid', () => {
  it('defaults', () => {
    const o = parse('hosts');
    assert.equal(o.path, '/etc/hosts');
    assert.deepEqual(o.zones, ['.']);
    assert.equal(o.ttl, 3600);
    assert.equal(o.reloadMs, 5000);
    assert.equal(o.reverse, true);
    assert.equal(o.fallthrough.through('x.'), false);
    assert.equal(o.inline.v4.size, 0);
  });
  it('file and zones; relative paths against the Corefile directory', () => {
    const o = parse('hosts extra/hosts example.org 10.0.0.0/8', 'example.org');
    assert.equal(o.path, '/conf/extra/hosts');
    assert.deepEqual(o.zones, ['example.org.', '10.in-addr.arpa.']);
  });
  it('inline entries and every option', () => {
    const o = parse('hosts /etc/hosts.d/x {\n 10.255.0.170 registry Registry.Local\n ::1 ip6-localhost\n ttl 60\n reload 0\n no_reverse\n fallthrough in-addr.arpa\n}');
    assert.deepEqual([...o.inline.v4.entries()], [['registry.', ['10.255.0.170']], ['registry.local.', ['10.255.0.170']]]);
    assert.deepEqual([...o.inline.v6.entries()], [['ip6-localhost.', ['::1']]]);
    assert.equal(o.ttl, 60);
    assert.equal(o.reloadMs, 0);
    assert.equal(o.reverse, false);
    assert.equal(o.fallthrough.through('1.in-addr.arpa.'), true);
    assert.equal(o.fallthrough.through('example.org.'), false);
  });
  it('the kubeadm-style inline block', () => {
    const o = parse('hosts {\n 10.255.0.170 registry\n fallthrough\n}');
    assert.deepEqual([...o.inline.v4.keys()], ['registry.']);
    assert.equal(o.fallthrough.through('anything.'), true);
  });
});

describe('hosts setup: invalid', () => {
  const cases: [string, string][] = [
    ['hosts {\n fallthru\n}', "Corefile:3: plugin/hosts: unknown property 'fallthru'"],
    ['hosts {\n 10.0.0.1\n}', "Corefile:3: plugin/hosts: inline entry '10.0.0.1' has no host name"],
    ['hosts {\n ttl 0\n}', 'Corefile:3: plugin/hosts: ttl 0 is out of range 1..65535'],
    ['hosts {\n ttl 70000\n}', 'Corefile:3: plugin/hosts: ttl 70000 is out of range 1..65535'],
    ['hosts {\n ttl\n}', "Corefile:3: plugin/hosts: 'ttl' takes 1 argument, got 0"],
    ['hosts {\n reload often\n}', "Corefile:3: plugin/hosts: reload 'often' is not a duration (like 5s, 1m, 250ms)"],
    ['hosts {\n no_reverse please\n}', "Corefile:3: plugin/hosts: 'no_reverse' takes 0 arguments, got 1"],
  ];
  for (const [body, err] of cases) {
    it(body.split('\n').join(' | '), () => {
      assert.throws(() => parse(body), (e: Error) => { assert.equal(e.message, err); return true; });
    });
  }
});
