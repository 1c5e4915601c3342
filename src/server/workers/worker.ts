/**
 * @module server/workers/worker
 * One worker of a pool: the whole server (every plugin of the Corefile) with
 * its DNS sockets bound with SO_REUSEPORT on the configured ports, so the
 * kernel spreads queries (UDP by flow, TCP by connection) over the workers.
 * What only the primary does here is stood in for: cluster state arrives
 * from the primary's sources (StateRelay), HTTP listeners are the primary's
 * (WorkerHttpListeners), and the Corefile is re-read only when the primary
 * says so (its reload plugin and SIGUSR1 drive every worker).
 */
import { App, type AppOptions } from '../../app/app.ts';
import { metricsRegistry } from '../../metrics/registry.ts';
import type { ServerControl } from '../../plugin/process-services.ts';
import { isProtocolMessage, WORKER_HTTP_ENV, type StateMessage, type ToPrimary, type ToWorker } from './messages.ts';
import { StateRelay } from './state-relay.ts';
import { primaryPortsFrom, WorkerHttpListeners } from './worker-http.ts';
import { errorMessage } from '../../errors/to-error.ts';
import { tightenHeapGrowth } from '../heap.ts';

export type WorkerAppOptions = Pick<AppOptions, 'corefilePath' | 'corefileText' | 'dnsPort' | 'logger'>;

/** The worker's control for plugins that steer the server: the Corefile never changes under a worker by itself. */
function workerControl(app: App): ServerControl {
  return {
    get configHash() { return app.configHash; },
    // The reload plugin's poll finds nothing to read: only the primary's word reloads.
    load: () => null,
    reload: (force) => app.reload(force),
    get panics() { return app.panics; },
  };
}

/** Runs this process as a worker until the primary stops it (or goes away). Never returns normally. */
export async function runWorker(opts: WorkerAppOptions): Promise<number> {
  const send = (msg: ToPrimary): void => { if (process.connected) process.send!(msg); };
  // Exit once the primary has the message (or at once without a channel).
  const sendAndExit = (msg: ToPrimary, code: number): void => {
    if (process.connected) process.send!(msg, () => process.exit(code));
    else process.exit(code);
  };
  const http = new WorkerHttpListeners(primaryPortsFrom(process.env[WORKER_HTTP_ENV]));
  const relay = new StateRelay(send);
  const app = new App({
    ...opts, reusePort: true, http,
    // The primary prints "[FATAL] ..." and ends the whole server: a detected loop is not one worker's problem.
    fatal: (message) => { sendAndExit({ t: 'fatal', message }, 1); },
  });
  app.services.sourceSharing = relay;
  app.services.control = workerControl(app);

  let stopping = false;
  const stop = (graceMs?: number): void => {
    if (stopping) return;
    stopping = true;
    app.stop(graceMs).then(() => process.exit(0), () => process.exit(1));
  };
  process.on('message', (m: unknown) => {
    if (!isProtocolMessage(m)) return;
    const msg = m as ToWorker;
    switch (msg.t) {
      case 'state': relay.receive(msg as StateMessage); break;
      case 'stop': stop(msg.graceMs); break;
      case 'reload':
        http.update(msg.http);
        app.reload(true).then(
          () => send({ t: 'reloaded', id: msg.id, error: null }),
          (e: unknown) => send({ t: 'reloaded', id: msg.id, error: errorMessage(e) }),
        );
        break;
      case 'metrics':
        metricsRegistry(app.services).getMetricsAsJSON().then(
          (metrics) => send({ t: 'metrics', id: msg.id, metrics, error: null }),
          (e: unknown) => send({ t: 'metrics', id: msg.id, metrics: null, error: errorMessage(e) }),
        );
        break;
    }
  });
  // The primary is gone (crashed, killed): nobody will stop us, restart us or feed us cluster state.
  process.on('disconnect', () => stop(0));
  // A signal to the whole process group (Ctrl-C) or to this worker alone: stop like the server would.
  process.on('SIGTERM', () => stop());
  process.on('SIGINT', () => stop());
  // Reloads come from the primary; a stray SIGUSR1 must not open Node's inspector either.
  process.on('SIGUSR1', () => {});

  try {
    await app.start();
  } catch (e) {
    await app.stop(0).catch(() => {});
    sendAndExit({ t: 'start-failed', message: errorMessage(e) }, 1);
    return -1;
  }
  // As runServer does once started (server/heap.ts); a bad value was already reported by the primary.
  try { tightenHeapGrowth(); } catch { /* V8 keeps its own heap growth */ }
  send({ t: 'listening' });
  return -1; // keep running
}
