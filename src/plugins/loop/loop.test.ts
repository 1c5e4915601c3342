/**
 * @module plugins/loop/loop.test
 * loop: its (empty) options, a loop made on purpose (forward to the
 * server's own address, and through an upstream that sends queries back)
 * detected with the fatal hook called with an actionable message, no false
 * alarm when the upstream answers, and bounded probing when nothing answers.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { App } from '../../app/app.ts';
import { parseCorefile } from '../../corefile/parser.ts';
import { Type } from '../../dns/constants.ts';
import { memoryLogger } from '../../log/logger.ts';
import { freePort } from '../../../test/support/ports.ts';
import { bindLoopbackUdp } from '../../../test/support/udp-client.ts';
import { startFakeUpstream } from '../../../test/support/fake-upstream.ts';
import { waitUntil } from '../../../test/support/wait-until.ts';
import { LOOP_TIMING, loop, type Loop, type LoopTiming } from './loop.ts';

interface Booted { app: App; fatal: string[]; logs: string[]; loop: Loop; stop(): Promise<void> }

async function boot(corefile: string, timing?: Partial<LoopTiming>): Promise<Booted> {
  const logger = memoryLogger();
  const fatal: string[] = [];
  const app = new App({ corefilePath: 'Corefile', corefileText: corefile, logger, fatal: (m) => { fatal.push(m); } });
  if (timing) app.services.set(LOOP_TIMING, { deadlineMs: 30_000, retryMs: 1000, probeTimeoutMs: 2000, disableAfterMs: 2000, ...timing });
  await app.start();
  const l = app.server.generation!.blocks[0]!.handlers.find((h) => h.name === 'loop') as Loop;
  return { app, fatal, logs: logger.lines, loop: l, stop: () => app.stop(500) };
}

/** A UDP "resolver" on 127.0.0.1:0 that forwards every query to `target()` and relays the answer back. */
async function startRelay(target: () => number): Promise<{ port: number; close(): Promise<void> }> {
  const s = createSocket('udp4');
  const port = await new Promise<number>((r) => s.bind(0, '127.0.0.1', () => r(s.address().port)));
  const open = new Set<ReturnType<typeof createSocket>>();
  s.on('message', async (msg, from) => {
    const out = await bindLoopbackUdp();
    open.add(out);
    const t = setTimeout(() => { open.delete(out); out.close(); }, 3000);
    out.on('message', (reply) => { clearTimeout(t); s.send(reply, from.port, from.address); open.delete(out); out.close(); });
    out.send(msg, target(), '127.0.0.1');
  });
  return {
    port,
    close: async () => {
      for (const o of open) o.close();
      await new Promise<void>((r) => s.close(() => r()));
    },
  };
}

describe('loop setup', () => {
  const cases: [string, string][] = [
    ['loop now', "Corefile:2: plugin/loop: 'loop' takes 0 arguments, got 1"],
    ['loop {\n quick\n}', "Corefile:2: plugin/loop: 'loop' takes no block"],
  ];
  for (const [body, err] of cases) {
    it(body.split('\n').join(' | '), () => {
      const [b] = parseCorefile(`. {\n${body}\n}\n`, 'Corefile');
      const ctx = { zones: ['.'] } as unknown as Parameters<typeof loop.setup>[1];
      assert.throws(() => loop.setup(b!.directives[0]!, ctx), (e: Error) => { assert.equal(e.message, err); return true; });
    });
  }
});

describe('loop detection', () => {
  it('detects forward . <own address> and reports what to fix', async () => {
    const port = await freePort();
    const b = await boot(`.:${port} {\n bind 127.0.0.1\n loop\n forward . 127.0.0.1:${port}\n}\n`);
    try {
      await waitUntil(() => b.fatal.length > 0, { timeoutMs: 5000, message: 'loop detected' });
      const msg = b.fatal[0]!;
      assert.match(msg, new RegExp(`^plugin/loop: Loop \\(127\\.0\\.0\\.1:\\d+ -> 127\\.0\\.0\\.1:${port}\\) detected for zone "\\.", ` +
        'see https://coredns\\.io/plugins/loop#troubleshooting\\. Query: "HINFO \\d+\\.\\d+\\."'));
      assert.match(msg, /127\.0\.0\.53 \(systemd-resolved\)/);
      assert.match(msg, /Point forward at the real upstream resolvers/);
      assert.equal(b.fatal.length, 1, 'reported once');
      assert.ok(b.logs.some((l) => l.includes("is this server's own listen address")), 'forward warned at setup');
    } finally { await b.stop(); }
  });

  it('detects a loop through an upstream that sends the queries back', async () => {
    let target = 0;
    const relay = await startRelay(() => target);
    const corefile = `example.org:0 {\n bind 127.0.0.1\n loop\n forward . 127.0.0.1:${relay.port}\n}\n`;
    // The relay learns our port only once we listen: the first probe may go nowhere, the retries come back to us.
    const b = await boot(corefile, { retryMs: 50, probeTimeoutMs: 200 });
    target = b.app.port();
    try {
      await waitUntil(() => b.fatal.length > 0, { timeoutMs: 5000, message: 'loop detected' });
      assert.match(b.fatal[0]!, /detected for zone "example\.org\."/);
      assert.match(b.fatal[0]!, /Query: "HINFO \d+\.\d+\.example\.org\."/);
    } finally { await b.stop(); await relay.close(); }
  });

  it('stays quiet when the upstream answers, and turns itself off after the probe', async () => {
    const up = await startFakeUpstream(() => ({ reply: {} }));
    const b = await boot(`.:0 {\n bind 127.0.0.1\n loop\n forward . ${up.address}\n}\n`, { disableAfterMs: 100 });
    try {
      await waitUntil(() => b.loop.disabled, { timeoutMs: 3000, message: 'disabled after the answered probe' });
      assert.deepEqual(b.fatal, []);
      const probes = up.queries.filter((q) => q.type === Type.HINFO);
      assert.equal(probes.length, 1);
      assert.equal(probes[0]!.name, b.loop.qname);
      assert.equal(b.loop.seen, 1);
    } finally { await b.stop(); await up.close(); }
  });

  it('gives up probing after its deadline when nothing answers', async () => {
    const hole = await startFakeUpstream(() => ({}));
    const b = await boot(`.:0 {\n bind 127.0.0.1\n loop\n forward . ${hole.address}\n}\n`, { deadlineMs: 600, retryMs: 50, probeTimeoutMs: 150 });
    try {
      await waitUntil(() => b.loop.disabled, { timeoutMs: 3000, message: 'gave up' });
      assert.deepEqual(b.fatal, []);
      assert.ok(b.logs.some((l) => l.startsWith('[WARNING] plugin/loop: no answer to the loop probe')));
      const probes = hole.queries.filter((q) => q.type === Type.HINFO).length;
      assert.ok(probes >= 2 && probes <= 8, `retried a bounded number of times (${probes})`);
    } finally { await b.stop(); await hole.close(); }
  });
});
