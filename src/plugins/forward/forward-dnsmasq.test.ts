/**
 * @module plugins/forward/forward-dnsmasq.test
 * forward against a real upstream: Debian's dnsmasq on 127.0.0.1 and a free
 * port, over UDP and TCP, reached directly and through a resolv.conf-style
 * file whose first nameserver is dead.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Rcode } from '../../dns/constants.ts';
import { dig, inject, runClient, startServer } from '../../../test/support/harness.ts';
import { startDnsmasq, type Dnsmasq } from '../../../test/support/dnsmasq.ts';
import { deadPort } from '../../../test/support/ports.ts';
import type { Forward } from './forward.ts';


let dnsmasq: Dnsmasq;
let dir = '';
before(async () => {
  dnsmasq = await startDnsmasq([
    '--address=/ext.example/192.0.2.10', '--address=/ext.example/2001:db8::10', '--address=/nx.example/', '--local-ttl=300',
  ]);
  dir = mkdtempSync(join(tmpdir(), 'forward-dnsmasq-'));
});
after(async () => {
  await dnsmasq.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('forward to dnsmasq', () => {
  it('answers A, AAAA and NXDOMAIN from the real upstream, over UDP and forced TCP', async () => {
    for (const opts of ['', ' {\n force_tcp\n}']) {
      const s = await startServer(`.:0 {\n bind 127.0.0.1\n forward . ${dnsmasq.address}${opts}\n}\n`);
      try {
        const a = await dig(s.port, 'www.ext.example', 'A');
        assert.equal(a.status, 'NOERROR');
        assert.deepEqual(a.answer.map((r) => [r.data, r.ttl]), [['192.0.2.10', 300]]);
        const aaaa = await dig(s.port, 'www.ext.example', 'AAAA');
        assert.deepEqual(aaaa.answer.map((r) => r.data), ['2001:db8::10']);
        const nx = await inject(s.app, 'host.nx.example', 'A');
        assert.equal(nx.rcode, Rcode.NXDOMAIN);
        const viaTcp = await runClient('kdig', s.port, ['+tcp', 'www.ext.example', 'A']);
        assert.match(viaTcp, /www\.ext\.example\.\s+300\s+IN\s+A\s+192\.0\.2\.10/);
      } finally { await s.stop(); }
    }
    assert.ok(dnsmasq.queries('www.ext.example') >= 2);
  });

  it('a dead first nameserver in resolv.conf neither fails nor slows lookups', async () => {
    const dead = await deadPort();
    const resolv = join(dir, 'resolv.conf');
    writeFileSync(resolv, `nameserver 127.0.0.1:${dead}\nnameserver ${dnsmasq.address}\n`);
    for (const policy of ['sequential', 'random']) {
      const s = await startServer(`.:0 {\n bind 127.0.0.1\n forward . ${resolv} {\n policy ${policy}\n }\n}\n`);
      try {
        for (let i = 0; i < 8; i++) {
          const r = await dig(s.port, `n${i}.ext.example`, 'A');
          assert.equal(r.status, 'NOERROR', `${policy} lookup ${i}`);
        }
        // Not slowed down: the dead nameserver refused at once, no exchange waited for the read timeout.
        const f = s.app.server.generation!.blocks[0]!.handlers.find((h) => h.name === 'forward') as Forward;
        assert.deepEqual(f.upstreams.map((u) => u.udpStats.timeouts), [0, 0], `${policy}: no read timeouts`);
        assert.ok(s.logs.some((l) => l.startsWith('[WARNING] plugin/forward:') && l.includes('loopback')), 'loopback nameserver warned');
      } finally { await s.stop(); }
    }
  });
});
