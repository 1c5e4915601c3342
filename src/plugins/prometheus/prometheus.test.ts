/**
 * @module plugins/prometheus/prometheus.test
 * The prometheus plugin: its option parser (valid and invalid snippets with
 * exact file:line errors), exact counts after known queries (in-process
 * through the whole chain, and a few with real dig over UDP and TCP),
 * scraped over HTTP and read by a real Prometheus text-format parser
 * (prom2javascript); one
 * listener for blocks naming the same address; nothing resets on reload.
 */
import { test } from 'node:test';
import { setupError } from '../../../test/support/setup-error.ts';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';
import { Class, Type } from '../../dns/constants.ts';
import { encodeQuery } from '../../dns/message.ts';
import { dig, injectRaw, startServer } from '../../../test/support/harness.ts';
import { bucketsOf, scrape, samples, total } from '../../../test/ops/ops-support.ts';

/** Build (no sockets) and return the setup error message, or '' when the Corefile is accepted. */
test('prometheus options: valid and invalid snippets', () => {
  const valid = [
    '. {\n  prometheus\n}',
    '. {\n  prometheus :9153\n}',
    '. {\n  prometheus 127.0.0.1:9153\n}',
    '. {\n  prometheus [::1]:9153\n}',
    '. {\n  prometheus localhost:0\n}',
  ];
  for (const c of valid) assert.equal(setupError(c), '', c);
  const invalid: [string, string][] = [
    ['. {\n  prometheus a:1 b:2\n}', "Corefile:2: plugin/prometheus: 'prometheus' takes 0 to 1 arguments, got 2"],
    ['. {\n  whoami\n  prometheus localhost\n}', "Corefile:3: plugin/prometheus: 'localhost' is not an address with a port (HOST:PORT or :PORT)"],
    ['. {\n  prometheus :99999\n}', "Corefile:2: plugin/prometheus: ':99999' is not an address with a port (HOST:PORT or :PORT)"],
    ['. {\n  prometheus :9153 {\n    tls cert key\n  }\n}', "Corefile:3: plugin/prometheus: unknown property 'tls'"],
    ['. {\n  prometheus\n  prometheus :9154\n}', 'Corefile:3: plugin/prometheus: this plugin can only be used once per server block'],
  ];
  for (const [c, want] of invalid) assert.equal(setupError(c), want, c);
});

const COREFILE = `.:0 {
  bind 127.0.0.1
  prometheus 127.0.0.1:0
  chaos
}
`;

/** Serve raw bytes in-process and return the reply size. */
async function send(app: Parameters<typeof injectRaw>[0], msg: Buffer, opts: Parameters<typeof injectRaw>[2] = {}): Promise<number> {
  const reply = await injectRaw(app, msg, opts);
  assert.ok(reply, 'a reply');
  return reply.length;
}

