/**
 * @module plugins/transfer
 * The transfer handler: AXFR over TCP of the zones the block's file and
 * kubernetes plugins serve, to the clients `to` lists (or anyone with `*`);
 * others get REFUSED. IXFR is answered with the whole zone as AXFR (RFC 1995
 * 4), or with just the SOA when the client's serial is already ours. The
 * stream is SOA, records, SOA in messages of at most ~16 KB. When a zone
 * changes, NOTIFY (RFC 1996) goes to every listed address (not to `*`).
 */
import { createSocket } from 'node:dgram';
import { Opcode, Rcode, Type } from '../../dns/constants.ts';
import { cidrContains, ipToBytes, type Cidr } from '../../dns/ip.ts';
import { encodeName, skipName } from '../../dns/name.ts';
import { Reply } from '../../dns/reply.ts';
import type { DnsRequest } from '../../dns/request.ts';
import type { RR } from '../../dns/rr.ts';
import type { Logger } from '../../log/logger.ts';
import type { Answer, ChainHandler, Handler } from '../../plugin/plugin.ts';
import type { TransferSource } from '../../plugin/transfer-source.ts';

const P = 'transfer';
/** Bytes of records per AXFR message (well under the 64 KB TCP limit, so one odd record never overflows one). */
const MESSAGE_BYTES = 16_000;

export interface TransferRule {
  readonly zones: readonly string[];
  /** null: anyone (`to *`). */
  readonly allow: readonly Cidr[] | null;
  /** Secondaries to NOTIFY: address and port. */
  readonly notify: readonly { readonly address: string; readonly port: number }[];
}

/** The SOA serial of an SOA record's rdata. */
export function soaSerial(soa: RR): number {
  const d = soa.data;
  return new DataView(d.buffer, d.byteOffset + d.length - 20, 4).getUint32(0);
}

/** The serial of the SOA an IXFR query carries in its authority section, or null. */
function ixfrSerial(req: DnsRequest): number | null {
  const raw = req.raw;
  const an = (raw[6]! << 8) | raw[7]!, ns = (raw[8]! << 8) | raw[9]!;
  let pos = req.questionEnd;
  for (let i = 0; i < an + ns; i++) {
    const at = skipName(raw, pos);
    const type = (raw[at]! << 8) | raw[at + 1]!;
    const rdlen = (raw[at + 8]! << 8) | raw[at + 9]!;
    if (type === Type.SOA && i >= an) return new DataView(raw.buffer, raw.byteOffset + at + 10 + rdlen - 20, 4).getUint32(0);
    pos = at + 10 + rdlen;
  }
  return null;
}

/** The zone's records as AXFR messages: SOA first and last. */
export function axfrMessages(records: readonly RR[]): Reply[] {
  const soa = records[0]!;
  const all = [...records, soa];
  const messages: Reply[] = [];
  let cur: RR[] = [];
  let size = 0;
  for (const r of all) {
    const n = r.name.length + 12 + r.data.length;
    if (cur.length > 0 && size + n > MESSAGE_BYTES) { messages.push(new Reply({ authoritative: true, answer: cur, plugin: P })); cur = []; size = 0; }
    cur.push(r);
    size += n;
  }
  messages.push(new Reply({ authoritative: true, answer: cur, plugin: P }));
  return messages;
}

export class TransferHandler implements ChainHandler {
  readonly name = 'transfer';
  next!: Handler;
  readonly #rules: readonly TransferRule[];
  readonly #sources: () => readonly TransferSource[];
  readonly #log: Logger;
  readonly #pending = new Map<string, NodeJS.Timeout>();
  readonly #unwatch: (() => void)[] = [];
  /** NOTIFY messages sent (tests wait on it). */
  notifies = 0;

  constructor(rules: readonly TransferRule[], sources: () => readonly TransferSource[], log: Logger) {
    this.#rules = rules;
    this.#sources = sources;
    this.#log = log;
  }

  serveDNS(req: DnsRequest): Answer {
    const qtype = req.qtype;
    if (qtype !== Type.AXFR && qtype !== Type.IXFR) return this.next.serveDNS(req);
    const rule = this.#rules.find((r) => r.zones.some((z) => z === req.qname));
    if (rule === undefined) return this.next.serveDNS(req);
    if (!allowed(rule, req.remoteAddress)) return Reply.error(Rcode.REFUSED, P);
    const source = this.#sources().find((s) => s.transferZones().includes(req.qname));
    const records = source?.transferRecords(req.qname) ?? null;
    if (records === null || records.length === 0) return Reply.error(Rcode.SERVFAIL, P, new Error(`plugin/transfer: no data for zone ${req.qname}`));
    const soa = records[0]!;
    if (qtype === Type.IXFR) {
      const theirs = ixfrSerial(req);
      // Already current (serial arithmetic, RFC 1982): the SOA alone says so; this also serves IXFR over UDP.
      if (theirs !== null && ((soaSerial(soa) - theirs) | 0) <= 0) return new Reply({ authoritative: true, answer: [soa], plugin: P });
    }
    if (req.transport !== 'tcp') return Reply.error(Rcode.REFUSED, P);
    const [first, ...more] = axfrMessages(records);
    return more.length === 0 ? first! : first!.with({ more });
  }

  /** Starts sending NOTIFY for changes of the sources' zones (debounced: one per zone per second). */
  watch(): void {
    for (const s of this.#sources()) this.#unwatch.push(s.onZoneChange((zone) => this.#changed(zone)));
  }

  stop(): void {
    for (const u of this.#unwatch.splice(0)) u();
    for (const t of this.#pending.values()) clearTimeout(t);
    this.#pending.clear();
  }

  #changed(zone: string): void {
    if (this.#pending.has(zone)) return;
    const t = setTimeout(() => { this.#pending.delete(zone); this.notify(zone); }, 1000);
    t.unref();
    this.#pending.set(zone, t);
  }

  /** Sends NOTIFY for `zone` to its rule's secondaries now. */
  notify(zone: string): void {
    for (const rule of this.#rules) {
      if (!rule.zones.includes(zone)) continue;
      for (const to of rule.notify) this.#send(zone, to.address, to.port);
    }
  }

  #send(zone: string, address: string, port: number): void {
    const name = encodeName(zone);
    const msg = Buffer.alloc(12 + name.length + 4);
    msg.writeUInt16BE((Math.random() * 0x10000) & 0xffff, 0);
    msg.writeUInt16BE((Opcode.NOTIFY << 11) | 0x0400, 2);
    msg.writeUInt16BE(1, 4);
    msg.set(name, 12);
    msg.writeUInt16BE(Type.SOA, 12 + name.length);
    msg.writeUInt16BE(1, 14 + name.length);
    const sock = createSocket(address.includes(':') ? 'udp6' : 'udp4');
    sock.on('error', (e) => { this.#log.warn(`notify ${zone} to ${address}:${port}: ${e.message}`); sock.close(); });
    sock.send(msg, port, address, (e) => {
      if (e) this.#log.warn(`notify ${zone} to ${address}:${port}: ${e.message}`);
      else { this.notifies++; this.#log.info(`sent NOTIFY for ${zone} to ${address}:${port}`); }
      sock.close();
    });
  }
}

function allowed(rule: TransferRule, remote: string): boolean {
  if (rule.allow === null) return true;
  const ip = ipToBytes(remote.startsWith('::ffff:') && remote.includes('.') ? remote.slice(7) : remote);
  return ip !== null && rule.allow.some((n) => cidrContains(n, ip));
}

