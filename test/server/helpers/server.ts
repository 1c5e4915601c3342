/**
 * @module test/server/helpers/server
 * Starting an App for a test with the test plugins available, and running a
 * Corefile through parsing and plugin setup only (option-parser tables).
 */
import { App } from '../../../src/app/app.ts';
import type { ConfigGeneration } from '../../../src/config/build.ts';
import { memoryLogger } from '../../../src/log/logger.ts';
import type { PluginRegistry } from '../../../src/plugin/registry.ts';
import type { TcpOptions } from '../../../src/server/tcp-listener.ts';
import { testRegistry } from './test-plugins.ts';

export interface StartedServer {
  readonly app: App;
  /** Bound port (UDP and TCP) of the first listener. */
  readonly port: number;
  readonly logs: string[];
  stop(graceMs?: number): Promise<void>;
}

export interface StartOptions {
  registry?: PluginRegistry;
  tcp?: TcpOptions;
  format?: 'text' | 'json';
  path?: string;
}

/** Start `corefile` (use `.:0 { bind 127.0.0.1 ... }` blocks). */
export async function startTestServer(corefile: string, opts: StartOptions = {}): Promise<StartedServer> {
  const logger = memoryLogger(opts.format ?? 'text');
  const app = new App({
    corefilePath: opts.path ?? 'Corefile', corefileText: corefile, logger, dnsPort: 0,
    registry: opts.registry ?? testRegistry(), tcp: opts.tcp ?? { idleTimeoutMs: 2000, maxConnections: 200 },
    fatal: (m) => { logger.error(`fatal: ${m}`); },
  });
  await app.start();
  let stopped = false;
  return {
    app, port: app.port(), logs: logger.lines,
    stop: async (graceMs = 1000) => { if (!stopped) { stopped = true; await app.stop(graceMs); } },
  };
}

/** The CorefileError message `corefile` fails with at parse or setup, or null when it sets up fine. Opens nothing. */
export function setupError(corefile: string, registry: PluginRegistry = testRegistry()): string | null {
  const app = new App({ corefilePath: 'Corefile', corefileText: corefile, logger: memoryLogger(), dnsPort: 0, registry });
  try {
    app.build(app.load());
    return null;
  } catch (e) {
    return (e as Error).message;
  }
}

/** Parse and set up `corefile` without opening anything; throws CorefileError. */
export function buildGeneration(corefile: string, registry: PluginRegistry = testRegistry()): ConfigGeneration {
  const app = new App({ corefilePath: 'Corefile', corefileText: corefile, logger: memoryLogger(), dnsPort: 0, registry });
  return app.build(app.load());
}

/** Poll `check` every 10 ms until it is true or `ms` pass; returns its last value. */
export async function eventually(check: () => boolean, ms = 2000): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 10));
  }
  return true;
}
