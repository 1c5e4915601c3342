/**
 * @module doctor/probe
 * One question to one DNS server over UDP (forward's exchange: connected
 * socket, so a dead port fails at once) or TCP, timed; and one HTTP GET.
 * What the doctor's checks are made of.
 */
import { connect } from 'node:net';
import { request } from 'node:http';
import { decodeMessage, encodeQuery, type DecodedMessage } from '../dns/message.ts';
import { frameEnd } from '../dns/tcp-frame.ts';
import { udpExchange } from '../plugins/forward/udp-exchange.ts';
import { randomId } from '../plugins/forward/wire.ts';
import { joinHostPort } from '../dns/ip.ts';
import { errorMessage } from '../errors/to-error.ts';

export interface ProbeResult {
  readonly ok: boolean;
  readonly ms: number;
  readonly reply: DecodedMessage | null;
  readonly error: string | null;
}

function queryBytes(name: string, type: number): { bytes: Buffer; questionEnd: number } {
  const bytes = encodeQuery(name, type, { id: randomId() });
  return { bytes, questionEnd: bytes.length };
}

export async function probeUdp(host: string, port: number, name: string, type: number, timeoutMs: number): Promise<ProbeResult> {
  const start = performance.now();
  try {
    const q = queryBytes(name, type);
    const raw = await udpExchange({ host, port, family: host.includes(':') ? 6 : 4, label: joinHostPort(host, port) }, q, timeoutMs);
    return { ok: true, ms: performance.now() - start, reply: decodeMessage(raw), error: null };
  } catch (e) {
    return { ok: false, ms: performance.now() - start, reply: null, error: errorMessage(e) };
  }
}

export function probeTcp(host: string, port: number, name: string, type: number, timeoutMs: number): Promise<ProbeResult> {
  const start = performance.now();
  return new Promise((resolve) => {
    const q = queryBytes(name, type);
    const s = connect({ host, port });
    let buf = Buffer.alloc(0);
    let done = false;
    const finish = (r: Omit<ProbeResult, 'ms'>): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      s.destroy();
      resolve({ ...r, ms: performance.now() - start });
    };
    const timer = setTimeout(() => finish({ ok: false, reply: null, error: `no reply over TCP within ${timeoutMs} ms` }), timeoutMs);
    s.on('connect', () => {
      const len = Buffer.alloc(2);
      len.writeUInt16BE(q.bytes.length);
      s.write(Buffer.concat([len, q.bytes]));
    });
    s.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      const end = frameEnd(buf, 0);
      if (end < 0) return;
      try {
        finish({ ok: true, reply: decodeMessage(buf.subarray(2, end)), error: null });
      } catch (e) {
        finish({ ok: false, reply: null, error: `bad reply: ${errorMessage(e)}` });
      }
    });
    s.on('error', (e) => finish({ ok: false, reply: null, error: e.message }));
    s.on('close', () => finish({ ok: false, reply: null, error: 'connection closed without a reply' }));
  });
}

export interface HttpResult {
  readonly status: number;
  readonly body: string;
  readonly error: string | null;
}

export function httpGet(url: string, timeoutMs: number): Promise<HttpResult> {
  return new Promise((resolve) => {
    let settled = false;
    const settle = (r: HttpResult): void => { if (!settled) { settled = true; resolve(r); } };
    let req: ReturnType<typeof request>;
    try {
      req = request(url, { timeout: timeoutMs }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => { if (body.length < 8_000_000) body += c; });
        res.on('end', () => settle({ status: res.statusCode ?? 0, body, error: null }));
        res.on('error', (e) => settle({ status: 0, body: '', error: e.message }));
      });
    } catch (e) {
      settle({ status: 0, body: '', error: errorMessage(e) });
      return;
    }
    req.on('timeout', () => { req.destroy(); settle({ status: 0, body: '', error: `no answer within ${timeoutMs} ms` }); });
    req.on('error', (e) => settle({ status: 0, body: '', error: e.message }));
    req.end();
  });
}
