/**
 * @module test/support/ports
 * Ports on 127.0.0.1 for tests that must name a fixed port (a child
 * process, a peer server) or need a port with nothing behind it.
 */
import { createServer } from 'node:net';
import { bindLoopbackUdp } from './udp-client.ts';

/** A port free on 127.0.0.1 for both UDP and TCP right now (closed again before returning). */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const udp = await bindLoopbackUdp();
    const port = udp.address().port;
    const tcp = createServer();
    const ok = await new Promise<boolean>((r) => { tcp.once('error', () => r(false)); tcp.listen(port, '127.0.0.1', () => r(true)); });
    await new Promise<void>((r) => udp.close(() => r()));
    if (ok) { await new Promise<void>((r) => tcp.close(() => r())); return port; }
  }
  throw new Error('no free port');
}

/** A port on 127.0.0.1 with nothing listening (UDP), for "dead upstream" tests. */
export async function deadPort(): Promise<number> {
  const u = await bindLoopbackUdp();
  const port = u.address().port;
  await new Promise<void>((r) => u.close(() => r()));
  return port;
}
