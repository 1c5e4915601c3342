/**
 * @module status/status-route
 * `health { status }`: mounts /status (the page) and /status.json (its data)
 * on the health listener, and counts the block's names from its replies.
 */
import type { KubernetesHandler } from '../plugins/kubernetes/handler.ts';
import { metricsExposition } from '../metrics/registry.ts';
import type { BlockContext } from '../plugin/plugin.ts';
import type { HttpRoute } from '../plugin/process-services.ts';
import { VERSION } from '../version.ts';
import { NameTracker } from './name-tracker.ts';
import { statusData } from './status-data.ts';
import { STATUS_HTML } from './status-page.ts';
import { errorMessage } from '../errors/to-error.ts';

export const STATUS_PATH = '/status';
export const STATUS_JSON_PATH = '/status.json';

export function mountStatus(ctx: BlockContext, address: string): void {
  const startedAt = Date.now() - process.uptime() * 1000;
  const zones = (): readonly string[] => (ctx.handlersNamed('kubernetes')[0] as KubernetesHandler | undefined)?.zones ?? [];
  const names = new NameTracker(zones);
  ctx.onReply((req, reply) => { names.observe(req.qname, reply.rcode); });
  const page: HttpRoute = (_req, res) => {
    res.setHeader('Content-Type', 'text/html; charset=utf-8');
    res.setHeader('Cache-Control', 'no-store');
    res.end(STATUS_HTML);
  };
  const json: HttpRoute = (_req, res) => {
    metricsExposition(ctx.services)().then((text) => {
      res.setHeader('Content-Type', 'application/json');
      res.setHeader('Cache-Control', 'no-store');
      res.end(JSON.stringify(statusData(text, names, VERSION, startedAt, Date.now())));
    }, (e: unknown) => {
      res.statusCode = 500;
      res.end(`status: ${errorMessage(e)}\n`);
    });
  };
  ctx.onStartup(async () => {
    await ctx.services.http.mount(address, STATUS_PATH, page);
    await ctx.services.http.mount(address, STATUS_JSON_PATH, json);
  });
  ctx.onShutdown(async () => {
    await ctx.services.http.unmount(address, STATUS_PATH, page);
    await ctx.services.http.unmount(address, STATUS_JSON_PATH, json);
  });
}
