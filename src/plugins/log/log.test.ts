/**
 * @module plugins/log/log.test
 * log: the option parser table; the common log format line exactly as
 * CoreDNS prints it (IPv4 and IPv6 clients, UDP/TCP bufsize, TC flag from
 * the written reply, {combined}, custom formats); NAMES and classes (one
 * rule list per block, first matching name decides); CoreDNS's response
 * classification; JSON records; and a line for a real dig query.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Class, Rcode, Type } from '../../dns/constants.ts';
import { DnsRequest } from '../../dns/request.ts';
import { Reply } from '../../dns/reply.ts';
import { rdata, rr, rrs } from '../../dns/rr.ts';
import { dig, inject } from '../../../test/support/harness.ts';
import { eventually, setupError, startTestServer } from '../../../test/server/helpers/server.ts';
import { classify } from './log.ts';

const options: [corefile: string, error: string | null][] = [
  ['. {\n log\n}', null],
  ['. {\n log example.org\n}', null],
  ['. {\n log example.org example.net {combined}\n}', null],
  ['. {\n log . "{proto} Request: {name} {type} {>id}"\n}', null],
  ['. {\n log . {\n  class denial error\n  class success\n }\n}', null],
  ['. {\n log {\n  class all\n }\n log example.org\n}', null],
  ['. {\n log {\n  class\n }\n}', "Corefile:3: plugin/log: 'class' takes at least 1 arguments, got 0"],
  ['. {\n log {\n  class denial nonsense\n }\n}', "Corefile:3: plugin/log: invalid class 'nonsense': want success, denial, error or all"],
  ['. {\n log {\n  format x\n }\n}', "Corefile:3: plugin/log: unknown property 'format'"],
];
for (const [corefile, error] of options) {
  test(`options: ${JSON.stringify(corefile)} -> ${error ?? 'ok'}`, () => {
    assert.equal(setupError(corefile), error);
  });
}

const DURATION = String.raw`\d+(\.\d{1,9})?s`;

test('common log format, IPv4 client over UDP without EDNS', async () => {
  const s = await startTestServer('.:0 {\n bind 127.0.0.1\n log\n whoami\n}\n');
  try {
    await inject(s.app, 'Who.Example.org.', 'A', { id: 4242 });
    assert.equal(s.logs.length, 1);
    assert.match(s.logs[0]!, new RegExp(`^\\[INFO\\] 127\\.0\\.0\\.1:53000 - 4242 "A IN who\\.example\\.org\\. udp 33 false 512" NOERROR qr,aa,rd 73 ${DURATION}$`));
  } finally {
    await s.stop();
  }
});

test('IPv6 client in brackets; TCP reports bufsize 65535; EDNS DO and size reported', async () => {
  const s = await startTestServer('.:0 {\n bind 127.0.0.1\n log\n whoami\n}\n');
  try {
    await inject(s.app, 'v6.example.', 'AAAA', { remoteAddress: '2001:db8::7', transport: 'tcp', id: 1 });
    await inject(s.app, 'v4.example.', 'A', { udpSize: 4096, do: true, cd: true, rd: false, id: 2 });
    assert.match(s.logs[0]!, /^\[INFO\] \[2001:db8::7\]:53000 - 1 "AAAA IN v6\.example\. tcp \d+ false 65535" NOERROR qr,aa,rd \d+ /);
    assert.match(s.logs[1]!, /^\[INFO\] 127\.0\.0\.1:53000 - 2 "A IN v4\.example\. udp \d+ true 4096" NOERROR qr,aa,cd \d+ /);
  } finally {
    await s.stop();
  }
});

test('{>rflags} comes from the reply as written: tc when it was truncated', async () => {
  const s = await startTestServer('.:0 {\n bind 127.0.0.1\n log\n many_a 100\n}\n');
  try {
    await inject(s.app, 'big.example.', 'A', { id: 3 });
    await inject(s.app, 'big.example.', 'A', { id: 4, transport: 'tcp' });
    assert.match(s.logs[0]!, /" NOERROR qr,aa,tc,rd 509 /);
    assert.match(s.logs[1]!, /" NOERROR qr,aa,rd 1629 /);
  } finally {
    await s.stop();
  }
});

test('{combined} adds the opcode; custom formats keep unknown placeholders and print - for metadata', async () => {
  const s = await startTestServer('.:0 {\n bind 127.0.0.1\n log a.test {combined}\n log b.test "{proto} Request: {name} {type} {>id} {local} {nope} {/kubernetes/namespace} {{class}}"\n whoami\n}\n');
  try {
    await inject(s.app, 'x.a.test.', 'A', { id: 5 });
    await inject(s.app, 'x.b.test.', 'TXT', { id: 6, qclass: Class.CH });
    assert.match(s.logs[0]!, /^\[INFO\] 127\.0\.0\.1:53000 - 5 "A IN x\.a\.test\. udp \d+ false 512" NOERROR qr,aa,rd \d+ [\d.]+s "0"$/);
    assert.equal(s.logs[1], '[INFO] udp Request: x.b.test. TXT 6 127.0.0.1 {nope} - {CH}');
  } finally {
    await s.stop();
  }
});

test('NAMES: only queries under them are logged', async () => {
  const s = await startTestServer('.:0 {\n bind 127.0.0.1\n log example.org example.net\n whoami\n}\n');
  try {
    for (const n of ['a.example.org.', 'example.net.', 'example.com.', 'notexample.org.']) await inject(s.app, n, 'A');
    assert.deepEqual(s.logs.map((l) => /"A IN (\S+)/.exec(l)?.[1]), ['a.example.org.', 'example.net.']);
  } finally {
    await s.stop();
  }
});

test('classes: only the chosen classes are logged', async () => {
  const s = await startTestServer([
    'ok.test:0 {\n bind 127.0.0.1\n log {\n  class error\n }\n whoami\n}',
    'bad.test:0 {\n bind 127.0.0.1\n log {\n  class denial\n  class error\n }\n fail_with reply broken\n}',
  ].join('\n'));
  try {
    await inject(s.app, 'x.ok.test.', 'A');
    await inject(s.app, 'x.bad.test.', 'A');
    assert.equal(s.logs.length, 1);
    assert.match(s.logs[0]!, /"A IN x\.bad\.test\. udp \d+ false 512" SERVFAIL qr,rd /);
  } finally {
    await s.stop();
  }
});

test('several log lines: the first whose name matches decides, even when its class then filters the query out', async () => {
  const s = await startTestServer('.:0 {\n bind 127.0.0.1\n log quiet.test {\n  class error\n }\n log .\n whoami\n}\n');
  try {
    await inject(s.app, 'a.quiet.test.', 'A');
    await inject(s.app, 'a.loud.test.', 'A');
    assert.equal(s.logs.length, 1);
    assert.match(s.logs[0]!, /a\.loud\.test\./);
  } finally {
    await s.stop();
  }
});

test('classify follows CoreDNS: success, denial (NXDOMAIN/NODATA with SOA), error', () => {
  const req = DnsRequest.synthetic('x.example.', Type.A, null);
  const axfr = DnsRequest.synthetic('example.', Type.AXFR, null);
  const soa = rr('example.', Type.SOA, 5, rdata.soa('ns.example.', 'h.example.', 1, 2, 3, 4, 5));
  const ns = rrs.ns('x.example.', 5, 'ns.other.');
  const cases: [Reply, DnsRequest, string][] = [
    [new Reply({ answer: [rrs.a('x.example.', 5, '10.0.0.1')] }), req, 'success'],
    [new Reply({}), req, 'success'],
    [new Reply({ authority: [ns] }), req, 'success'],
    [new Reply({ authority: [soa] }), req, 'denial'],
    [new Reply({ rcode: Rcode.NXDOMAIN, authority: [soa] }), req, 'denial'],
    [new Reply({ rcode: Rcode.NXDOMAIN }), req, 'error'],
    [Reply.error(Rcode.SERVFAIL), req, 'error'],
    [Reply.error(Rcode.REFUSED), req, 'error'],
    [new Reply({ answer: [soa] }), axfr, 'error'],
  ];
  for (const [reply, r, want] of cases) assert.equal(classify(reply, r), want, JSON.stringify({ rcode: reply.rcode, an: reply.answer.length, ns: reply.authority.length }));
});

test('JSON log mode: one record per query with the fields as values', async () => {
  const s = await startTestServer('.:0 {\n bind 127.0.0.1\n log\n log json.test "{name} custom"\n whoami\n}\n', { format: 'json' });
  try {
    await inject(s.app, 'rec.example.', 'A', { id: 8 });
    const rec = JSON.parse(s.logs[0]!) as Record<string, unknown>;
    assert.equal(rec.level, 30);
    assert.equal(rec.plugin, 'log');
    assert.deepEqual(
      { remote: rec.remote, port: rec.port, id: rec.id, type: rec.type, class: rec.class, name: rec.name, proto: rec.proto, do: rec.do, bufsize: rec.bufsize, rcode: rec.rcode, rflags: rec.rflags },
      { remote: '127.0.0.1', port: 53000, id: 8, type: 'A', class: 'IN', name: 'rec.example.', proto: 'udp', do: false, bufsize: 512, rcode: 'NOERROR', rflags: 'qr,aa,rd' },
    );
    assert.equal(typeof rec.duration, 'number');
    assert.equal(typeof rec.rsize, 'number');
    assert.equal(rec.line, undefined, 'the common format needs no line');
  } finally {
    await s.stop();
  }
});

test('a real dig query is logged with its port and EDNS size', async () => {
  const s = await startTestServer('.:0 {\n bind 127.0.0.1\n log\n whoami\n}\n');
  try {
    const r = await dig(s.port, '+bufsize=1400', 'Dig.Example');
    const port = /^0 0 (\d+) \.$/.exec(r.additional[1]!.data)![1];
    assert.ok(await eventually(() => s.logs.length === 1));
    assert.match(s.logs[0]!, new RegExp(`^\\[INFO\\] 127\\.0\\.0\\.1:${port} - \\d+ "A IN dig\\.example\\. udp \\d+ false 1400" NOERROR qr,aa,rd \\d+ ${DURATION}$`));
  } finally {
    await s.stop();
  }
});
