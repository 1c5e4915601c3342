/**
 * @module test/support/gateway
 * `clusterdns gateway --run-nginx` for tests, in process: a private prefix
 * directory, a free port on 127.0.0.1, the log kept in memory, requests with
 * a Host header to it, and the wait for an apply. An apply counts once
 * nginx's old workers stopped taking connections (gateway/cli.ts), so after
 * `untilApplied` one request shows the new configuration: no polling.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseGatewayArgs, startGateway, type RunningGateway } from '../../src/gateway/cli.ts';
import { memoryLogger } from '../../src/log/logger.ts';
import { freePort } from './ports.ts';
import { httpGet, type HttpResult } from './http-backends.ts';
import { waitUntil } from './wait-until.ts';

export interface TestGateway {
  readonly gw: RunningGateway;
  readonly log: ReturnType<typeof memoryLogger>;
  readonly port: number;
  /** The nginx prefix directory (logs under `logs/`). */
  readonly prefix: string;
  get(host: string, path: string): Promise<HttpResult>;
  bodyOf(host: string, path: string): Promise<string>;
  /** Waits until an apply after `appliedBefore` is done and the configuration holds `text`. */
  untilApplied(appliedBefore: number, text: string): Promise<void>;
  stop(): Promise<void>;
}

/** Starts the gateway on `source` flags (`--manifests DIR`, `--etcd URL`, ...) plus `extra` flags; fails the test when it cannot. */
export async function startTestGateway(source: readonly string[], extra: readonly string[] = []): Promise<TestGateway> {
  const prefix = mkdtempSync(join(tmpdir(), 'gateway-prefix-'));
  const port = await freePort();
  const log = memoryLogger();
  const args = parseGatewayArgs([...source, '--listen', `127.0.0.1:${port}`, '--run-nginx', '--prefix', prefix, ...extra]);
  const started = await startGateway(args, log.plugin('gateway'), () => {});
  if (typeof started === 'number') rmSync(prefix, { recursive: true, force: true });
  assert.notEqual(typeof started, 'number', log.lines.join('\n'));
  const gw = started as RunningGateway;
  const get = (host: string, path: string): Promise<HttpResult> => httpGet('127.0.0.1', port, host, path);
  return {
    gw, log, port, prefix, get,
    bodyOf: async (host, path) => (await get(host, path)).body,
    untilApplied: (appliedBefore, text) => waitUntil(() => gw.controller.applied > appliedBefore && gw.controller.current?.includes(text) === true,
      { timeoutMs: 5000, message: `no apply with '${text}'\n${log.lines.join('\n')}` }),
    async stop() {
      await gw.stop();
      rmSync(prefix, { recursive: true, force: true });
    },
  };
}
