/**
 * @module plugins/bind/bind.test
 * bind: the option parser table (addresses, interface names, except,
 * several lines adding up) with the addresses each snippet ends up with; and
 * real listeners on 127.0.0.1, 127.0.0.2 and ::1 answering dig and kdig
 * only where they are bound.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { networkInterfaces } from 'node:os';
import { buildGeneration, setupError, startTestServer } from '../../../test/server/helpers/server.ts';
import { parseDig } from '../../../test/support/harness.ts';

/** lo's addresses as bind sees them (IPv6 link-local left out). */
const lo = (networkInterfaces().lo ?? []).map((i) => i.address).filter((a) => !a.startsWith('fe80'));

const valid: [corefile: string, addresses: string[]][] = [
  ['. {\n bind 127.0.0.1\n}', ['127.0.0.1']],
  ['. {\n bind 1.2.3.4 ::5\n}', ['1.2.3.4', '::5']],
  ['. {\n bind ::1 1.2.3.4 ::5 127.9.9.0\n}', ['::1', '1.2.3.4', '::5', '127.9.9.0']],
  ['. {\n bind 0:0:0:0:0:0:0:1 127.0.0.1 ::1\n}', ['::1', '127.0.0.1']],
  ['. {\n bind 1.2.3.4 lo\n}', ['1.2.3.4', ...lo]],
  ['. {\n bind lo {\n  except 127.0.0.1\n }\n}', lo.filter((a) => a !== '127.0.0.1')],
  ['. {\n bind 127.0.0.1 ::1 {\n  except ::1\n }\n bind ::1\n}', ['127.0.0.1', '::1']],
  ['. {\n bind 127.0.0.1\n bind 127.0.0.2\n}', ['127.0.0.1', '127.0.0.2']],
];
for (const [corefile, addresses] of valid) {
  test(`addresses: ${JSON.stringify(corefile)} -> ${addresses.join(' ')}`, () => {
    assert.deepEqual(buildGeneration(corefile).blocks[0]!.bindAddresses, addresses);
  });
}

const invalid: [corefile: string, error: string][] = [
  ['. {\n bind\n}', 'Corefile:2: plugin/bind: at least one address or interface name is expected'],
  ['. {\n bind 1.2.3.invalid\n}', "Corefile:2: plugin/bind: not a valid IP address or interface name: '1.2.3.invalid'"],
  ['. {\n bind ::1 1.2.3.4 noone\n}', "Corefile:2: plugin/bind: not a valid IP address or interface name: 'noone'"],
  ['. {\n bind 1.2.3.4 {\n  except\n }\n}', "Corefile:3: plugin/bind: 'except' takes at least 1 arguments, got 0"],
  ['. {\n bind 1.2.3.4 {\n  except 1.2.3.999\n }\n}', "Corefile:3: plugin/bind: not a valid IP address or interface name: '1.2.3.999'"],
  ['. {\n bind ::1 {\n  unknown ::1\n }\n}', "Corefile:3: plugin/bind: unknown property 'unknown'"],
  ['. {\n bind 127.0.0.1 {\n  except 127.0.0.1\n }\n}', 'Corefile:2: plugin/bind: no address left to listen on'],
  ['. {\n bind 127.0.0.3\n bind 127.0.0.1 lo {\n  except lo\n }\n}', 'Corefile:3: plugin/bind: no address left to listen on'],
];
for (const [corefile, error] of invalid) {
  test(`options: ${JSON.stringify(corefile)} -> ${error}`, () => {
    assert.equal(setupError(corefile), error);
  });
}

function digAt(address: string, port: number, ...args: string[]): Promise<ReturnType<typeof parseDig>> {
  return new Promise((resolve, reject) => {
    execFile('dig', [`@${address}`, '-p', String(port), '+time=2', '+tries=1', ...args], { timeout: 10_000 }, (err, stdout) => {
      if (err && !stdout) reject(err);
      else resolve(parseDig(stdout));
    });
  });
}

function kdigAt(address: string, port: number, ...args: string[]): Promise<{ RCODE: number; additionalRRs: { rdataA?: string; rdataAAAA?: string }[] }> {
  return new Promise((resolve, reject) => {
    execFile('kdig', [`@${address}`, '-p', String(port), '+timeout=2', '+retry=0', '+json', ...args], { timeout: 10_000 }, (err, stdout) => {
      if (err && !stdout) reject(err);
      else resolve(JSON.parse(stdout) as { RCODE: number; additionalRRs: { rdataA?: string }[] });
    });
  });
}

test('one listener per bound address; each answers there, with the client address it sees', async () => {
  const s = await startTestServer('.:0 {\n bind 127.0.0.1 127.0.0.2\n bind ::1\n whoami\n}\n');
  try {
    const ports = s.app.server.boundPorts();
    assert.deepEqual(ports.map((p) => p.address), ['127.0.0.1', '127.0.0.2', '::1']);
    for (const { address, port } of ports) {
      const r = await digAt(address, port, 'bound.example');
      assert.equal(r.status, 'NOERROR', `${address}: ${r.raw}`);
      assert.equal(r.additional[0]!.data, address === '::1' ? '::1' : '127.0.0.1');
      const k = await kdigAt(address, port, '+tcp', 'bound.example');
      assert.equal(k.RCODE, 0);
    }
  } finally {
    await s.stop();
  }
});

test('blocks on one port bound to different addresses serve different zones', async () => {
  const s = await startTestServer('a.test:0 {\n bind 127.0.0.1\n whoami\n}\nb.test:0 {\n bind 127.0.0.2\n many_a 2\n}\n');
  try {
    const [one, two] = s.app.server.boundPorts();
    assert.equal((await digAt('127.0.0.1', one!.port, 'x.a.test')).status, 'NOERROR');
    assert.equal((await digAt('127.0.0.1', one!.port, 'x.b.test')).status, 'REFUSED', 'b.test is not served on 127.0.0.1');
    const b = await digAt('127.0.0.2', two!.port, 'x.b.test');
    assert.equal(b.answer.length, 2);
    assert.equal((await digAt('127.0.0.2', two!.port, 'x.a.test')).status, 'REFUSED');
  } finally {
    await s.stop();
  }
});
