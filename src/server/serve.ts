/**
 * @module server/serve
 * The hot path: one packet in, one reply out. Parse the question, pick the
 * server block by longest zone, run its chain, write the reply. Synchronous
 * whenever the chain is; no closure is created per query unless a plugin
 * really waits on I/O.
 */
import { Rcode } from '../dns/constants.ts';
import { isSubdomain } from '../dns/name.ts';
import { DROP, Reply } from '../dns/reply.ts';
import { DnsRequest, hasSingleOpt, newParsedQuestion, ParseOutcome, parseQuery, type Transport } from '../dns/request.ts';
import { writeErrorReply, writeReply } from '../dns/response.ts';
import type { Route } from '../config/build.ts';
import { DEFAULT_MAX_UDP_SIZE } from '../config/build.ts';
import { publishQuery, queryChannel } from '../diagnostics/channels.ts';

/** Where replies go: a UDP socket (to the request's client) or a TCP connection. */
export interface Responder {
  send(buf: Buffer, port: number, address: string): void;
}

/** Counters the server keeps itself, read by metrics and shutdown. */
export class ServeStats {
  /** Queries whose reply is still being produced asynchronously. */
  inflight = 0;
  /** Handlers that threw (coredns_panics_total). */
  panics = 0;
  /** Packets dropped before parsing (short header, QR=1). */
  dropped = 0;
}

const refused = Reply.error(Rcode.REFUSED);
/** The question being parsed: copied into its DnsRequest at once, so one object serves every query. */
const parsed = newParsedQuestion();

/** The longest zone of `routes` containing `qname`, or null. Routes are sorted longest first. */
export function routeFor(routes: readonly Route[], qname: string): Route | null {
  for (let i = 0; i < routes.length; i++) {
    const r = routes[i]!;
    if (isSubdomain(qname, r.zone)) return r;
  }
  return null;
}

/**
 * Serves one message. Returns false when it was dropped (no reply will ever
 * be sent: unreadable header, or a response), true when a reply was sent or
 * will be once an asynchronous plugin finishes. `start` is when it was read
 * (performance.now()); a listener reading a batch passes the batch's time.
 */
export function serveQuery(
  msg: Buffer, transport: Transport, remoteAddress: string, remotePort: number,
  localAddress: string, localPort: number, routes: readonly Route[], out: Responder, stats: ServeStats,
  start: number = performance.now(),
): boolean {
  const q = parseQuery(msg, parsed);
  if (typeof q === 'number') {
    if (q === ParseOutcome.DROP) { stats.dropped++; return false; }
    const rcode = q === ParseOutcome.FORMERR ? Rcode.FORMERR : q === ParseOutcome.NOTIMP ? Rcode.NOTIMP : Rcode.BADVERS;
    // Our OPT goes back whenever the client sent one we could read (RFC 6891 7); BADVERS lives in it.
    const withOpt = q === ParseOutcome.BADVERS || hasSingleOpt(msg);
    out.send(writeErrorReply(msg, rcode, withOpt, DEFAULT_MAX_UDP_SIZE), remotePort, remoteAddress);
    return true;
  }
  const req = new DnsRequest(msg, q, transport, remoteAddress, remotePort, localAddress, localPort, start);
  const route = routeFor(routes, req.qname);
  if (route === null) {
    out.send(writeReply(req, refused, { maxUdpSize: DEFAULT_MAX_UDP_SIZE }), remotePort, remoteAddress);
    return true;
  }
  req.server = route.server;
  req.zone = route.zone;
  let answer;
  try {
    answer = route.block.head.serveDNS(req);
  } catch (e) {
    stats.panics++;
    answer = Reply.error(Rcode.SERVFAIL, '', asError(e));
  }
  if (answer instanceof Promise) {
    stats.inflight++;
    answer.then(
      (r) => { stats.inflight--; finish(req, r, route, out, stats); },
      (e: unknown) => { stats.inflight--; stats.panics++; finish(req, Reply.error(Rcode.SERVFAIL, '', asError(e)), route, out, stats); },
    );
    return true;
  }
  finish(req, answer, route, out, stats);
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
  let sent = reply;
  let buf: Buffer;
  try {
    buf = writeReply(req, reply, block);
  } catch (e) {
    // A record that cannot be encoded (a plugin bug): answer SERVFAIL rather than nothing.
    stats.panics++;
    sent = Reply.error(Rcode.SERVFAIL, (reply as Reply | undefined)?.plugin ?? '', asError(e));
    buf = writeReply(req, sent, block);
  }
  out.send(buf, req.remotePort, req.remoteAddress);
  if (sent.more !== null && req.transport === 'tcp') sendMore(req, sent.more, block, out, stats);
  if (queryChannel.hasSubscribers) publishQuery({ request: req, reply: sent, size: buf.length });
  const obs = block.observers;
  try {
    for (let i = 0; i < obs.length; i++) obs[i]!(req, sent, buf.length, buf);
  } catch {
    stats.panics++;
  }
}

/** The rest of a multi-message reply (a zone transfer), each message written like the first. */
function sendMore(req: DnsRequest, more: readonly Reply[], block: Route['block'], out: Responder, stats: ServeStats): void {
  for (const r of more) {
    try {
      out.send(writeReply(req, r, block), req.remotePort, req.remoteAddress);
    } catch {
      stats.panics++;
      return;
    }
  }
}

function asError(e: unknown): Error {
  return e instanceof Error ? e : new Error(String(e));
}
