/**
 * @module plugins/forward/udp-exchange
 * One query to one upstream over UDP, from a socket of its own: every query
 * leaves from a fresh kernel-chosen (random) source port, and the socket is
 * connected, so the kernel drops datagrams from any other address and an
 * ICMP "port unreachable" from a dead upstream fails the query at once
 * instead of after the read timeout. Replies whose ID or question do not
 * match are dropped and the wait goes on (anti-spoofing). The read deadline
 * is an entry in the forward's one DeadlineQueue, not a timer of its own.
 */
import { createSocket, type Socket } from 'node:dgram';
import { sharedDeadlines, type DeadlineEntry, type DeadlineQueue } from './deadlines.ts';
import { answersQuery, UpstreamError, type UpstreamQuery } from './wire.ts';

export interface UdpTarget {
  readonly host: string;
  readonly port: number;
  readonly family: 4 | 6;
  /** "127.0.0.1:53", for errors and metrics. */
  readonly label: string;
}

/** Counts of what came back that was not the answer (tests and debugging). */
export interface UdpStats {
  mismatched: number;
  /** Exchanges that ended at the read timeout (no answer at all). */
  timeouts: number;
}

/** Sends `query` and resolves with the first datagram that answers it; rejects with UpstreamError. */
export function udpExchange(target: UdpTarget, query: UpstreamQuery, timeoutMs: number, deadlines: DeadlineQueue = sharedDeadlines, stats?: UdpStats): Promise<Buffer> {
  return new Promise<Buffer>((resolve, reject) => {
    new UdpExchange(target, query, timeoutMs, deadlines, resolve, reject, stats ?? null).start();
  });
}

class UdpExchange {
  readonly #target: UdpTarget;
  readonly #query: UpstreamQuery;
  readonly #socket: Socket;
  readonly #resolve: (b: Buffer) => void;
  readonly #reject: (e: Error) => void;
  readonly #stats: UdpStats | null;
  readonly #deadlines: DeadlineQueue;
  readonly #deadline: DeadlineEntry;
  #done = false;

  constructor(
    target: UdpTarget, query: UpstreamQuery, timeoutMs: number, deadlines: DeadlineQueue,
    resolve: (b: Buffer) => void, reject: (e: Error) => void, stats: UdpStats | null,
  ) {
    this.#target = target;
    this.#query = query;
    this.#resolve = resolve;
    this.#reject = reject;
    this.#stats = stats;
    this.#socket = createSocket(target.family === 6 ? 'udp6' : 'udp4');
    this.#deadlines = deadlines;
    this.#deadline = deadlines.add(timeoutMs, () => {
      if (this.#stats !== null && !this.#done) this.#stats.timeouts++;
      this.#fail(new UpstreamError('ETIMEDOUT', target.label, `read udp ${target.label}: i/o timeout`));
    });
  }

  start(): void {
    const s = this.#socket;
    s.on('error', (e) => this.#fail(UpstreamError.from(e, this.#target.label, 'udp')));
    s.on('message', (msg) => this.#onMessage(msg));
    s.connect(this.#target.port, this.#target.host, () => {
      if (this.#done) return;
      s.send(this.#query.bytes, (err) => { if (err) this.#fail(UpstreamError.from(err, this.#target.label, 'udp')); });
    });
  }

  #onMessage(msg: Buffer): void {
    if (this.#done) return;
    if (!answersQuery(this.#query.bytes, this.#query.questionEnd, msg)) {
      if (this.#stats) this.#stats.mismatched++;
      return;
    }
    this.#finish();
    this.#resolve(msg);
  }

  #fail(e: Error): void {
    if (this.#done) return;
    this.#finish();
    this.#reject(e);
  }

  #finish(): void {
    this.#done = true;
    this.#deadlines.cancel(this.#deadline);
    try { this.#socket.close(); } catch { /* already closed */ }
  }
}
