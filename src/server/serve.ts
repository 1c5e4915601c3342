/**
 * @module server/serve
 * The hot path: one packet in, one reply out. Parse the question, pick the
 * server block by longest zone, run its chain, write the reply. Synchronous
 * whenever the chain is; no closure is created per query unless a plugin
 * really waits on I/O, and a query answered at once reuses the request
 * object of the one before (DnsRequest.hold() keeps one from being reused).
 */
import { Rcode } from '../dns/constants.ts';
import { DROP, Reply } from '../dns/reply.ts';
import { DnsRequest, hasSingleOpt, newParsedQuestion, ParseOutcome, parseQuery, START_NOW, type ParsedQuestion, type Transport } from '../dns/request.ts';
import { writeErrorReply, writeReply, type ReplyScratch } from '../dns/response.ts';
import type { Route } from '../config/build.ts';
import { DEFAULT_MAX_UDP_SIZE } from '../config/build.ts';
import { publishQuery, queryChannel } from '../diagnostics/channels.ts';
import { toError } from '../errors/to-error.ts';
import type { Logger } from '../log/logger.ts';
import { HandlerPanic, PanicLog, panicPlugin } from './panic.ts';

/** Where replies go: a UDP socket (to the request's client) or a TCP connection. */
export interface Responder {
  send(buf: Buffer, port: number, address: string): void;
  /**
   * Set when send() is done with the bytes by the time it returns (sent at
   * once or copied): replies are then written into this reused memory instead
   * of a new buffer each. A responder whose send may keep them (TCP) has none.
   */
  readonly scratch?: ReplyScratch | null;
}

/** Counters the server keeps itself, read by metrics and shutdown; and where panics are reported. */
export class ServeStats {
  /** Queries whose reply is still being produced asynchronously. */
  inflight = 0;
  /** Handlers and observers that threw, replies that could not be encoded (coredns_panics_total). */
  panics = 0;
  /** Packets dropped before parsing (short header, QR=1). */
  dropped = 0;
  readonly panicLog: PanicLog;

  /** `logger` null: panics are counted, not logged. */
  constructor(logger: Logger | null = null, now: () => number = () => Date.now()) {
    this.panicLog = new PanicLog(logger, now);
  }

  /** A plugin ('' = the server) threw while serving `req`: count it and log it (rate-limited). */
  panic(plugin: string, req: DnsRequest | null, err: Error): void {
    this.panics++;
    this.panicLog.report(plugin, req, err);
  }
}

const refused = Reply.error(Rcode.REFUSED);
/** The question being parsed: copied into its DnsRequest at once, so one object serves every query. */
const parsed = newParsedQuestion();
/**
 * The request of the last query that was answered at once and that no one
 * holds (DnsRequest.hold()): the next query's request is this object, filled
 * again, so a synchronous answer allocates no request. Taken (set to null)
 * while in use, so a query served inside another gets its own.
 */
let spare: DnsRequest | null = null;

/**
 * Packets this process has taken in (wraps at 2^31): the event-loop delay
 * timer reads it to tell a serving loop from an idle one (loop-delay.ts).
 * A typed array, so counting allocates nothing however large it grows.
 */
const packetsSeen = new Int32Array(1);

/** The packet count, for noticing whether any packet arrived between two reads. */
export function packetCount(): number {
  return packetsSeen[0]!;
}

/** The request for the parsed query: the spare one refilled, or a new one. */
function requestFor(
  msg: Buffer, q: ParsedQuestion, transport: Transport, remoteAddress: string, remotePort: number,
  localAddress: string, localPort: number, start: number,
): DnsRequest {
  const r = spare;
  if (r === null) return new DnsRequest(msg, q, transport, remoteAddress, remotePort, localAddress, localPort, start);
  spare = null;
  return r.refill(msg, q, transport, remoteAddress, remotePort, localAddress, localPort, start);
}

/** The reply of `req` went out synchronously: its object may serve the next query, unless someone may still read it. */
function release(req: DnsRequest): void {
  // A diagnostics subscriber was handed the request and may keep it.
  if (!req.held && !queryChannel.hasSubscribers) spare = req;
}

/** The longest zone of `routes` containing the question name, or null. Routes are sorted longest first. */
export function routeFor(routes: readonly Route[], req: DnsRequest): Route | null {
  for (let i = 0; i < routes.length; i++) {
    const r = routes[i]!;
    if (req.under(r.zone)) return r;
  }
  return null;
}

/**
 * Serves one message. Returns false when it was dropped (no reply will ever
 * be sent: unreadable header, or a response), true when a reply was sent or
 * will be once an asynchronous plugin finishes. `start` is when it was read
 * (performance.now()); a listener reading a batch passes the batch's time,
 * one reading a packet at a time leaves it out (START_NOW: the request reads
 * the clock itself, without the boxed double a passed time costs).
 */
