/**
 * @module test/server/routing.test
 * Which server block answers: several blocks on one port, the longest
 * matching zone wins, names match case-insensitively, a zone no block serves
 * gets REFUSED; answers echo the question's case byte for byte; and within a
 * block the fixed plugin order decides, not the Corefile order.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { decodeMessage } from '../../src/dns/message.ts';
import { Class, Flag, Rcode, Type } from '../../src/dns/constants.ts';
import { routeFor } from '../../src/server/serve.ts';
import { dig, inject, runClient } from '../support/harness.ts';
import { query } from './helpers/wire.ts';
import { startTestServer, type StartedServer } from './helpers/server.ts';
import { UdpClient } from '../support/udp-client.ts';
import { lazyRequest } from '../support/plain-names.ts';

let server: StartedServer;

// Three blocks on one port: whoami for example.org, 3 A records below sub.example.org, 5 for deep.sub.example.org.
const COREFILE = `
example.org:0 {
  bind 127.0.0.1
  whoami
}
sub.example.org:0 {
  bind 127.0.0.1
  many_a 3
}
deep.sub.example.org:0 another.test:0 {
  bind 127.0.0.1
  many_a 5
}
`;

before(async () => {
  server = await startTestServer(COREFILE);
});
after(async () => {
  await server.stop();
});

const routing: [name: string, answers: number | 'whoami' | 'refused'][] = [
  ['example.org.', 'whoami'],
  ['www.example.org.', 'whoami'],
  ['sub.example.org.', 3],
  ['a.sub.example.org.', 3],
  ['xdeep.sub.example.org.', 3],
  ['deep.sub.example.org.', 5],
  ['a.b.deep.sub.example.org.', 5],
  ['another.test.', 5],
  ['x.another.test.', 5],
  ['DEEP.Sub.EXAMPLE.org.', 5],
  ['example.com.', 'refused'],
  ['org.', 'refused'],
  ['test.', 'refused'],
  ['.', 'refused'],
  ['notexample.org.', 'refused'],
];

for (const [name, want] of routing) {
  test(`${name} -> ${want === 'whoami' ? 'example.org block' : want === 'refused' ? 'REFUSED' : `block with ${want} records`}`, async () => {
    const m = await inject(server.app, name, 'A');
    if (want === 'refused') {
      assert.equal(m.rcode, Rcode.REFUSED);
      assert.equal(m.answer.length + m.additional.length, 0);
    } else if (want === 'whoami') {
      assert.equal(m.rcode, Rcode.NOERROR);
      assert.equal(m.additional.length, 2);
    } else {
      assert.equal(m.rcode, Rcode.NOERROR);
      assert.equal(m.answer.length, want);
    }
  });
}

test('routeFor picks the longest zone from routes sorted longest first', () => {
  const gen = server.app.server.generation!;
  const routes = gen.listeners[0]!.routes;
  assert.deepEqual(routes.map((r) => r.zone), ['deep.sub.example.org.', 'sub.example.org.', 'another.test.', 'example.org.']);
  // As the server parses (the name matched on the wire, its text not built) and with the text built: the same routes.
  for (const lazy of [true, false]) {
    const zoneOf = (name: string): string | null => {
      const req = lazyRequest(name);
      if (!lazy) void req.qname; // the text built: matched by it
      assert.equal(req.nameHash >= 0, lazy, `${name}: matched in place only while its text is not built`);
      return routeFor(routes, req)?.zone ?? null;
    };
    assert.equal(zoneOf('a.deep.sub.example.org.'), 'deep.sub.example.org.');
    assert.equal(zoneOf('A.Deep.SUB.Example.ORG.'), 'deep.sub.example.org.', 'any case');
    assert.equal(zoneOf('deep.sub.example.org.'), 'deep.sub.example.org.', 'the zone itself');
    assert.equal(zoneOf('xdeep.sub.example.org.'), 'sub.example.org.', 'a zone matches whole labels only');
    assert.equal(zoneOf('org.'), null, 'a name above every zone');
    assert.equal(zoneOf('nope.'), null);
  }
});

test('dig: REFUSED for a zone no block serves, over UDP and TCP', async () => {
  for (const transport of ['+notcp', '+tcp']) {
    const r = await dig(server.port, transport, 'example.com', 'A');
    assert.equal(r.status, 'REFUSED', r.raw);
    assert.equal(r.answer.length, 0);
  }
});

test('kdig: REFUSED for a zone no block serves; the longest zone over TCP', async () => {
  const refused = JSON.parse(await runClient('kdig', server.port, ['+json', 'www.example.com', 'A'])) as { RCODE: number };
  assert.equal(refused.RCODE, Rcode.REFUSED);
  const deep = JSON.parse(await runClient('kdig', server.port, ['+json', '+tcp', 'x.deep.sub.example.org', 'A'])) as { ANCOUNT: number };
  assert.equal(deep.ANCOUNT, 5);
});

test('dig: the answer echoes the question case (WhoAmI.ExAmPlE.org)', async () => {
  const r = await dig(server.port, 'WhoAmI.ExAmPlE.org', 'A');
  assert.equal(r.status, 'NOERROR');
  assert.match(r.raw, /;WhoAmI\.ExAmPlE\.org\.\s+IN\s+A/);
  assert.deepEqual(r.additional.map((a) => a.name), ['WhoAmI.ExAmPlE.org.', '_udp.WhoAmI.ExAmPlE.org.']);
  const sub = await dig(server.port, '+tcp', 'WWW.Sub.Example.ORG', 'A');
  assert.deepEqual(sub.answer.map((a) => a.name), ['WWW.Sub.Example.ORG.', 'WWW.Sub.Example.ORG.', 'WWW.Sub.Example.ORG.']);
});

test('raw: the question section is copied byte for byte, whatever its case', async () => {
  const c = await UdpClient.open(server.port);
  try {
    // The same name in three cases, one after another: one name to the server, and each reply still carries its
    // own question's case (the server must not echo a case it saw before for that name).
    for (const [i, name] of ['mixed.deep.sub.example.org.', 'mIxEd.DeEp.SuB.eXaMpLe.OrG.', 'MIXED.DEEP.SUB.EXAMPLE.ORG.'].entries()) {
      const q = query(name, Type.A, { id: 5 + i });
      const r = await c.exchange(q);
      assert.ok(r);
      assert.deepEqual(r.subarray(12, q.length), q.subarray(12), `question identical: ${name}`);
      const m = decodeMessage(r);
      assert.equal(m.answer.length, 5);
      // decodeMessage lower-cases; the raw owner is a pointer to the question, so it reads back in its case.
      assert.equal(r.readUInt16BE(q.length), 0xc00c);
    }
  } finally {
    await c.close();
  }
});

test('plugin order is fixed: chaos answers CH TXT before whoami although the Corefile lists whoami first', async () => {
  const s = await startTestServer('.:0 {\n bind 127.0.0.1\n whoami\n chaos MyVersion\n}\n');
  try {
    const ch = await inject(s.app, 'version.bind.', 'TXT', { qclass: Class.CH });
    assert.equal(ch.answer.length, 1);
    assert.equal(Buffer.from(ch.answer[0]!.data).subarray(1).toString(), 'MyVersion');
    const chain = s.app.server.generation!.blocks[0]!.handlers.map((h) => h.name);
    assert.deepEqual(chain, ['chaos', 'whoami']);
    const r = await dig(s.port, 'CH', 'TXT', 'version.bind');
    assert.match(r.raw, /"MyVersion"/);
  } finally {
    await s.stop();
  }
});

test('a block whose chain nobody answers returns SERVFAIL (no next plugin)', async () => {
  const s = await startTestServer('.:0 {\n bind 127.0.0.1\n chaos\n}\n');
  try {
    const m = await inject(s.app, 'example.org.', 'A');
    assert.equal(m.rcode, Rcode.SERVFAIL);
    assert.ok(m.flags & Flag.QR);
  } finally {
    await s.stop();
  }
});
