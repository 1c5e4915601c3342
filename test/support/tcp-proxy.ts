/**
 * @module test/support/tcp-proxy
 * A loopback TCP proxy to put between the code under test and a real peer
 * (etcd, an API server): `cut()` closes every connection through it and
 * stops listening (new connections are refused at once, as when the peer's
 * host goes away), `restore()` listens again on the same port, and
 * `target` may be changed while cut (the same address now leads to another
 * peer, e.g. a freshly made etcd). Both ends are on 127.0.0.1.
 */
import { createConnection, createServer, type Server, type Socket } from 'node:net';

export interface TcpProxy {
  /** The port to give the code under test (127.0.0.1). */
  readonly port: number;
  /** Where connections go (127.0.0.1 port); takes effect for new connections. */
  target: number;
  /** Connections accepted so far. */
  readonly accepted: number;
  /** Drop every open connection and stop listening. */
  cut(): Promise<void>;
  /** Listen again on the same port. */
  restore(): Promise<void>;
  /** Cut for good. */
  close(): Promise<void>;
}

/** Starts a proxy on a free 127.0.0.1 port forwarding to 127.0.0.1:`target`. */
export async function startTcpProxy(target: number): Promise<TcpProxy> {
  const open = new Set<Socket>();
  let accepted = 0;
  let server: Server | null = null;
  let port = 0;
  const proxy = { target };

  const onConnection = (client: Socket): void => {
    accepted++;
    const upstream = createConnection({ host: '127.0.0.1', port: proxy.target });
    for (const s of [client, upstream]) {
      open.add(s);
      s.once('close', () => open.delete(s));
      s.on('error', () => { client.destroy(); upstream.destroy(); });
    }
    client.pipe(upstream);
    upstream.pipe(client);
  };

  const listen = (p: number): Promise<number> => new Promise((resolve, reject) => {
    const s = createServer(onConnection);
    s.once('error', reject);
    s.listen({ host: '127.0.0.1', port: p }, () => {
      server = s;
      const a = s.address();
      resolve(typeof a === 'object' && a ? a.port : p);
    });
  });

  const cut = async (): Promise<void> => {
    const s = server;
    server = null;
    for (const c of open) c.destroy();
    open.clear();
    if (s) await new Promise<void>((r) => s.close(() => r()));
  };

  port = await listen(0);
  return {
    port,
    get target() { return proxy.target; },
    set target(t: number) { proxy.target = t; },
    get accepted() { return accepted; },
    cut,
    restore: async () => { if (!server) await listen(port); },
    close: cut,
  };
}