test('exact counts after known queries, scraped and parsed', async () => {
  const srv = await startServer(COREFILE);
  try {
    const port = srv.app.services.http.port('127.0.0.1:0')!;
    const version = encodeQuery('version.bind.', Type.TXT, { qclass: Class.CH, id: 1 });
    const nothing = encodeQuery('example.org.', Type.A, { id: 2 });
    const odd = encodeQuery('example.org.', 65280, { id: 3, udpSize: 1232, do: true });
    let udpReq = 0, udpResp = 0, tcpReq = 0, tcpResp = 0;
    // 6 TXT (chaos answers; 2 of them over TCP, 1 from an IPv6 client), 3 A (no plugin answers: SERVFAIL), 1 of an unlisted type with DO.
    for (let i = 0; i < 4; i++) { udpResp += await send(srv.app, version); udpReq += version.length; }
    for (let i = 0; i < 2; i++) { tcpResp += await send(srv.app, version, { transport: 'tcp' }); tcpReq += version.length; }
    udpResp += await send(srv.app, nothing, { remoteAddress: '::1' }); udpReq += nothing.length;
    for (let i = 0; i < 2; i++) { udpResp += await send(srv.app, nothing); udpReq += nothing.length; }
    udpResp += await send(srv.app, odd); udpReq += odd.length;
    const m = await scrape(port);
    const zone = { server: 'dns://127.0.0.1:0', zone: '.', view: '' };
    assert.equal(total(m, 'coredns_dns_requests_total'), 10);
    assert.equal(total(m, 'coredns_dns_requests_total', { ...zone, proto: 'udp', family: '1', type: 'TXT' }), 4);
    assert.equal(total(m, 'coredns_dns_requests_total', { ...zone, proto: 'tcp', family: '1', type: 'TXT' }), 2);
    assert.equal(total(m, 'coredns_dns_requests_total', { ...zone, proto: 'udp', family: '2', type: 'A' }), 1);
    assert.equal(total(m, 'coredns_dns_requests_total', { ...zone, proto: 'udp', family: '1', type: 'A' }), 2);
    assert.equal(total(m, 'coredns_dns_requests_total', { ...zone, proto: 'udp', family: '1', type: 'other' }), 1);
    assert.equal(samples(m, 'coredns_dns_requests_total').length, 5, 'only label sets that counted something');

    assert.equal(total(m, 'coredns_dns_responses_total', { ...zone, rcode: 'NOERROR', plugin: 'chaos' }), 6);
    assert.equal(total(m, 'coredns_dns_responses_total', { ...zone, rcode: 'SERVFAIL', plugin: '' }), 4);
    assert.equal(total(m, 'coredns_dns_responses_total'), 10);
    assert.equal(total(m, 'coredns_dns_do_requests_total', zone), 1);

    const [duration] = samples(m, 'coredns_dns_request_duration_seconds', zone);
    assert.ok(duration);
    assert.equal(duration.count, 10);
    const d = bucketsOf(duration);
    assert.deepEqual(d.bounds, [
      '0.00025', '0.0005', '0.001', '0.002', '0.004', '0.008', '0.016', '0.032', '0.064', '0.128', '0.256', '0.512', '1.024', '2.048', '4.096', '8.192', '+Inf',
    ]);
    for (let i = 1; i < d.counts.length; i++) assert.ok(d.counts[i]! >= d.counts[i - 1]!, 'buckets are cumulative');
    assert.equal(d.counts.at(-1), 10);
    assert.ok(duration.sum! > 0);

    const [reqUdp] = samples(m, 'coredns_dns_request_size_bytes', { ...zone, proto: 'udp' });
    const [reqTcp] = samples(m, 'coredns_dns_request_size_bytes', { ...zone, proto: 'tcp' });
    assert.equal(reqUdp!.count, 8);
    assert.equal(reqUdp!.sum, udpReq);
    assert.equal(reqTcp!.count, 2);
    assert.equal(reqTcp!.sum, tcpReq);
    assert.deepEqual(bucketsOf(reqUdp!).bounds, ['0', '100', '200', '300', '400', '511', '1023', '2047', '4095', '8291', '16000', '32000', '48000', '64000', '+Inf']);
    // Every query here is 29..51 bytes: all in the le="100" bucket, none in le="0".
    assert.equal(reqUdp!.buckets!['0'], 0);
    assert.equal(reqUdp!.buckets!['100'], 8);
    const [respUdp] = samples(m, 'coredns_dns_response_size_bytes', { ...zone, proto: 'udp' });
    const [respTcp] = samples(m, 'coredns_dns_response_size_bytes', { ...zone, proto: 'tcp' });
    assert.equal(respUdp!.sum, udpResp);
    assert.equal(respTcp!.sum, tcpResp);

    const enabled = samples(m, 'coredns_plugin_enabled').map((s) => `${s.labels.server} ${s.labels.zone} ${s.labels.view} ${s.labels.name}=${s.value}`).sort();
    assert.deepEqual(enabled, ['dns://127.0.0.1:0 .  chaos=1', 'dns://127.0.0.1:0 .  prometheus=1']);
    const [build] = samples(m, 'coredns_build_info');
    assert.equal(build!.labels.goversion, process.version);
    assert.equal(total(m, 'coredns_panics_total'), 0);
    for (const name of ['process_cpu_user_seconds_total', 'process_resident_memory_bytes', 'nodejs_eventloop_lag_seconds', 'nodejs_heap_size_used_bytes']) {
      assert.ok(m.has(name), `${name} (Node.js process/runtime metrics)`);
    }
  } finally {
    await srv.stop();
  }
});

