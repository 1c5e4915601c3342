/**
 * @module plugins/rewrite/rewrite.test
 * rewrite through the whole chain: the CoreDNS blog's "custom DNS entries"
 * (exact), AKS's custom-domain regex with `answer name`, prefix, suffix and
 * substring with `answer auto`, `answer value`, type and class, ttl, rcode,
 * cname targets looked up again, continue vs stop; EDNS0 local, nsid and
 * subnet as an upstream sees them; the client always sees its own question;
 * option errors; one real dig.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Rcode } from '../../dns/constants.ts';
import { rrs } from '../../dns/rr.ts';
import { dig, inject, startServer, type TestServer } from '../../../test/support/harness.ts';
import { rrLine } from '../../../test/support/k8s-dns.ts';
import { startFakeUpstream, type FakeUpstream } from '../../../test/support/fake-upstream.ts';
import { setupError } from '../../../test/support/setup-error.ts';
import { readOpt } from './query-wire.ts';

const COREFILE = `
.:0 {
  bind 127.0.0.1
  rewrite name foo.example.com foo.default.svc.cluster.local
  rewrite stop {
    name regex (.*)\\.custom\\.com {1}.default.svc.cluster.local
    answer name (.*)\\.default\\.svc\\.cluster\\.local {1}.custom.com
  }
  rewrite continue name suffix .old.test .new.test answer auto
  rewrite ttl exact www.new.test 15
  rewrite name prefix legacy- modern- answer auto
  rewrite name substring .mid. .centre. answer auto
  rewrite name regex ^alias\\.(.*)$ {1} answer value (.*)\\.new\\.test {1}.old.test
  rewrite type MX A
  rewrite class CH IN
  rewrite rcode exact gone.test NXDOMAIN REFUSED
  rewrite cname exact stale.target.test. www.new.test.
  template IN A cname.test {
    answer "cname.test 60 IN CNAME stale.target.test."
  }
  template IN CNAME alias.test {
    answer "alias.test 60 IN CNAME mail.new.test."
  }
  hosts {
    10.0.0.72 foo.default.svc.cluster.local
    10.0.0.73 web.default.svc.cluster.local
    10.0.1.1 www.new.test
    10.0.1.2 modern-app.test
    10.0.1.3 a.centre.test
    10.0.1.4 mx.test
    fallthrough
  }
  template ANY ANY gone.test {
    rcode NXDOMAIN
  }
}`;

let srv: TestServer;
before(async () => { srv = await startServer(COREFILE); });
after(async () => { await srv.stop(); });

interface Case { why: string; name: string; type: string; qclass?: number; rcode: number; answer: string[] }
const cases: Case[] = [
  { why: 'blog: exact rule, the answer carries the asked name', name: 'foo.example.com.', type: 'A', rcode: Rcode.NOERROR, answer: ['foo.example.com. 3600 IN A 10.0.0.72'] },
  { why: 'AKS: regex + answer name', name: 'web.custom.com.', type: 'A', rcode: Rcode.NOERROR, answer: ['web.custom.com. 3600 IN A 10.0.0.73'] },
  { why: 'suffix + answer auto, continue to the ttl rule', name: 'www.old.test.', type: 'A', rcode: Rcode.NOERROR, answer: ['www.old.test. 15 IN A 10.0.1.1'] },
  { why: 'prefix + answer auto', name: 'legacy-app.test.', type: 'A', rcode: Rcode.NOERROR, answer: ['legacy-app.test. 3600 IN A 10.0.1.2'] },
  { why: 'substring + answer auto', name: 'a.mid.test.', type: 'A', rcode: Rcode.NOERROR, answer: ['a.mid.test. 3600 IN A 10.0.1.3'] },
  { why: 'answer value rewrites the CNAME target', name: 'alias.alias.test.', type: 'CNAME', rcode: Rcode.NOERROR, answer: ['alias.test. 60 IN CNAME mail.old.test.'] },
  { why: 'type MX asked, A served', name: 'mx.test.', type: 'MX', rcode: Rcode.NOERROR, answer: ['mx.test. 3600 IN A 10.0.1.4'] },
  { why: 'class CH asked, IN served', name: 'mx.test.', type: 'A', qclass: 3, rcode: Rcode.NOERROR, answer: ['mx.test. 3600 IN A 10.0.1.4'] },
  { why: 'rcode NXDOMAIN -> REFUSED', name: 'gone.test.', type: 'A', rcode: Rcode.REFUSED, answer: [] },
  { why: 'cname target rewritten and looked up again', name: 'cname.test.', type: 'A', rcode: Rcode.NOERROR, answer: ['cname.test. 60 IN CNAME www.new.test.', 'www.new.test. 15 IN A 10.0.1.1'] },
  { why: 'no rule matches: untouched', name: 'a.centre.test.', type: 'A', rcode: Rcode.NOERROR, answer: ['a.centre.test. 3600 IN A 10.0.1.3'] },
];

describe('rewrite answers', () => {
  for (const c of cases) {
    it(`${c.why}: ${c.name} ${c.type}`, async () => {
      const m = await inject(srv.app, c.name, c.type, c.qclass === undefined ? {} : { qclass: c.qclass });
      assert.equal(m.rcode, c.rcode);
      assert.deepEqual(m.answer.map(rrLine), c.answer);
      assert.deepEqual(m.question.map((q) => [q.name, q.class]), [[c.name, c.qclass ?? 1]], 'the question is the one asked');
    });
  }

  it('stop ends the rule list: a name two rules match is rewritten by the first only', async () => {
    const s = await startServer('.:0 {\n bind 127.0.0.1\n rewrite name a.test b.test\n rewrite name b.test c.test\n hosts {\n  10.9.0.2 b.test\n  10.9.0.3 c.test\n }\n}');
    const c = await startServer('.:0 {\n bind 127.0.0.1\n rewrite continue name a.test b.test\n rewrite name b.test c.test\n hosts {\n  10.9.0.2 b.test\n  10.9.0.3 c.test\n }\n}');
    try {
      assert.deepEqual((await inject(s.app, 'a.test.', 'A')).answer.map(rrLine), ['a.test. 3600 IN A 10.9.0.2']);
      // With continue both rules apply, and both are undone (c -> b -> a) for the client.
      assert.deepEqual((await inject(c.app, 'a.test.', 'A')).answer.map(rrLine), ['a.test. 3600 IN A 10.9.0.3']);
    } finally { await s.stop(); await c.stop(); }
  });

  it('blog example with the kubernetes plugin: a name outside the cluster answered by a Service', async () => {
    const k = await startServer(`.:0 {
  bind 127.0.0.1
  rewrite name foo.example.com nginx.default.svc.cluster.local
  kubernetes cluster.local in-addr.arpa ip6.arpa {
    manifests examples/cluster
    fallthrough in-addr.arpa ip6.arpa
  }
}`);
    try {
      const m = await inject(k.app, 'foo.example.com.', 'A');
      const direct = await inject(k.app, 'nginx.default.svc.cluster.local.', 'A');
      assert.equal(m.rcode, Rcode.NOERROR);
      assert.ok(direct.answer.length > 0);
      assert.deepEqual(m.answer.map(rrLine), direct.answer.map((r) => rrLine({ ...r, name: 'foo.example.com.' })));
    } finally { await k.stop(); }
  });

  it('with cache in the block, a cached answer is turned back for the client too', async () => {
    const c = await startServer('.:0 {\n bind 127.0.0.1\n cache 30\n rewrite name alias.test real.test\n hosts {\n  10.9.0.9 real.test\n }\n}');
    try {
      for (let i = 0; i < 2; i++) assert.deepEqual((await inject(c.app, 'alias.test.', 'A')).answer.map(rrLine), ['alias.test. 30 IN A 10.9.0.9'], `query ${i + 1}`);
      assert.deepEqual((await inject(c.app, 'real.test.', 'A')).answer.map(rrLine), ['real.test. 30 IN A 10.9.0.9']);
    } finally { await c.stop(); }
  });

  it('dig: case of the question is echoed and the answer name matches it', async () => {
    const r = await dig(srv.port, 'Foo.Example.COM', 'A');
    assert.equal(r.status, 'NOERROR');
    assert.match(r.raw, /;Foo\.Example\.COM\.\s+IN\s+A/);
    assert.deepEqual(r.answer.map((a) => [a.name.toLowerCase(), a.data]), [['foo.example.com.', '10.0.0.72']]);
  });
});

describe('rewrite edns0', () => {
  let up: FakeUpstream;
  let s: TestServer;
  before(async () => {
    up = await startFakeUpstream((q) => ({ reply: { answer: [rrs.a(q.name, 5, '192.0.2.1')] } }));
    s = await startServer(`.:0 {
  bind 127.0.0.1
  rewrite continue edns0 local set 0xffee 0x61626364
  rewrite continue edns0 local append 0xffef {qname}
  rewrite continue edns0 nsid set
  rewrite continue edns0 subnet set 24 56
  rewrite edns0 local unset 0xfff0
  forward . ${up.address}
}`);
  });
  after(async () => { await s.stop(); await up.close(); });

  it('the upstream sees the options set, appended and removed; the client sees no options', async () => {
    const m = await inject(s.app, 'opts.test.', 'A', { udpSize: 1232, remoteAddress: '192.0.2.77' });
    assert.equal(m.rcode, Rcode.NOERROR);
    const q = up.queries.at(-1)!;
    const opt = readOpt(q.req)!;
    const byCode = new Map(opt.options.map((o) => [o.code, Buffer.from(o.data).toString('hex')]));
    assert.equal(byCode.get(0xffee), '61626364');
    assert.equal(Buffer.from(byCode.get(0xffef)!, 'hex').toString(), 'opts.test.');
    assert.equal(byCode.get(3), '');
    assert.equal(byCode.get(8), '00011800' + 'c00002', 'family 1, /24 of 192.0.2.77');
    assert.equal(byCode.has(0xfff0), false);
  });
});

describe('rewrite options', () => {
  const bad: [string, string][] = [
    ['rewrite', 'Corefile:3: plugin/rewrite: missing rule: want name, type, class, ttl, edns0, cname or rcode'],
    ['rewrite bogus a b', "Corefile:3: plugin/rewrite: invalid rule type 'bogus'"],
    ['rewrite name wild a b', 'Corefile:3: plugin/rewrite: name rule supports only exact, prefix, suffix, substring, and regex name matching, received: wild'],
    ['rewrite name regex ([ x', 'Corefile:3: plugin/rewrite: invalid regex matching pattern: (['],
    ['rewrite name regex (a) {2}', 'Corefile:3: plugin/rewrite: the rewrite regex pattern ({2}) uses more subexpressions than its corresponding matching regex pattern ((a))'],
    ['rewrite name regex (a) b answer auto', "Corefile:3: plugin/rewrite: 'answer auto' cannot reverse a regex rule: use 'answer name FROM TO'"],
    ['rewrite name exact a b answer bogus', "Corefile:3: plugin/rewrite: 'answer bogus': want 'answer auto', 'answer name FROM TO' or 'answer value FROM TO'"],
    ['rewrite type A BOGUS', "Corefile:3: plugin/rewrite: invalid type 'BOGUS'"],
    ['rewrite ttl a.test 10-5', "Corefile:3: plugin/rewrite: invalid TTL range '10-5': minimum above maximum"],
    ['rewrite edns0 local set xyz data', "Corefile:3: plugin/rewrite: invalid EDNS0 local code 'xyz'"],
    ['rewrite edns0 subnet set 33 56', "Corefile:3: plugin/rewrite: invalid IPv4 prefix length '33'"],
    ['rewrite edns0 local frob 1 2', "Corefile:3: plugin/rewrite: invalid action 'frob' for edns0: want set, replace, append or unset"],
    ['rewrite rcode a.test NOPE NXDOMAIN', "Corefile:3: plugin/rewrite: unknown rcode 'NOPE'"],
  ];
  for (const [text, want] of bad) it(`rejects '${text}'`, () => assert.equal(setupError(`.:53 {\n bind 127.0.0.1\n ${text}\n whoami\n}`), want));
});
