/**
 * @module test/ops/query-log.test
 * The query log as an operator reads it: exact line shapes for known
 * queries in text mode (CoreDNS's common log format, through real dig over
 * UDP and TCP) and the same queries as JSON records in JSON mode; and no
 * query log at all without a `log` line.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Class, Type } from '../../src/dns/constants.ts';
import { dig, inject, startServer } from '../support/harness.ts';

const COREFILE = '.:0 {\n  bind 127.0.0.1\n  log\n  chaos log-test\n}\n';

test('text mode: CoreDNS common log format lines for known queries', async () => {
  const srv = await startServer(COREFILE);
  try {
    // Sizes: a 30-byte question; dig adds EDNS (11) and a cookie option (12) unless told +noedns.
    await dig(srv.port, '+noedns', 'CH', 'TXT', 'version.bind');
    await dig(srv.port, '+tcp', '+norec', 'CH', 'TXT', 'VERSION.bind');
    await dig(srv.port, 'example.org', 'A');
    const lines = srv.logs.filter((l) => l.includes(' - '));
    assert.equal(lines.length, 3, srv.logs.join('\n'));
    const seconds = String.raw`\d+(\.\d+)?s`;
    assert.match(lines[0]!, new RegExp(String.raw`^\[INFO\] 127\.0\.0\.1:\d+ - \d+ "TXT CH version\.bind\. udp 30 false 512" NOERROR qr,aa,rd 51 ${seconds}$`));
    assert.match(lines[1]!, new RegExp(String.raw`^\[INFO\] 127\.0\.0\.1:\d+ - \d+ "TXT CH version\.bind\. tcp 53 false 65535" NOERROR qr,aa 62 ${seconds}$`));
    assert.match(lines[2]!, new RegExp(String.raw`^\[INFO\] 127\.0\.0\.1:\d+ - \d+ "A IN example\.org\. udp 52 false 1232" SERVFAIL qr,rd 40 ${seconds}$`));
  } finally {
    await srv.stop();
  }
});

test('JSON mode: one record per query with the same fields as values', async () => {
  const srv = await startServer(COREFILE, { format: 'json' });
  const { app, logs } = srv;
  try {
    await inject(app, 'version.bind.', Type.TXT, { qclass: Class.CH, id: 77 });
    await inject(app, 'example.org.', 'A', { id: 78, udpSize: 4096, do: true, transport: 'tcp', remoteAddress: '::1' });
    const records = logs.map((l) => JSON.parse(l) as Record<string, unknown>).filter((r) => r.plugin === 'log');
    assert.equal(records.length, 2, logs.join('\n'));
    for (const r of records) {
      assert.equal(typeof r.time, 'number');
      assert.equal(typeof r.duration, 'number');
      assert.ok((r.duration as number) >= 0 && (r.duration as number) < 10);
      delete r.time;
      delete r.duration;
    }
    assert.deepEqual(records[0], {
      level: 30, plugin: 'log', remote: '127.0.0.1', port: 53000, id: 77, type: 'TXT', class: 'CH', name: 'version.bind.',
      proto: 'udp', size: 30, do: false, bufsize: 512, rcode: 'NOERROR', rflags: 'qr,aa,rd', rsize: 51,
    });
    assert.deepEqual(records[1], {
      level: 30, plugin: 'log', remote: '::1', port: 53000, id: 78, type: 'A', class: 'IN', name: 'example.org.',
      proto: 'tcp', size: 40, do: true, bufsize: 65535, rcode: 'SERVFAIL', rflags: 'qr,rd', rsize: 40,
    });
  } finally {
    await srv.stop(1000);
  }
});

test('without a log line no query is logged', async () => {
  const srv = await startServer('.:0 {\n  bind 127.0.0.1\n  chaos\n}\n');
  try {
    await inject(srv.app, 'version.bind.', Type.TXT, { qclass: Class.CH });
    assert.deepEqual(srv.app.server.generation!.blocks[0]!.observers, []);
    assert.deepEqual(srv.logs, []);
  } finally {
    await srv.stop();
  }
});
