/**
 * @module plugins/loadbalance/loadbalance.test
 * loadbalance: options; address and MX rotation with CNAMEs kept first;
 * replies with fewer than two addresses, or not NOERROR, passed through as
 * the same object; rotated variants reused and aged like the reply they
 * replace; and every address coming first through a real chain.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseCorefile } from '../../corefile/parser.ts';
import { Rcode, Type } from '../../dns/constants.ts';
import { bytesToIp } from '../../dns/ip.ts';
import { Reply } from '../../dns/reply.ts';
import { rrs } from '../../dns/rr.ts';
import { dig, inject, startServer } from '../../../test/support/harness.ts';
import { loadbalance, LoadBalance } from './loadbalance.ts';

const name = 'www.example.org.';
const three = new Reply({
  plugin: 'test',
  answer: [rrs.cname(name, 60, 'lb.example.org.'), rrs.a('lb.example.org.', 60, '10.0.0.1'), rrs.a('lb.example.org.', 60, '10.0.0.2'), rrs.a('lb.example.org.', 60, '10.0.0.3')],
});
const ips = (r: Reply): string[] => r.answer.filter((x) => x.type === Type.A).map((x) => bytesToIp(x.data));

function fixed(k: number, span: number): LoadBalance {
  const lb = new LoadBalance();
  lb.pick = (n) => { assert.equal(n, span); return k; };
  return lb;
}

describe('loadbalance setup', () => {
  const ok = ['loadbalance', 'loadbalance round_robin'];
  for (const body of ok) it(body, () => {
    const [b] = parseCorefile(`. {\n${body}\n}\n`, 'Corefile');
    assert.ok(loadbalance.setup(b!.directives[0]!, {} as never) instanceof LoadBalance);
  });
  const bad: [string, string][] = [
    ['loadbalance weighted', "Corefile:2: plugin/loadbalance: the 'weighted' policy is not supported; use round_robin"],
    ['loadbalance random', "Corefile:2: plugin/loadbalance: unknown policy 'random'"],
    ['loadbalance round_robin extra', "Corefile:2: plugin/loadbalance: 'loadbalance' takes 0 to 1 arguments, got 2"],
    ['loadbalance round_robin {\n prefer 10.0.0.0/8\n}', "Corefile:2: plugin/loadbalance: 'loadbalance' takes no block"],
  ];
  for (const [body, err] of bad) it(body.split('\n').join(' | '), () => {
    const [b] = parseCorefile(`. {\n${body}\n}\n`, 'Corefile');
    assert.throws(() => loadbalance.setup(b!.directives[0]!, {} as never), (e: Error) => { assert.equal(e.message, err); return true; });
  });
});

describe('loadbalance rotation', () => {
  it('rotates the addresses and keeps the CNAME first', () => {
    assert.deepEqual(ips(fixed(1, 3).balance(three, name)), ['10.0.0.2', '10.0.0.3', '10.0.0.1']);
    const r2 = fixed(2, 3).balance(three, name);
    assert.deepEqual(ips(r2), ['10.0.0.3', '10.0.0.1', '10.0.0.2']);
    assert.equal(r2.answer[0]!.type, Type.CNAME);
    assert.equal(r2.plugin, 'test');
    assert.equal(fixed(0, 3).balance(three, name), three, 'offset 0 is the reply itself');
  });

  it('passes through, as the same object, replies with fewer than two addresses or not NOERROR', () => {
    const lb = new LoadBalance();
    lb.pick = (n) => n - 1;
    const one = new Reply({ answer: [rrs.cname(name, 60, 'x.'), rrs.a('x.', 60, '10.0.0.1')] });
    assert.equal(lb.balance(one, name), one);
    const empty = new Reply({});
    assert.equal(lb.balance(empty, name), empty);
    const nx = new Reply({ rcode: Rcode.NXDOMAIN, answer: three.answer });
    assert.equal(lb.balance(nx, name), nx);
  });

  it('reuses the packed variant, and ages it like the reply it replaces', () => {
    const lb = fixed(1, 3);
    const a = lb.balance(three, name);
    assert.equal(lb.balance(three, name), a, 'same variant object');
    assert.equal(a.packedFor(name), a.packedFor(name), 'packed once');
    const aged = lb.balance(three.aged(7), name);
    assert.equal(aged.ttlAge, 7);
    assert.deepEqual(ips(aged), ips(a));
  });

  it('counts a reply once and rotates it by every offset after that; a copy with other records is counted anew', () => {
    const lb = new LoadBalance();
    const r = new Reply({ answer: three.answer });
    const seen: string[] = [];
    for (const k of [0, 1, 2, 1]) {
      lb.pick = () => k;
      seen.push(ips(lb.balance(r, name))[0]!);
    }
    assert.deepEqual(seen, ['10.0.0.1', '10.0.0.2', '10.0.0.3', '10.0.0.2']);
    assert.equal(r.spreadMemo, 3, 'the count is kept on the reply');
    const single = r.with({ answer: [rrs.a(name, 60, '10.0.0.7'), rrs.txt(name, 60, 'x')] });
    assert.equal(lb.balance(single, name), single, 'one address: passed through although the original spreads three');
  });

  it('picks every offset of a span, and only offsets inside it, by default', () => {
    const lb = new LoadBalance();
    for (const span of [2, 3, 5]) {
      const counts = new Array<number>(span).fill(0);
      for (let i = 0; i < 3000; i++) {
        const k = lb.pick(span);
        assert.ok(Number.isInteger(k) && k >= 0 && k < span, `offset ${k} for span ${span}`);
        counts[k]!++;
      }
      // Uniform: each offset near 3000/span (the bound is many standard deviations wide).
      for (const c of counts) assert.ok(c > 3000 / span / 2, `offset counts ${counts.join(',')} for span ${span}`);
    }
  });

  it('rotates MX records too', () => {
    const mx = new Reply({ answer: [rrs.mx(name, 60, 10, 'a.example.org.'), rrs.mx(name, 60, 20, 'b.example.org.')] });
    const r = fixed(1, 2).balance(mx, name);
    assert.deepEqual(r.answer.map((x) => x.data[1]), [20, 10], 'by preference');
  });

  it('puts every address first sometimes, through a real chain', async () => {
    const s = await startServer('.:0 {\n bind 127.0.0.1\n loadbalance\n hosts {\n  10.0.0.1 multi\n  10.0.0.2 multi\n  10.0.0.3 multi\n  10.0.0.9 single\n  reload 0\n }\n}\n');
    try {
      const firsts = new Set<string>();
      for (let i = 0; i < 60 && firsts.size < 3; i++) {
        const m = await inject(s.app, 'multi', 'A');
        assert.deepEqual(m.answer.map((x) => bytesToIp(x.data)).sort(), ['10.0.0.1', '10.0.0.2', '10.0.0.3']);
        firsts.add(bytesToIp(m.answer[0]!.data));
      }
      assert.equal(firsts.size, 3);
      const d = await dig(s.port, 'multi', 'A');
      assert.equal(d.answer.length, 3);
      assert.ok(d.flags.includes('aa'));
      assert.deepEqual((await dig(s.port, 'single', 'A')).answer.map((x) => x.data), ['10.0.0.9']);
    } finally { await s.stop(); }
  });
});
