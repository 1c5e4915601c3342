/**
 * @module plugins/transfer/transfer.test
 * transfer: a real Knot as the secondary of a clusterdns file zone and of
 * the kubernetes zone pulls both by AXFR and then answers a table of
 * queries exactly as clusterdns does; a changed zone file is announced by
 * NOTIFY and Knot follows it. AXFR by dig over TCP is SOA ... SOA, IXFR
 * with a current serial gets the SOA alone, clients not listed are refused,
 * and option errors.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Rcode } from '../../dns/constants.ts';
import { dig, inject, runClient, startServer, type DigResult, type TestServer } from '../../../test/support/harness.ts';
import { freePort } from '../../../test/support/ports.ts';
import { startKnot, type Knot } from '../../../test/support/knot.ts';
import { setupError } from '../../../test/support/setup-error.ts';
import { delay } from '../../../test/support/wait-until.ts';
import type { FileHandler } from '../file/file.ts';

const zone = (serial: number, extra = ''): string => `$ORIGIN example.org.
$TTL 300
@ SOA ns1 hostmaster ${serial} 7200 3600 1209600 300
@ NS ns1
ns1 A 192.0.2.1
www A 192.0.2.80
mail A 192.0.2.25
@ MX 10 mail
txt TXT "hello" "world"
${extra}`;

let dir = '';
let zonePath = '';
let srv: TestServer;
let knot: Knot;

/** dig against `port` until `ok` holds for the result (a secondary catching up), at most ~10 s. */
async function digUntil(port: number, args: string[], ok: (r: DigResult) => boolean): Promise<DigResult> {
  let last: DigResult | null = null;
  for (let i = 0; i < 100; i++) {
    last = await dig(port, ...args);
    if (ok(last)) return last;
    await delay(100);
  }
  throw new Error(`never got the wanted answer for ${args.join(' ')}: ${last?.raw ?? ''}`);
}

/** Records of dig's AXFR/IXFR output (printed without section headers). */
function transferRecords(raw: string): { name: string; type: string; data: string }[] {
  const out: { name: string; type: string; data: string }[] = [];
  for (const line of raw.split('\n')) {
    const m = /^(\S+)\s+\d+\s+IN\s+(\S+)\s*(.*)$/.exec(line);
    if (m && !line.startsWith(';')) out.push({ name: m[1]!, type: m[2]!, data: m[3]! });
  }
  return out;
}

