/**
 * @module test/server/helpers/server
 * Starting an App for a test with the test plugins available, and running a
 * Corefile through parsing and plugin setup only (option-parser tables).
 */
import { App } from '../../../src/app/app.ts';
import type { ConfigGeneration } from '../../../src/config/build.ts';
import { memoryLogger } from '../../../src/log/logger.ts';
import type { PluginRegistry } from '../../../src/plugin/registry.ts';
import { startServer, type StartOptions, type TestServer } from '../../support/harness.ts';
import { testRegistry } from './test-plugins.ts';

export type StartedServer = TestServer;

/** The harness's `startServer` with the test plugins registered (use `.:0 { bind 127.0.0.1 ... }` blocks). */
export function startTestServer(corefile: string, opts: StartOptions = {}): Promise<TestServer> {
  return startServer(corefile, { registry: testRegistry(), ...opts });
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
