/**
 * @module plugins/file/file.test
 * file: one zone file (every directive, multi-line records, the common
 * types, wildcards, a delegation with glue, CNAME chains, empty
 * non-terminals) served by clusterdns and by a real Knot, and a table of
 * queries that must get the same rcode, AA bit, answer, and for negative
 * answers and referrals the same authority and glue, through dig. Then
 * reload (a bad file keeps the old zone; a new serial replaces it),
 * fallthrough, non-IN classes, and FILE:LINE errors.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Rcode } from '../../dns/constants.ts';
import { dig, inject, startServer, type DigResult, type TestServer } from '../../../test/support/harness.ts';
import { startKnot, type Knot } from '../../../test/support/knot.ts';
import { setupError } from '../../../test/support/setup-error.ts';
import type { FileHandler } from './file.ts';

const ZONE = `$ORIGIN example.org.
$TTL 3600
@   IN  SOA ns1 hostmaster (
        2024010101 ; serial
        7200       ; refresh
        3600       ; retry
        1209600    ; expire
        300 )      ; minimum
    IN  NS  ns1
    IN  NS  ns2.example.org.
    IN  MX  10 mail
    IN  TXT "v=spf1 -all" "second string"
    IN  CAA 0 issue "letsencrypt.org"
ns1 IN  A   192.0.2.1
ns2     A   192.0.2.2
        AAAA 2001:db8::2
mail 300 IN A 192.0.2.25
www     CNAME web
web     A   192.0.2.80
        A   192.0.2.81
chain   CNAME www
outside CNAME www.example.net.
dangling CNAME nothing
_http._tcp SRV 0 5 80 web
*.wild  A   192.0.2.99
*.wild  TXT "wildcard"
a.b.c   A   192.0.2.3
sub     NS  ns.sub
ns.sub  A   192.0.2.53
secure  DS  12345 13 2 49FD46E6C4B45C55D4AC69CBD3CD34AC1AFE51DE
_svc    HTTPS 1 . alpn=h2,h3 port=8443
$INCLUDE extra.inc
`;
const EXTRA = `included 60 IN A 192.0.2.200\n4.2.0.192.in-addr.arpa. IN PTR host.example.org.\n`.replace('4.2.0.192.in-addr.arpa.', 'ptr');

let dir = '';
let zonePath = '';
let srv: TestServer;
let knot: Knot;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'file-'));
  zonePath = join(dir, 'db.example.org');
  writeFileSync(zonePath, ZONE);
  writeFileSync(join(dir, 'extra.inc'), EXTRA);
  srv = await startServer(`example.org:0 {\n bind 127.0.0.1\n file ${zonePath} {\n  reload 0\n }\n}`);
  knot = await startKnot(join(dir, 'knot'), [{ origin: 'example.org.', file: zonePath }]);
});
after(async () => {
  await srv?.stop();
  await knot?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const queries: [string, string][] = [
  ['example.org', 'SOA'], ['example.org', 'NS'], ['example.org', 'MX'], ['example.org', 'TXT'], ['example.org', 'CAA'],
  ['example.org', 'A'], ['ns2.example.org', 'AAAA'], ['mail.example.org', 'A'], ['web.example.org', 'A'],
  ['www.example.org', 'A'], ['www.example.org', 'CNAME'], ['chain.example.org', 'A'], ['chain.example.org', 'AAAA'],
  ['outside.example.org', 'A'], ['dangling.example.org', 'A'], ['_http._tcp.example.org', 'SRV'],
  ['x.wild.example.org', 'A'], ['y.z.wild.example.org', 'TXT'], ['x.wild.example.org', 'AAAA'], ['wild.example.org', 'A'],
  ['b.c.example.org', 'A'], ['c.example.org', 'TXT'], ['a.b.c.example.org', 'A'],
  ['nope.example.org', 'A'], ['deep.nope.example.org', 'MX'],
  ['sub.example.org', 'A'], ['host.sub.example.org', 'A'], ['sub.example.org', 'NS'],
  ['secure.example.org', 'DS'], ['_svc.example.org', 'HTTPS'], ['included.example.org', 'A'], ['ptr.example.org', 'PTR'],
  ['WWW.Example.ORG', 'A'],
];

function digLines(r: DigResult, section: 'answer' | 'authority' | 'additional'): string[] {
  return r[section].map((x) => `${x.name.toLowerCase()} ${x.ttl} ${x.class} ${x.type} ${x.data.toLowerCase()}`).sort();
}

describe('file against Knot on the same zone file', () => {
  for (const [name, type] of queries) {
    it(`${name} ${type}`, async () => {
      const [ours, theirs] = await Promise.all([dig(srv.port, '+norec', name, type), dig(knot.port, '+norec', name, type)]);
      assert.equal(ours.status, theirs.status, 'rcode');
      assert.equal(ours.flags.includes('aa'), theirs.flags.includes('aa'), 'AA bit');
      assert.deepEqual(digLines(ours, 'answer'), digLines(theirs, 'answer'), 'answer');
      const negativeOrReferral = ours.answer.length === 0 || ours.status !== 'NOERROR';
      if (negativeOrReferral) {
        assert.deepEqual(digLines(ours, 'authority'), digLines(theirs, 'authority'), 'authority');
        if (!ours.flags.includes('aa')) assert.deepEqual(digLines(ours, 'additional'), digLines(theirs, 'additional'), 'glue');
      }
    });
  }
});

describe('file behaviour', () => {
  const handler = (s: TestServer): FileHandler => s.app.server.generation!.blocks[0]!.handlers.find((h) => h.name === 'file') as FileHandler;

  it('answers positively with the apex NS in authority and their addresses in additional, as CoreDNS', async () => {
    const m = await inject(srv.app, 'web.example.org.', 'A');
    assert.deepEqual(m.authority.map((r) => r.name), ['example.org.', 'example.org.']);
    assert.deepEqual(m.additional.map((r) => r.name).sort(), ['ns1.example.org.', 'ns2.example.org.', 'ns2.example.org.']);
  });

  it('a query in another class gets no IN data', async () => {
    const m = await inject(srv.app, 'web.example.org.', 'A', { qclass: 42 });
    assert.equal(m.answer.length, 0);
    assert.notEqual(m.rcode, Rcode.NOERROR);
  });

  it('reload: a broken file keeps the old zone, a new serial replaces it', async () => {
    const h = handler(srv);
    writeFileSync(zonePath, ZONE.replace('web     A   192.0.2.80', 'web     A   192.0.2.800'));
    h.check();
    assert.equal(h.zone('example.org.')!.serial, 2024010101);
    assert.ok(srv.logs.some((l) => l.includes('[ERROR] plugin/file:') && l.includes('db.example.org:19:')), srv.logs.join('\n'));
    assert.equal((await inject(srv.app, 'web.example.org.', 'A')).answer.length, 2);
    writeFileSync(zonePath, ZONE.replace('2024010101', '2024010102').replace('web     A   192.0.2.80\n        A   192.0.2.81', 'web     A   192.0.2.82'));
    h.check();
    assert.equal(h.zone('example.org.')!.serial, 2024010102);
    assert.equal((await inject(srv.app, 'web.example.org.', 'A')).answer.length, 1);
    writeFileSync(zonePath, ZONE);
  });

  it('fallthrough passes NXDOMAIN on, nothing else', async () => {
    const s = await startServer(`.:0 {\n bind 127.0.0.1\n file ${zonePath} example.org {\n  fallthrough\n }\n whoami\n}`);
    try {
      const passed = await inject(s.app, 'nope.example.org.', 'A');
      assert.equal(passed.rcode, Rcode.NOERROR, 'whoami answered');
      assert.ok(passed.additional.length > 0, 'whoami records');
      assert.equal((await inject(s.app, 'web.example.org.', 'A')).answer.length, 2);
      const nodata = await inject(s.app, 'web.example.org.', 'MX');
      assert.deepEqual([nodata.rcode, nodata.answer.length, nodata.authority[0]?.type], [Rcode.NOERROR, 0, 6], 'NODATA stays with file');
    } finally { await s.stop(); }
  });

  const bad: [string, RegExp][] = [
    ['file', /^Corefile:3: plugin\/file: 'file' takes at least 1 arguments, got 0$/],
    ['file /nonexistent/db', /^Corefile:3: plugin\/file: \/nonexistent\/db: ENOENT/],
    ['file DB {\n  reload soon\n }', /^Corefile:4: plugin\/file: reload 'soon' is not a duration/],
    ['file DB {\n  fallthru\n }', /^Corefile:4: plugin\/file: unknown property 'fallthru'$/],
  ];
  for (const [text, want] of bad) {
    it(`rejects ${text.split('\n')[0]}`, () => assert.match(setupError(`example.org:53 {\n bind 127.0.0.1\n ${text.replace('DB', zonePath)}\n}`), want));
  }
  it('a bad line in the zone file is reported with the zone file and line', () => {
    const badZone = join(dir, 'db.bad');
    writeFileSync(badZone, '$TTL 60\n@ SOA ns h 1 2 3 4 5\nwww A 10.0.0.1.1\n');
    assert.equal(setupError(`example.org:53 {\n file ${badZone}\n}`), `Corefile:2: plugin/file: ${badZone}:3: A www.example.org.: '10.0.0.1.1' is not an IPv4 address`);
    writeFileSync(badZone, '$TTL 60\nwww A 10.0.0.1\n');
    assert.equal(setupError(`example.org:53 {\n file ${badZone}\n}`), `Corefile:2: plugin/file: ${badZone}: zone example.org. needs exactly one SOA record at its apex, found 0`);
  });
});
