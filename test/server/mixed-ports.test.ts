/**
 * @module test/server/mixed-ports.test
 * kubespray's `example.com example.io:1053 { ... }`: one server block whose
 * keys name different ports. As CoreDNS, each key is served on its own port
 * by the block's one chain, and not on the other key's port (REFUSED there),
 * through real dig on both ports.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { App } from '../../src/app/app.ts';
import { memoryLogger } from '../../src/log/logger.ts';
import { dig } from '../support/harness.ts';
import { freePort } from '../support/ports.ts';

test('each key of a mixed-port block is served on its own port', async () => {
  const other = await freePort();
  const corefile = `example.com example.io:${other} {
    bind 127.0.0.1
    template IN A {
      answer "{{ .Name }} 60 IN A 192.0.2.1"
    }
}`;
  const app = new App({ corefilePath: 'Corefile', corefileText: corefile, logger: memoryLogger(), dnsPort: 0, env: {}, tcp: { idleTimeoutMs: 1000, maxConnections: 10 } });
  await app.start();
  try {
    const ports = app.server.boundPorts().map((b) => b.port);
    assert.equal(ports.length, 2, 'two listeners');
    const main = ports.find((p) => p !== other)!;
    assert.ok(ports.includes(other));
    const com = await dig(main, 'www.example.com', 'A');
    const io = await dig(other, 'www.example.io', 'A');
    assert.deepEqual([com.status, com.answer[0]?.data], ['NOERROR', '192.0.2.1']);
    assert.deepEqual([io.status, io.answer[0]?.data], ['NOERROR', '192.0.2.1']);
    assert.equal((await dig(main, 'www.example.io', 'A')).status, 'REFUSED');
    assert.equal((await dig(other, 'www.example.com', 'A')).status, 'REFUSED');
  } finally {
    await app.stop(500);
  }
});