export function serveQuery(
  msg: Buffer, transport: Transport, remoteAddress: string, remotePort: number,
  localAddress: string, localPort: number, routes: readonly Route[], out: Responder, stats: ServeStats,
  start: number = START_NOW,
): boolean {
  packetsSeen[0]!++;
  const q = parseQuery(msg, parsed, true);
  if (typeof q === 'number') {
    if (q === ParseOutcome.DROP) { stats.dropped++; return false; }
    const rcode = q === ParseOutcome.FORMERR ? Rcode.FORMERR : q === ParseOutcome.NOTIMP ? Rcode.NOTIMP : Rcode.BADVERS;
    // Our OPT goes back whenever the client sent one we could read (RFC 6891 7); BADVERS lives in it.
    const withOpt = q === ParseOutcome.BADVERS || hasSingleOpt(msg);
    out.send(writeErrorReply(msg, rcode, withOpt, DEFAULT_MAX_UDP_SIZE), remotePort, remoteAddress);
    return true;
  }
  const req = requestFor(msg, q, transport, remoteAddress, remotePort, localAddress, localPort, start);
  const route = routeFor(routes, req);
  if (route === null) {
    out.send(writeReply(req, refused, { maxUdpSize: DEFAULT_MAX_UDP_SIZE }, out.scratch ?? null), remotePort, remoteAddress);
    release(req);
    return true;
  }
  req.server = route.server;
  req.zone = route.zone;
  let answer;
  try {
    answer = route.block.head.serveDNS(req);
  } catch (e) {
    answer = panicked(req, e, stats);
  }
  if (answer instanceof Promise) {
    stats.inflight++;
    answer.then(
      (r) => { stats.inflight--; finish(req, r, route, out, stats); },
      (e: unknown) => { stats.inflight--; finish(req, panicked(req, e, stats), route, out, stats); },
    );
    return true;
  }
  finish(req, answer, route, out, stats);
  release(req);
  return true;
}

/**
 * Writes and sends the reply, then tells the observers. Nothing here may
 * throw: it runs inside a socket event (an exception would end the process)
 * or a promise callback (an unhandled rejection would too).
 */
function finish(req: DnsRequest, reply: Reply, route: Route, out: Responder, stats: ServeStats): void {
  if (reply === DROP) return;
  const block = route.block;
  // A plugin's throw that `errors` (or another plugin) caught and turned into a reply: still a panic.
  if (reply.error !== null && reply.error instanceof HandlerPanic) stats.panic(reply.error.plugin, req, reply.error);
  let sent = reply;
  let buf: Buffer;
  const scratch = out.scratch ?? null;
  try {
    buf = writeReply(req, reply, block, scratch);
  } catch (e) {
    // A record that cannot be encoded (a plugin bug): answer SERVFAIL rather than nothing.
    const plugin = (reply as Reply | undefined)?.plugin ?? '';
    stats.panic(plugin, req, toError(e));
    sent = Reply.error(Rcode.SERVFAIL, plugin, toError(e));
    buf = writeReply(req, sent, block, scratch);
  }
  out.send(buf, req.remotePort, req.remoteAddress);
  if (sent.more !== null && req.transport === 'tcp') sendMore(req, sent.more, block, out, stats);
  if (queryChannel.hasSubscribers) publishQuery({ request: req, reply: sent, size: buf.length });
  const obs = block.observers;
  // Each observer on its own: one that throws must not keep the others (metrics, the query log) from seeing the reply.
  for (let i = 0; i < obs.length; i++) {
    try {
      obs[i]!(req, sent, buf.length, buf);
    } catch (e) {
      stats.panic(block.observerPlugins[i] ?? '', req, toError(e));
    }
  }
}

/** A thrown or rejected handler: counted and logged under the plugin that threw, answered SERVFAIL. */
function panicked(req: DnsRequest, e: unknown, stats: ServeStats): Reply {
  const err = toError(e);
  stats.panic(panicPlugin(e), req, err);
  // The reply carries the cause, not the HandlerPanic: finish() must not count it a second time.
  return Reply.error(Rcode.SERVFAIL, '', err instanceof HandlerPanic ? toError(err.cause) : err);
}

/** The rest of a multi-message reply (a zone transfer), each message written like the first. */
function sendMore(req: DnsRequest, more: readonly Reply[], block: Route['block'], out: Responder, stats: ServeStats): void {
  for (const r of more) {
    try {
      out.send(writeReply(req, r, block), req.remotePort, req.remoteAddress);
    } catch (e) {
      stats.panic(r.plugin, req, toError(e));
      return;
    }
  }
}

