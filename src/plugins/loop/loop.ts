/**
 * @module plugins/loop
 * Forwarding-loop detection, as CoreDNS's loop: once the block's listeners
 * are open, send `HINFO <random>.<random>.<zone>` to our own listener and
 * count how often that name comes through this plugin. More than twice
 * during one probe means the query went out and came back in: the process
 * gets a fatal error (by default: logged, exit code 1, so Kubernetes shows
 * CrashLoopBackOff with the reason) that says what to fix. The probe is
 * retried for up to 30 s while it gets no answer, and the plugin turns
 * itself off 2 s after a probe was answered.
 */
import { joinHostPort } from '../../dns/ip.ts';
import { createSocket, type Socket } from 'node:dgram';
import { randomInt } from 'node:crypto';
import { Rcode, Type } from '../../dns/constants.ts';
import { encodeQuery } from '../../dns/message.ts';
import { zoneSuffix } from '../../dns/name.ts';
import { Reply } from '../../dns/reply.ts';
import type { DnsRequest } from '../../dns/request.ts';
import type { Logger } from '../../log/logger.ts';
import { argCount, noBlock } from '../../plugin/options.ts';
import type { Answer, BoundAddress, ChainHandler, Handler, PluginDefinition } from '../../plugin/plugin.ts';
import { ProcessSlot } from '../../plugin/process-services.ts';

/** How long and how often to probe; a process-wide setting (the LOOP_TIMING slot) so tests can shorten it. */
export interface LoopTiming {
  /** Give up probing after this long (CoreDNS: 30 s). */
  readonly deadlineMs: number;
  /** Wait between probes that got no answer (CoreDNS: 1 s). */
  readonly retryMs: number;
  /** Read timeout of one probe (CoreDNS: 2 s). */
  readonly probeTimeoutMs: number;
  /** Stop looking this long after a probe was answered (CoreDNS: 2 s). */
  readonly disableAfterMs: number;
}

export const DEFAULT_LOOP_TIMING: LoopTiming = { deadlineMs: 30_000, retryMs: 1000, probeTimeoutMs: 2000, disableAfterMs: 2000 };
export const LOOP_TIMING = new ProcessSlot<LoopTiming>('loop timing', () => DEFAULT_LOOP_TIMING);

const FIX_HINT =
  'The upstream this server forwards to sends the query back here: typically `forward . /etc/resolv.conf` on a node whose ' +
  'resolv.conf points at 127.0.0.53 (systemd-resolved) or at the cluster DNS itself. Point forward at the real upstream ' +
  'resolvers (their IPs, or /run/systemd/resolve/resolv.conf), or set the kubelet --resolv-conf to a file that lists them.';

export class Loop implements ChainHandler {
  readonly name = 'loop';
  next!: Handler;
  /** The probe name, "<n>.<n>.<zone>". */
  readonly qname: string;
  readonly zone: string;
  readonly #fatal: (message: string) => void;
  readonly #log: Logger;
  readonly #timing: LoopTiming;
  #seen = 0;
  #disabled = false;
  #detected = false;
  #address = '';
  #stopped = false;
  #timer: NodeJS.Timeout | null = null;
  #socket: Socket | null = null;

  constructor(zone: string, timing: LoopTiming, fatal: (message: string) => void, log: Logger) {
    this.zone = zone;
    this.qname = `${randomInt(2 ** 47)}.${randomInt(2 ** 47)}.${zoneSuffix(zone)}`;
    this.#timing = timing;
    this.#fatal = fatal;
    this.#log = log;
  }

  get disabled(): boolean {
    return this.#disabled;
  }

  /** Times the probe came through during the current probe. */
  get seen(): number {
    return this.#seen;
  }

  serveDNS(req: DnsRequest): Answer {
    if (req.qtype !== Type.HINFO || this.#disabled || req.qname !== this.qname) return this.next.serveDNS(req);
    // Once found, stop passing the probe around: the loop must not spin on.
    if (this.#detected) return Reply.error(Rcode.SERVFAIL, 'loop');
    if (++this.#seen > 2) {
      this.#detected = true;
      this.#fatal(`plugin/loop: Loop (${joinHostPort(req.remoteAddress, req.remotePort)} -> ${this.#address}) detected for zone "${this.zone}", ` +
        `see https://coredns.io/plugins/loop#troubleshooting. Query: "HINFO ${this.qname}". ${FIX_HINT}`);
      return Reply.error(Rcode.SERVFAIL, 'loop');
    }
    return this.next.serveDNS(req);
  }

  /** Start probing the block's first listener (from the listening hook). */
  probe(listeners: readonly BoundAddress[]): void {
    const l = listeners[0];
    if (!l || this.#stopped) return;
    this.#address = joinHostPort(l.address, l.port);
    const host = l.address === '' || l.address === '0.0.0.0' ? '127.0.0.1' : l.address === '::' ? '::1' : l.address;
    void this.#run(host, l.port);
  }

  async #run(host: string, port: number): Promise<void> {
    const t = this.#timing;
    const deadline = Date.now() + t.deadlineMs;
    while (!this.#stopped && !this.#detected && Date.now() < deadline) {
      this.#seen = 0;
      if (await this.#exchange(host, port)) {
        this.#timer = setTimeout(() => { this.#disabled = true; }, t.disableAfterMs);
        this.#timer.unref();
        return;
      }
      if (this.#detected || this.#stopped) break;
      await new Promise<void>((r) => { this.#timer = setTimeout(r, t.retryMs); this.#timer.unref(); });
    }
    if (!this.#detected && !this.#stopped) this.#log.warn(`no answer to the loop probe on ${this.#address} for ${Math.round(t.deadlineMs / 1000)}s: loop detection is off`);
    this.#disabled = true;
  }

  /** One probe: true when an answer came back. */
  #exchange(host: string, port: number): Promise<boolean> {
    return new Promise((resolve) => {
      const id = randomInt(0x10000);
      const s = createSocket(host.includes(':') ? 'udp6' : 'udp4');
      this.#socket = s;
      let done = false;
      const finish = (ok: boolean): void => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        this.#socket = null;
        try { s.close(); } catch { /* closed by stop() */ }
        resolve(ok);
      };
      const timer = setTimeout(() => finish(false), this.#timing.probeTimeoutMs);
      s.on('error', () => finish(false));
      s.on('close', () => finish(false));
      s.on('message', (msg) => { if (msg.length >= 12 && ((msg[0]! << 8) | msg[1]!) === id) finish(true); });
      s.send(encodeQuery(this.qname, Type.HINFO, { id }), port, host, (err) => { if (err) finish(false); });
    });
  }

  stop(): void {
    this.#stopped = true;
    this.#disabled = true;
    if (this.#timer) clearTimeout(this.#timer);
    try { this.#socket?.close(); } catch { /* already closed */ }
  }
}


export const loop: PluginDefinition = {
  name: 'loop',
  once: true,
  setup(d, ctx) {
    argCount(d, 'loop', 0, 0);
    noBlock(d, 'loop');
    const services = ctx.services;
    const handler = new Loop(ctx.zones[0] ?? '.', services.get(LOOP_TIMING), (m) => services.fatal(m), ctx.logger.plugin('loop'));
    ctx.onListening((listeners) => handler.probe(listeners));
    ctx.onShutdown(() => handler.stop());
    return handler;
  },
};