const lines = (r: DigResult): string[] => r.answer.map((a) => `${a.name.toLowerCase()} ${a.ttl} ${a.type} ${a.data}`).sort();

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'transfer-'));
  zonePath = join(dir, 'db.example.org');
  writeFileSync(zonePath, zone(1));
  const knotPort = await freePort();
  srv = await startServer(`example.org:0 cluster.local:0 {
  bind 127.0.0.1
  transfer {
    to 127.0.0.1:${knotPort}
  }
  file ${zonePath} example.org {
    reload 0
  }
  kubernetes cluster.local {
    manifests examples/cluster
  }
}`);
  const primary = `127.0.0.1@${srv.port}`;
  knot = await startKnot(join(dir, 'knot'), [{ origin: 'example.org.', primary }, { origin: 'cluster.local.', primary }], { port: knotPort });
});
after(async () => {
  await knot?.stop();
  await srv?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('Knot as a secondary of clusterdns zones', () => {
  it('pulls the file zone and answers like the primary', async () => {
    await digUntil(knot.port, ['+norec', 'example.org', 'SOA'], (r) => r.status === 'NOERROR');
    for (const [name, type] of [['example.org', 'SOA'], ['example.org', 'MX'], ['www.example.org', 'A'], ['txt.example.org', 'TXT'], ['nope.example.org', 'A']]) {
      const [ours, theirs] = await Promise.all([dig(srv.port, '+norec', name!, type!), dig(knot.port, '+norec', name!, type!)]);
      assert.equal(theirs.status, ours.status, `${name} ${type}`);
      assert.deepEqual(lines(theirs), lines(ours), `${name} ${type}`);
    }
  });

  it('pulls the kubernetes zone with every record clusterdns serves', async () => {
    await digUntil(knot.port, ['+norec', 'cluster.local', 'SOA'], (r) => r.status === 'NOERROR');
    const axfr = transferRecords(await runClient('dig', srv.port, ['+tcp', 'cluster.local', 'AXFR']));
    const names = [...new Set(axfr.filter((a) => a.type !== 'SOA').map((a) => `${a.name} ${a.type}`))];
    assert.ok(names.length >= 5, `a real zone: ${names.join(', ')}`);
    for (const n of names) {
      const [name, type] = n.split(' ') as [string, string];
      const [ours, theirs] = await Promise.all([dig(srv.port, '+norec', name, type), dig(knot.port, '+norec', name, type)]);
      assert.deepEqual(lines(theirs), lines(ours), n);
    }
  });

  it('a changed zone file is announced by NOTIFY and Knot follows it', async () => {
    writeFileSync(zonePath, zone(2, 'new A 192.0.2.99\n'));
    const h = srv.app.server.generation!.blocks[0]!.handlers.find((x) => x.name === 'file') as FileHandler;
    h.check();
    const r = await digUntil(knot.port, ['+norec', 'new.example.org', 'A'], (x) => x.status === 'NOERROR' && x.answer.length === 1);
    assert.equal(r.answer[0]!.data, '192.0.2.99');
    assert.ok(srv.logs.some((l) => l.includes('[INFO] plugin/transfer: sent NOTIFY for example.org.')), srv.logs.join('\n'));
  });
});

describe('transfer protocol', () => {
  it('AXFR over TCP is SOA, records, SOA; over UDP refused', async () => {
    const r = transferRecords(await runClient('dig', srv.port, ['+tcp', 'example.org', 'AXFR']));
    assert.equal(r[0]?.type, 'SOA');
    assert.equal(r.at(-1)?.type, 'SOA');
    assert.ok(r.some((a) => a.name === 'www.example.org.' && a.data === '192.0.2.80'));
    const udp = await inject(srv.app, 'example.org.', 'AXFR', { transport: 'udp' });
    assert.equal(udp.rcode, Rcode.REFUSED);
  });

  it('IXFR: a current serial gets the SOA alone, an old one the whole zone', async () => {
    const serial = Number((await dig(srv.port, 'example.org', 'SOA')).answer[0]!.data.split(/\s+/)[2]);
    const current = transferRecords(await runClient('dig', srv.port, ['+tcp', 'example.org', `IXFR=${serial}`]));
    assert.deepEqual(current.map((a) => a.type), ['SOA']);
    const old = transferRecords(await runClient('dig', srv.port, ['+tcp', 'example.org', `IXFR=${serial - 1}`]));
    assert.ok(old.length > 3);
  });

  it('clients not listed are refused', async () => {
    const s = await startServer(`example.org:0 {\n bind 127.0.0.1\n transfer {\n  to 192.0.2.53\n }\n file ${zonePath}\n}`);
    try {
      const out = await runClient('dig', s.port, ['+tcp', 'example.org', 'AXFR']);
      assert.match(out, /Transfer failed|REFUSED/);
    } finally { await s.stop(); }
  });

  it('option errors', () => {
    assert.equal(setupError(`example.org {\n transfer\n file ${zonePath}\n}`), "Corefile:2: plugin/transfer: needs 'to ADDRESS...' or 'to *'");
    assert.equal(setupError(`example.org {\n transfer {\n  to nowhere\n }\n}`), "Corefile:3: plugin/transfer: 'nowhere' is not an address, address:port or network");
    assert.equal(setupError(`example.org {\n transfer {\n  from 10.0.0.1\n }\n}`), "Corefile:3: plugin/transfer: unknown property 'from'");
  });
});