test('real dig over UDP and TCP is counted by proto', async () => {
  const srv = await startServer(COREFILE);
  try {
    const port = srv.app.services.http.port('127.0.0.1:0')!;
    for (let i = 0; i < 3; i++) assert.equal((await dig(srv.port, 'CH', 'TXT', 'version.bind')).status, 'NOERROR');
    assert.equal((await dig(srv.port, '+tcp', 'CH', 'TXT', 'version.bind')).status, 'NOERROR');
    const m = await scrape(port);
    const zone = { server: 'dns://127.0.0.1:0', zone: '.', view: '' };
    assert.equal(total(m, 'coredns_dns_requests_total', { ...zone, proto: 'udp', type: 'TXT' }), 3);
    assert.equal(total(m, 'coredns_dns_requests_total', { ...zone, proto: 'tcp', type: 'TXT' }), 1);
    // dig sends EDNS without DO: no do_requests series yet.
    assert.equal(samples(m, 'coredns_dns_do_requests_total').length, 0);
    assert.equal((await dig(srv.port, '+dnssec', 'CH', 'TXT', 'version.bind')).status, 'NOERROR');
    assert.equal(total(await scrape(port), 'coredns_dns_do_requests_total', zone), 1);
  } finally {
    await srv.stop();
  }
});

test('blocks naming the same address share one listener; each block counts its zone', async () => {
  const srv = await startServer(`.:0 {
  bind 127.0.0.1
  prometheus 127.0.0.1:0
  chaos
}
example.org:0 {
  bind 127.0.0.1
  prometheus 127.0.0.1:0
  whoami
}
`);
  try {
    const port = srv.app.services.http.port('127.0.0.1:0')!;
    await send(srv.app, encodeQuery('www.example.org.', Type.A, { id: 7 }));
    await send(srv.app, encodeQuery('version.bind.', Type.TXT, { id: 8, qclass: Class.CH }));
    const m = await scrape(port);
    assert.equal(total(m, 'coredns_dns_responses_total', { zone: 'example.org.', plugin: 'whoami', rcode: 'NOERROR' }), 1);
    assert.equal(total(m, 'coredns_dns_responses_total', { zone: '.', plugin: 'chaos', rcode: 'NOERROR' }), 1);
    assert.equal(total(m, 'coredns_plugin_enabled', { zone: 'example.org.', name: 'whoami' }), 1);
  } finally {
    await srv.stop();
  }
});

test('counters survive reloads, /metrics keeps its listener, and a failed reload leaves it serving', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'clusterdns-prom-'));
  const busy = createServer();
  try {
    const file = join(dir, 'Corefile');
    writeFileSync(file, COREFILE);
    const srv = await startServer('', { path: file });
    try {
      const port = srv.app.services.http.port('127.0.0.1:0')!;
      const q = encodeQuery('version.bind.', Type.TXT, { qclass: Class.CH, id: 1 });
      for (let i = 0; i < 3; i++) await send(srv.app, q);
      writeFileSync(file, COREFILE.replace('chaos', 'chaos\n  whoami'));
      assert.equal(await srv.app.reload(), true);
      await send(srv.app, q);
      let m = await scrape(port);
      assert.equal(total(m, 'coredns_dns_requests_total', { type: 'TXT' }), 4, 'not reset by the reload');
      assert.equal(total(m, 'coredns_plugin_enabled', { name: 'whoami' }), 1, 'the new block is listed');

      // A new configuration that cannot open its metrics address: the reload fails, the old /metrics stays.
      await new Promise<void>((r) => { busy.listen(0, '127.0.0.1', () => r()); });
      const busyPort = (busy.address() as { port: number }).port;
      writeFileSync(file, `.:0 {\n  bind 127.0.0.1\n  prometheus 127.0.0.1:${busyPort}\n  chaos\n}\n`);
      await assert.rejects(srv.app.reload(), /EADDRINUSE/);
      m = await scrape(port);
      assert.equal(total(m, 'coredns_dns_requests_total', { type: 'TXT' }), 4);
      assert.equal(total(m, 'coredns_plugin_enabled', { name: 'whoami' }), 1, 'the old configuration is still the listed one');

      // Same metrics address, but the DNS port is taken: the new /metrics route was mounted, then removed again; the old one answers.
      const udp = createSocket('udp4');
      await new Promise<void>((r) => { udp.bind(0, '127.0.0.1', () => r()); });
      try {
        writeFileSync(file, `.:${udp.address().port} {\n  bind 127.0.0.1\n  prometheus 127.0.0.1:0\n  chaos\n}\n`);
        await assert.rejects(srv.app.reload(), /EADDRINUSE/);
      } finally {
        udp.close();
      }
      m = await scrape(port);
      assert.equal(total(m, 'coredns_dns_requests_total', { type: 'TXT' }), 4);
      await send(srv.app, q);
      assert.equal(total(await scrape(port), 'coredns_dns_requests_total', { type: 'TXT' }), 5, 'the old configuration still counts');
    } finally {
      await srv.stop();
    }
  } finally {
    busy.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
